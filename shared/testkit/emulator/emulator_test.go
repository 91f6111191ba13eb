package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// tableDef is shaped like the product's table: pk/sk and a sparse GSI.
func tableDef() *dynamodb.CreateTableInput {
	s := dbtypes.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String("ignored"),
		BillingMode: dbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: s},
			{AttributeName: aws.String("sk"), AttributeType: s},
			{AttributeName: aws.String("sweep_pk"), AttributeType: s},
			{AttributeName: aws.String("sweep_at"), AttributeType: s},
		},
		KeySchema: []dbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: dbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: dbtypes.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []dbtypes.GlobalSecondaryIndex{{
			IndexName: aws.String("sweep"),
			KeySchema: []dbtypes.KeySchemaElement{
				{AttributeName: aws.String("sweep_pk"), KeyType: dbtypes.KeyTypeHash},
				{AttributeName: aws.String("sweep_at"), KeyType: dbtypes.KeyTypeRange},
			},
			Projection: &dbtypes.Projection{ProjectionType: dbtypes.ProjectionTypeAll},
		}},
	}
}

func str(v string) *dbtypes.AttributeValueMemberS { return &dbtypes.AttributeValueMemberS{Value: v} }

func TestTable(t *testing.T) {
	t.Parallel()
	env := Get(t)
	db := env.DynamoDB()
	ctx := t.Context()
	def := tableDef()

	// Parallel tests must each get their own table from the same definition.
	names := make(chan string, 3)
	t.Run("group", func(t *testing.T) {
		for i := range cap(names) {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				name := env.NewTable(t, def)
				names <- name
				useTable(t, db, name)
			})
		}
	})
	close(names)
	var got []string
	for n := range names {
		got = append(got, n)
	}
	if slices.Sort(got); len(slices.Compact(got)) != 3 {
		t.Errorf("table names %v: want 3 different ones", got)
	}
	if *def.TableName != "ignored" {
		t.Errorf("NewTable changed the definition's TableName to %q", *def.TableName)
	}

	// The subtests' cleanups have run: their tables are gone or going (deletion is
	// asynchronous, even in dynalite).
	for _, n := range got {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(n)})
		if err == nil && out.Table.TableStatus != dbtypes.TableStatusDeleting {
			t.Errorf("table %s is %s after its test ended", n, out.Table.TableStatus)
		}
	}
}

func useTable(t *testing.T, db *dynamodb.Client, table string) {
	ctx := t.Context()
	item := map[string]dbtypes.AttributeValue{
		"pk": str("REQ#ABCDEFGH"), "sk": str("REQ"), "status": str("received"),
		"sweep_pk": str("OPEN"), "sweep_at": str("2026-03-02T23:00:00Z"),
	}
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]dbtypes.AttributeValue{"pk": str("REQ#ABCDEFGH"), "sk": str("REQ")},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if s, ok := got.Item["status"].(*dbtypes.AttributeValueMemberS); !ok || s.Value != "received" {
		t.Errorf("get: status = %#v, want received", got.Item["status"])
	}
	q, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(table),
		IndexName:              aws.String("sweep"),
		KeyConditionExpression: aws.String("sweep_pk = :p AND sweep_at <= :h"),
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{
			":p": str("OPEN"), ":h": str("2026-03-03T00:00:00Z"),
		},
	})
	if err != nil {
		t.Fatalf("query gsi: %v", err)
	}
	if q.Count != 1 {
		t.Errorf("query gsi: %d items, want 1", q.Count)
	}
}

// address returns a recipient no other test uses: the mail store is shared.
func address(who string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s@example.test", who, hex.EncodeToString(b[:]))
}

func TestMails(t *testing.T) {
	t.Parallel()
	env := Get(t)
	to, cc, bcc := address("requester"), address("copy"), address("blind")
	const subject = "Anmodning om indsigt – ÆØÅ æøå"
	const html = "<p>Kære Åse Ørsted,</p><p>vi har modtaget din anmodning.</p>"
	const text = "Kære Åse Ørsted,\n\nvi har modtaget din anmodning."
	before := time.Now().Truncate(time.Second)

	send := func(subject string) string {
		t.Helper()
		out, err := env.SES().SendEmail(t.Context(), &ses.SendEmailInput{
			Source: aws.String("Dsrdesk <no-reply@example.test>"),
			Destination: &sestypes.Destination{
				ToAddresses:  []string{"Åse Ørsted <" + strings.ToUpper(to) + ">"},
				CcAddresses:  []string{cc},
				BccAddresses: []string{bcc},
			},
			ReplyToAddresses: []string{"dpo@example.test"},
			Message: &sestypes.Message{
				Subject: &sestypes.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
				Body: &sestypes.Body{
					Html: &sestypes.Content{Data: aws.String(html), Charset: aws.String("UTF-8")},
					Text: &sestypes.Content{Data: aws.String(text), Charset: aws.String("UTF-8")},
				},
			},
		})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		return *out.MessageId
	}
	first := send(subject)
	second := send("second")

	mails := env.Mails(t, to)
	if len(mails) != 2 {
		t.Fatalf("Mails(to) = %d mails, want 2: %+v", len(mails), mails)
	}
	m := mails[0]
	if m.MessageID != first || mails[1].MessageID != second {
		t.Errorf("message ids %s, %s; want %s, %s (oldest first)", m.MessageID, mails[1].MessageID, first, second)
	}
	if m.Subject != subject {
		t.Errorf("subject %q, want %q", m.Subject, subject)
	}
	if m.HTML != html || m.Text != text {
		t.Errorf("bodies html=%q text=%q", m.HTML, m.Text)
	}
	if m.From != "Dsrdesk <no-reply@example.test>" {
		t.Errorf("from %q", m.From)
	}
	if !slices.Equal(m.ReplyTo, []string{"dpo@example.test"}) {
		t.Errorf("reply-to %q", m.ReplyTo)
	}
	if !slices.Equal(m.Cc, []string{cc}) || !slices.Equal(m.Bcc, []string{bcc}) || len(m.To) != 1 {
		t.Errorf("to %q cc %q bcc %q", m.To, m.Cc, m.Bcc)
	}
	if m.At.Before(before) || m.At.After(time.Now().Add(time.Second)) {
		t.Errorf("at %s, want about now", m.At)
	}

	for _, a := range []string{cc, bcc, "Someone <" + bcc + ">"} {
		if got := env.Mails(t, a); len(got) != 2 {
			t.Errorf("Mails(%q) = %d mails, want 2", a, len(got))
		}
	}
	if got := env.Mails(t, address("nobody")); len(got) != 0 {
		t.Errorf("Mails(unused address) = %d mails, want 0", len(got))
	}
}

// The emulator drops every address after the first of each list (see Mails). This pins that
// so an upgrade that fixes it shows up here, and the doc and the tests that work around it can
// change with it.
func TestSESKeepsFirstAddressOnly(t *testing.T) {
	t.Parallel()
	env := Get(t)
	first, second := address("first"), address("second")
	_, err := env.SES().SendEmail(t.Context(), &ses.SendEmailInput{
		Source:           aws.String("no-reply@example.test"),
		Destination:      &sestypes.Destination{ToAddresses: []string{first, second}},
		ReplyToAddresses: []string{"dpo@example.test", "dpo2@example.test"},
		Message: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("two recipients")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("two recipients")}},
		},
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	mails := env.Mails(t, first)
	if len(mails) != 1 {
		t.Fatalf("Mails(first) = %d mails, want 1", len(mails))
	}
	if got := env.Mails(t, second); len(got) != 0 || len(mails[0].To) != 1 || len(mails[0].ReplyTo) != 1 {
		t.Errorf("aws-ses-v2-local now keeps more than the first address (to %q, reply-to %q, "+
			"%d mails for the second): update the note on Mails", mails[0].To, mails[0].ReplyTo, len(got))
	}
}

// TestOverride runs this test binary again with the endpoint variables pointing at the
// emulators started here, so TestOverrideChild must use them and start nothing. The child
// also loads its config the way a function does, from Environ, which checks that too.
func TestOverride(t *testing.T) {
	t.Parallel()
	env := Get(t)
	to := address("override")
	bucket := env.NewBucket(t)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestOverrideChild$", "-test.count=1", "-test.v")
	cmd.Env = slices.Concat(os.Environ(), env.Environ(), []string{
		EnvDynamoDBEndpoint + "=" + env.DynamoDBEndpoint,
		EnvSESEndpoint + "=" + env.SESEndpoint,
		EnvS3Endpoint + "=" + env.S3URL(t),
		"DSR_EMULATOR_CHILD_TO=" + to,
		"DSR_EMULATOR_CHILD_BUCKET=" + bucket,
	})
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestOverrideChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := env.Mails(t, to); len(got) != 1 {
		t.Errorf("the child's mail: %d in this SES emulator, want 1", len(got))
	}
	if _, err := env.S3(t).HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("child")}); err != nil {
		t.Errorf("the child's object in this S3 emulator: %v", err)
	}
}

func TestOverrideChild(t *testing.T) {
	to := os.Getenv("DSR_EMULATOR_CHILD_TO")
	if to == "" {
		t.Skip("run by TestOverride")
	}
	env := Get(t)
	if env.DynamoDBEndpoint != os.Getenv(EnvDynamoDBEndpoint) || env.SESEndpoint != os.Getenv(EnvSESEndpoint) ||
		env.S3URL(t) != os.Getenv(EnvS3Endpoint) {
		t.Errorf("Get = %s %s %s, want the endpoints from the environment", env.DynamoDBEndpoint, env.SESEndpoint, env.S3Endpoint)
	}
	procsMu.Lock()
	started := len(procs)
	procsMu.Unlock()
	if started != 0 {
		t.Errorf("started %d emulators, want none", started)
	}

	ctx := t.Context()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("load config from Environ: %v", err)
	}
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("list tables via AWS_ENDPOINT_URL_DYNAMODB: %v", err)
	}
	_, err = ses.NewFromConfig(cfg).SendEmail(ctx, &ses.SendEmailInput{
		Source:      aws.String("no-reply@example.test"),
		Destination: &sestypes.Destination{ToAddresses: []string{to}},
		Message: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("override")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("override")}},
		},
	})
	if err != nil {
		t.Errorf("send via AWS_ENDPOINT_URL_SES: %v", err)
	}
	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(os.Getenv("DSR_EMULATOR_CHILD_BUCKET")), Key: aws.String("child"), Body: strings.NewReader("from the child"),
	})
	if err != nil {
		t.Errorf("put via AWS_ENDPOINT_URL_S3: %v", err)
	}
}

// Each test gets a bucket of its own, emptied and deleted when it ends.
func TestNewBucket(t *testing.T) {
	t.Parallel()
	env := Get(t)
	client := env.S3(t)
	made := make(chan string, 2)
	t.Run("group", func(t *testing.T) {
		for i := range cap(made) {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				name := env.NewBucket(t)
				_, err := client.PutObject(t.Context(), &s3.PutObjectInput{
					Bucket: aws.String(name), Key: aws.String("REQ-1/a.txt"), Body: strings.NewReader("æøå"),
				})
				if err != nil {
					t.Fatalf("put: %v", err)
				}
				got, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(name), Key: aws.String("REQ-1/a.txt")})
				if err != nil {
					t.Fatalf("get: %v", err)
				}
				body, _ := io.ReadAll(got.Body)
				got.Body.Close()
				if string(body) != "æøå" {
					t.Errorf("got %q", body)
				}
				made <- name
			})
		}
	})
	close(made)
	var names []string
	for n := range made {
		names = append(names, n)
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("bucket names %v: want 2 different ones", names)
	}
	for _, n := range names {
		if _, err := client.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String(n)}); err == nil {
			t.Errorf("bucket %s is still there after its test ended", n)
		}
	}
}

func TestAddressList(t *testing.T) {
	for in, want := range map[string][]string{
		`["a@x.test","b@x.test"]`: {"a@x.test", "b@x.test"},
		`"a@x.test"`:              {"a@x.test"},
		`""`:                      nil,
		`null`:                    nil,
		`[]`:                      {},
	} {
		var got addressList
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("%s: %v", in, err)
		} else if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
	var got addressList
	if err := json.Unmarshal([]byte(`{"a":1}`), &got); err == nil {
		t.Error("an object decoded as an address list")
	}
}

func TestTableName(t *testing.T) {
	a, b := tableName("TestX/sub case#1"), tableName("TestX/sub case#1")
	if a == b {
		t.Errorf("two names alike: %s", a)
	}
	if !strings.HasPrefix(a, "TestX_sub_case_1-") {
		t.Errorf("name %s does not keep the test's name", a)
	}
	if long := tableName(strings.Repeat("x", 400)); len(long) > 255 {
		t.Errorf("name of %d characters, limit 255", len(long))
	}
}
