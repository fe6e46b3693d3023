package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
)

// parseNetworkConfiguration reads --network-configuration as the AWS CLI
// (and so the classic ecs-deploy) takes it: its shorthand,
//
//	awsvpcConfiguration={subnets=[subnet-1,subnet-2],securityGroups=[sg-1],assignPublicIp=ENABLED}
//
// or its JSON, {"awsvpcConfiguration": {"subnets": [...], ...}}.
func parseNetworkConfiguration(s string) (*ecsdeploy.NetworkConfiguration, error) {
	s = strings.TrimSpace(s)
	var n *ecsdeploy.NetworkConfiguration
	var err error
	if strings.HasPrefix(s, "{") {
		n, err = networkJSON(s)
	} else {
		n, err = networkShorthand(s)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case len(n.Subnets) == 0:
		return nil, fmt.Errorf("no subnets: give at least one, e.g. awsvpcConfiguration={subnets=[subnet-0a1b2c3d]}")
	case n.AssignPublicIP != "" && n.AssignPublicIP != "ENABLED" && n.AssignPublicIP != "DISABLED":
		return nil, fmt.Errorf("assignPublicIp must be ENABLED or DISABLED, not %q", n.AssignPublicIP)
	}
	return n, nil
}

func networkJSON(s string) (*ecsdeploy.NetworkConfiguration, error) {
	var doc struct {
		AwsvpcConfiguration *struct {
			Subnets        []string `json:"subnets"`
			SecurityGroups []string `json:"securityGroups"`
			AssignPublicIP string   `json:"assignPublicIp"`
		} `json:"awsvpcConfiguration"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not the JSON of a network configuration (%w): write {\"awsvpcConfiguration\": {\"subnets\": [\"subnet-…\"], \"securityGroups\": [\"sg-…\"]}}", err)
	}
	if doc.AwsvpcConfiguration == nil {
		return nil, fmt.Errorf("no awsvpcConfiguration: write {\"awsvpcConfiguration\": {\"subnets\": [\"subnet-…\"]}}")
	}
	c := doc.AwsvpcConfiguration
	return &ecsdeploy.NetworkConfiguration{Subnets: c.Subnets, SecurityGroups: c.SecurityGroups, AssignPublicIP: c.AssignPublicIP}, nil
}

func networkShorthand(s string) (*ecsdeploy.NetworkConfiguration, error) {
	const prefix = "awsvpcConfiguration={"
	if !strings.HasPrefix(s, prefix) || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("%q is not a network configuration: write awsvpcConfiguration={subnets=[subnet-…],securityGroups=[sg-…],assignPublicIp=DISABLED}, or its JSON", s)
	}
	n := &ecsdeploy.NetworkConfiguration{}
	seen := map[string]bool{}
	for _, field := range splitTop(strings.TrimSuffix(strings.TrimPrefix(s, prefix), "}")) {
		key, value, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return nil, fmt.Errorf("%q in awsvpcConfiguration is not key=value", field)
		}
		if seen[key] {
			return nil, fmt.Errorf("%s is given twice", key)
		}
		seen[key] = true
		switch key {
		case "subnets":
			n.Subnets = list(value)
		case "securityGroups":
			n.SecurityGroups = list(value)
		case "assignPublicIp":
			n.AssignPublicIP = value
		default:
			return nil, fmt.Errorf("awsvpcConfiguration has no %q: it takes subnets, securityGroups and assignPublicIp", key)
		}
	}
	return n, nil
}

// splitTop splits s at the commas outside brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// list reads [a,b] (or a lone a) as its items.
func list(v string) []string {
	v = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "["), "]")
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return slices.Clip(out)
}
