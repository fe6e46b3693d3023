// Package suggest finds the name someone most likely meant, for the
// "did you mean" hints on misspelt manifest keys, options, inputs and
// commands that the manifest parser and every entrypoint give.
package suggest

import "strings"

// Closest returns the candidate closest to got, ignoring case, or "" when
// none is close enough to be the one meant (at most a third of its
// letters differ, or one).
func Closest(got string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := distance(strings.ToLower(got), strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist >= 0 && bestDist <= max(1, len(best)/3) {
		return best
	}
	return ""
}

// distance is the edit distance (Levenshtein, with a swap of two adjacent
// letters counting as one edit) between a and b, counted in
// bytes (manifest keys and ids are ASCII).
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b)) // not worth comparing; never "close"
	}
	prevprev := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prevprev[j-2]+1) // transposition
			}
		}
		prevprev, prev, cur = prev, cur, prevprev
	}
	return prev[len(b)]
}
