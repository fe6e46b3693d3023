package deploy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// DefaultTable is the DynamoDB table the history is kept in by default.
const DefaultTable = "buoy-history"

// Config is what Open needs: where the manifest is, which project, where
// the history is kept, and the base AWS configuration. Only AWS is
// required when the directory holds one manifest of one project.
type Config struct {
	// ManifestPath is the manifest file; "" looks for buoy.yaml, then
	// .wellcome_project, in the working directory.
	ManifestPath string
	// ProjectID picks a project; "" is fine when the manifest has one.
	ProjectID string
	// Table is the DynamoDB table of the history; "" means DefaultTable.
	Table string
	// AWS is the base configuration (credentials, region, endpoint);
	// each target's region and role are applied on top of it.
	AWS aws.Config
	// Store replaces the DynamoDB store (tests, importers with their own).
	Store  history.Store
	Sink   event.Sink
	Logger *slog.Logger
	// Options are applied after those Open derives from the fields above.
	Options []Option
	// WecoTable is the weco-deploy table whose past History and Status
	// show and ImportHistory copies; "" means wellcome-releases-<project>
	// for a legacy manifest, none for buoy.yaml (see WecoTableName).
	WecoTable string
	// NotifySecrets is given the names of the environment variables the
	// project's notify targets read (manifest.Project.NotifyVariables)
	// and returns the values of those that are set, by name
	// (WithNotifySecrets). The library reads no environment; nil gives
	// none, and a deployment to an environment with a notify target then
	// fails before it changes anything, naming the variable.
	NotifySecrets func(names []string) map[string]string
}

// Open loads the manifest, picks the project, opens the history store and
// returns a Deployer for it, with the parsed manifest (for its warnings).
// A bad manifest or an unknown project is an ErrInvalidInput error that
// wraps the *manifest.Error. Calls to AWS are retried as
// awsconfig.DefaultRetries says unless cfg.AWS has a retry policy of its
// own.
func Open(_ context.Context, cfg Config) (*Deployer, *manifest.Manifest, error) {
	m, err := LoadManifest(cfg.ManifestPath)
	if err != nil {
		return nil, nil, err
	}
	p, err := PickProject(m, cfg.ProjectID)
	if err != nil {
		return nil, m, err
	}
	// Every call made with this configuration (the history's, and STS's
	// when a target's role is assumed) counts in the stats of the
	// operation that made it.
	base := cfg.AWS.Copy()
	awsconfig.CountFromContext(&base)
	// A large deployment makes hundreds of calls: retry each up to 10
	// times rather than the SDK's 3, unless the caller (or AWS_MAX_ATTEMPTS,
	// AWS_RETRY_MODE, the shared config) chose a retry policy. A wrong
	// region or endpoint fails at its first call rather than after minutes
	// of retries, and every retry is reported as an event.Retry.
	awsconfig.DefaultRetries(&base)
	var d *Deployer
	awsconfig.Watch(&base, func(r awsconfig.Retry) {
		if d != nil {
			d.emit(event.Event{Kind: event.Retry, Message: r.String()})
		}
	})
	store := cfg.Store
	if store == nil {
		store = history.NewDynamoDBFromConfig(StoreConfig(base, p), TableName(cfg.Table))
	}
	opts := []Option{WithAWSConfig(TargetConfig(base))}
	if name := WecoTableName(m, p, cfg.WecoTable); name != "" {
		opts = append(opts, WithWecoTable(history.NewWecoTableFromConfig(wecoConfig(base, p), name, p.ID)))
	}
	if cfg.Sink != nil {
		opts = append(opts, WithSink(cfg.Sink))
	}
	if cfg.Logger != nil {
		opts = append(opts, WithLogger(cfg.Logger))
	}
	if names := p.NotifyVariables(); len(names) > 0 && cfg.NotifySecrets != nil {
		opts = append(opts, WithNotifySecrets(cfg.NotifySecrets(names)))
	}
	d, err = New(p, store, append(opts, cfg.Options...)...)
	if err != nil {
		return nil, m, err
	}
	return d, m, nil
}

// TableName returns table, or DefaultTable when empty.
func TableName(table string) string {
	if table == "" {
		return DefaultTable
	}
	return table
}

// LoadManifest reads the manifest at path, or when path is empty the
// first of buoy.yaml and .wellcome_project in the working directory.
func LoadManifest(path string) (*manifest.Manifest, error) {
	if path == "" {
		found, err := manifest.Find(".")
		if err != nil {
			return nil, classError(ErrInvalidInput, err)
		}
		path = found
	}
	m, err := loadManifest(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, invalid("manifest %s does not exist", path)
	}
	if err != nil {
		return nil, classError(ErrInvalidInput, err)
	}
	return m, nil
}

// PickProject returns the project id names, or the only project when id
// is empty (m.Project, its error an ErrInvalidInput).
func PickProject(m *manifest.Manifest, id string) (*manifest.Project, error) {
	p, err := m.Project(id)
	return p, classError(ErrInvalidInput, err)
}

func loadManifest(path string) (*manifest.Manifest, error) {
	m, err := manifest.Load(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return m, nil
}

// StoreConfig returns the AWS configuration of a project's history table:
// the base configuration, in the project registry's region when the base
// has none.
func StoreConfig(base aws.Config, p *manifest.Project) aws.Config {
	return awsconfig.ForTarget(base, cmp.Or(base.Region, p.Registry.Region), "")
}
