package history

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrNoTable says the history table does not exist where the store looks
// for it (a table never made with `buoy init`, another name, another
// region). The error is a *TableMissingError.
var ErrNoTable = errors.New("history table does not exist")

// TableMissingError says which history table does not exist, and where.
// errors.Is(err, ErrNoTable) is true; it wraps the SDK's
// *types.ResourceNotFoundException.
type TableMissingError struct {
	// Table is the table's name (or ARN) as given to the store.
	Table string
	// Region is the region the client looked in; "" if unknown.
	Region string
	// Err is DynamoDB's answer.
	Err error
}

func (e *TableMissingError) Error() string {
	return fmt.Sprintf("history table %s does not exist in %s: run `buoy init` to create it (or set table: to the one you have)", e.Table, e.where())
}

// where names the region, or says it is unknown.
func (e *TableMissingError) where() string {
	if e.Region == "" {
		return "the configured region"
	}
	return e.Region
}

// Unwrap returns DynamoDB's error, for errors.As(err, *smithy.APIError).
func (e *TableMissingError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNoTable) true.
func (e *TableMissingError) Is(target error) bool { return target == ErrNoTable }

// tableErrors is a DynamoDBAPI that turns DynamoDB's
// ResourceNotFoundException, which is all it says of a missing table,
// into a *TableMissingError naming the table and the region.
type tableErrors struct {
	api    DynamoDBAPI
	table  string
	region string
}

// withTableErrors wraps api; the region is read from a *dynamodb.Client.
func withTableErrors(api DynamoDBAPI, table string) tableErrors {
	t := tableErrors{api: api, table: table}
	if c, ok := api.(interface{ Options() dynamodb.Options }); ok {
		t.region = c.Options().Region
	}
	return t
}

func (t tableErrors) classify(err error) error {
	var rnf *ddbtypes.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return &TableMissingError{Table: t.table, Region: t.region, Err: err}
	}
	return err
}

func (t tableErrors) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := t.api.GetItem(ctx, in, optFns...)
	return out, t.classify(err)
}

func (t tableErrors) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := t.api.PutItem(ctx, in, optFns...)
	return out, t.classify(err)
}

func (t tableErrors) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := t.api.DeleteItem(ctx, in, optFns...)
	return out, t.classify(err)
}

func (t tableErrors) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := t.api.Query(ctx, in, optFns...)
	return out, t.classify(err)
}

func (t tableErrors) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := t.api.TransactWriteItems(ctx, in, optFns...)
	return out, t.classify(err)
}
