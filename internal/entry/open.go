package entry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// Config is what Open takes: the settings every entrypoint has (flags,
// inputs or options of the same names), and what to tell its user when
// opening fails.
type Config struct {
	// Manifest is the manifest's path; "" finds buoy.yaml, else
	// .wellcome_project, in the working directory.
	Manifest string
	// Project is the project id; "" means the manifest's only project.
	Project string
	// Table is the history's DynamoDB table; "" means deploy.DefaultTable.
	Table string
	// Region and Profile pick the AWS configuration; "" leaves them to
	// the SDK's default chain (AWS_REGION, AWS_PROFILE, the shared
	// config).
	Region, Profile string
	// WecoTable is weco-deploy's table (deploy.Config.WecoTable).
	WecoTable string
	// Limits are the lock wait, lock lease and ECS request budget; the
	// zero value means the library's defaults.
	Limits inputcheck.Limits
	// Options are added after the limits (a confirmer; tests: fakes,
	// clocks).
	Options []deploy.Option
	// Store replaces the DynamoDB history (tests).
	Store history.Store
	// Sink gets the library's events and the manifest's warnings.
	Sink event.Sink
	// Logger gets the library's debug logs; nil is silent.
	Logger *slog.Logger
	// LoadAWS loads the base AWS configuration; nil means LoadAWS, the
	// SDK's default chain, with Region and Profile.
	LoadAWS func(ctx context.Context, region, profile string) (aws.Config, error)
	// Advice says, in the entrypoint's words, what to do when opening
	// fails.
	Advice Advice
	// Getenv reads the environment variables the manifest's notify
	// targets name (their URLs and signing secrets): the library reads no
	// environment. nil reads none, so a deployment to an environment
	// with a notify target fails, naming the variable.
	Getenv func(string) string
	// Mask is given each value Getenv read for a notify target before
	// the library gets it, so that the host hides it from its log (the
	// Action: ::add-mask::); nil hides nothing.
	Mask func(secret string)
}

// Advice is what an entrypoint tells its user to do when Open fails,
// naming its own flags, inputs or options.
type Advice struct {
	// Manifest follows "manifest not found", e.g. "pass --manifest with
	// its path".
	Manifest string
	// Region, when set, makes a run with no AWS region bad input, saying
	// this; when "", the history table is in the manifest registry's
	// region (deploy.StoreConfig).
	Region string
	// Credentials follows a failure to load the AWS configuration.
	Credentials string
}

// Open opens buoy's orchestration for an entrypoint: it finds the
// manifest, loads the AWS configuration, opens the deploy.Deployer with
// the limits, and emits the manifest's warnings to the sink as
// event.Warning events pointing at the manifest (also when the manifest
// parsed but the project could not be opened). A missing manifest, a bad
// one, an unknown project or a missing region is deploy.ErrInvalidInput.
func Open(ctx context.Context, cfg Config) (*deploy.Deployer, error) {
	path, err := findManifest(cfg.Manifest, cfg.Advice.Manifest)
	if err != nil {
		return nil, err
	}
	awsCfg, err := loadAWS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var opts []deploy.Option
	if cfg.Limits != (inputcheck.Limits{}) {
		opts = cfg.Limits.Options()
	}
	d, m, err := deploy.Open(ctx, deploy.Config{
		ManifestPath:  path,
		ProjectID:     cfg.Project,
		Table:         cfg.Table,
		AWS:           awsCfg,
		Store:         cfg.Store,
		Sink:          cfg.Sink,
		Logger:        cfg.Logger,
		Options:       append(opts, cfg.Options...),
		WecoTable:     cfg.WecoTable,
		NotifySecrets: notifySecrets(cfg.Getenv, cfg.Mask),
	})
	if m != nil && cfg.Sink != nil {
		for _, w := range m.Warnings {
			cfg.Sink.Emit(event.Event{Kind: event.Warning, File: w.Pos.File, Line: w.Pos.Line, Column: w.Pos.Column, Message: w.String()})
		}
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// notifySecrets reads the variables the notify targets name with getenv,
// and has mask hide each value it finds; nil when getenv is.
func notifySecrets(getenv func(string) string, mask func(string)) func([]string) map[string]string {
	if getenv == nil {
		return nil
	}
	return func(names []string) map[string]string {
		out := make(map[string]string, len(names))
		for _, name := range names {
			v := getenv(name)
			if v == "" {
				continue
			}
			if mask != nil {
				mask(v)
			}
			out[name] = v
		}
		return out
	}
}

// findManifest returns path, or the manifest found in the working
// directory (buoy.yaml, else .wellcome_project).
func findManifest(path, advice string) (string, error) {
	if path != "" {
		return path, nil
	}
	p, err := manifest.Find(".")
	if err != nil {
		return "", fmt.Errorf("%w: %w%s", deploy.ErrInvalidInput, err, also("; or ", advice))
	}
	return p, nil
}

// loadAWS loads the base AWS configuration and checks its region when
// the entrypoint needs one.
func loadAWS(ctx context.Context, cfg Config) (aws.Config, error) {
	load := cfg.LoadAWS
	if load == nil {
		load = LoadAWS
	}
	awsCfg, err := load(ctx, cfg.Region, cfg.Profile)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w%s", err, also(": ", cfg.Advice.Credentials))
	}
	if awsCfg.Region == "" && cfg.Advice.Region != "" {
		return aws.Config{}, fmt.Errorf("%w: no AWS region: %s", deploy.ErrInvalidInput, cfg.Advice.Region)
	}
	return awsCfg, nil
}

// LoadAWS loads the base AWS configuration from the SDK's default chain
// (environment, shared config, web identity, container and instance
// roles; AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE), with region and
// profile when given.
func LoadAWS(ctx context.Context, region, profile string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		// A profile named by --profile or AWS_PROFILE that no shared
		// config file has is a typo or the wrong machine: bad input.
		where := "~/.aws/config and ~/.aws/credentials, or the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name"
		if len(missing.Filename) > 0 {
			where = strings.Join(missing.Filename, ", ")
		}
		return cfg, fmt.Errorf("%w: AWS profile %q is in none of the shared config files (%s); name a profile that `aws configure list-profiles` lists, or leave out --profile and AWS_PROFILE to use the default credentials",
			deploy.ErrInvalidInput, missing.Profile, where)
	}
	return cfg, err
}

// also is sep and text, or "" when there is no text.
func also(sep, text string) string {
	if text == "" {
		return ""
	}
	return sep + text
}
