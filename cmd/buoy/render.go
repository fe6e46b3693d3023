package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// progress renders events as one line each, prefixed with the time since
// the first event: readable progress on long waits. With jsonLines it
// writes each event as a JSON object instead. Safe for concurrent use.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	jsonLines bool
	start     time.Time
}

func newProgress(w io.Writer, jsonLines bool) *progress {
	return &progress{w: w, jsonLines: jsonLines}
}

// Emit writes e.
func (p *progress) Emit(e event.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = e.Time
	}
	if p.jsonLines {
		b, err := json.Marshal(jsonEvent(e))
		if err == nil {
			fmt.Fprintln(p.w, string(b))
		}
		return
	}
	fmt.Fprintf(p.w, "[%5s] %s\n", e.Time.Sub(p.start).Round(time.Second), oneLine(eventLine(e)))
}

// oneLine keeps an event on its line: outside text (an ECS event, a
// name) may hold line breaks.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

func eventLine(e event.Event) string {
	switch e.Kind {
	case event.Plan:
		return "plan     " + e.Message
	case event.TaskStarted, event.TaskProgress, event.TaskDone:
		return "task     " + e.Task + ": " + e.Message
	case event.TaskLog:
		return "log      " + e.Task + ": " + e.Message
	case event.TagMoved:
		return "tag      " + e.Message
	case event.ServiceUpdated:
		return "update   " + e.Message
	case event.Progress:
		return "wait     " + e.Message
	case event.Heartbeat:
		return "waiting  " + e.Message
	case event.ServiceDone:
		return "done     " + e.Message
	case event.Warning:
		return "warning  " + e.Message
	case event.Retry:
		return "retry    " + e.Message
	case event.Failed:
		return "failed   " + e.Message
	case event.Finished:
		return "finished " + e.Message
	case event.Stage, event.Traffic, event.Bake, event.Hook, event.Alarm:
		// A lifecycle event names its service: many roll out at once.
		msg := e.Message
		if e.Service != "" {
			msg = e.Service + ": " + msg
		}
		return fmt.Sprintf("%-8s %s", e.Kind, msg)
	}
	return string(e.Kind) + " " + e.Message
}

func jsonEvent(e event.Event) map[string]any {
	out := map[string]any{"kind": e.Kind, "time": e.Time.UTC().Format(time.RFC3339Nano), "message": e.Message}
	for k, v := range map[string]string{"project": e.Project, "environment": e.Environment, "release": e.Release,
		"deployment": e.Deployment, "image": e.Image, "service": e.Service, "cluster": e.Cluster, "task": e.Task,
		"from": e.From, "to": e.To, "outcome": e.Outcome} {
		if v != "" {
			out[k] = v
		}
	}
	if w := e.Waiting; w != nil {
		out["elapsed"] = w.Elapsed.Seconds()
		out["done"], out["pending"] = w.Done, w.Pending
		if w.LastEvent != "" {
			out["lastEvent"], out["lastEventService"] = w.LastEvent, w.LastEventService
		}
		if !w.LastEventAt.IsZero() {
			out["lastEventAt"] = w.LastEventAt.UTC().Format(time.RFC3339)
		}
	}
	if l := e.Lifecycle; l != nil {
		out["lifecycle"] = lifecycleJSON(l)
	}
	return out
}

// lifecycleJSON is the --output json form of an event.Lifecycle: what
// applies, durations in seconds.
func lifecycleJSON(l *event.Lifecycle) map[string]any {
	out := map[string]any{}
	for k, v := range map[string]string{"serviceDeployment": l.ServiceDeployment, "strategy": l.Strategy, "stage": l.Stage,
		"bake": l.Bake, "hookId": l.HookID, "hookTarget": l.HookTarget, "hookType": l.HookType, "hookStatus": l.HookStatus} {
		if v != "" {
			out[k] = v
		}
	}
	if l.ProductionTraffic != nil {
		out["productionTraffic"] = *l.ProductionTraffic
	}
	if l.TestTraffic != nil {
		out["testTraffic"] = *l.TestTraffic
	}
	if l.Bake != "" {
		out["bakeRemainingSeconds"], out["bakeTotalSeconds"] = l.BakeRemaining.Seconds(), l.BakeTotal.Seconds()
	}
	if len(l.Alarms) > 0 {
		out["alarms"] = l.Alarms
	}
	return out
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// resultJSON is the --output json form of a deploy.Result.
type resultJSON struct {
	Project      string            `json:"project"`
	Environment  string            `json:"environment"`
	Status       history.Status    `json:"status"`
	Release      string            `json:"release,omitempty"`
	Deployment   string            `json:"deployment,omitempty"`
	Resumes      string            `json:"resumes,omitempty"`
	Reason       string            `json:"reason,omitempty"`
	Error        string            `json:"error,omitempty"`
	Started      time.Time         `json:"started"`
	Finished     time.Time         `json:"finished"`
	Images       []imageJSON       `json:"images"`
	Services     []serviceJSON     `json:"services"`
	PreDeploy    []taskJSON        `json:"preDeploy,omitempty"`
	ReleaseImage map[string]string `json:"releaseImages,omitempty"`
	Stats        map[string]int    `json:"stats"`
}

// imageJSON is the --output json form of a deploy.ImageResult.
type imageJSON struct {
	Image      string `json:"image"`
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	From       string `json:"from"`
	To         string `json:"to"`
	Moved      bool   `json:"moved"`
	Parameter  string `json:"parameter,omitempty"`
}

// serviceJSON is the --output json form of a deploy.ServiceResult.
type serviceJSON struct {
	Service        string         `json:"service"`
	Cluster        string         `json:"cluster"`
	Region         string         `json:"region,omitempty"`
	Images         []string       `json:"images"`
	TaskDefinition string         `json:"taskDefinition"`
	ECSDeployment  string         `json:"ecsDeployment,omitempty"`
	AdoptedFrom    string         `json:"adoptedFrom,omitempty"`
	Outcome        history.Status `json:"outcome"`
	Reason         string         `json:"reason,omitempty"`
	Seconds        float64        `json:"seconds"`
}

// taskJSON is the --output json form of a deploy.TaskResult.
type taskJSON struct {
	Task           string         `json:"task"`
	Cluster        string         `json:"cluster"`
	Region         string         `json:"region,omitempty"`
	TaskDefinition string         `json:"taskDefinition"`
	TaskARN        string         `json:"taskArn,omitempty"`
	Outcome        history.Status `json:"outcome"`
	Reason         string         `json:"reason,omitempty"`
	Seconds        float64        `json:"seconds"`
}

func toResultJSON(r *deploy.Result, err error) resultJSON {
	out := resultJSON{Project: r.Project, Environment: r.Environment, Status: r.Status, Started: r.Started,
		Finished: r.Finished, Images: []imageJSON{}, Services: []serviceJSON{}, Stats: r.Stats}
	for _, im := range r.Images {
		out.Images = append(out.Images, imageJSON(im))
	}
	for _, s := range r.Services {
		out.Services = append(out.Services, serviceJSON{Service: s.Service, Cluster: s.Cluster, Region: s.Region,
			Images: s.Images, TaskDefinition: s.TaskDefinition, ECSDeployment: s.ECSDeployment, AdoptedFrom: s.AdoptedFrom,
			Outcome: s.Outcome, Reason: s.Reason, Seconds: s.Duration.Seconds()})
	}
	for _, t := range r.PreDeploy {
		out.PreDeploy = append(out.PreDeploy, taskJSON{Task: t.Task, Cluster: t.Cluster, Region: t.Region, TaskDefinition: t.TaskDefinition,
			TaskARN: t.TaskARN, Outcome: t.Outcome, Reason: t.Reason, Seconds: t.Duration.Seconds()})
	}
	if out.Stats == nil {
		out.Stats = map[string]int{}
	}
	if r.Release != nil {
		out.Release = r.Release.ID
		out.ReleaseImage = map[string]string{}
		for id, ref := range r.Release.Images {
			out.ReleaseImage[id] = ref.Repository + "@" + ref.Digest
		}
	}
	if r.Deployment != nil {
		out.Deployment, out.Resumes, out.Reason = r.Deployment.ID, r.Deployment.Resumes, r.Deployment.Reason
	}
	if err != nil {
		out.Error = err.Error()
	}
	return out
}

// printResult writes the final report of a deploying command.
func printResult(w io.Writer, output, verb string, r *deploy.Result, err error) error {
	if r == nil {
		return err
	}
	if output == "json" {
		if werr := writeJSON(w, toResultJSON(r, err)); werr != nil {
			return werr
		}
		return err
	}
	head := fmt.Sprintf("%s to %s: %s", verb, r.Environment, r.Status)
	if r.Release != nil && r.Release.ID != "" {
		head += "  release " + r.Release.ID
	}
	if r.Deployment != nil {
		head += "  deployment " + r.Deployment.ID
	}
	if !r.Finished.IsZero() {
		head += fmt.Sprintf("  (%s)", r.Finished.Sub(r.Started).Round(time.Second))
	}
	fmt.Fprintln(w, head)
	if len(r.PreDeploy) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PRE-DEPLOY TASK\tCLUSTER\tOUTCOME\tTIME\tDETAIL")
		for _, t := range r.PreDeploy {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Task, t.Cluster, dash(string(t.Outcome)), durationCell(t.Duration), t.Reason)
		}
		_ = tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Images) > 0 {
		printImageResults(w, r)
	}
	if len(r.Services) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERVICE\tCLUSTER\tOUTCOME\tTIME\tDETAIL")
		for _, s := range r.Services {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Service, s.Cluster, dash(string(s.Outcome)),
				durationCell(s.Duration), s.Reason)
		}
		_ = tw.Flush()
	}
	if len(r.Stats) > 0 {
		fmt.Fprintf(w, "\nAWS calls: %s\n", statsLine(r.Stats))
	}
	return err
}

// printImageResults writes the table of tag moves or, for a project whose
// images are kept in SSM, of the parameters written.
func printImageResults(w io.Writer, r *deploy.Result) {
	where, verb, done := "TAG", "move", "moved"
	if r.Images[0].Parameter != "" {
		where, verb, done = "PARAMETER", "write", "written"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "IMAGE\t%s\tFROM\tTO\tCHANGE\n", where)
	for _, im := range r.Images {
		change := "unchanged"
		if im.Moved {
			change = done
			if r.Status == deploy.StatusPlanned {
				change = "would " + verb
			}
		}
		at := im.Tag
		if im.Parameter != "" {
			at = im.Parameter
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", im.Image, at, short(im.From), short(im.To), change)
	}
	_ = tw.Flush()
}

func statsLine(stats map[string]int) string {
	var parts []string
	total := 0
	for _, k := range slices.Sorted(maps.Keys(stats)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, stats[k]))
		total += stats[k]
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

func durationCell(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Second).String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// short shortens a digest to its first 12 hex digits.
func short(d string) string {
	if d == "" {
		return "-"
	}
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}
