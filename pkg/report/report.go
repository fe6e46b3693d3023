// Package report renders deployment results as Markdown for people: the
// GitHub job summary and the Buildkite annotation both use it. Every value
// that comes from input is escaped, so a service or image name cannot
// inject markup.
package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// Title returns a one-line heading for a result, e.g.
// "catalogue: release 01J… to stage succeeded".
func Title(operation string, r *deploy.Result) string {
	release := ""
	if r.Release != nil {
		release = " " + ShortID(r.Release.ID)
	}
	return fmt.Sprintf("%s: %s%s to %s %s", r.Project, operation, release, r.Environment, r.Status)
}

// Markdown renders a result as a heading, a table of its pre_deploy
// tasks (task, cluster, outcome, time) when it ran any, and a table with
// one row per service and image that feeds it: service, image, tag move
// (from -> to, short digests), outcome and time taken. Images that feed
// no service of the result get rows of their own.
func Markdown(operation string, r *deploy.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s %s\n\n", statusIcon(r.Status), Escape(Title(operation, r)))

	if len(r.PreDeploy) > 0 {
		b.WriteString("| Pre-deploy task | Cluster | Outcome | Time |\n")
		b.WriteString("| --- | --- | --- | --- |\n")
		for _, t := range r.PreDeploy {
			outcome := string(t.Outcome)
			if t.Reason != "" {
				outcome += ": " + t.Reason
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", Escape(t.Task), Escape(t.Cluster), Escape(outcome), duration(t.Duration))
		}
		b.WriteString("\n")
	}

	moves := make(map[string]deploy.ImageResult, len(r.Images))
	for _, im := range r.Images {
		moves[im.Image] = im
	}
	b.WriteString("| Service | Image | Tag | Outcome | Time |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	fed := map[string]bool{}
	for _, s := range r.Services {
		images := s.Images
		if len(images) == 0 {
			images = []string{""}
		}
		for _, id := range images {
			fed[id] = true
			outcome := string(s.Outcome)
			if s.Reason != "" {
				outcome += ": " + s.Reason
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n",
				Escape(s.Service), Escape(id), tagCell(moves, id), Escape(outcome), duration(s.Duration))
		}
	}
	ids := make([]string, 0, len(moves))
	for id := range moves {
		if !fed[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "| | %s | %s | | |\n", Escape(id), tagCell(moves, id))
	}
	if r.Release != nil || r.Deployment != nil {
		b.WriteString("\n")
		if r.Release != nil {
			fmt.Fprintf(&b, "Release %s", code(r.Release.ID))
		}
		if r.Deployment != nil {
			fmt.Fprintf(&b, ", deployment %s", code(r.Deployment.ID))
		}
		if !r.Finished.IsZero() && !r.Started.IsZero() {
			fmt.Fprintf(&b, ", took %s", duration(r.Finished.Sub(r.Started)))
		}
		b.WriteString(".\n")
	}
	return b.String()
}

func tagCell(moves map[string]deploy.ImageResult, id string) string {
	m, ok := moves[id]
	if !ok {
		return ""
	}
	where := m.Tag
	if m.Parameter != "" { // a project whose images are in SSM
		where = m.Parameter
	}
	switch {
	case m.Moved && m.From == "":
		return fmt.Sprintf("%s → %s", code(where), code(ShortDigest(m.To)))
	case m.Moved:
		return fmt.Sprintf("%s %s → %s", code(where), code(ShortDigest(m.From)), code(ShortDigest(m.To)))
	default:
		return fmt.Sprintf("%s %s (unchanged)", code(where), code(ShortDigest(m.To)))
	}
}

func statusIcon(s history.Status) string {
	switch s {
	case history.StatusSucceeded:
		return "✅"
	case history.StatusInProgress, deploy.StatusPlanned:
		return "📝"
	default:
		return "❌"
	}
}

func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.Round(time.Second).String()
}

// StateIcon returns the icon of an environment's or a service's status
// state: ✅ only when it agrees, ❔ when it is unknown, ⚠️ otherwise
// (drifted, or no state given).
func StateIcon(a deploy.Agreement) string {
	switch a {
	case deploy.Agrees:
		return "✅"
	case deploy.Unknown:
		return "❔"
	}
	return "⚠️"
}

// ShortDigest shortens "sha256:<64 hex>" to "sha256:<first 12 hex>".
func ShortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

// ShortCluster shortens a cluster ARN
// (arn:aws:ecs:<region>:<account>:cluster/<name>) to its name for log
// lines; a name stays as it is.
func ShortCluster(c string) string {
	if i := strings.LastIndex(c, ":cluster/"); i >= 0 {
		return c[i+len(":cluster/"):]
	}
	return c
}

// code renders s as a Markdown code span inside a table cell. Backslash
// escapes do not work in code spans, so backticks become quotes and line
// breaks spaces; a pipe is escaped because GFM splits cells before it
// parses code spans.
func code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("`", "'", "|", `\|`, "\n", " ", "\r", " ").Replace(s)
	return "`" + s + "`"
}

// ShortID shortens a release or deployment id for headings.
func ShortID(id string) string {
	if len(id) <= 10 {
		return id
	}
	return id[:10]
}

// Escape makes s safe inside a Markdown table cell or heading: it escapes
// the characters Markdown and HTML give meaning to and flattens line
// breaks, so input cannot add rows, links, images or tags.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '|', '!', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
