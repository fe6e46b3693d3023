package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// WithWecoTable makes History and Status show, besides buoy's records,
// the past weco-deploy recorded in t, and lets ImportHistory copy it.
// Open sets it from Config.WecoTable.
func WithWecoTable(t *history.WecoTable) Option { return func(d *Deployer) { d.weco = t } }

// defaultWecoRegion is where weco-deploy kept a project's releases table
// when its manifest named no region.
const defaultWecoRegion = "eu-west-1"

// WecoTableName returns the weco-deploy table a project's history is
// read from: name when given, else, for a legacy .wellcome_project
// manifest, the table weco-deploy kept (wellcome-releases-<project>);
// "" for a buoy.yaml that names none.
func WecoTableName(m *manifest.Manifest, p *manifest.Project, name string) string {
	if name == "" && m != nil && m.Format == manifest.FormatLegacy {
		return history.WecoTableName(p.ID)
	}
	return name
}

// wecoConfig returns the AWS configuration weco-deploy read a project's
// table with: the project's role and region (defaultWecoRegion when
// neither the manifest nor base names one).
func wecoConfig(base aws.Config, p *manifest.Project) aws.Config {
	region := p.Registry.Region
	if region == "" {
		region = base.Region
	}
	if region == "" {
		region = defaultWecoRegion
	}
	cfg := awsconfig.ForTarget(base, region, p.Registry.RoleARN)
	return cfg
}

// ImportHistoryInput asks to copy weco-deploy's records into buoy's table.
type ImportHistoryInput struct {
	// DryRun reports what would be imported and writes nothing.
	DryRun bool
}

// ImportHistory copies every release and deployment of the weco-deploy
// table (WithWecoTable) into the history store, as history.Import does:
// conditional writes, so a second import writes nothing and no record of
// buoy's is overwritten. A table that does not exist is an
// ErrInvalidInput error.
func (d *Deployer) ImportHistory(ctx context.Context, in ImportHistoryInput) (*history.ImportReport, error) {
	if d.weco == nil {
		return nil, invalid("no weco-deploy table to import from: name it (buoy import-history --weco-table wellcome-releases-%s)", d.project.ID)
	}
	rep, err := history.Import(ctx, d.weco, d.store, in.DryRun)
	if errors.Is(err, history.ErrNotFound) {
		return nil, invalid("weco-deploy table %s does not exist (in the project's region, read with its role): name the right one with --weco-table", d.weco.Name())
	}
	if err != nil {
		return nil, fmt.Errorf("import the history of %s from weco-deploy: %w", d.project.ID, err)
	}
	return rep, nil
}

// wecoUnreadable reports a weco-deploy table that could not be read: a
// table that is not there is no news (most projects have none); any
// other failure is a warning, and buoy's own records are shown alone.
func (d *Deployer) wecoUnreadable(env string, err error) {
	if errors.Is(err, history.ErrNotFound) {
		return
	}
	msg := fmt.Sprintf("cannot read weco-deploy's history (table %s), showing buoy's own only: %v", d.weco.Name(), err)
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException" {
		msg = fmt.Sprintf("not allowed to read weco-deploy's history in table %s (grant dynamodb:Query on it and its indexes, see `buoy iam-policy`); showing buoy's own only", d.weco.Name())
	}
	d.emit(event.Event{Kind: event.Warning, Environment: env, Message: msg})
}

// wecoHistory adds weco-deploy's newest releases and deployments to
// buoy's own: newest first, at most limit of each, each record once (an
// imported record is in both).
func (d *Deployer) wecoHistory(ctx context.Context, rep *HistoryReport, env string, limit int) {
	rels, err := d.weco.Releases(ctx, limit)
	if err != nil {
		d.wecoUnreadable(env, err)
		return
	}
	deps, err := d.weco.Deployments(ctx, env, limit)
	if err != nil {
		d.wecoUnreadable(env, err)
		return
	}
	for _, r := range rels {
		rep.Releases = append(rep.Releases, r.Release)
	}
	for _, dep := range deps {
		rep.Deployments = append(rep.Deployments, dep.Deployment)
	}
	rep.Releases = newestOnce(rep.Releases, limit, func(r *history.Release) (time.Time, string) { return r.CreatedAt, r.ID })
	rep.Deployments = newestOnce(rep.Deployments, limit, func(d *history.Deployment) (time.Time, string) { return d.StartedAt, d.ID })
}

// newestOnce sorts records newest first (by time, then id), drops
// repeats (the same id) and keeps at most limit.
func newestOnce[T any](rs []T, limit int, key func(T) (time.Time, string)) []T {
	slices.SortStableFunc(rs, func(a, b T) int {
		ta, ia := key(a)
		tb, ib := key(b)
		if c := tb.Compare(ta); c != 0 {
			return c
		}
		return strings.Compare(ib, ia)
	})
	rs = slices.CompactFunc(rs, func(a, b T) bool {
		_, ia := key(a)
		_, ib := key(b)
		return ia == ib
	})
	if len(rs) > limit {
		rs = rs[:limit]
	}
	return rs
}

// ImportedStatus is what weco-deploy last deployed to an environment
// buoy has not deployed to yet.
type ImportedStatus struct {
	Deployment *history.Deployment `json:"deployment"`
	Release    *history.Release    `json:"release,omitempty"`
}

// importedStatus finds the last deployment weco-deploy made to env: the
// newer of the one in its table and the newest of buoy's records, when
// that one was imported.
func (d *Deployer) importedStatus(ctx context.Context, env string, latest *history.Deployment) *ImportedStatus {
	var is *ImportedStatus
	if latest != nil && latest.Origin != nil {
		is = &ImportedStatus{Deployment: latest}
		if rel, err := d.store.GetRelease(ctx, d.project.ID, latest.ReleaseID); err == nil {
			is.Release = rel
		}
	}
	if d.weco != nil {
		deps, err := d.weco.Deployments(ctx, env, 1)
		if err != nil {
			d.wecoUnreadable(env, err)
		} else if len(deps) == 1 && (is == nil || deps[0].Deployment.StartedAt.After(is.Deployment.StartedAt)) {
			is = &ImportedStatus{Deployment: deps[0].Deployment, Release: deps[0].Release}
		}
	}
	return is
}

// checkDigests refuses a release that pins no digest for some image: one
// imported from weco-deploy, which recorded tags only. buoy deploys
// digests; a new release resolves the same tags to them.
func checkDigests(rel *history.Release) error {
	if rel == nil {
		return nil
	}
	var missing []string
	tags := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(rel.Images)) {
		if img := rel.Images[id]; img.Digest == "" {
			missing = append(missing, fmt.Sprintf("%s (tag %q)", id, img.Tag))
			tags[img.Tag] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	from := ""
	if rel.Origin != nil {
		from = fmt.Sprintf(" was imported from %s (release %s) and", rel.Origin.Tool, rel.Origin.ID)
	}
	label := "<tag>"
	if len(tags) == 1 && !tags[""] {
		label = slices.Collect(maps.Keys(tags))[0]
	}
	return invalid("release %s%s pins no digest for %s: buoy deploys digests only; prepare a new release from the tags instead (buoy prepare --from-label %s) and deploy that",
		rel.ID, from, strings.Join(missing, ", "), label)
}
