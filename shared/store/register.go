package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// The recipients register (Art. 19) is one item among the settings (SettingsPrefix): the DPO
// keeps it once for every request, it is small (dsr.MaxRecipients), and a request page reads
// it with one GetItem.
const (
	registerPK = SettingsPrefix + "recipients"
	registerSK = "REGISTER"
)

type registerItem struct {
	Recipients []recipientItem `dynamodbav:"recipients"`
	Version    int             `dynamodbav:"version"`
}

func registerKey() map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{AttrPK: str(registerPK), AttrSK: str(registerSK)}
}

// Recipients reads the recipients register; an empty one (Version 0) before the first save.
func (s *Store) Recipients(ctx context.Context) (dsr.Register, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: registerKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return dsr.Register{}, unavailable("store: get recipients", err)
	}
	if out.Item == nil {
		return dsr.Register{}, nil
	}
	var it registerItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return dsr.Register{}, fmt.Errorf("store: decode recipients: %w", err)
	}
	g := dsr.Register{Version: it.Version}
	for _, x := range it.Recipients {
		g.Recipients = append(g.Recipients, x.recipient())
	}
	return g, nil
}

// SaveRecipients writes the register if it is still at the version g was read at, and bumps
// the version in g; fault.Conflict if another DPO saved it meanwhile.
func (s *Store) SaveRecipients(ctx context.Context, g *dsr.Register) error {
	it := registerItem{Recipients: []recipientItem{}, Version: g.Version + 1}
	for _, x := range g.Recipients {
		it.Recipients = append(it.Recipients, recipientToItem(x))
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("store: marshal recipients: %w", err)
	}
	av[AttrPK], av[AttrSK] = str(registerPK), str(registerSK)
	in := &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     av,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	}
	if g.Version > 0 {
		in.ConditionExpression = aws.String("#version = :v")
		in.ExpressionAttributeNames = map[string]string{"#version": "version"}
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":v": num(g.Version)}
	}
	_, err = s.db.PutItem(ctx, in)
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: save recipients: %w", fault.Conflict)
	case err != nil:
		return unavailable("store: save recipients", err)
	}
	g.Version = it.Version
	return nil
}

// SettingsPrefix begins the partition key of what the DPO keeps once for the whole desk.
const SettingsPrefix = "SET#"
