package digest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
)

// update rewrites the golden files: go test ./shared/digest -update. A change of wording then
// shows in review as a change of testdata.
var update = flag.Bool("update", false, "rewrite testdata from the template")

// goldenAt is when the golden requests are received: Monday 2 March 2026, 10:15 in Copenhagen.
var goldenAt = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)

// goldenNow is when the golden digests are composed: Tuesday 7 April 2026, 07:00.
var goldenNow = time.Date(2026, 4, 7, 5, 0, 0, 0, time.UTC)

// step applies a change to a request being built, failing the test if it is refused.
func step(t *testing.T) func(dsr.Change, error) {
	return func(_ dsr.Change, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// goldenRequest is a request of type ty received at received, confirmed an hour later unless
// it is a withdrawal (which the digest lists unconfirmed).
func goldenRequest(t *testing.T, cal *deadline.Calendar, ref string, ty dsr.Type, received time.Time) *dsr.Request {
	t.Helper()
	sub := dsr.Submission{Type: string(ty), Name: "Jens Hansen", Email: "kunde@example.dk", Details: "Alt om mig.", Lang: "da"}
	r := dsr.New(ref, sub, received, ty.Due(cal, received, dsr.DefaultPromptWorkingDays), "hash")
	if ty != dsr.WithdrawConsent {
		step(t)(r.Verify(r.TokenHash, received.Add(time.Hour)))
	}
	for k, m := range r.Mails {
		r.Mails[k] = dsr.MailState{State: dsr.MailSent, At: m.At, Attempts: 1}
	}
	return r
}

// goldenReport holds a line of every kind: an unconfirmed withdrawal past its short clock, an
// extended erasure waiting for the requester's answer, a refusal that bounced and a receipt
// marked as spam, letters not posted to a requester without an address, and an answer whose
// files were downloaded one of three.
func goldenReport(t *testing.T, cal *deadline.Calendar) Report {
	withdrawal := goldenRequest(t, cal, "K7MQ-4XTZ", dsr.WithdrawConsent, goldenNow.AddDate(0, 0, -6))

	// Received on 10 January, extended to 10 April.
	jan := goldenAt.AddDate(0, -2, 8)
	erasure := goldenRequest(t, cal, "B3RT-9PLW", dsr.Erasure, jan)
	step(t)(erasure.Start("dpo@example.dk", jan.Add(2*time.Hour)))
	step(t)(erasure.Extend("dpo@example.dk", "Mange systemer.", cal.Extended(jan), jan.Add(3*time.Hour)))
	step(t)(erasure.Ask("dpo@example.dk", dsr.PurposeClarification, "Hvilken konto?", "", goldenAt.AddDate(0, 0, 20)))

	refused := goldenRequest(t, cal, "C4VX-7NHD", dsr.Erasure, goldenAt)
	step(t)(refused.Reject("dpo@example.dk", string(dsr.GroundLegalExemption), "Bogføringsloven kræver, at vi gemmer fakturaerne.", goldenAt.AddDate(0, 0, 30)))
	refused.Mails[dsr.MailRejection] = dsr.MailState{State: dsr.MailSent, At: goldenAt.AddDate(0, 0, 30), Attempts: 1}
	step(t)(refused.RecordFeedback(dsr.MailReceipt, dsr.Feedback{Kind: dsr.FeedbackComplaint, At: goldenAt.AddDate(0, 0, 30).Add(time.Hour), Detail: "abuse"}))
	step(t)(refused.RecordFeedback(dsr.MailRejection, dsr.Feedback{Kind: dsr.FeedbackBounce, At: goldenAt.AddDate(0, 0, 30).Add(2 * time.Hour), Detail: "Permanent/General"}))

	// Registered from a letter without an email address: extended (a letter) on 30 March, a
	// question asked (a letter) on 3 April, refused (a letter) this morning. None is posted;
	// this morning's is not listed yet, the DPO has today to post it.
	letters := dsr.Registered("E5LT-8RPX", dsr.Registration{Channel: dsr.ChannelLetter, ReceivedAt: goldenAt, Type: dsr.Access,
		Name: "Jens Hansen", PostalAddress: "Vestergade 2\n8000 Aarhus C", Lang: "da", Details: "Alt om mig.",
		Identity: dsr.IdentityOtherMeans, IdentityNote: "Underskrevet brev."}, dsr.Access.Due(cal, goldenAt, dsr.DefaultPromptWorkingDays), "", "dpo@example.dk", goldenAt)
	step(t)(letters.Extend("dpo@example.dk", "Mange systemer.", cal.Extended(goldenAt), goldenAt.AddDate(0, 0, 28)))
	step(t)(letters.Ask("dpo@example.dk", dsr.PurposeClarification, "Hvilken konto?", "", goldenAt.AddDate(0, 0, 32)))
	step(t)(letters.Refuse("dpo@example.dk", dsr.Refusal{Ground: dsr.GroundLegalExemption, Reason: "Retsplejeloven."}, goldenNow.Add(-time.Hour)))
	if got := letters.Letters(); len(got) != 3 {
		t.Fatalf("letters %v, want three", got)
	}

	access := goldenRequest(t, cal, "D9KP-3WQS", dsr.Access, goldenAt)
	uploaded := goldenAt.AddDate(0, 0, 25)
	var files []dsr.File
	for i, name := range []string{"kunde.json", "ordrer.csv", "fakturaer.zip"} {
		files = append(files, dsr.File{ID: fmt.Sprint("u", i), Name: name, Size: 1000, MD5: "md5", Key: "k/" + name, Uploaded: uploaded})
	}
	answer := &dsr.AccessAnswer{Purposes: "Ordrer.", Categories: "Navn.", Recipients: "Ingen.", Retention: "Fem år."}
	lim := dsr.DeliveryLimits{MaxFile: 1 << 20, MaxTotal: 1 << 22, Retention: 30 * 24 * time.Hour, RemindAfter: 7 * 24 * time.Hour}
	step(t)(access.Deliver("dpo@example.dk", dsr.DeliveryInput{Message: "Her er dine data.", Files: files, Answer: answer}, lim, uploaded.Add(time.Hour)))
	downloads := []dsr.Download{dsr.NewDownload("u0", uploaded.Add(48*time.Hour))}

	lad := NewLadder(cal, []int{5, 2})
	rep := Report{}
	for _, r := range []*dsr.Request{withdrawal, erasure} {
		esc, ok := lad.At(r, goldenNow)
		if !ok {
			t.Fatalf("%s is at no level", r.Ref)
		}
		rep.Deadlines = append(rep.Deadlines, Item{Req: r, Esc: esc})
	}
	u, _, ok := lad.UndeliveredAt(refused, goldenNow)
	if !ok {
		t.Fatal("the bounced refusal is not listed")
	}
	rep.Undelivered = append(rep.Undelivered, u)
	p, _, ok := lad.NotPostedAt(letters, goldenNow)
	if !ok || slices.Contains(p.Kinds, dsr.MailRejection) {
		t.Fatalf("the letters not posted are listed %v, %+v; want yesterday's and before", ok, p)
	}
	rep.NotPosted = append(rep.NotPosted, p)
	n, _, ok := NotDownloadedAt(access, downloads, goldenNow)
	if !ok {
		t.Fatal("the answer not downloaded is not listed")
	}
	rep.NotDownloaded = append(rep.NotDownloaded, n)
	return rep
}

// The digest, in every language, is what testdata says: the wording a reviewer read. One
// with a line of every kind, and one each with only what did not arrive, was not posted or
// was not downloaded, whose heading and subject are not about deadlines.
func TestDigestAsReviewed(t *testing.T) {
	cal, err := deadline.ForCountry("DK")
	if err != nil {
		t.Fatal(err)
	}
	full := goldenReport(t, cal)
	cases := []struct {
		name string
		rep  Report
	}{
		{"digest", full},
		{"digest.undelivered", Report{Undelivered: full.Undelivered}},
		{"digest.not_posted", Report{NotPosted: full.NotPosted}},
		{"digest.not_downloaded", Report{NotDownloaded: full.NotDownloaded}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		for _, lang := range i18n.Langs {
			t.Run(c.name+"."+string(lang), func(t *testing.T) {
				n, err := notice.New(notice.Settings{Controller: "Eksempel ApS", Country: "DK", BaseURL: "https://dsr.example.dk",
					DPOAddresses: []string{"dpo@example.dk"}, DefaultLang: lang, Location: cal.Location()})
				if err != nil {
					t.Fatal(err)
				}
				desk := Desk{Lang: lang, Controller: "Eksempel ApS", BaseURL: "https://dsr.example.dk", Calendar: cal}
				m, err := Compose(n, desk, []string{"dpo@example.dk"}, c.rep, goldenNow)
				if err != nil {
					t.Fatal(err)
				}
				for _, part := range []string{m.Subject, m.Text, m.HTML} {
					if strings.Contains(part, "[sweep.") || strings.Contains(part, "[mail.") || strings.Contains(part, "[feedback.") || strings.Contains(part, "%!") {
						t.Errorf("untranslated or misformatted text in:\n%s", part)
					}
					// The digest names no requester and no file: its addresses may be
					// shared mailboxes, and the workspace shows the rest to a signed-in DPO.
					for _, private := range []string{"Jens", "kunde@", "Alt om mig", "kunde.json", "ordrer.csv", "Vestergade", "Retsplejeloven"} {
						if strings.Contains(part, private) {
							t.Errorf("the digest holds %q", private)
						}
					}
				}
				for _, ref := range []string{"K7MQ-4XTZ", "B3RT-9PLW", "C4VX-7NHD", "E5LT-8RPX", "D9KP-3WQS"} {
					inText, inHTML := strings.Contains(m.Text, ref), strings.Contains(m.HTML, ref)
					if inText != inHTML {
						t.Errorf("%s in the text %v, in the HTML %v", ref, inText, inHTML)
					}
				}
				got := fmt.Sprintf("To: %s\nSubject: %s\n\n%s", strings.Join(m.To, ", "), m.Subject, m.Text)
				file := filepath.Join("testdata", c.name+"."+string(lang)+".txt")
				seen[filepath.Base(file)] = true
				if *update {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run go test ./shared/digest -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the template's mail (go test ./shared/digest -update to accept):\n--- want\n%s\n--- got\n%s", file, want, got)
				}
			})
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, f := range files {
		if !seen[filepath.Base(f)] && !*update {
			t.Errorf("%s is no digest's golden file", f)
		}
	}
}
