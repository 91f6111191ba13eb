package store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names that appear in template.yaml too; a test keeps the two in step.
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrSweepPK   = "sweep_pk"
	AttrSweepAt   = "sweep_at"
	AttrExpiresAt = "expires_at"
	SweepIndex    = "sweep"
	// The workspace index: the lists (a request's group and type), search entries and the
	// history the exports read (see docs/design.md).
	AttrWsPK       = "ws_pk"
	AttrWsSK       = "ws_sk"
	WorkspaceIndex = "workspace"
)

// TableDefinition is the table as the code expects it. template.yaml declares the same table
// for CloudFormation; tests and the local runner create it from here.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSK), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSweepPK), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSweepAt), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrWsPK), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrWsSK), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: ddbtypes.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName: aws.String(SweepIndex),
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String(AttrSweepPK), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String(AttrSweepAt), KeyType: ddbtypes.KeyTypeRange},
			},
			// The sweep needs whole requests (dates, marks, mail states, language); projecting
			// everything avoids a GetItem per due item.
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}, {
			IndexName: aws.String(WorkspaceIndex),
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String(AttrWsPK), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String(AttrWsSK), KeyType: ddbtypes.KeyTypeRange},
			},
			// A list shows rows of whole requests and the exports whole mail texts: projecting
			// everything answers a page with its Query alone.
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}},
		SSESpecification: &ddbtypes.SSESpecification{Enabled: aws.Bool(true)},
	}
}
