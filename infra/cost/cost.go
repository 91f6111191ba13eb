// Package cost prices what the desk uses, from measurement: a [Meter] in front of the
// emulators counts what the functions ask of DynamoDB, SES and S3 (DynamoDB's own consumed
// capacity, mails per recipient, S3 requests), the local runner's invocation log gives the
// Lambda durations and the HTTP API calls, and [Fixed] reads from template.yaml what a
// deployment pays every month whether or not anyone files a request. prices.json, kept
// beside this file with its date and sources, turns both into dollars for eu-north-1 and
// eu-west-1.
//
// The measurement itself is infra/e2e's TestCostOfARequestsLife, which `make bench` runs
// and prints as its cost table.
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

//go:embed prices.json
var pricesJSON []byte

// Prices is prices.json: list prices per region, with the date they were recorded and
// where they were read.
type Prices struct {
	Recorded string                  `json:"recorded"`
	Currency string                  `json:"currency"`
	Note     string                  `json:"note"`
	Sources  map[string]string       `json:"sources"`
	Regions  map[string]RegionPrices `json:"regions"`
}

// RegionPrices are one region's prices in dollars per unit.
type RegionPrices struct {
	Name                   string  `json:"name"`
	LambdaGBSecondArm64    float64 `json:"lambda_gb_second_arm64"`
	LambdaRequest          float64 `json:"lambda_request"`
	HTTPAPIRequest         float64 `json:"http_api_request"`
	DynamoDBWriteUnit      float64 `json:"dynamodb_write_unit"`
	DynamoDBReadUnit       float64 `json:"dynamodb_read_unit"`
	DynamoDBStorageGBMonth float64 `json:"dynamodb_storage_gb_month"`
	DynamoDBPITRGBMonth    float64 `json:"dynamodb_pitr_gb_month"`
	// The Standard-IA table class's prices (TableClass: STANDARD_INFREQUENT_ACCESS).
	DynamoDBIAWriteUnit      float64 `json:"dynamodb_ia_write_unit"`
	DynamoDBIAReadUnit       float64 `json:"dynamodb_ia_read_unit"`
	DynamoDBIAStorageGBMonth float64 `json:"dynamodb_ia_storage_gb_month"`
	SESMail                  float64 `json:"ses_mail"`
	SESInboundMail           float64 `json:"ses_inbound_mail"`
	SESInboundChunk          float64 `json:"ses_inbound_chunk"`
	S3StorageGBMonth         float64 `json:"s3_storage_gb_month"`
	S3WriteRequest           float64 `json:"s3_write_request"`
	S3ReadRequest            float64 `json:"s3_read_request"`
	LogsIngestGB             float64 `json:"logs_ingest_gb"`
	LogsStorageGBMonth       float64 `json:"logs_storage_gb_month"`
	AlarmMonth               float64 `json:"alarm_month"`
	SchedulerInvocation      float64 `json:"scheduler_invocation"`
	SQSRequest               float64 `json:"sqs_request"`
	SNSEmail                 float64 `json:"sns_email"`
	KMSKeyMonth              float64 `json:"kms_key_month"`
}

// LoadPrices reads the embedded prices.json and checks that every region prices
// everything: a price left out would read as free.
func LoadPrices() (*Prices, error) {
	var p Prices
	if err := json.Unmarshal(pricesJSON, &p); err != nil {
		return nil, fmt.Errorf("prices.json: %w", err)
	}
	if p.Recorded == "" || len(p.Sources) == 0 || len(p.Regions) == 0 {
		return nil, fmt.Errorf("prices.json: recorded date, sources and regions are required")
	}
	for id, r := range p.Regions {
		var m map[string]any
		raw, _ := json.Marshal(r)
		_ = json.Unmarshal(raw, &m)
		for k, v := range m {
			if f, ok := v.(float64); ok && f <= 0 {
				return nil, fmt.Errorf("prices.json: %s has no price for %s", id, k)
			}
		}
	}
	return &p, nil
}

// ForTableClass returns the prices with DynamoDB's for a table of that class (a
// TableClass value; empty is STANDARD).
func (r RegionPrices) ForTableClass(class string) (RegionPrices, error) {
	switch class {
	case "", "STANDARD":
		return r, nil
	case "STANDARD_INFREQUENT_ACCESS":
		r.DynamoDBWriteUnit, r.DynamoDBReadUnit, r.DynamoDBStorageGBMonth = r.DynamoDBIAWriteUnit, r.DynamoDBIAReadUnit, r.DynamoDBIAStorageGBMonth
		return r, nil
	}
	return r, fmt.Errorf("no prices for the table class %q", class)
}

// RegionIDs returns the regions priced, sorted.
func (p *Prices) RegionIDs() []string {
	ids := make([]string, 0, len(p.Regions))
	for id := range p.Regions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

const gb = 1 << 30

// Usage is what some stretch of the desk's work used, as measured.
type Usage struct {
	// Invocations are Lambda invocations; GBSeconds their billed duration (rounded up to the
	// millisecond, as Lambda bills) times the function's memory.
	Invocations int
	GBSeconds   float64
	// APICalls are HTTP API requests (each under 512 KB, the metering increment).
	APICalls int
	// ReadUnits and WriteUnits are DynamoDB request units as DynamoDB reports them
	// (ReturnConsumedCapacity); IndexWriteUnits is the bound on what the table's global
	// secondary indexes add to the writes, which the emulator does not report.
	ReadUnits       float64
	WriteUnits      float64
	IndexWriteUnits float64
	// Mails are outgoing mails, one per recipient as SES counts them.
	Mails int
	// InboundMails and InboundChunks are mails SES received (a chunk is 256 KB of one).
	InboundMails  int
	InboundChunks int
	// S3Writes are PUT, POST, COPY and LIST requests; S3Reads GET and the rest.
	S3Writes int
	S3Reads  int
	// LogBytes are the functions' log lines, as CloudWatch Logs ingests them.
	LogBytes int64
	// Scheduled are invocations started by EventBridge Scheduler.
	Scheduled int
}

// Add returns u plus v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		Invocations: u.Invocations + v.Invocations, GBSeconds: u.GBSeconds + v.GBSeconds,
		APICalls: u.APICalls + v.APICalls, ReadUnits: u.ReadUnits + v.ReadUnits, WriteUnits: u.WriteUnits + v.WriteUnits,
		IndexWriteUnits: u.IndexWriteUnits + v.IndexWriteUnits, Mails: u.Mails + v.Mails,
		InboundMails: u.InboundMails + v.InboundMails, InboundChunks: u.InboundChunks + v.InboundChunks,
		S3Writes: u.S3Writes + v.S3Writes, S3Reads: u.S3Reads + v.S3Reads, LogBytes: u.LogBytes + v.LogBytes,
		Scheduled: u.Scheduled + v.Scheduled,
	}
}

// Sub returns u less v, what one step added to another it contains (never below zero).
func (u Usage) Sub(v Usage) Usage {
	return u.Add(v.Scale(-1)).floor()
}

func (u Usage) floor() Usage {
	z := func(i int) int { return max(i, 0) }
	return Usage{
		Invocations: z(u.Invocations), GBSeconds: math.Max(u.GBSeconds, 0), APICalls: z(u.APICalls),
		ReadUnits: math.Max(u.ReadUnits, 0), WriteUnits: math.Max(u.WriteUnits, 0), IndexWriteUnits: math.Max(u.IndexWriteUnits, 0),
		Mails: z(u.Mails), InboundMails: z(u.InboundMails), InboundChunks: z(u.InboundChunks),
		S3Writes: z(u.S3Writes), S3Reads: z(u.S3Reads), LogBytes: max(u.LogBytes, 0), Scheduled: z(u.Scheduled),
	}
}

// Scale returns u times f (a month of daily runs: f = 30.44).
func (u Usage) Scale(f float64) Usage {
	n := func(i int) int { return int(math.Ceil(float64(i) * f)) }
	return Usage{
		Invocations: n(u.Invocations), GBSeconds: u.GBSeconds * f, APICalls: n(u.APICalls),
		ReadUnits: u.ReadUnits * f, WriteUnits: u.WriteUnits * f, IndexWriteUnits: u.IndexWriteUnits * f,
		Mails: n(u.Mails), InboundMails: n(u.InboundMails), InboundChunks: n(u.InboundChunks),
		S3Writes: n(u.S3Writes), S3Reads: n(u.S3Reads), LogBytes: int64(math.Ceil(float64(u.LogBytes) * f)),
		Scheduled: n(u.Scheduled),
	}
}

// Breakdown is a cost in dollars by what it pays for.
type Breakdown map[string]float64

// Total is the sum of the breakdown.
func (b Breakdown) Total() float64 {
	var t float64
	for _, v := range b {
		t += v
	}
	return t
}

// Add adds c to b, line by line.
func (b Breakdown) Add(c Breakdown) Breakdown {
	out := Breakdown{}
	for k, v := range b {
		out[k] += v
	}
	for k, v := range c {
		out[k] += v
	}
	return out
}

// Price is what u costs in region p. Logs are priced as ingested and then kept for
// logMonths; nothing here is fixed per month (see [Fixed]).
func (u Usage) Price(p RegionPrices, logMonths float64) Breakdown {
	return Breakdown{
		"Lambda":    float64(u.Invocations)*p.LambdaRequest + u.GBSeconds*p.LambdaGBSecondArm64,
		"HTTP API":  float64(u.APICalls) * p.HTTPAPIRequest,
		"DynamoDB":  u.ReadUnits*p.DynamoDBReadUnit + (u.WriteUnits+u.IndexWriteUnits)*p.DynamoDBWriteUnit,
		"SES":       float64(u.Mails)*p.SESMail + float64(u.InboundMails)*p.SESInboundMail + float64(u.InboundChunks)*p.SESInboundChunk,
		"S3":        float64(u.S3Writes)*p.S3WriteRequest + float64(u.S3Reads)*p.S3ReadRequest,
		"Logs":      float64(u.LogBytes) / gb * (p.LogsIngestGB + logMonths*p.LogsStorageGBMonth),
		"Scheduler": float64(u.Scheduled) * p.SchedulerInvocation,
	}
}

// Stored is what a request leaves in the table and in S3 once answered, kept for its
// retention: DynamoDB storage and point-in-time recovery are priced on the table's size.
type Stored struct {
	// TableBytes are its items in the table and its copies in the indexes (each with
	// DynamoDB's 100 bytes of overhead per item).
	TableBytes int64
	// Months is how long they are kept (RetentionDays).
	Months float64
	// S3Bytes are files delivered, kept S3Months.
	S3Bytes  int64
	S3Months float64
}

// Price is what keeping s costs in region p, over its whole retention.
func (s Stored) Price(p RegionPrices, pitr bool) Breakdown {
	table := float64(s.TableBytes) / gb * s.Months
	b := Breakdown{"DynamoDB storage": table * p.DynamoDBStorageGBMonth}
	if pitr {
		b["DynamoDB PITR"] = table * p.DynamoDBPITRGBMonth
	}
	if s.S3Bytes > 0 {
		b["S3 storage"] = float64(s.S3Bytes) / gb * s.S3Months * p.S3StorageGBMonth
	}
	return b
}
