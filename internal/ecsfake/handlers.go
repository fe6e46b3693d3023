package ecsfake

import (
	"net/http"
	"slices"
	"strings"
)

type handler func(http.ResponseWriter, map[string]any)

func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		"ListServices":               s.listServices,
		"DescribeServices":           s.describeServices,
		"UpdateService":              s.updateService,
		"ListTasks":                  s.listTasks,
		"DescribeTasks":              s.describeTasks,
		"ListServiceDeployments":     s.serviceDeployments(s.listServiceDeployments),
		"DescribeServiceDeployments": s.serviceDeployments(s.describeServiceDeployments),
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func str(v any) string { s, _ := v.(string); return s }

// name turns a service name or ARN into a name.
func name(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func (s *Server) listServices(w http.ResponseWriter, _ map[string]any) {
	arns := make([]string, 0, len(s.order))
	for _, n := range s.order {
		arns = append(arns, ServiceARN(n))
	}
	writeJSON(w, map[string]any{"serviceArns": arns})
}

func (s *Server) describeServices(w http.ResponseWriter, in map[string]any) {
	withTags := slices.Contains(strs(in["include"]), "TAGS")
	services, failures := []any{}, []any{}
	for _, ref := range strs(in["services"]) {
		st := s.services[name(ref)]
		if st == nil {
			failures = append(failures, map[string]string{"arn": ref, "reason": "MISSING"})
			continue
		}
		if st.updated {
			frames := st.rollout().Frames
			st.current = frames[min(st.polls, len(frames)-1)]
			st.polls++
		}
		if st.current.Missing {
			failures = append(failures, map[string]string{"arn": ServiceARN(st.Name), "reason": "MISSING"})
			continue
		}
		services = append(services, st.json(st.current, withTags))
	}
	writeJSON(w, map[string]any{"services": services, "failures": failures})
}

func (st *state) json(f Frame, withTags bool) map[string]any {
	td := st.TaskDefinition
	for _, d := range f.Deployments {
		if d.Status == "PRIMARY" {
			td = d.TaskDefinition
		}
	}
	out := map[string]any{
		"serviceArn": ServiceARN(st.Name), "serviceName": st.Name, "clusterArn": ClusterARN(),
		"status": "ACTIVE", "desiredCount": st.DesiredCount, "runningCount": f.RunningCount,
		"taskDefinition": td, "deployments": f.Deployments, "events": f.Events,
		"launchType": "FARGATE",
	}
	if f.Deployments == nil {
		out["deployments"] = []any{}
	}
	if f.Events == nil {
		out["events"] = []any{}
	}
	if withTags {
		var tags []map[string]string
		for k, v := range st.Tags {
			tags = append(tags, map[string]string{"key": k, "value": v})
		}
		out["tags"] = tags
	}
	return out
}

func (s *Server) updateService(w http.ResponseWriter, in map[string]any) {
	st := s.services[name(str(in["service"]))]
	if st == nil {
		writeError(w, "ServiceNotFoundException", "Service not found.")
		return
	}
	st.updated = true
	st.polls = 0
	st.updates = append(st.updates, in)
	st.current = st.rollout().Update
	writeJSON(w, map[string]any{"service": st.json(st.current, false)})
}

func (s *Server) listTasks(w http.ResponseWriter, in map[string]any) {
	arns := []string{}
	for _, n := range s.order {
		for _, t := range s.services[n].current.Tasks {
			if t.StartedBy == str(in["startedBy"]) && (str(in["desiredStatus"]) == "" || t.DesiredStatus == str(in["desiredStatus"])) {
				arns = append(arns, t.TaskArn)
			}
		}
	}
	writeJSON(w, map[string]any{"taskArns": arns})
}

func (s *Server) describeTasks(w http.ResponseWriter, in map[string]any) {
	want := strs(in["tasks"])
	tasks := []Task{}
	for _, n := range s.order {
		for _, t := range s.services[n].current.Tasks {
			if slices.Contains(want, t.TaskArn) {
				tasks = append(tasks, t)
			}
		}
	}
	writeJSON(w, map[string]any{"tasks": tasks, "failures": []any{}})
}

func (s *Server) serviceDeployments(h handler) handler {
	return func(w http.ResponseWriter, in map[string]any) {
		switch s.api {
		case Unsupported:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<!doctype html><html><title>500 Internal Server Error</title><h1>Internal Server Error</h1></html>"))
		case Denied:
			writeError(w, "AccessDeniedException", "User is not authorized to perform: ecs:ListServiceDeployments")
		default:
			h(w, in)
		}
	}
}

func (s *Server) listServiceDeployments(w http.ResponseWriter, in map[string]any) {
	st := s.services[name(str(in["service"]))]
	briefs := []any{}
	if st != nil && st.updated {
		var created float64
		for _, d := range st.rollout().Update.Deployments {
			if d.Status == "PRIMARY" {
				created = d.CreatedAt
			}
		}
		briefs = append(briefs, map[string]any{"serviceDeploymentArn": DeploymentARN(st.Name),
			"serviceArn": ServiceARN(st.Name), "clusterArn": ClusterARN(), "createdAt": created, "status": "IN_PROGRESS"})
	}
	writeJSON(w, map[string]any{"serviceDeployments": briefs})
}

func (s *Server) describeServiceDeployments(w http.ResponseWriter, in map[string]any) {
	out := []any{}
	for _, arn := range strs(in["serviceDeploymentArns"]) {
		for _, n := range s.order {
			st := s.services[n]
			if DeploymentARN(n) != arn || st.current.Deployment == nil {
				continue
			}
			out = append(out, map[string]any{"serviceDeploymentArn": arn, "serviceArn": ServiceARN(n), "clusterArn": ClusterARN(),
				"status": st.current.Deployment.Status, "statusReason": st.current.Deployment.StatusReason})
		}
	}
	writeJSON(w, map[string]any{"serviceDeployments": out, "failures": []any{}})
}
