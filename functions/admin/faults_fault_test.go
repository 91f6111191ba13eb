package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awsfault"
)

// DynamoDB throttling a DPO's action: after the SDK's retries the DPO is told to try again
// (503), and nothing happened: the request is exactly as it was, no audit entry, no mail to
// the requester. Throttled once, the retry applies the action.
func TestThrottledAction(t *testing.T) {
	t.Parallel()
	e := setup(t)
	p := e.faulty()
	d := e.session(e.cfg.DPOAddresses[0])
	ref, requester := dsr.NewReference(), "req."+uniq()+"@example.dk"
	before := e.seed(ref, submission("da", requester), received0, verify)
	raw := e.raw(ref)
	form := url.Values{"version": {strconv.Itoa(before.Version)}, "message": {"Vi har sendt dig en kopi af dine oplysninger."}, "confirm": {"no_delivery"}}

	p.Inject(awsfault.Rule{Op: "UpdateItem", Fault: awsfault.Throttle})
	resp := d.post(requestPath(ref)+"/complete", form)
	page(t, resp, http.StatusServiceUnavailable)
	if all, _ := p.Requests("UpdateItem"); all != 3 {
		t.Errorf("%d write attempts, want the SDK's 3", all)
	}
	if after := e.raw(ref); !reflect.DeepEqual(raw, after) {
		t.Error("a throttled action changed the request")
	}
	if n := len(e.env.Mails(t, requester)); n != 0 {
		t.Errorf("the requester got %d mails", n)
	}

	p.Clear()
	p.Inject(awsfault.Rule{Op: "UpdateItem", Fault: awsfault.Throttle, Times: 1})
	if loc := redirect(t, d.post(requestPath(ref)+"/complete", form)); loc != requestPath(ref)+"?done=complete" {
		t.Fatalf("to %q", loc)
	}
	r := e.request(ref)
	if r.Status != dsr.Completed || len(r.Audit) != len(before.Audit)+1 || r.Mails[dsr.MailCompletion].State != dsr.MailSent {
		t.Errorf("after recovery: %s, %d audit entries, completion mail %+v", r.Status, len(r.Audit), r.Mails[dsr.MailCompletion])
	}
	if n := len(e.env.Mails(t, requester)); n != 1 {
		t.Errorf("the requester got %d mails, want 1", n)
	}
}

// faulty puts a fault-injecting proxy between the workspace and DynamoDB, and returns it.
func (e *tenv) faulty() *awsfault.Proxy {
	e.t.Helper()
	p := awsfault.Start(e.t, e.env.DynamoDBEndpoint)
	h, err := newHandler(e.cfg, p.DynamoDB(e.env.AWSConfig()), e.env.SES(), e.after, e.clock.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	h.signinFloor = 0
	e.h = h
	return p
}
