package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// WecoTool is Origin.Tool of the records read from a weco-deploy table.
const WecoTool = "weco-deploy"

// The key design of a weco-deploy releases table (docs/history.md,
// "Importing from weco-deploy"): one item per release, hash key
// release_id, and two global secondary indexes keyed by project_id.
const (
	wecoTablePrefix   = "wellcome-releases-"
	wecoReleasesIndex = "project_gsi"    // project_id, date_created
	wecoDeployedIndex = "deployment_gsi" // project_id, last_date_deployed
)

// WecoTableName returns the table weco-deploy kept a project's releases
// in: wellcome-releases-<project>.
func WecoTableName(project string) string { return wecoTablePrefix + project }

// WecoAPI is the part of the DynamoDB client a WecoTable uses: it only
// ever queries.
type WecoAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ WecoAPI = (*dynamodb.Client)(nil)

// WecoTable reads, and never writes, the releases table weco-deploy kept
// for a project, and maps its items, in every shape weco-deploy wrote
// them, onto buoy's records (see Map). It reads through the table's two
// indexes, newest first, so a short history reads a few items even from a
// large table with little read capacity. It is safe for concurrent use.
type WecoTable struct {
	client  WecoAPI
	table   string
	project string // buoy's project id, given to the records
	wecoID  string // project_id in the items
}

// NewWecoTable returns a reader of table for project. The items are
// found by their project_id: the table name's part after
// "wellcome-releases-" (weco-deploy named its tables so), else project.
func NewWecoTable(client WecoAPI, table, project string) *WecoTable {
	wecoID, ok := strings.CutPrefix(table, wecoTablePrefix)
	if !ok || wecoID == "" {
		wecoID = project
	}
	return &WecoTable{client: client, table: table, project: project, wecoID: wecoID}
}

// NewWecoTableFromConfig is NewWecoTable through a DynamoDB client made
// from cfg.
func NewWecoTableFromConfig(cfg aws.Config, table, project string) *WecoTable {
	return NewWecoTable(dynamodb.NewFromConfig(cfg), table, project)
}

// Name returns the table's name.
func (w *WecoTable) Name() string { return w.table }

// WecoRelease is one item of a weco-deploy table as buoy's records: the
// release and the deployments of it the item lists, oldest first.
type WecoRelease struct {
	Release     *Release      `json:"release"`
	Deployments []*Deployment `json:"deployments"`
}

// Deployed is an imported deployment with the release it deployed.
type Deployed struct {
	Deployment *Deployment `json:"deployment"`
	Release    *Release    `json:"release"`
}

// Releases returns the table's releases newest first, each with its
// deployments, at most limit (0: all). A table that does not exist gives
// an error wrapping ErrNotFound.
func (w *WecoTable) Releases(ctx context.Context, limit int) ([]WecoRelease, error) {
	var out []WecoRelease
	err := w.query(ctx, wecoReleasesIndex, pageSize(limit), func(it map[string]ddbtypes.AttributeValue) (bool, error) {
		r, err := w.Map(it)
		if err != nil {
			return false, err
		}
		out = append(out, r)
		return limit > 0 && len(out) >= limit, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Deployments returns the deployments the table records, newest first,
// at most limit (0: all); environment "" means every environment. A
// table that does not exist gives an error wrapping ErrNotFound.
//
// It reads releases by their last deployment, newest first, and stops
// once it holds limit deployments newer than the last deployment of the
// last release it read: no release left unread has one as new.
func (w *WecoTable) Deployments(ctx context.Context, environment string, limit int) ([]Deployed, error) {
	var out []Deployed
	complete := func(cutoff time.Time) bool {
		n := 0
		for _, d := range out {
			if d.Deployment.StartedAt.After(cutoff) {
				n++
			}
		}
		return n >= limit
	}
	err := w.query(ctx, wecoDeployedIndex, pageSize(limit), func(it map[string]ddbtypes.AttributeValue) (bool, error) {
		r, err := w.Map(it)
		if err != nil {
			return false, err
		}
		var last time.Time
		for _, d := range r.Deployments {
			if d.StartedAt.After(last) {
				last = d.StartedAt
			}
			if environment == "" || d.Environment == environment {
				out = append(out, Deployed{Deployment: d, Release: r.Release})
			}
		}
		if v, ok := attrString(it, "last_date_deployed"); ok {
			if t, err := parseWecoTime(v); err == nil && t.After(last) {
				last = t
			}
		}
		return limit > 0 && complete(last), nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Deployed) int { return strings.Compare(b.Deployment.ID, a.Deployment.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// pageSize is how many items a query asks for at once.
func pageSize(limit int) int32 {
	if limit <= 0 || limit > 100 {
		return 100
	}
	return int32(limit)
}

// query reads an index of the table newest first, page by page, giving
// each item to fn until fn says it has enough.
func (w *WecoTable) query(ctx context.Context, index string, page int32, fn func(map[string]ddbtypes.AttributeValue) (bool, error)) error {
	in := &dynamodb.QueryInput{
		TableName:                &w.table,
		IndexName:                aws.String(index),
		KeyConditionExpression:   aws.String("#p = :p"),
		ExpressionAttributeNames: map[string]string{"#p": "project_id"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p": &ddbtypes.AttributeValueMemberS{Value: w.wecoID},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(page),
	}
	for {
		out, err := w.client.Query(ctx, in)
		if err != nil {
			var rnf *ddbtypes.ResourceNotFoundException
			if errors.As(err, &rnf) {
				return fmt.Errorf("weco-deploy table %s: %w (%w)", w.table, ErrNotFound, err)
			}
			return fmt.Errorf("read weco-deploy table %s (index %s): %w", w.table, index, err)
		}
		for _, it := range out.Items {
			enough, err := fn(it)
			if err != nil {
				return fmt.Errorf("weco-deploy table %s: %w", w.table, err)
			}
			if enough {
				return nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
