package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// Settings are what the DPO maintains once for the whole desk (reply templates, registers),
// each a section of keyed texts under one partition, so a section is one Query and one value
// one GetItem. A value holds no personal data of requesters and has no expiry.

// Setting is one value of a section.
type Setting struct {
	Key   string
	Value string
	// By and At say who saved it last, and when; Version counts the saves, for the
	// condition of the next (PutSetting).
	By      string
	At      time.Time
	Version int
}

type settingItem struct {
	PK      string    `dynamodbav:"pk"`
	SK      string    `dynamodbav:"sk"`
	Value   string    `dynamodbav:"value"`
	By      string    `dynamodbav:"by"`
	At      time.Time `dynamodbav:"at"`
	Version int       `dynamodbav:"version"`
}

func settingsPK(section string) string { return SettingsPrefix + section }

// maxSettings bounds what one section may hold, so reading one stays one page or two.
const maxSettings = 500

// Settings returns every value of a section, by key.
func (s *Store) Settings(ctx context.Context, section string) (map[string]Setting, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": str(settingsPK(section))},
		ConsistentRead:            aws.Bool(true),
	}
	out := map[string]Setting{}
	for len(out) < maxSettings {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, unavailable("store: read settings", err)
		}
		for _, av := range page.Items {
			var it settingItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("store: decode setting: %w", err)
			}
			out[it.SK] = it.setting()
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

func (it settingItem) setting() Setting {
	return Setting{Key: it.SK, Value: it.Value, By: it.By, At: it.At, Version: it.Version}
}

// Setting returns one value of a section; fault.NotFound if it was never saved.
func (s *Store) Setting(ctx context.Context, section, key string) (Setting, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key:       map[string]ddbtypes.AttributeValue{AttrPK: str(settingsPK(section)), AttrSK: str(key)},
	})
	if err != nil {
		return Setting{}, unavailable("store: read setting", err)
	}
	if out.Item == nil {
		return Setting{}, fmt.Errorf("store: setting %s/%s: %w", section, key, fault.NotFound)
	}
	var it settingItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Setting{}, fmt.Errorf("store: decode setting: %w", err)
	}
	return it.setting(), nil
}

// PutSetting saves v as the value of v.Key in section, if the stored value is still at
// v.Version (0: none was saved yet), and sets v.Version to the new one: two DPOs editing the
// same text cannot overwrite each other unseen. A value saved meanwhile is fault.Conflict.
func (s *Store) PutSetting(ctx context.Context, section string, v *Setting) error {
	it := settingItem{PK: settingsPK(section), SK: v.Key, Value: v.Value, By: v.By, At: v.At.UTC(), Version: v.Version + 1}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("store: marshal setting: %w", err)
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}
	if v.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("version = :v")
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":v": num(v.Version)}
	}
	_, err = s.db.PutItem(ctx, in)
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: setting %s/%s changed: %w", section, v.Key, fault.Conflict)
	case err != nil:
		return unavailable("store: save setting", err)
	}
	v.Version = it.Version
	return nil
}
