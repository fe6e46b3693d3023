package historytest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// WecoFixture is one item of a weco-deploy releases table, kept in a file
// of pkg/history/testdata/weco: {"source": where its shape comes from,
// "item": the item as DynamoDB JSON}.
type WecoFixture struct {
	File   string
	Source string
	Item   map[string]ddbtypes.AttributeValue
}

// WecoFixtures reads every fixture in dir, in file name order, with
// project_id set to project.
func WecoFixtures(t testing.TB, dir, project string) []WecoFixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no weco-deploy fixtures in %s (%v)", dir, err)
	}
	sort.Strings(files)
	var out []WecoFixture
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Source string          `json:"source"`
			Item   json.RawMessage `json:"item"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if raw.Source == "" {
			t.Fatalf("%s: no source: say which weco-deploy version the shape comes from", f)
		}
		item, err := AttributeValues(raw.Item)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		item["project_id"] = &ddbtypes.AttributeValueMemberS{Value: project}
		out = append(out, WecoFixture{File: filepath.Base(f), Source: raw.Source, Item: item})
	}
	return out
}

// AttributeValues decodes an item written as DynamoDB JSON, as the AWS
// CLI prints it: {"name": {"S": "..."}, "n": {"M": {...}}, ...}.
func AttributeValues(data json.RawMessage) (map[string]ddbtypes.AttributeValue, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode item: %w", err)
	}
	out := make(map[string]ddbtypes.AttributeValue, len(m))
	for k, raw := range m {
		v, err := attributeValue(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func attributeValue(data json.RawMessage) (ddbtypes.AttributeValue, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(data, &typed); err != nil || len(typed) != 1 {
		return nil, fmt.Errorf("want one of {\"S\": ...}, {\"N\": ...}, {\"M\": ...}, {\"L\": ...}, {\"NULL\": true}, {\"BOOL\": ...}, got %s", data)
	}
	for kind, raw := range typed {
		switch kind {
		case "S", "N":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			if kind == "N" {
				return &ddbtypes.AttributeValueMemberN{Value: s}, nil
			}
			return &ddbtypes.AttributeValueMemberS{Value: s}, nil
		case "BOOL", "NULL":
			var b bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return nil, err
			}
			if kind == "NULL" {
				return &ddbtypes.AttributeValueMemberNULL{Value: b}, nil
			}
			return &ddbtypes.AttributeValueMemberBOOL{Value: b}, nil
		case "M":
			m, err := AttributeValues(raw)
			if err != nil {
				return nil, err
			}
			return &ddbtypes.AttributeValueMemberM{Value: m}, nil
		case "L":
			var l []json.RawMessage
			if err := json.Unmarshal(raw, &l); err != nil {
				return nil, err
			}
			vs := make([]ddbtypes.AttributeValue, len(l))
			for i, e := range l {
				v, err := attributeValue(e)
				if err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
				vs[i] = v
			}
			return &ddbtypes.AttributeValueMemberL{Value: vs}, nil
		}
		return nil, fmt.Errorf("unknown DynamoDB type %q", kind)
	}
	return nil, nil
}

// CreateWecoTable creates a table with the key schema weco-deploy's
// DynamoReleaseStore created (src/deploy/release_store.py): hash key
// release_id, global secondary indexes project_gsi (project_id,
// date_created) and deployment_gsi (project_id, last_date_deployed), all
// attributes projected, provisioned at 1 read and 1 write unit.
func CreateWecoTable(ctx context.Context, t testing.TB, client *dynamodb.Client, table string) {
	t.Helper()
	one := &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)}
	index := func(name, sortKey string) ddbtypes.GlobalSecondaryIndex {
		return ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(name),
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String("project_id"), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String(sortKey), KeyType: ddbtypes.KeyTypeRange},
			},
			Projection:            &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
			ProvisionedThroughput: one,
		}
	}
	attr := func(name string) ddbtypes.AttributeDefinition {
		return ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeTypeS}
	}
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:              &table,
		KeySchema:              []ddbtypes.KeySchemaElement{{AttributeName: aws.String("release_id"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions:   []ddbtypes.AttributeDefinition{attr("release_id"), attr("project_id"), attr("date_created"), attr("last_date_deployed")},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{index("project_gsi", "date_created"), index("deployment_gsi", "last_date_deployed")},
		ProvisionedThroughput:  one,
	})
	if err != nil {
		t.Fatalf("create weco-deploy table %s: %v", table, err)
	}
}

// PutWecoItems writes items into a weco-deploy table with the SDK, as
// weco-deploy's put_release and add_deployment left them.
func PutWecoItems(ctx context.Context, t testing.TB, client *dynamodb.Client, table string, fixtures []WecoFixture) {
	t.Helper()
	for _, f := range fixtures {
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: f.Item}); err != nil {
			t.Fatalf("put %s into %s: %v", f.File, table, err)
		}
	}
}
