package ecsfake

import (
	"net/http"
	"slices"
)

// Launch is how a service's tasks are launched, as DescribeServices says
// it: a launch type (default FARGATE) or a capacity provider strategy,
// the platform version, and the awsvpc network configuration.
type Launch struct {
	LaunchType        string
	CapacityProviders []CapacityProvider
	PlatformVersion   string
	Subnets           []string
	SecurityGroups    []string
	// AssignPublicIP is ENABLED or DISABLED.
	AssignPublicIP string
}

// CapacityProvider is one item of a capacity provider strategy.
type CapacityProvider struct {
	Name         string
	Weight, Base int
}

// addTo adds l to a service's JSON.
func (l *Launch) addTo(out map[string]any) {
	if l == nil {
		return
	}
	delete(out, "launchType")
	if l.LaunchType != "" {
		out["launchType"] = l.LaunchType
	}
	if len(l.CapacityProviders) > 0 {
		var cps []any
		for _, c := range l.CapacityProviders {
			cps = append(cps, map[string]any{"capacityProvider": c.Name, "weight": c.Weight, "base": c.Base})
		}
		out["capacityProviderStrategy"] = cps
	}
	if l.PlatformVersion != "" {
		out["platformVersion"] = l.PlatformVersion
	}
	if len(l.Subnets) > 0 {
		vpc := map[string]any{"subnets": l.Subnets, "securityGroups": l.SecurityGroups}
		if l.AssignPublicIP != "" {
			vpc["assignPublicIp"] = l.AssignPublicIP
		}
		out["networkConfiguration"] = map[string]any{"awsvpcConfiguration": vpc}
	}
}

// Registered returns the RegisterTaskDefinition requests the server
// received, in order.
func (s *Server) Registered() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.registered)
}

// registerTaskDefinition keeps a new revision of the family (one more
// than its latest), with the request's containers and network mode.
func (s *Server) registerTaskDefinition(w http.ResponseWriter, in map[string]any) {
	s.registered = append(s.registered, in)
	family := str(in["family"])
	if family == "" {
		writeError(w, "ClientException", "Family is required.")
		return
	}
	rev := 0
	for _, td := range s.tds {
		if td.family == family {
			rev = max(rev, td.revision)
		}
	}
	td := &taskDef{TaskDefinition: TaskDefinition{ARN: TaskDefinitionARN(family, rev+1), NetworkMode: str(in["networkMode"])},
		family: family, revision: rev + 1}
	for _, c := range asSlice(in["containerDefinitions"]) {
		cm, _ := c.(map[string]any)
		cd := ContainerDefinition{Name: str(cm["name"]), Image: str(cm["image"])}
		if e, ok := cm["essential"].(bool); ok && !e {
			cd.NotEssential = true
		}
		if lc, _ := cm["logConfiguration"].(map[string]any); str(lc["logDriver"]) == "awslogs" {
			opts, _ := lc["options"].(map[string]any)
			cd.LogGroup, cd.LogStreamPrefix, cd.LogRegion = str(opts["awslogs-group"]), str(opts["awslogs-stream-prefix"]), str(opts["awslogs-region"])
		}
		td.Containers = append(td.Containers, cd)
	}
	s.tds[td.ARN] = td
	writeJSON(w, map[string]any{"taskDefinition": td.json()})
}
