package history

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// InitAPI is the part of the DynamoDB client Init uses.
type InitAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var _ InitAPI = (*dynamodb.Client)(nil)

// Attribute and index names of the table (see docs/history.md).
const (
	attrPK          = "pk"
	attrSK          = "sk"
	attrEnvPK       = "gsi1pk"
	attrEnvSK       = "gsi1sk"
	indexByEnv      = "gsi1"
	initMaxWaitTime = 5 * time.Minute
)

// Init creates the history table with on-demand billing and waits until
// it is active (at most five minutes, less if ctx ends sooner). A table
// that already exists is fine if it has the key design this package needs.
func Init(ctx context.Context, client InitAPI, table string) error {
	s := ddbtypes.ScalarAttributeTypeS
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: s},
			{AttributeName: aws.String(attrSK), AttributeType: s},
			{AttributeName: aws.String(attrEnvPK), AttributeType: s},
			{AttributeName: aws.String(attrEnvSK), AttributeType: s},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: ddbtypes.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName: aws.String(indexByEnv),
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String(attrEnvPK), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String(attrEnvSK), KeyType: ddbtypes.KeyTypeRange},
			},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}},
	})
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create history table %s (does the role allow dynamodb:CreateTable?): %w", table, err)
	}
	out, err := dynamodb.NewTableExistsWaiter(client).WaitForOutput(ctx,
		&dynamodb.DescribeTableInput{TableName: aws.String(table)}, initMaxWaitTime)
	if err != nil {
		return fmt.Errorf("wait for history table %s to become active: %w", table, err)
	}
	return checkTable(table, out.Table)
}

// checkTable makes sure an existing table has the keys and index the
// store needs, so a wrong table name fails at init, not at the first
// deployment.
func checkTable(table string, t *ddbtypes.TableDescription) error {
	keys := map[string]ddbtypes.KeyType{}
	if t != nil {
		for _, k := range t.KeySchema {
			keys[aws.ToString(k.AttributeName)] = k.KeyType
		}
	}
	if keys[attrPK] != ddbtypes.KeyTypeHash || keys[attrSK] != ddbtypes.KeyTypeRange {
		return fmt.Errorf("table %s exists but its key is not (%s, %s): it was not made by buoy init; pick another table name", table, attrPK, attrSK)
	}
	for _, gsi := range t.GlobalSecondaryIndexes {
		if aws.ToString(gsi.IndexName) == indexByEnv {
			return nil
		}
	}
	return fmt.Errorf("table %s exists but lacks the index %s: it was not made by buoy init; pick another table name", table, indexByEnv)
}
