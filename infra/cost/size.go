package cost

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ItemBytes is an item's size as DynamoDB bills its storage: every attribute's name and
// value (strings as UTF-8 bytes, numbers about one byte per two digits, three bytes for a list or
// map plus one per element) and 100 bytes of overhead per item.
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
func ItemBytes(item map[string]types.AttributeValue) int {
	n := 100
	for name, v := range item {
		n += len(name) + valueBytes(v)
	}
	return n
}

// IndexedBytes is what the item adds to the table's storage with its copies in the
// indexes (each projecting every attribute, as the desk's do) whose keys it carries.
func IndexedBytes(item map[string]types.AttributeValue, indexKeys [][]string) int {
	size := ItemBytes(item)
	total := size
	for _, keys := range indexKeys {
		has := true
		for _, k := range keys {
			if _, ok := item[k]; !ok {
				has = false
			}
		}
		if has {
			total += size
		}
	}
	return total
}

func valueBytes(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		digits := len(strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(v.Value), "0"))
		return (digits+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += valueBytes(&types.AttributeValueMemberN{Value: s})
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueBytes(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueBytes(e)
		}
		return n
	}
	return 0
}

// jsonItemBytes is ItemBytes of an item in DynamoDB's wire JSON ({"S": "…"}, …).
func jsonItemBytes(item map[string]json.RawMessage) (int, error) {
	var av map[string]types.AttributeValue
	av = make(map[string]types.AttributeValue, len(item))
	for name, raw := range item {
		v, err := wireValue(raw)
		if err != nil {
			return 0, fmt.Errorf("attribute %s: %w", name, err)
		}
		av[name] = v
	}
	return ItemBytes(av), nil
}

func wireValue(raw json.RawMessage) (types.AttributeValue, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	for typ, val := range v {
		switch typ {
		case "S", "N":
			var s string
			if err := json.Unmarshal(val, &s); err != nil {
				return nil, err
			}
			if typ == "N" {
				return &types.AttributeValueMemberN{Value: s}, nil
			}
			return &types.AttributeValueMemberS{Value: s}, nil
		case "B":
			var b []byte // base64 on the wire
			if err := json.Unmarshal(val, &b); err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberB{Value: b}, nil
		case "BOOL":
			return &types.AttributeValueMemberBOOL{}, nil
		case "NULL":
			return &types.AttributeValueMemberNULL{}, nil
		case "SS", "NS":
			var ss []string
			if err := json.Unmarshal(val, &ss); err != nil {
				return nil, err
			}
			if typ == "NS" {
				return &types.AttributeValueMemberNS{Value: ss}, nil
			}
			return &types.AttributeValueMemberSS{Value: ss}, nil
		case "BS":
			var bs [][]byte
			if err := json.Unmarshal(val, &bs); err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		case "L":
			var list []json.RawMessage
			if err := json.Unmarshal(val, &list); err != nil {
				return nil, err
			}
			out := &types.AttributeValueMemberL{}
			for _, e := range list {
				ev, err := wireValue(e)
				if err != nil {
					return nil, err
				}
				out.Value = append(out.Value, ev)
			}
			return out, nil
		case "M":
			var mm map[string]json.RawMessage
			if err := json.Unmarshal(val, &mm); err != nil {
				return nil, err
			}
			out := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
			for k, e := range mm {
				ev, err := wireValue(e)
				if err != nil {
					return nil, err
				}
				out.Value[k] = ev
			}
			return out, nil
		}
		return nil, fmt.Errorf("unknown attribute type %q", typ)
	}
	return nil, fmt.Errorf("empty attribute value")
}
