//go:build integration

package history_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
)

// newDynamoDBStore makes a table of its own on moto and a store in it.
func newDynamoDBStore(t *testing.T, opts ...history.Option) history.Store {
	t.Helper()
	client := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "buoy-history")
	if err := history.Init(context.Background(), client, table); err != nil {
		t.Fatalf("Init(%s): %v", table, err)
	}
	return history.NewDynamoDB(client, table, opts...)
}

func TestDynamoDBContract(t *testing.T) {
	t.Parallel()
	historytest.Run(t, newDynamoDBStore)
}

func TestInitIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "buoy-history")
	for i := range 2 {
		if err := history.Init(ctx, client, table); err != nil {
			t.Fatalf("Init #%d: %v", i+1, err)
		}
	}
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if got := out.Table.BillingModeSummary; got == nil || got.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("billing mode: got %+v, want PAY_PER_REQUEST", got)
	}
	if got := out.Table.TableStatus; got != "ACTIVE" {
		t.Errorf("table status: got %s, want ACTIVE", got)
	}
}

func TestInitRefusesAForeignTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "foreign")
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &table,
		BillingMode:          "PAY_PER_REQUEST",
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: "S"}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: "HASH"}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if err := history.Init(ctx, client, table); err == nil {
		t.Errorf("Init on a table with another key design: got nil, want an error")
	}
}
