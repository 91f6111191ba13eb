package cost

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/infra/emulators"
)

// indexes charges the index writes of the writes that pass the meter: it reads each item a
// write touches before the write goes on and after it has been answered, straight from the
// emulator, and applies DynamoDB's rules to each global secondary index:
//
//   - an item that enters an index writes its entry: the new item's size in units;
//   - an item that leaves it deletes its entry: the old item's size;
//   - an item that stays with the same index key updates its entry: the larger size;
//   - an item that stays under another index key: a delete and a put.
//
// An index entry holds every attribute (the desk's indexes project ALL), so its size is
// the item's. Reads and writes of the same item by others in between would blur a count;
// the life the meter measures makes one request at a time.
type indexes struct {
	db *dynamodb.Client

	mu      sync.Mutex
	tables  map[string]*tableKeys
	pending map[string][]touched
	next    atomic.Int64
}

type tableKeys struct {
	key     []string   // the table's own key attributes
	indexes [][]string // each global secondary index's key attributes
}

// touched is one item a write touches, as it was before.
type touched struct {
	table string
	key   map[string]types.AttributeValue
	old   map[string]types.AttributeValue
}

func newIndexes(endpoint string) *indexes {
	return &indexes{db: emulators.DynamoDBClient(endpoint), tables: map[string]*tableKeys{}, pending: map[string][]touched{}}
}

func (x *indexes) keys(ctx context.Context, table string) (*tableKeys, error) {
	x.mu.Lock()
	k := x.tables[table]
	x.mu.Unlock()
	if k != nil {
		return k, nil
	}
	out, err := x.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return nil, err
	}
	k = &tableKeys{}
	for _, e := range out.Table.KeySchema {
		k.key = append(k.key, *e.AttributeName)
	}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		var names []string
		for _, e := range g.KeySchema {
			names = append(names, *e.AttributeName)
		}
		k.indexes = append(k.indexes, names)
	}
	x.mu.Lock()
	x.tables[table] = k
	x.mu.Unlock()
	return k, nil
}

// before reads the items the write will touch and returns an id for after.
func (x *indexes) before(ctx context.Context, op string, in map[string]json.RawMessage) (string, error) {
	var items []touched
	add := func(table string, key map[string]json.RawMessage, whole bool) error {
		k, err := x.keys(ctx, table)
		if err != nil {
			return err
		}
		av := map[string]types.AttributeValue{}
		for _, name := range k.key {
			raw, ok := key[name]
			if !ok {
				if whole {
					return fmt.Errorf("the item has no %s", name)
				}
				continue
			}
			v, err := wireValue(raw)
			if err != nil {
				return err
			}
			av[name] = v
		}
		old, err := x.get(ctx, table, av)
		if err != nil {
			return err
		}
		items = append(items, touched{table: table, key: av, old: old})
		return nil
	}
	var table string
	_ = json.Unmarshal(in["TableName"], &table)
	switch op {
	case "PutItem":
		var item map[string]json.RawMessage
		if err := json.Unmarshal(in["Item"], &item); err != nil {
			return "", err
		}
		if err := add(table, item, true); err != nil {
			return "", err
		}
	case "UpdateItem", "DeleteItem":
		var key map[string]json.RawMessage
		if err := json.Unmarshal(in["Key"], &key); err != nil {
			return "", err
		}
		if err := add(table, key, true); err != nil {
			return "", err
		}
	case "BatchWriteItem":
		var req map[string][]struct {
			PutRequest    *struct{ Item map[string]json.RawMessage }
			DeleteRequest *struct{ Key map[string]json.RawMessage }
		}
		if err := json.Unmarshal(in["RequestItems"], &req); err != nil {
			return "", err
		}
		for t, writes := range req {
			for _, w := range writes {
				var err error
				switch {
				case w.PutRequest != nil:
					err = add(t, w.PutRequest.Item, true)
				case w.DeleteRequest != nil:
					err = add(t, w.DeleteRequest.Key, true)
				}
				if err != nil {
					return "", err
				}
			}
		}
	case "TransactWriteItems":
		return "", fmt.Errorf("transactions are not metered (the desk makes none: the emulator has none)")
	}
	id := strconv.FormatInt(x.next.Add(1), 10)
	x.mu.Lock()
	x.pending[id] = items
	x.mu.Unlock()
	return id, nil
}

// after reads the items again and returns the index write units between the two reads.
// A write that failed changed nothing.
func (x *indexes) after(ctx context.Context, id string, ok bool) (float64, error) {
	x.mu.Lock()
	items := x.pending[id]
	delete(x.pending, id)
	x.mu.Unlock()
	if !ok {
		return 0, nil
	}
	var units float64
	for _, it := range items {
		k, err := x.keys(ctx, it.table)
		if err != nil {
			return 0, err
		}
		now, err := x.get(ctx, it.table, it.key)
		if err != nil {
			return 0, err
		}
		units += indexUnits(k.indexes, it.old, now)
	}
	return units, nil
}

func (x *indexes) get(ctx context.Context, table string, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := x.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// indexUnits are the write units a change from old to now (either nil: no item) costs in
// the indexes with these keys.
func indexUnits(indexKeys [][]string, old, now map[string]types.AttributeValue) float64 {
	units := func(item map[string]types.AttributeValue) float64 {
		return math.Ceil(float64(ItemBytes(item)-100) / 1024)
	}
	var total float64
	for _, keys := range indexKeys {
		oldIn, newIn := hasAll(old, keys), hasAll(now, keys)
		switch {
		case oldIn && newIn && sameKey(old, now, keys):
			if !reflect.DeepEqual(old, now) {
				total += math.Max(units(old), units(now))
			}
		case oldIn && newIn:
			total += units(old) + units(now)
		case oldIn:
			total += units(old)
		case newIn:
			total += units(now)
		}
	}
	return total
}

func hasAll(item map[string]types.AttributeValue, keys []string) bool {
	if item == nil {
		return false
	}
	for _, k := range keys {
		if _, ok := item[k]; !ok {
			return false
		}
	}
	return true
}

func sameKey(a, b map[string]types.AttributeValue, keys []string) bool {
	for _, k := range keys {
		if !reflect.DeepEqual(a[k], b[k]) {
			return false
		}
	}
	return true
}
