package ecsfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

type handler func(http.ResponseWriter, map[string]any)

func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		"ListClusters":               s.listClusters,
		"ListServices":               s.listServices,
		"DescribeServices":           s.describeServices,
		"UpdateService":              s.updateService,
		"ListTasks":                  s.listTasks,
		"DescribeTasks":              s.describeTasks,
		"RunTask":                    s.runTask,
		"ListServiceDeployments":     s.serviceDeployments(s.listServiceDeployments),
		"DescribeServiceDeployments": s.serviceDeployments(s.describeServiceDeployments),
		"StopServiceDeployment":      s.serviceDeployments(s.stopServiceDeployment),
		"DescribeTaskDefinition":     s.describeTaskDefinition,
		"ListTaskDefinitions":        s.listTaskDefinitions,
		"DeregisterTaskDefinition":   s.deregisterTaskDefinition,
		"RegisterTaskDefinition":     s.registerTaskDefinition,
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

func (s *Server) listClusters(w http.ResponseWriter, _ map[string]any) {
	writeJSON(w, map[string]any{"clusterArns": []string{ClusterARN()}})
}

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
			st.current = st.script.Frames[min(st.polls, len(st.script.Frames)-1)]
			st.polls++
		}
		if st.current.Missing {
			failures = append(failures, map[string]string{"arn": ServiceARN(st.Name), "reason": "MISSING"})
			continue
		}
		services = append(services, s.serviceJSON(st, st.current, withTags))
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
	st.Launch.addTo(out)
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

// serviceJSON is st.json with the currentServiceDeployment ECS says once
// the service was updated, when the server plays that API.
func (s *Server) serviceJSON(st *state, f Frame, withTags bool) map[string]any {
	out := st.json(f, withTags)
	if s.api != Unsupported && st.updated && !st.NoCurrentServiceDeployment {
		out["currentServiceDeployment"] = DeploymentARN(st.Name)
	}
	return out
}

func (s *Server) updateService(w http.ResponseWriter, in map[string]any) {
	st := s.services[name(str(in["service"]))]
	if st == nil {
		writeError(w, "ServiceNotFoundException", "Service not found.")
		return
	}
	st.script = st.nextScript()
	st.updated = true
	st.polls = 0
	st.current = st.script.Update
	st.updates = append(st.updates, in)
	writeJSON(w, map[string]any{"service": s.serviceJSON(st, st.script.Update, false)})
}

// listTasks finds tasks by startedBy or serviceName, and desiredStatus
// (RUNNING when not given, as in ECS), in pages of maxResults (at most
// MaxTasksPerCall, the default) with a nextToken. Tasks of no service
// are found when no serviceName is given, as DescribeTasks last saw them.
func (s *Server) listTasks(w http.ResponseWriter, in map[string]any) {
	want := str(in["desiredStatus"])
	if want == "" {
		want = "RUNNING"
	}
	match := func(t Task) bool {
		family, _, _ := strings.Cut(name(t.TaskDefinitionArn), ":")
		return (str(in["startedBy"]) == "" || t.StartedBy == str(in["startedBy"])) && t.DesiredStatus == want &&
			(str(in["family"]) == "" || family == str(in["family"]))
	}
	arns := []string{}
	for _, n := range s.order {
		if svc := str(in["serviceName"]); svc != "" && name(svc) != n {
			continue
		}
		for _, t := range s.services[n].current.Tasks {
			if match(t) {
				arns = append(arns, t.TaskArn)
			}
		}
	}
	if str(in["serviceName"]) == "" {
		for _, st := range s.tasks {
			if match(st.seen) {
				arns = append(arns, st.seen.TaskArn)
			}
		}
	}
	size := MaxTasksPerCall
	if v, ok := in["maxResults"].(float64); ok {
		if v < 1 || v > MaxTasksPerCall {
			writeError(w, "InvalidParameterException", "maxResults must be between 1 and 100")
			return
		}
		size = int(v)
	}
	from := 0
	if tok := str(in["nextToken"]); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(arns) {
			writeError(w, "InvalidParameterException", "invalid nextToken")
			return
		}
		from = n
	}
	out := map[string]any{"taskArns": arns[from:min(from+size, len(arns))]}
	if from+size < len(arns) {
		out["nextToken"] = strconv.Itoa(from + size)
	}
	s.listTaskPages++
	writeJSON(w, out)
}

// describeTasks describes at most MaxTasksPerCall tasks, as ECS does.
func (s *Server) describeTasks(w http.ResponseWriter, in map[string]any) {
	want := strs(in["tasks"])
	if len(want) > MaxTasksPerCall {
		writeError(w, "InvalidParameterException", "Tasks cannot be longer than 100")
		return
	}
	tasks := []any{}
	found := map[string]bool{}
	for _, n := range s.order {
		for _, t := range s.services[n].current.Tasks {
			if slices.Contains(want, t.TaskArn) {
				tasks = append(tasks, t)
				found[t.TaskArn] = true
			}
		}
	}
	for _, st := range s.tasks {
		if slices.Contains(want, st.frames[0].TaskArn) {
			tasks = append(tasks, taskJSON(st.describe()))
			found[st.seen.TaskArn] = true
		}
	}
	failures := []any{}
	for _, arn := range want {
		if !found[arn] {
			failures = append(failures, map[string]string{"arn": arn, "reason": "MISSING"})
		}
	}
	s.describedTasks += len(tasks)
	writeJSON(w, map[string]any{"tasks": tasks, "failures": failures})
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

// createdAt is when the service deployment of st's update was created.
func (st *state) createdAt() float64 {
	if d := st.current.Deployment; d != nil && d.CreatedAt != 0 {
		return d.CreatedAt
	}
	for _, d := range st.script.Update.Deployments {
		if d.Status == "PRIMARY" {
			return d.CreatedAt
		}
	}
	return 0
}

func (s *Server) listServiceDeployments(w http.ResponseWriter, in map[string]any) {
	st := s.services[name(str(in["service"]))]
	briefs := []any{}
	if st != nil && st.updated {
		briefs = append(briefs, map[string]any{"serviceDeploymentArn": DeploymentARN(st.Name),
			"serviceArn": ServiceARN(st.Name), "clusterArn": ClusterARN(), "createdAt": st.createdAt(), "status": "IN_PROGRESS"})
	}
	writeJSON(w, map[string]any{"serviceDeployments": briefs})
}

// describedDeployment is a ServiceDeployment as DescribeServiceDeployments
// writes it: with its ARN, the service's and the cluster's.
type describedDeployment struct {
	ServiceDeploymentArn string `json:"serviceDeploymentArn"`
	ServiceArn           string `json:"serviceArn"`
	ClusterArn           string `json:"clusterArn"`
	ServiceDeployment
}

func (s *Server) describeServiceDeployments(w http.ResponseWriter, in map[string]any) {
	out := []any{}
	for _, arn := range strs(in["serviceDeploymentArns"]) {
		for _, n := range s.order {
			st := s.services[n]
			if DeploymentARN(n) != arn || st.current.Deployment == nil {
				continue
			}
			d := describedDeployment{ServiceDeploymentArn: arn, ServiceArn: ServiceARN(n), ClusterArn: ClusterARN(),
				ServiceDeployment: *st.current.Deployment}
			d.CreatedAt = st.createdAt()
			out = append(out, d)
		}
	}
	writeJSON(w, map[string]any{"serviceDeployments": out, "failures": []any{}})
}

// stopServiceDeployment plays StopServiceDeployment as ECS does: only a
// deployment in progress (PENDING or IN_PROGRESS) can be stopped, any
// other answers ConflictException. With stopType ROLLBACK the service
// then plays its OnStop frames.
func (s *Server) stopServiceDeployment(w http.ResponseWriter, in map[string]any) {
	arn := str(in["serviceDeploymentArn"])
	var st *state
	for _, n := range s.order {
		if DeploymentARN(n) == arn && s.services[n].updated {
			st = s.services[n]
		}
	}
	if st == nil {
		writeError(w, "ServiceDeploymentNotFoundException", "The service deployment does not exist.")
		return
	}
	st.stops = append(st.stops, in)
	switch d := st.current.Deployment; {
	case d == nil || (d.Status != "PENDING" && d.Status != "IN_PROGRESS"):
		writeError(w, "ConflictException", "The service deployment is not in progress and cannot be stopped.")
		return
	case str(in["stopType"]) != "ROLLBACK":
		writeError(w, "InvalidParameterException", "ecsfake plays only stopType ROLLBACK.")
		return
	case len(st.OnStop) == 0:
		writeError(w, "ServerException", "ecsfake: service "+st.Name+" has no OnStop frames to play")
		return
	}
	st.script = Script{Update: st.current, Frames: st.OnStop}
	st.polls = 0
	writeJSON(w, map[string]any{"serviceDeploymentArn": arn})
}
