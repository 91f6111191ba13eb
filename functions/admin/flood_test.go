package main

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/bulkput"
)

// flood stores n unconfirmed requests received over the last hours, each with a name of the
// longest kind the form takes, as a bot filing through the public form leaves them. It writes
// them in batches, copies of one request the store wrote, so that a test of thousands does not
// wait for thousands of puts.
func (e *tenv) flood(n int) {
	e.t.Helper()
	seed := dsr.NewReference()
	s := submission("da", "bot@example.dk")
	s.Name = strings.Repeat("Æbleskiver ", dsr.MaxName/11)
	e.seed(seed, s, now0.Add(-time.Hour))
	tmpl := e.raw(seed)
	bulkput.Put(e.t, e.db, e.table, n-1, func(i int) []map[string]ddbtypes.AttributeValue {
		ref := fmt.Sprintf("FL%02d-%04d", i/10000, i%10000)
		received := now0.Add(-time.Duration(i) * time.Second)
		it := maps.Clone(tmpl)
		s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
		it["pk"], it["ref"] = s("REQ#"+ref), s(ref)
		it["email"] = s(fmt.Sprintf("bot%d@example.dk", i))
		it["received_at"] = s(received.Format(time.RFC3339Nano))
		it["sweep_at"] = s(received.Add(dsr.ReminderAfter).UTC().Format("2006-01-02T15:04:05.000Z"))
		it["ws_sk"] = s("access#" + received.UTC().Format("2006-01-02T15:04:05.000Z") + "#" + ref)
		return []map[string]ddbtypes.AttributeValue{it}
	})
}

// A flood of unconfirmed requests (a bot at the public form) does not break the worklist: it
// shows how many there are and a warning, and the first of them, in a page of bounded size
// read with bounded reads. (Before, the worklist read and drew all of them: 12,000 rows,
// megabytes of page.)
func TestWorklistSurvivesAFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 12,000 requests")
	}
	e := setup(t)
	const n = 12000
	start := time.Now()
	e.flood(n)
	t.Logf("stored %d unconfirmed requests in %s", n, time.Since(start).Round(time.Millisecond))
	open := e.seed(dsr.NewReference(), submission("da", "real."+uniq()+"@example.dk"), received0, verify)

	rec := &awscount.Recorder{}
	e.recorded(rec)
	d := e.session(e.cfg.DPOAddresses[0])
	rec.Take()
	start = time.Now()
	body := page(t, d.get("/admin"), http.StatusOK)
	took := time.Since(start)
	calls := rec.Take()
	items := 0
	for _, c := range calls {
		if q, ok := c.Output.(*dynamodb.QueryOutput); ok {
			items += int(q.ScannedCount)
		}
		if c.Operation == "Scan" {
			t.Errorf("the worklist scans the table")
		}
	}
	t.Logf("worklist: %d bytes in %s, %d items read in %s", len(body), took.Round(time.Millisecond), items, awscount.Describe(calls))
	if len(body) > 150<<10 {
		t.Errorf("the worklist is %d KB with %d unconfirmed requests, want at most 150 KB", len(body)>>10, n)
	}
	if items > 2500 {
		t.Errorf("the worklist read %d items, want a bounded number", items)
	}
	if took > 5*time.Second {
		t.Errorf("the worklist took %s", took)
	}
	for _, w := range []string{open.Ref, i18n.T(i18n.DA, "admin.flood.heading", i18n.T(i18n.DA, "admin.count.more", countUpTo))} {
		if !strings.Contains(body, w) {
			t.Errorf("the worklist lacks %q", w)
		}
	}
}
