// Package secretscan gives tests recognisable fake secrets to put in a
// CI job's environment, and finds them in whatever the job produced
// (output, files, annotations, records, request bodies).
package secretscan

import (
	"slices"
	"strings"
)

// Fake returns fake secrets by the variable a CI job holds them in. Each
// is long and unlike anything buoy prints, so finding one (or its first
// 20 characters) in output is a leak, never a coincidence.
func Fake() map[string]string {
	return map[string]string{
		"AWS_SECRET_ACCESS_KEY":          "FAKEsecretKEYwJalrXUtnFEMIK7MDENGbPxRfiCY0001",
		"AWS_SESSION_TOKEN":              "FAKEsessionTOKENIQoJb3JpZ2luX2VjEHoaCWV1LXdlc3QtMSJHMEUCIQD0002",
		"GITHUB_TOKEN":                   "ghp_FAKEgithubTOKEN0123456789abcdefghij0003",
		"INPUT_GITHUB-TOKEN":             "ghs_FAKEactionINPUTtoken0123456789abcdef0004",
		"BUILDKITE_AGENT_ACCESS_TOKEN":   "bkua_FAKEagentTOKEN0123456789abcdef0005",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "FAKEoidcREQUESTtoken0123456789abcdef0006",
	}
}

// Find returns the names of the secrets that text holds, whole or by
// their first 20 characters, sorted.
func Find(text string, secrets map[string]string) []string {
	var found []string
	for name, secret := range secrets {
		if strings.Contains(text, secret) || strings.Contains(text, secret[:min(20, len(secret))]) {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	return found
}
