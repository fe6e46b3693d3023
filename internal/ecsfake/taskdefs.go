package ecsfake

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TaskDefinition is a task definition revision the server describes,
// lists and deregisters. Add them with AddTaskDefinitions.
type TaskDefinition struct {
	// ARN is the revision's ARN, ending in family:revision (see
	// TaskDefinitionARN).
	ARN        string
	Containers []ContainerDefinition
	Tags       map[string]string
	// Inactive marks a revision that was deregistered before the test.
	Inactive bool
	// NetworkMode is awsvpc unless set.
	NetworkMode string
}

// ContainerDefinition is a container of a task definition.
type ContainerDefinition struct {
	Name  string
	Image string
	// NotEssential marks a container the task does not need (a
	// sidecar); containers are essential by default, as in ECS.
	NotEssential bool
	// LogGroup, when set, makes the container log with the awslogs
	// driver to that group, with LogStreamPrefix and LogRegion as its
	// awslogs-stream-prefix and awslogs-region options when set.
	LogGroup, LogStreamPrefix, LogRegion string
}

// TaskDefinitionARN returns the ARN the server gives family:revision.
func TaskDefinitionARN(family string, revision int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, account, family, revision)
}

type taskDef struct {
	TaskDefinition
	family   string
	revision int
}

// AddTaskDefinitions makes the server know tds (replacing revisions with
// the same ARN).
func (s *Server) AddTaskDefinitions(tds ...TaskDefinition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, td := range tds {
		fr := name(td.ARN)
		family, rev, _ := strings.Cut(fr, ":")
		n, _ := strconv.Atoi(rev)
		s.tds[td.ARN] = &taskDef{TaskDefinition: td, family: family, revision: n}
	}
}

// Deregistered returns the task definition ARNs DeregisterTaskDefinition
// deregistered, in order.
func (s *Server) Deregistered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deregistered)
}

// lookupTaskDefinition finds a task definition by ARN, family:revision,
// or family (its latest ACTIVE revision), as ECS does.
func (s *Server) lookupTaskDefinition(ref string) *taskDef {
	if td := s.tds[ref]; td != nil {
		return td
	}
	fr := name(ref)
	var latest *taskDef
	for _, td := range s.tds {
		switch {
		case fr == td.family+":"+strconv.Itoa(td.revision):
			return td
		case fr == td.family && !td.Inactive && (latest == nil || td.revision > latest.revision):
			latest = td
		}
	}
	return latest
}

func (td *taskDef) json() map[string]any {
	containers := []any{}
	for _, c := range td.Containers {
		cd := map[string]any{"name": c.Name, "image": c.Image, "essential": !c.NotEssential,
			"cpu": 0, "portMappings": []any{}, "environment": []any{}, "mountPoints": []any{}, "volumesFrom": []any{}}
		if c.LogGroup != "" {
			opts := map[string]string{"awslogs-group": c.LogGroup}
			if c.LogStreamPrefix != "" {
				opts["awslogs-stream-prefix"] = c.LogStreamPrefix
			}
			if c.LogRegion != "" {
				opts["awslogs-region"] = c.LogRegion
			}
			cd["logConfiguration"] = map[string]any{"logDriver": "awslogs", "options": opts}
		}
		containers = append(containers, cd)
	}
	status := "ACTIVE"
	if td.Inactive {
		status = "INACTIVE"
	}
	return map[string]any{
		"taskDefinitionArn": td.ARN, "family": td.family, "revision": td.revision, "status": status,
		"containerDefinitions": containers, "volumes": []any{}, "placementConstraints": []any{},
		"requiresAttributes": []any{}, "compatibilities": []string{"EC2", "FARGATE"},
		"requiresCompatibilities": []string{"FARGATE"}, "networkMode": cmp.Or(td.NetworkMode, "awsvpc"), "cpu": "256", "memory": "512",
		"registeredAt": At(-24 * time.Hour), "registeredBy": fmt.Sprintf("arn:aws:iam::%s:role/deployer", account),
	}
}

func (s *Server) describeTaskDefinition(w http.ResponseWriter, in map[string]any) {
	td := s.lookupTaskDefinition(str(in["taskDefinition"]))
	if td == nil {
		writeError(w, "ClientException", "Unable to describe task definition.")
		return
	}
	out := map[string]any{"taskDefinition": td.json()}
	if slices.Contains(strs(in["include"]), "TAGS") {
		tags := []map[string]string{}
		for k, v := range td.Tags {
			tags = append(tags, map[string]string{"key": k, "value": v})
		}
		out["tags"] = tags
	}
	writeJSON(w, out)
}

// listTaskDefinitions answers with every matching revision in one page.
func (s *Server) listTaskDefinitions(w http.ResponseWriter, in map[string]any) {
	status := cmp.Or(str(in["status"]), "ACTIVE")
	var found []*taskDef
	for _, td := range s.tds {
		if (td.Inactive == (status == "INACTIVE")) && strings.HasPrefix(td.family, str(in["familyPrefix"])) {
			found = append(found, td)
		}
	}
	slices.SortFunc(found, func(a, b *taskDef) int {
		return cmp.Or(cmp.Compare(a.family, b.family), cmp.Compare(a.revision, b.revision))
	})
	if str(in["sort"]) == "DESC" {
		slices.Reverse(found)
	}
	arns := []string{}
	for _, td := range found {
		arns = append(arns, td.ARN)
	}
	writeJSON(w, map[string]any{"taskDefinitionArns": arns})
}

func (s *Server) deregisterTaskDefinition(w http.ResponseWriter, in map[string]any) {
	td := s.lookupTaskDefinition(str(in["taskDefinition"]))
	if td == nil || !strings.Contains(name(str(in["taskDefinition"])), ":") {
		writeError(w, "ClientException", "The specified task definition does not exist.")
		return
	}
	td.Inactive = true
	s.deregistered = append(s.deregistered, td.ARN)
	out := td.json()
	out["deregisteredAt"] = At(0)
	writeJSON(w, map[string]any{"taskDefinition": out})
}
