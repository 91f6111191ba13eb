package samtemplate

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table is an AWS::DynamoDB::Table (or AWS::Serverless::SimpleTable) with resolved
// properties, in the SDK's types so that it compares directly with the code's own
// table definition.
type Table struct {
	LogicalID string
	// TableName is the TableName property, else the logical id (what !Ref gives).
	TableName              string
	BillingMode            types.BillingMode
	KeySchema              []types.KeySchemaElement
	AttributeDefinitions   []types.AttributeDefinition
	GlobalSecondaryIndexes []types.GlobalSecondaryIndex
	LocalSecondaryIndexes  []types.LocalSecondaryIndex
	ProvisionedThroughput  *types.ProvisionedThroughput
	StreamSpecification    *types.StreamSpecification
	SSESpecification       *types.SSESpecification
	// TimeToLive is TimeToLiveSpecification; CreateTable cannot set it (UpdateTimeToLive
	// does), so CreateTableInput leaves it out.
	TimeToLive *types.TimeToLiveSpecification
	// PointInTimeRecovery is PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled;
	// like TTL it needs a separate call (UpdateContinuousBackups).
	PointInTimeRecovery       bool
	DeletionProtectionEnabled bool
}

// CreateTableInput is the CreateTable call CloudFormation would make for the table.
// TTL and point-in-time recovery are separate API calls (and not implemented by
// dynalite), so they are not part of it.
func (t *Table) CreateTableInput() *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:              aws.String(t.TableName),
		BillingMode:            t.BillingMode,
		KeySchema:              t.KeySchema,
		AttributeDefinitions:   t.AttributeDefinitions,
		GlobalSecondaryIndexes: t.GlobalSecondaryIndexes,
		LocalSecondaryIndexes:  t.LocalSecondaryIndexes,
		ProvisionedThroughput:  t.ProvisionedThroughput,
		StreamSpecification:    t.StreamSpecification,
		SSESpecification:       t.SSESpecification,
	}
	if t.DeletionProtectionEnabled {
		in.DeletionProtectionEnabled = aws.Bool(true)
	}
	return in
}

// Tables returns every table whose Condition (if any) holds, sorted by logical id.
func (s *Stack) Tables() ([]*Table, error) {
	var out []*Table
	for _, id := range s.Template.IDs("") {
		r := s.Template.Resources[id]
		if (r.Type != TypeTable && r.Type != TypeSimpleTable) || !s.created(id) {
			continue
		}
		t, err := s.Table(id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Table returns the resolved view of one table.
func (s *Stack) Table(logicalID string) (*Table, error) {
	r, ok := s.Template.Resources[logicalID]
	if !ok || (r.Type != TypeTable && r.Type != TypeSimpleTable) {
		return nil, fmt.Errorf("table %s: no AWS::DynamoDB::Table with that logical id", logicalID)
	}
	v, err := s.Resolve(propsNode(r.Properties))
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, in("resource "+logicalID, err))
	}
	props, _ := v.(map[string]any)
	name, err := s.ref(nodeFor(logicalID))
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, in("resource "+logicalID, err))
	}
	t := &Table{LogicalID: logicalID}
	t.TableName, _ = name.(string)
	d := decoder{}
	if r.Type == TypeSimpleTable {
		d.simpleTable(t, props)
	} else {
		d.table(t, props)
	}
	if d.err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, d.err)
	}
	return t, nil
}

// decoder turns resolved CloudFormation properties into SDK types, keeping the first
// error so that the conversion code reads straight.
type decoder struct{ err error }

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) str(m map[string]any, key string) string {
	v, err := prop(m, key)
	if err != nil {
		d.fail("%w", err)
	}
	return v
}

func (d *decoder) int64(m map[string]any, key string) *int64 {
	s := d.str(m, key)
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d.fail("%s: %q is not a number", key, s)
	}
	return aws.Int64(n)
}

func (d *decoder) bool(m map[string]any, key string) bool {
	return d.str(m, key) == "true"
}

func (d *decoder) mapping(m map[string]any, key string) map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	mm, ok := v.(map[string]any)
	if !ok {
		d.fail("%s: expected a mapping", key)
	}
	return mm
}

func (d *decoder) list(m map[string]any, key string) []map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		d.fail("%s: expected a list", key)
		return nil
	}
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		mm, ok := it.(map[string]any)
		if !ok {
			d.fail("%s: expected a list of mappings", key)
			return nil
		}
		out = append(out, mm)
	}
	return out
}

func (d *decoder) table(t *Table, p map[string]any) {
	t.BillingMode = types.BillingMode(d.str(p, "BillingMode"))
	if t.BillingMode == "" {
		t.BillingMode = types.BillingModeProvisioned // CloudFormation's default.
	}
	t.KeySchema = d.keySchema(p)
	for _, a := range d.list(p, "AttributeDefinitions") {
		t.AttributeDefinitions = append(t.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(d.str(a, "AttributeName")),
			AttributeType: types.ScalarAttributeType(d.str(a, "AttributeType")),
		})
	}
	for _, g := range d.list(p, "GlobalSecondaryIndexes") {
		t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:             aws.String(d.str(g, "IndexName")),
			KeySchema:             d.keySchema(g),
			Projection:            d.projection(g),
			ProvisionedThroughput: d.throughput(g),
		})
	}
	for _, l := range d.list(p, "LocalSecondaryIndexes") {
		t.LocalSecondaryIndexes = append(t.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(d.str(l, "IndexName")),
			KeySchema:  d.keySchema(l),
			Projection: d.projection(l),
		})
	}
	t.ProvisionedThroughput = d.throughput(p)
	if s := d.mapping(p, "StreamSpecification"); s != nil {
		t.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(d.str(s, "StreamViewType")),
		}
	}
	if s := d.mapping(p, "SSESpecification"); s != nil {
		t.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(d.bool(s, "SSEEnabled"))}
		if v := d.str(s, "SSEType"); v != "" {
			t.SSESpecification.SSEType = types.SSEType(v)
		}
		if v := d.str(s, "KMSMasterKeyId"); v != "" {
			t.SSESpecification.KMSMasterKeyId = aws.String(v)
		}
	}
	if s := d.mapping(p, "TimeToLiveSpecification"); s != nil {
		t.TimeToLive = &types.TimeToLiveSpecification{
			AttributeName: aws.String(d.str(s, "AttributeName")),
			Enabled:       aws.Bool(d.bool(s, "Enabled")),
		}
	}
	if s := d.mapping(p, "PointInTimeRecoverySpecification"); s != nil {
		t.PointInTimeRecovery = d.bool(s, "PointInTimeRecoveryEnabled")
	}
	t.DeletionProtectionEnabled = d.bool(p, "DeletionProtectionEnabled")
	if len(t.KeySchema) == 0 {
		d.fail("KeySchema is empty")
	}
}

func (d *decoder) keySchema(m map[string]any) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range d.list(m, "KeySchema") {
		out = append(out, types.KeySchemaElement{
			AttributeName: aws.String(d.str(k, "AttributeName")),
			KeyType:       types.KeyType(d.str(k, "KeyType")),
		})
	}
	return out
}

func (d *decoder) projection(m map[string]any) *types.Projection {
	p := d.mapping(m, "Projection")
	if p == nil {
		return nil
	}
	out := &types.Projection{ProjectionType: types.ProjectionType(d.str(p, "ProjectionType"))}
	if v, ok := p["NonKeyAttributes"].([]any); ok {
		for _, a := range v {
			out.NonKeyAttributes = append(out.NonKeyAttributes, fmt.Sprint(a))
		}
	}
	return out
}

func (d *decoder) throughput(m map[string]any) *types.ProvisionedThroughput {
	p := d.mapping(m, "ProvisionedThroughput")
	if p == nil {
		return nil
	}
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  d.int64(p, "ReadCapacityUnits"),
		WriteCapacityUnits: d.int64(p, "WriteCapacityUnits"),
	}
}

// simpleTable maps SAM's SimpleTable (a hash key only, "id" of type String by default).
func (d *decoder) simpleTable(t *Table, p map[string]any) {
	name, typ := "id", "String"
	if k := d.mapping(p, "PrimaryKey"); k != nil {
		name, typ = or(d.str(k, "Name"), name), or(d.str(k, "Type"), typ)
	}
	attrType := map[string]types.ScalarAttributeType{
		"String": types.ScalarAttributeTypeS, "Number": types.ScalarAttributeTypeN, "Binary": types.ScalarAttributeTypeB,
	}[typ]
	if attrType == "" {
		d.fail("PrimaryKey.Type %q is not String, Number or Binary", typ)
	}
	t.KeySchema = []types.KeySchemaElement{{AttributeName: aws.String(name), KeyType: types.KeyTypeHash}}
	t.AttributeDefinitions = []types.AttributeDefinition{{AttributeName: aws.String(name), AttributeType: attrType}}
	t.ProvisionedThroughput = d.throughput(p)
	t.BillingMode = types.BillingModePayPerRequest
	if t.ProvisionedThroughput != nil {
		t.BillingMode = types.BillingModeProvisioned
	}
}
