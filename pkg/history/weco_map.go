package history

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/buoy-deploy/buoy/pkg/imageref"
)

// Origin says where an imported record came from; it is nil on buoy's own
// records.
type Origin struct {
	// Tool is the tool that wrote it: WecoTool.
	Tool string `json:"tool"`
	// Table is the table it was read from.
	Table string `json:"table"`
	// ID is its id there: a weco-deploy release_id, or for a deployment
	// "<release_id>/deployments/<n>", its place (from 0) in the release's
	// list of deployments.
	ID string `json:"id"`
}

// Map turns one item of a weco-deploy table, in any of the shapes
// weco-deploy (and the release tooling before it) wrote, into buoy's
// records:
//
//   - The release keeps release_id as Origin.ID, date_created (a naive ISO
//     time, read as UTC), requested_by (an ARN, or an {id, name} map: the
//     id), description and images. Its ID is a ULID made from date_created
//     and a hash of release_id, the same on every read, so it sorts with
//     buoy's own ids and an import can tell what it wrote before.
//   - An image given as a URI (repo:tag, repo@digest) keeps its repository
//     and tag; one given as a tag only ("ref.<sha>") keeps the tag. weco-deploy
//     never recorded digests: an empty Digest means unknown (only a URI
//     pinned by digest gives one). An image with no value (null) is left
//     out, as weco-deploy left it out of its deployments.
//   - Each entry of the item's deployments list becomes a Deployment, with
//     an id made like the release's, status succeeded unless the entry says
//     otherwise, the environment (a string, or an {id, name} map: the id),
//     and what its details say of tags moved and ECS deployments started.
func (w *WecoTable) Map(it map[string]ddbtypes.AttributeValue) (WecoRelease, error) {
	item, _ := plain(&ddbtypes.AttributeValueMemberM{Value: it}).(map[string]any)
	wecoID, _ := item["release_id"].(string)
	if wecoID == "" {
		return WecoRelease{}, fmt.Errorf("an item has no release_id: is this a weco-deploy releases table?")
	}
	created, err := wecoTime(item, "date_created")
	if err != nil {
		return WecoRelease{}, fmt.Errorf("release %s: %w", wecoID, err)
	}
	rel := &Release{
		ID:          wecoULID(created, "release "+wecoID),
		Project:     w.project,
		CreatedAt:   created,
		RequestedBy: wecoPerson(item["requested_by"]),
		Description: str(item["description"]),
		Images:      map[string]ImageRef{},
		Origin:      &Origin{Tool: WecoTool, Table: w.table, ID: wecoID},
	}
	if images, ok := item["images"].(map[string]any); ok {
		for id, v := range images {
			if uri, ok := v.(string); ok && uri != "" {
				rel.Images[id] = wecoImage(uri)
			}
		}
	}
	out := WecoRelease{Release: rel}
	deps, _ := item["deployments"].([]any)
	for i, v := range deps {
		entry, ok := v.(map[string]any)
		if !ok {
			return WecoRelease{}, fmt.Errorf("release %s: deployment %d is not a map", wecoID, i)
		}
		d, err := w.mapDeployment(rel, entry, i)
		if err != nil {
			return WecoRelease{}, fmt.Errorf("release %s: deployment %d: %w", wecoID, i, err)
		}
		out.Deployments = append(out.Deployments, d)
	}
	return out, nil
}

func (w *WecoTable) mapDeployment(rel *Release, entry map[string]any, i int) (*Deployment, error) {
	at, err := wecoTime(entry, "date_created")
	if err != nil {
		return nil, err
	}
	env := entry["environment"]
	if m, ok := env.(map[string]any); ok {
		env = m["id"]
	}
	origin := fmt.Sprintf("%s/deployments/%d", rel.Origin.ID, i)
	d := &Deployment{
		ID:          wecoULID(at, "deployment "+origin),
		Project:     w.project,
		Environment: str(env),
		ReleaseID:   rel.ID,
		Status:      StatusSucceeded,
		StartedAt:   at,
		FinishedAt:  at,
		RequestedBy: wecoPerson(entry["requested_by"]),
		Description: str(entry["description"]),
		Images:      map[string]TagMove{},
		Services:    []ServiceOutcome{},
		Version:     1,
		Origin:      &Origin{Tool: WecoTool, Table: w.table, ID: origin},
	}
	if d.Environment == "" {
		return nil, fmt.Errorf("no environment")
	}
	if s := str(entry["status"]); s != "" {
		d.Status, d.Reason = wecoStatus(s)
	}
	details, _ := entry["details"].(map[string]any)
	for _, id := range sortedKeys(details) {
		detail, _ := details[id].(map[string]any)
		if tr, ok := detail["tag_result"].(map[string]any); ok {
			d.Images[id] = wecoTagMove(tr)
		}
		ecsDeps, _ := detail["ecs_deployments"].([]any)
		for _, e := range ecsDeps {
			if so, ok := wecoService(e); ok && !hasService(d.Services, so) {
				d.Services = append(d.Services, so)
			}
		}
	}
	return d, nil
}

// wecoULID makes the id of an imported record: t's millisecond, then 80
// bits of a hash of key. The same record always gets the same id.
func wecoULID(t time.Time, key string) string {
	sum := sha256.Sum256([]byte("weco-deploy " + key))
	return ulid.MustNew(ulid.Timestamp(t), bytes.NewReader(sum[:10])).String()
}

// wecoTime reads a time weco-deploy wrote with Python's
// datetime.utcnow().isoformat(): naive (no zone), in UTC. A time with a
// zone is read with it.
func wecoTime(m map[string]any, key string) (time.Time, error) {
	v := str(m[key])
	if v == "" {
		return time.Time{}, fmt.Errorf("no %s", key)
	}
	t, err := parseWecoTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an ISO 8601 time", key, v)
	}
	return t, nil
}

func parseWecoTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	var err error
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// wecoPerson reads requested_by: an ARN, or {id, name} (the release
// tooling's IAM user, {"id": "unknown", ...} when it could not tell).
func wecoPerson(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return str(v)
	}
	if id := str(m["id"]); id != "" && id != "unknown" {
		return id
	}
	if name := str(m["name"]); name != "" {
		return name
	}
	return str(m["id"])
}

// wecoImage reads an image of a release: a URI with a tag
// (…/uk.ac.wellcome/api:ref.<sha>) or a digest (…@sha256:…), or a tag alone
// (ref.<sha>). What is not an image reference is kept as it was, as the
// repository.
func wecoImage(v string) ImageRef {
	if !strings.ContainsAny(v, "/:@") {
		return ImageRef{Tag: v}
	}
	ref, err := imageref.Parse(v)
	if err != nil {
		return ImageRef{Repository: v}
	}
	if ref.Digest() != "" {
		return ImageRef{Repository: ref.NameAsWritten(), Digest: ref.Digest()}
	}
	return ImageRef{Repository: ref.NameAsWritten(), Tag: ref.Tag()}
}

// wecoTagMove reads a tag_result: {source, target, status}, source and
// target "repository:tag", status "success" (moved) or "noop" (already
// there). weco-deploy recorded no digests.
func wecoTagMove(tr map[string]any) TagMove {
	target := str(tr["target"])
	repo, tag := target, ""
	if ref, err := imageref.Parse(target); err == nil {
		repo, tag = ref.NameAsWritten(), ref.Tag()
	}
	status := str(tr["status"])
	return TagMove{Repository: repo, Tag: tag, Moved: status == "success", Done: status == "success" || status == "noop"}
}

// wecoService reads an entry of ecs_deployments: {service_arn,
// deployment_id}, and from weco-deploy 5, cluster_arn.
func wecoService(v any) (ServiceOutcome, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return ServiceOutcome{}, false
	}
	arn := str(m["service_arn"])
	if arn == "" {
		arn = str(m["serviceArn"])
	}
	if arn == "" {
		return ServiceOutcome{}, false
	}
	so := ServiceOutcome{Service: arn, ECSDeployment: str(m["deployment_id"]), Outcome: StatusSucceeded}
	// arn:aws:ecs:<region>:<account>:service/[<cluster>/]<name>
	if parts := strings.Split(arn, ":"); len(parts) == 6 {
		so.Region = parts[3]
		path := strings.Split(parts[5], "/")
		so.Service = path[len(path)-1]
		if len(path) == 3 {
			so.Cluster = path[1]
		}
	}
	if c := str(m["cluster_arn"]); c != "" {
		so.Cluster = c[strings.LastIndex(c, "/")+1:]
	}
	return so, true
}

func hasService(ss []ServiceOutcome, so ServiceOutcome) bool {
	for _, s := range ss {
		if s == so {
			return true
		}
	}
	return false
}

// wecoStatus reads a deployment's status, should an item carry one.
func wecoStatus(s string) (Status, string) {
	switch strings.ToLower(s) {
	case "success", "succeeded", "ok":
		return StatusSucceeded, ""
	case "failure", "failed", "error":
		return StatusFailed, "weco-deploy recorded it as " + s
	}
	return StatusSucceeded, "weco-deploy recorded the status " + s
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// attrString returns a string attribute of an item.
func attrString(it map[string]ddbtypes.AttributeValue, key string) (string, bool) {
	v, ok := it[key].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

// plain turns a DynamoDB value into Go's: string (S and N), bool, nil,
// map[string]any, []any.
func plain(v ddbtypes.AttributeValue) any {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return v.Value
	case *ddbtypes.AttributeValueMemberN:
		return v.Value
	case *ddbtypes.AttributeValueMemberBOOL:
		return v.Value
	case *ddbtypes.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			m[k] = plain(e)
		}
		return m
	case *ddbtypes.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = plain(e)
		}
		return l
	case *ddbtypes.AttributeValueMemberSS:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = e
		}
		return l
	}
	return nil // NULL, and binary values weco-deploy never wrote
}
