package history

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDBAPI is the part of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// Item attributes besides the keys (see docs/history.md).
const (
	attrKind      = "kind"
	attrData      = "data" // the record as JSON
	attrVersion   = "version"
	attrEnv       = "environment"
	attrOwner     = "owner"
	attrExpiresAt = "expiresAt"
	attrWrite     = "writeToken" // random per write call, see put
)

// timeKey formats times that DynamoDB compares as strings: UTC RFC 3339
// with all nine fraction digits, so string order is time order.
const timeKey = "2006-01-02T15:04:05.000000000Z"

// DynamoDB is a Store in one DynamoDB table made by Init. Every write is
// conditional, so concurrent runs never overwrite or lose each other's
// records. It is safe for concurrent use.
type DynamoDB struct {
	client DynamoDBAPI
	table  string
	ids    *idSource
	now    func() time.Time
}

var _ Store = (*DynamoDB)(nil)

// NewDynamoDB returns a Store kept in table (see Init) through client.
// When the table does not exist, every method's error is a
// *TableMissingError (errors.Is(err, ErrNoTable)).
func NewDynamoDB(client DynamoDBAPI, table string, opts ...Option) *DynamoDB {
	o := newOptions(opts)
	return &DynamoDB{client: withTableErrors(client, table), table: table, ids: newIDSource(o.now, o.entropy), now: o.now}
}

// NewDynamoDBFromConfig is NewDynamoDB through a client made from cfg.
func NewDynamoDBFromConfig(cfg aws.Config, table string, opts ...Option) *DynamoDB {
	return NewDynamoDB(dynamodb.NewFromConfig(cfg), table, opts...)
}

func projectKey(project string) string { return "PROJECT#" + project }

const (
	prefixRelease = "RELEASE#"
	prefixDeploy  = "DEPLOY#"
	prefixCurrent = "CURRENT#"
	prefixLock    = "LOCK#"
	prefixUnlock  = "UNLOCK#"
)

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

func n(v int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(project, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{attrPK: s(projectKey(project)), attrSK: s(sk)}
}

func isConditionFailed(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// item builds an item holding v as JSON under the given key.
func item(project, sk, kind string, v any) (map[string]ddbtypes.AttributeValue, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", kind, err)
	}
	it := key(project, sk)
	it[attrKind] = s(kind)
	it[attrData] = s(string(data))
	return it, nil
}

func decodeItem[T any](it map[string]ddbtypes.AttributeValue) (*T, error) {
	data, ok := it[attrData].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return nil, fmt.Errorf("stored item %v has no data attribute", it[attrSK])
	}
	return decode[T]([]byte(data.Value))
}

// put writes it if cond holds. Each call tags its item with a random
// write token (a lock item brings its own: its Token). When the
// condition fails because the table already holds this call's token, put
// succeeds: an earlier attempt of this same call wrote the item and its
// answer was lost (the SDK retries a call whose
// connection dropped, and the retry then fails the condition the first
// attempt's write made false).
func (d *DynamoDB) put(ctx context.Context, it map[string]ddbtypes.AttributeValue, cond string, values map[string]ddbtypes.AttributeValue, names map[string]string) error {
	token := rand.Text()
	if preset, ok := it[attrWrite].(*ddbtypes.AttributeValueMemberS); ok && preset.Value != "" {
		token = preset.Value
	}
	it[attrWrite] = s(token)
	_, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &d.table,
		Item:                      it,
		ConditionExpression:       &cond,
		ExpressionAttributeValues: values,
		ExpressionAttributeNames:  names,
	})
	if isConditionFailed(err) && d.written(ctx, it, token) {
		return nil
	}
	return err
}

// written reports whether the item under it's key was written with token.
func (d *DynamoDB) written(ctx context.Context, it map[string]ddbtypes.AttributeValue, token string) bool {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &d.table,
		Key:            map[string]ddbtypes.AttributeValue{attrPK: it[attrPK], attrSK: it[attrSK]},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return false
	}
	got, ok := out.Item[attrWrite].(*ddbtypes.AttributeValueMemberS)
	return ok && got.Value == token
}

func (d *DynamoDB) get(ctx context.Context, project, sk string) (map[string]ddbtypes.AttributeValue, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &d.table, Key: key(project, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read %s of %s from table %s: %w", sk, project, d.table, err)
	}
	return out.Item, nil
}

// query returns items of a project whose sort key starts with prefix,
// newest (highest key) first, at most limit (0: all).
func (d *DynamoDB) query(ctx context.Context, in *dynamodb.QueryInput, limit int) ([]map[string]ddbtypes.AttributeValue, error) {
	in.TableName = &d.table
	in.ScanIndexForward = aws.Bool(false)
	var items []map[string]ddbtypes.AttributeValue
	for {
		if limit > 0 {
			in.Limit = aws.Int32(int32(min(limit-len(items), 1000)))
		}
		out, err := d.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query table %s: %w", d.table, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 || (limit > 0 && len(items) >= limit) {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (d *DynamoDB) queryPrefix(ctx context.Context, project, prefix string, limit int) ([]map[string]ddbtypes.AttributeValue, error) {
	return d.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": s(projectKey(project)), ":prefix": s(prefix),
		},
		ConsistentRead: aws.Bool(true),
	}, limit)
}

func decodeAll[T any](items []map[string]ddbtypes.AttributeValue) ([]*T, error) {
	out := make([]*T, 0, len(items))
	for _, it := range items {
		v, err := decodeItem[T](it)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
