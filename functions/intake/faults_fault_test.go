package main

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awsfault"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// Faults injected between the handler and the emulators (shared/testkit/awsfault), with the SDK's own
// retryer. The outages failure_test.go covers (nothing listening at all) are not repeated.

// withFaults sends the handler's DynamoDB and SES calls through proxies the test controls.
func withFaults(env *emulator.Env, db, mail *awsfault.Proxy) harnessOpt {
	return func(_ map[string]string, c *harnessClients) {
		if db != nil {
			c.db = db.DynamoDB(env.AWSConfig())
		}
		if mail != nil {
			c.ses = mail.SES(env.AWSConfig())
		}
	}
}

// DynamoDB failing while a request is filed: the person is asked to try again (503, in their
// language), nothing is stored and nothing is sent. When it recovers, filing works.
func TestDynamoDBFailsDuringSubmission(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	for _, fault := range []awsfault.Fault{awsfault.ServerError, awsfault.Throttle, awsfault.Drop} {
		t.Run(fault.String(), func(t *testing.T) {
			t.Parallel()
			p := awsfault.Start(t, env.DynamoDBEndpoint)
			hs := newHarness(t, withFaults(env, p, nil))
			email := address("ddb-fails")
			puts, _ := p.Requests("PutItem") // the deployment key's, when the harness read it
			p.Inject(awsfault.Rule{Op: "PutItem", Fault: fault})

			resp := hs.postForm(hs.form(email, i18n.NB))
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("form post: %s, want 503", fmtStatus(resp))
			}
			mustContain(t, "page", resp.Body, `<html lang="nb">`, htmlEscape(i18n.T(i18n.NB, "intake.unavailable.text")))
			if all, faulted := p.Requests("PutItem"); all-puts != 3 || faulted != 3 {
				t.Errorf("%d puts, %d faulted: want the SDK's 3 attempts", all, faulted)
			}
			if n := hs.requests(); n != 0 {
				t.Fatalf("%d requests stored after a failed put", n)
			}
			if n := len(env.Mails(t, email)); n != 0 {
				t.Fatalf("%d mails sent for a request not stored", n)
			}

			p.Clear()
			hs.file(email, i18n.NB) // fails the test unless stored and mailed
			if n := hs.requests(); n != 1 {
				t.Fatalf("%d requests stored after recovery, want 1", n)
			}
		})
	}
}

// A put whose answer is lost after DynamoDB wrote it: the SDK retries, finds the item there
// and reports a condition failure. The request is stored once, not again under another
// reference, and the person gets their link.
func TestSubmissionAnswerLost(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	p := awsfault.Start(t, env.DynamoDBEndpoint)
	hs := newHarness(t, withFaults(env, p, nil))
	email := address("answer-lost")
	p.Inject(awsfault.Rule{Op: "PutItem", Fault: awsfault.DropAnswer, Times: 1})
	tok := hs.file(email, i18n.DA)
	refs := scanRequests(t, hs)
	if len(refs) != 1 || refs[0] != refOf(tok) {
		t.Fatalf("stored %v for one submission; the mail's link is for %s", refs, refOf(tok))
	}
	if n := len(env.Mails(t, email)); n != 1 {
		t.Errorf("%d verification mails, want 1", n)
	}
	if r := hs.request(refOf(tok)); r.Mails[dsr.MailVerification].State != dsr.MailSent {
		t.Errorf("verification mail %+v", r.Mails[dsr.MailVerification])
	}
}

// SES throttling every attempt while a request is filed: the request is stored, its mail
// recorded as failed, and the person gets the usual answer. (failure_test.go shows the same
// with SES unreachable, and that the request is then due on the sweep's index at once; the
// sweep's TestMailRetries/verification_failed sends the new link.)
func TestSESThrottledDuringSubmission(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	p := awsfault.Start(t, env.SESEndpoint)
	hs := newHarness(t, withFaults(env, nil, p))
	email := address("ses-throttled")
	p.Inject(awsfault.Rule{Op: "SendEmail", Fault: awsfault.Throttle})
	if resp := hs.postForm(hs.form(email, i18n.DA)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form post: %s, want 303", fmtStatus(resp))
	}
	if all, _ := p.Requests("SendEmail"); all != 3 {
		t.Errorf("%d send attempts, want the SDK's 3", all)
	}
	refs := scanRequests(t, hs)
	if len(refs) != 1 {
		t.Fatalf("%d requests stored, want 1", len(refs))
	}
	r := hs.request(refs[0])
	if r.Status != dsr.PendingVerification || r.Mails[dsr.MailVerification].State != dsr.MailFailed {
		t.Errorf("stored %s, verification mail %+v", r.Status, r.Mails[dsr.MailVerification])
	}
}

// DynamoDB throttling the confirming write: after the SDK's retries the person is asked to try
// again, and nothing happened: the request is exactly as it was, no audit entry, no mail.
// Throttled once, the retry confirms.
func TestThrottledConfirmation(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	p := awsfault.Start(t, env.DynamoDBEndpoint)
	hs := newHarness(t, withFaults(env, p, nil))
	email := address("throttled-confirm")
	tok := hs.file(email, i18n.EN)
	before := hs.item(refOf(tok))
	writes, _ := p.Requests("UpdateItem")

	p.Inject(awsfault.Rule{Op: "UpdateItem", Fault: awsfault.Throttle})
	resp := hs.verifyPost(tok, i18n.EN)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("confirm: %s, want 503", fmtStatus(resp))
	}
	mustContain(t, "page", resp.Body, htmlEscape(i18n.T(i18n.EN, "intake.unavailable_verify.text")))
	if all, _ := p.Requests("UpdateItem"); all-writes != 3 {
		t.Errorf("%d write attempts, want the SDK's 3", all-writes)
	}
	if after := hs.item(refOf(tok)); !reflect.DeepEqual(before, after) {
		t.Error("a throttled confirmation changed the request")
	}
	if n := len(env.Mails(t, email)); n != 1 {
		t.Errorf("%d mails, want only the verification", n)
	}
	if n := len(env.Mails(t, hs.dpo)); n != 0 {
		t.Errorf("the DPO got %d mails", n)
	}

	p.Clear()
	p.Inject(awsfault.Rule{Op: "UpdateItem", Fault: awsfault.Throttle, Times: 1})
	resp = hs.verifyPost(tok, i18n.EN)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, i18n.T(i18n.EN, "intake.confirmed.title")) {
		t.Fatalf("confirm after recovery: %s", fmtStatus(resp))
	}
	r := hs.request(refOf(tok))
	if r.Status != dsr.Open || len(r.Audit) != 2 || r.Mails[dsr.MailReceipt].State != dsr.MailSent {
		t.Errorf("confirmed: %s, %d audit entries, receipt %+v", r.Status, len(r.Audit), r.Mails[dsr.MailReceipt])
	}
}

// The verification mail went out but recording that failed (DynamoDB throttled after the
// send): the person still gets the usual answer, and the mail stays queued, so the sweep
// sends a new link once the lease has passed (TestMailRetries/verification_queued_past_the_lease):
// a second mail at worst, never none.
func TestRecordAfterSendThrottled(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	p := awsfault.Start(t, env.DynamoDBEndpoint)
	hs := newHarness(t, withFaults(env, p, nil))
	email := address("record-throttled")
	// The two rate-limit counters and the day's ceiling are the first UpdateItems; the record
	// of the send is next.
	p.Inject(awsfault.Rule{Op: "UpdateItem", Fault: awsfault.Throttle, Skip: 3})
	if resp := hs.postForm(hs.form(email, i18n.DA)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form post: %s, want 303", fmtStatus(resp))
	}
	if n := len(env.Mails(t, email)); n != 1 {
		t.Fatalf("%d verification mails, want 1", n)
	}
	refs := scanRequests(t, hs)
	if len(refs) != 1 {
		t.Fatalf("%d requests stored, want 1", len(refs))
	}
	r := hs.request(refs[0])
	if m := r.Mails[dsr.MailVerification]; m.State != dsr.MailQueued {
		t.Errorf("verification mail %+v, want still queued", m)
	}
	if q, at := r.SweepQueue(); q != dsr.QueueUnverified || !at.Equal(hs.clock.Now().Add(dsr.MailLease)) {
		t.Errorf("sweep queue %s %s, want UNVERIFIED when the lease lapses", q, at)
	}
}
