package dsr

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// limits are a deployment's: 200 MB a file, 1,000 MB together, files kept 30 days, the DPO
// reminded after 7.
var limits = DeliveryLimits{MaxFile: 200 << 20, MaxTotal: 1000 << 20, Retention: 30 * 24 * time.Hour, RemindAfter: 7 * 24 * time.Hour}

// uploaded is when the test's files were uploaded: the day after receipt.
var uploaded = received.Add(24 * time.Hour)

func file(id string, size int64) File {
	return File{ID: id, Name: id + ".csv", Size: size, MD5: strings.Repeat("a", 32), Key: "ABCD-EFGH/" + id + "/" + id + ".csv", Uploaded: uploaded}
}

func fullAnswer() *AccessAnswer {
	return &AccessAnswer{Purposes: "Orders and invoices", Categories: "Name, address, orders", Recipients: "Our carrier",
		Retention: "Five years (bookkeeping law)", Source: "You", Automated: "None", Safeguards: "None: no transfers"}
}

func accessInput() DeliveryInput {
	return DeliveryInput{Message: "Here is your copy.", Files: []File{file("f1", 100), file("f2", 7<<20)}, Answer: fullAnswer()}
}

// openAccess is an open access request whose mails have all gone out.
func openAccess(t *testing.T) *Request {
	r := openOf(t, Access, due)
	sentAll(r)
	return r
}

func sentAll(r *Request) {
	for k, m := range r.Mails {
		r.Mails[k] = MailState{State: MailSent, At: m.At, Attempts: 1}
	}
}

func deliveredAccess(t *testing.T) *Request {
	r := openAccess(t)
	now := received.Add(2 * 24 * time.Hour)
	if _, err := r.Deliver("dpo", accessInput(), limits, now); err != nil {
		t.Fatal(err)
	}
	sentAll(r)
	return r
}

func TestDeliverAccess(t *testing.T) {
	r := openAccess(t)
	now := received.Add(2 * 24 * time.Hour)
	c, err := r.Deliver("dpo@x.dk", accessInput(), limits, now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != Completed || r.Outcome.Result != ResultDone || r.Outcome.Message != "Here is your copy." || r.Outcome.Late != OnTime {
		t.Errorf("outcome %+v, status %s", r.Outcome, r.Status)
	}
	if !slices.Equal(c.Mails, []MailKind{MailDelivery}) || !c.Fields.Has(FieldOutcome|FieldDelivery|FieldStatus) || c.Event.Action != ActionCompleted {
		t.Errorf("change %+v", c)
	}
	d := r.Delivery
	if len(d.Files) != 2 || d.Files[1].Expires != uploaded.Add(30*24*time.Hour) || d.RemindAt != now.Add(7*24*time.Hour) || *d.Answer != *fullAnswer() || d.By != "dpo@x.dk" {
		t.Errorf("delivery %+v", d)
	}
	if !strings.Contains(c.Event.Note, "f2.csv (7340032 bytes, md5 aaaa") || !strings.Contains(c.Event.Note, "Art. 15 answer") {
		t.Errorf("the trail says %q, want the files with sizes and checksums", c.Event.Note)
	}
	// The mail links to the status page, as every mail to the requester.
	if !MailDelivery.ToRequester() || !MailDelivery.CarriesPageLink() {
		t.Error("the delivery mail does not go to the requester with a status page link")
	}
	if q, at := r.SweepQueue(); q != QueueRetry || !at.Equal(now.Add(MailLease)) {
		t.Errorf("queue %s at %s, want the mail's retry first", q, at)
	}
	sentAll(r)
	if q, at := r.SweepQueue(); q != QueueRetry || !at.Equal(d.RemindAt) {
		t.Errorf("mail sent: queue %s at %s, want the reminder on %s", q, at, QueueRetry)
	}
}

func TestDeliverRefuses(t *testing.T) {
	now := received.Add(2 * 24 * time.Hour)
	tooMany := make([]File, MaxFiles+1)
	for i := range tooMany {
		tooMany[i] = file("f"+string(rune('a'+i)), 1)
	}
	for _, tt := range []struct {
		name string
		typ  Type
		edit func(*DeliveryInput)
		want FieldErrors
	}{
		{"no message", Access, func(in *DeliveryInput) { in.Message = " " }, FieldErrors{"message": CodeRequired}},
		{"no purposes", Access, func(in *DeliveryInput) { in.Answer.Purposes = "" }, FieldErrors{"purposes": CodeRequired}},
		{"no answer at all", Access, func(in *DeliveryInput) { in.Answer = nil },
			FieldErrors{"purposes": CodeRequired, "categories": CodeRequired, "recipients": CodeRequired, "retention": CodeRequired}},
		{"a part too long", Access, func(in *DeliveryInput) { in.Answer.Source = strings.Repeat("x", MaxAnswerText+1) }, FieldErrors{"source": CodeTooLong}},
		{"a file too large", Access, func(in *DeliveryInput) { in.Files[0].Size = 201 << 20 }, FieldErrors{"files": CodeFileTooLarge}},
		{"too much together", Access, func(in *DeliveryInput) {
			for i := range 6 {
				in.Files = append(in.Files, file("big"+string(rune('a'+i)), 190<<20))
			}
		}, FieldErrors{"files": CodeFilesTooLarge}},
		{"too many files", Access, func(in *DeliveryInput) { in.Files = tooMany }, FieldErrors{"files": CodeTooManyFiles}},
		{"an expired file", Access, func(in *DeliveryInput) { in.Files[0].Uploaded = now.Add(-31 * 24 * time.Hour) }, FieldErrors{"files": CodeFileExpired}},
		{"a file without a name", Access, func(in *DeliveryInput) { in.Files[0].Name = "" }, FieldErrors{"files": CodeInvalidChoice}},
		{"portable: no format", Portability, func(in *DeliveryInput) {}, FieldErrors{"format": CodeRequired}},
		{"portable: unknown format", Portability, func(in *DeliveryInput) { in.Format = "docx" }, FieldErrors{"format": CodeInvalidChoice}},
		{"portable: nothing", Portability, func(in *DeliveryInput) { in.Format, in.Files = "json", nil }, FieldErrors{"files": CodeNothingToDeliver}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := openOf(t, tt.typ, due)
			in := accessInput()
			tt.edit(&in)
			before := r.Clone()
			_, err := r.Deliver("dpo", in, limits, now)
			var fe FieldErrors
			if !errors.As(err, &fe) || !equalErrors(fe, tt.want) {
				t.Errorf("err %v, want %v", err, tt.want)
			}
			if r.Status != before.Status || r.Version != before.Version || r.Delivery != nil {
				t.Error("a refused delivery changed the request")
			}
		})
	}
	// Types other than access and portability deliver nothing; a closed request nothing more.
	if _, err := openOf(t, Erasure, due).Deliver("dpo", accessInput(), limits, now); reason(err) != "no_delivery" {
		t.Errorf("erasure delivered: %v", err)
	}
	if _, err := deliveredAccess(t).Deliver("dpo", accessInput(), limits, now); reason(err) != "not_allowed" {
		t.Errorf("delivered twice: %v", err)
	}
}

func equalErrors(a, b FieldErrors) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A portable file goes to the requester in a named format, or straight to another
// controller (Art. 20(2)), which the request records.
func TestDeliverPortability(t *testing.T) {
	now := received.Add(2 * 24 * time.Hour)
	r := openOf(t, Portability, due)
	if _, err := r.Deliver("dpo", DeliveryInput{Message: "Sent as you asked.", Format: "csv", Controller: "Nyt Elselskab A/S, Vej 1, 8000 Aarhus C"}, limits, now); err != nil {
		t.Fatal(err)
	}
	d := r.Delivery
	if d.Format != "csv" || d.Controller != "Nyt Elselskab A/S, Vej 1, 8000 Aarhus C" || d.Answer != nil || len(d.Files) != 0 || !d.RemindAt.IsZero() {
		t.Errorf("delivery %+v", d)
	}
	if q, _ := r.SweepQueue(); q != QueueRetry {
		// The completion mail is queued; nothing else keeps it on the queue.
		t.Logf("queue %s", q)
	}
	if !strings.Contains(r.Audit[len(r.Audit)-1].Note, "sent to Nyt Elselskab") {
		t.Errorf("the trail does not say where the data went: %q", r.Audit[len(r.Audit)-1].Note)
	}
}

// Downloads: only a delivered file, only before it expires, only while the status page is
// open; the DPO is reminded of files not downloaded, once, and not of files that were.
func TestDownloadsAndTheReminder(t *testing.T) {
	r := deliveredAccess(t)
	delivered := r.Delivery.At
	if _, err := r.CanDownload("f1", delivered.Add(time.Hour)); err != nil {
		t.Errorf("a delivered file: %v", err)
	}
	if _, err := r.CanDownload("nope", delivered); reason(err) != "no_file" {
		t.Errorf("an unknown file: %v", err)
	}
	expires := r.Delivery.Files[0].Expires
	if _, err := r.CanDownload("f1", expires); reason(err) != "file_expired" {
		t.Errorf("at its expiry: %v", err)
	}
	if !r.FilesOpen(expires.Add(-time.Second)) || r.FilesOpen(expires) {
		t.Error("FilesOpen does not end when the files expire")
	}
	if _, err := openAccess(t).CanDownload("f1", delivered); reason(err) != "no_file" {
		t.Errorf("before any delivery: %v", err)
	}

	// The reminder: due RemindAfter after the answer, whatever was downloaded; it names the
	// files no download fetched, or says every one was.
	remind := r.Delivery.RemindAt
	if r.DeliveryReminderDue(remind.Add(-time.Second)) || !r.DeliveryReminderDue(remind) {
		t.Error("the reminder is not due exactly RemindAfter after the answer")
	}
	one := []Download{NewDownload("f2", delivered.Add(time.Hour)), NewDownload("f2", delivered.Add(2*time.Hour))}
	if got := r.NotDownloaded(one); len(got) != 1 || got[0].ID != "f1" || !slices.Equal(r.Downloaded(one), []string{"f2"}) {
		t.Errorf("not downloaded %v, downloaded %v", got, r.Downloaded(one))
	}
	c, err := r.RemindDelivery(one, remind)
	if err != nil {
		t.Fatal(err)
	}
	if c.Event.Action != ActionDeliveryReminded || c.Event.Note != "not downloaded: f1.csv" || c.Event.Actor != ActorSystem ||
		len(c.Mails) != 0 || r.Delivery.RemindedAt != remind {
		t.Errorf("reminder change %+v", c)
	}
	if q, _ := r.SweepQueue(); q != "" {
		t.Errorf("reminded: still on %s", q)
	}
	if _, err := r.RemindDelivery(one, remind.Add(time.Hour)); err == nil {
		t.Error("reminded twice")
	}
	r = deliveredAccess(t)
	both := append(one, NewDownload("f1", delivered.Add(3*time.Hour)))
	if c, err := r.RemindDelivery(both, remind); err != nil || c.Event.Action != ActionDeliveryFetched || c.Event.Note != "" {
		t.Errorf("all fetched: %+v, %v", c, err)
	}
}

func TestAnswerParts(t *testing.T) {
	a := fullAnswer()
	for _, p := range AnswerParts {
		if a.Part(p) == "" {
			t.Errorf("part %s reads nothing", p)
		}
		a.SetPart(p, "x")
	}
	if *a != (AccessAnswer{"x", "x", "x", "x", "x", "x", "x"}) {
		t.Errorf("SetPart missed a part: %+v", a)
	}
	a.SetPart("nonsense", "y")
	if a.Part("nonsense") != "" {
		t.Error("an unknown part reads something")
	}
}
