package notice

import (
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// update rewrites the golden files: go test ./shared/notice -update. A change of wording then
// shows in review as a change of testdata/mails.
var update = flag.Bool("update", false, "rewrite testdata/mails from the templates")

// goldenAt is when every golden request is received: Monday 2 March 2026, 10:15 in Copenhagen.
var goldenAt = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)

// Recipients of the data, as the register keeps them.
var (
	goldenInvoicing = dsr.Recipient{ID: "fak1", Name: "Fakturaservice ApS", Email: "gdpr@fakturaservice.example", Lang: "da", Receives: "Navn, adresse og fakturaer"}
	goldenLeasing   = dsr.Recipient{ID: "lea2", Name: "Leasing Nord AS", Email: "personvern@leasingnord.example", Lang: "nb", Receives: "Kjøpskontrakter"}
)

// goldenCase is one mail as a reviewer reads it: a kind of mail, in one situation. Each is
// rendered in every language into testdata/mails/<name>.<lang>.txt.
type goldenCase struct {
	name string
	// render renders the mail in lang.
	render func(t *testing.T, lang i18n.Lang) Message
}

// goldenRequest is a request of type ty from a requester writing in lang, with name (which a
// withdrawal may leave out), after the steps given, each at the next hour.
func goldenRequest(t *testing.T, ty dsr.Type, lang i18n.Lang, name string, steps ...func(r *dsr.Request, now time.Time) (dsr.Change, error)) *dsr.Request {
	t.Helper()
	cal, err := deadline.ForCountry("DK")
	if err != nil {
		t.Fatal(err)
	}
	details := map[dsr.Type]string{
		dsr.Access:             "Jeg vil gerne se alt, hvad I har om mig.\nOgså ordrehistorikken.",
		dsr.Erasure:            "Slet min konto og mine oplysninger.",
		dsr.Restriction:        "Min adresse er forkert. Brug den ikke, før I har rettet den.",
		dsr.Objection:          "Jeg vil ikke profileres til kreditvurdering.",
		dsr.ObjectionMarketing: "",
		dsr.WithdrawConsent:    "Nyhedsbrevet.",
	}[ty]
	sub := dsr.Submission{Type: string(ty), Name: name, Email: "kunde@example.dk", Details: details, CustomerRef: "K-4711", Lang: string(lang)}
	r := dsr.New("K7MQ-4XTZ", sub, goldenAt, ty.Due(cal, goldenAt, dsr.DefaultPromptWorkingDays), "hash")
	now := goldenAt
	for _, step := range append([]func(*dsr.Request, time.Time) (dsr.Change, error){verifyStep}, steps...) {
		now = now.Add(time.Hour)
		if _, err := step(r, now); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func verifyStep(r *dsr.Request, now time.Time) (dsr.Change, error) { return r.Verify(r.TokenHash, now) }

// requestCase renders the mail kind about the request build makes for a requester in lang.
func requestCase(name string, kind dsr.MailKind, build func(t *testing.T, lang i18n.Lang) *dsr.Request) goldenCase {
	return goldenCase{name, func(t *testing.T, lang i18n.Lang) Message {
		n := goldenNotices(t, i18n.DA)
		if kind == dsr.MailDPONew {
			n = goldenNotices(t, lang) // the DPO's mail is in the deployment's language
		}
		r := build(t, lang)
		link := ""
		switch {
		case kind == dsr.MailVerification || kind == dsr.MailReminder:
			link = VerifyLink("https://dsr.example.dk", "K7MQ-4XTZ.secret")
		case kind.CarriesPageLink():
			link = StatusLink("https://dsr.example.dk", "K7MQ-4XTZ.secret")
		}
		m, err := n.Request(kind, r, link)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}}
}

// letterCase renders the letter of kind that step decides for an access request registered
// by letter, from a requester who gave a postal address and no email.
func letterCase(name string, kind dsr.MailKind, step func(r *dsr.Request, now time.Time) (dsr.Change, error)) goldenCase {
	return goldenCase{name, func(t *testing.T, l i18n.Lang) Message {
		cal, _ := deadline.ForCountry("DK")
		received := goldenAt.Add(-72 * time.Hour)
		r := dsr.Registered("K7MQ-4XTZ", dsr.Registration{
			Channel: dsr.ChannelLetter, ReceivedAt: received, Type: dsr.Access, Name: "Jens Hansen",
			PostalAddress: "Vestergade 2, 2. th.\n8000 Aarhus C", Lang: string(l), Identity: dsr.IdentityOtherMeans, IdentityNote: "Underskrevet brev",
		}, dsr.Access.Due(cal, received, dsr.DefaultPromptWorkingDays), "", "dpo@example.dk", goldenAt)
		c, err := step(r, goldenAt.Add(time.Hour))
		if err != nil || len(c.Letters) != 1 || c.Letters[0] != kind {
			t.Fatalf("%+v, %v", c, err)
		}
		m, err := goldenNotices(t, i18n.DA).Letter(kind, r)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}}
}

func goldenNotices(t *testing.T, dpoLang i18n.Lang) *Notices {
	t.Helper()
	loc, err := deadline.Location("DK")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Settings{Controller: "Eksempel ApS", Country: "DK", BaseURL: "https://dsr.example.dk",
		DPOAddresses: []string{"dpo@example.dk"}, DefaultLang: dpoLang, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var goldenCases = []goldenCase{
	// Letters to a requester the desk cannot mail: the same notices, addressed to their
	// postal address, without a link, saying where to write back.
	letterCase("extension.by_letter", dsr.MailExtension, func(r *dsr.Request, now time.Time) (dsr.Change, error) {
		return r.Extend("dpo@example.dk", "Dine oplysninger ligger i fem systemer.", r.Due.AddDate(0, 2, 0), now)
	}),
	letterCase("rejection.by_letter", dsr.MailRejection, func(r *dsr.Request, now time.Time) (dsr.Change, error) {
		return r.Refuse("dpo@example.dk", dsr.Refusal{Ground: dsr.GroundLegalExemption, Reason: "Oplysningerne er undtaget efter databeskyttelseslovens § 22."}, now)
	}),
	letterCase("question.by_letter", dsr.MailQuestion, func(r *dsr.Request, now time.Time) (dsr.Change, error) {
		return r.Ask("dpo@example.dk", dsr.PurposeClarification, "Hvilke år drejer det sig om?", "", now)
	}),
	requestCase("verification", dsr.MailVerification, func(t *testing.T, l i18n.Lang) *dsr.Request {
		r := goldenRequest(t, dsr.Erasure, l, "Jens Hansen")
		return unconfirmed(r)
	}),
	requestCase("verification.email", dsr.MailVerification, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return mailRequest(t, l)
	}),
	requestCase("verification.letter", dsr.MailVerification, func(t *testing.T, l i18n.Lang) *dsr.Request {
		cal, _ := deadline.ForCountry("DK")
		return dsr.Registered("K7MQ-4XTZ", dsr.Registration{
			Channel: dsr.ChannelLetter, ReceivedAt: goldenAt.Add(-72 * time.Hour), Type: dsr.Access, Name: "Jens Hansen",
			Email: "kunde@example.dk", Lang: string(l), Identity: dsr.IdentityLink,
		}, dsr.Access.Due(cal, goldenAt.Add(-72*time.Hour), dsr.DefaultPromptWorkingDays), "hash", "dpo@example.dk", goldenAt)
	}),
	requestCase("receipt.unclassified", dsr.MailReceipt, func(t *testing.T, l i18n.Lang) *dsr.Request {
		r := mailRequest(t, l)
		if _, err := r.Verify(r.TokenHash, goldenAt.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return r
	}),
	{"receipt.inbound", func(t *testing.T, l i18n.Lang) Message {
		// With the desk receiving mail, a reply goes to the privacy address's +tag form.
		n := goldenNotices(t, i18n.DA)
		n.s.InboundAddress = "privacy@example.dk"
		m, err := n.Request(dsr.MailReceipt, goldenRequest(t, dsr.Access, l, "Jens Hansen"), StatusLink("https://dsr.example.dk", "K7MQ-4XTZ.secret"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}},
	requestCase("reminder", dsr.MailReminder, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return unconfirmed(goldenRequest(t, dsr.Access, l, "Jens Hansen"))
	}),
	requestCase("receipt", dsr.MailReceipt, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, l, "Jens Hansen")
	}),
	requestCase("receipt.withdraw_consent", dsr.MailReceipt, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.WithdrawConsent, l, "")
	}),
	requestCase("receipt.objection_marketing", dsr.MailReceipt, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.ObjectionMarketing, l, "Jens Hansen")
	}),
	requestCase("dpo_new", dsr.MailDPONew, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, i18n.NB, "Jens Hansen")
	}),
	requestCase("dpo_new.withdraw_consent", dsr.MailDPONew, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.WithdrawConsent, i18n.EN, "")
	}),
	requestCase("extension", dsr.MailExtension, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			cal, _ := deadline.ForCountry("DK")
			return r.Extend("dpo@example.dk", "Dine oplysninger ligger i fem systemer, og to af dem skal vi have hjælp fra leverandøren til at søge i.", cal.Extended(r.ReceivedAt), now)
		})
	}),
	requestCase("completion", dsr.MailCompletion, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Complete("dpo@example.dk", "Du finder en kopi af dine oplysninger i den vedhæftede fil.", now)
		})
	}),
	requestCase("completion.recipients", dsr.MailCompletion, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Erasure, l, "Jens Hansen", tellBoth, func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Complete("dpo@example.dk", "Vi har slettet din konto og alle oplysninger om dig.", now)
		})
	}),
	requestCase("completion.no_data", dsr.MailCompletion, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Answer("dpo@example.dk", dsr.Answer{Result: dsr.ResultNoData, Message: "Vi har søgt på kunde@example.dk og kundenummer K-4711 i kundesystemet og bogholderiet."}, now)
		})
	}),
	requestCase("completion_partial", dsr.MailCompletion, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Erasure, l, "Jens Hansen", tellBoth, func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Answer("dpo@example.dk", dsr.Answer{Result: dsr.ResultPartial,
				Message: "Vi har slettet din konto, dine kontaktoplysninger og din ordrehistorik.",
				Kept:    "Fakturaerne fra 2024 og 2025.",
				Basis:   dsr.BasisLegalObligation,
				Reason:  "Bogføringsloven kræver, at vi opbevarer regnskabsmateriale i 5 år fra udgangen af regnskabsåret. Fakturaerne slettes derefter."}, now)
		})
	}),
	requestCase("rejection", dsr.MailRejection, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Objection, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Refuse("dpo@example.dk", dsr.Refusal{Ground: dsr.GroundLegalClaims, Reason: "Vi har en verserende sag ved byretten om din ubetalte faktura."}, now)
		})
	}),
	requestCase("rejection.withdraw_consent", dsr.MailRejection, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.WithdrawConsent, l, "", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Refuse("dpo@example.dk", dsr.Refusal{Ground: dsr.GroundIdentity, Reason: "Adressen er ikke tilmeldt noget hos os, og vi kan ikke se, hvilket samtykke du mener."}, now)
		})
	}),
	requestCase("fee", dsr.MailFee, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.AnnounceFee("dpo@example.dk", dsr.FeeTerms{Ground: dsr.GroundExcessive, Amount: "250",
				Reason:        "Du har fået en fuld kopi den 2. og den 16. februar, og intet er ændret siden. Gebyret svarer til en times arbejde.",
				Justification: "Kopier sendt 2. og 16. februar (K1, K2)."}, now)
		})
	}),
	requestCase("restriction_lift", dsr.MailLift, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Restriction, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Complete("dpo@example.dk", "Vi bruger ikke din adresse, mens vi kontrollerer den.", now)
		}, func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.NoticeLift("dpo@example.dk", "Vi har kontrolleret adressen hos Folkeregistret, og den er korrekt.", time.Date(2026, 3, 9, 23, 0, 0, 0, time.UTC), now)
		})
	}),
	requestCase("question", dsr.MailQuestion, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Rectification, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			c, err := r.Ask("dpo@example.dk", dsr.PurposeClarification, "Hvilken adresse skal vi rette, og hvad er den rigtige?", "", now)
			return c, err
		})
	}),
	requestCase("question.identity", dsr.MailQuestion, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			c, err := r.Ask("dpo@example.dk", dsr.PurposeIdentity, "Oplys venligst dit kundenummer, så vi ved, at det er dig.",
				"Vi har to kunder med dit navn og kan ikke se, hvem af dem der har sendt anmodningen.", now)
			return c, err
		})
	}),
	requestCase("dpo_reply", dsr.MailDPOReply, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			c, err := r.Ask("dpo@example.dk", dsr.PurposeIdentity, "Dit kundenummer?", "To kunder med dit navn.", now)
			return c, err
		}, func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			cal, _ := deadline.ForCountry("DK")
			c, err := r.Reply("K-4711", now.Add(72*time.Hour), cal)
			return c, err
		})
	}),
	requestCase("delivery", dsr.MailDelivery, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Access, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Deliver("dpo@example.dk", dsr.DeliveryInput{
				Message: "Her er en kopi af dine oplysninger: kundeprofilen og ordrehistorikken fra webshoppen.",
				Files: []dsr.File{
					{ID: "u1", Name: "kundeprofil.pdf", Size: 48_213, MD5: "9e107d9d372bb6826bd81d3542a419d6", Key: "K7MQ-4XTZ/u1/kundeprofil.pdf", Uploaded: now.Add(-time.Hour)},
					{ID: "u2", Name: "ordrehistorik 2019-2026.csv", Size: 7_654_321, MD5: "e4d909c290d0fb1ca068ffaddf22cbd0", Key: "K7MQ-4XTZ/u2/ordrehistorik 2019-2026.csv", Uploaded: now.Add(-time.Hour)},
				},
				Answer: goldenAnswer,
			}, goldenLimits, now)
		})
	}),
	requestCase("delivery.portability", dsr.MailDelivery, func(t *testing.T, l i18n.Lang) *dsr.Request {
		return goldenRequest(t, dsr.Portability, l, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Deliver("dpo@example.dk", dsr.DeliveryInput{
				Message: "Dit forbrug fra 2024 og 2025, som du bad om.",
				Files: []dsr.File{
					{ID: "u1", Name: "forbrug.csv", Size: 912, MD5: "d41d8cd98f00b204e9800998ecf8427e", Key: "K7MQ-4XTZ/u1/forbrug.csv", Uploaded: now.Add(-time.Hour)},
				},
				Format: "csv", Controller: "Nyt Elselskab A/S, Havnegade 1, 8000 Aarhus C",
			}, goldenLimits, now)
		})
	}),
	{"files_link", func(t *testing.T, l i18n.Lang) Message {
		// The data functions/portal/files.go gives the template (filesMail).
		loc, _ := deadline.Location("DK")
		m := render(t, goldenNotices(t, l), "files_link", struct {
			Lang            i18n.Lang
			Controller, Ref string
			Link            string
			Minutes         int
			ValidUntil      string
		}{l, "Eksempel ApS", "K7MQ-4XTZ", "https://dsr.example.dk/status/files?proof=K7MQ-4XTZ.secret", 15,
			i18n.DateTime(l, goldenAt.Add(15*time.Minute).In(loc))})
		m.To = []string{"kunde@example.dk"}
		return m
	}},
	{"lost_link", func(t *testing.T, l i18n.Lang) Message {
		// The data functions/portal/lost.go gives the template (lostMail).
		type item struct{ Ref, Type, Received, Status, Link string }
		loc, _ := deadline.Location("DK")
		m := render(t, goldenNotices(t, l), "lost_link", struct {
			Lang       i18n.Lang
			Controller string
			Items      []item
			DPOContact string
		}{l, "Eksempel ApS", []item{
			{"K7MQ-4XTZ", i18n.T(l, "type.access.name"), i18n.Date(l, goldenAt.In(loc)), i18n.T(l, "portal.status.in_progress"), "https://dsr.example.dk/status?token=K7MQ-4XTZ.secret"},
			{"B3RT-9PLW", i18n.T(l, "type.erasure.name"), i18n.Date(l, goldenAt.Add(-40*24*time.Hour).In(loc)), i18n.T(l, "portal.status.completed"), "https://dsr.example.dk/status?token=B3RT-9PLW.secret"},
		}, "dpo@example.dk"})
		m.To = []string{"kunde@example.dk"}
		return m
	}},
	{"recipient_notice", func(t *testing.T, l i18n.Lang) Message {
		x := goldenInvoicing
		x.Lang = string(l)
		r := goldenRequest(t, dsr.Erasure, i18n.DA, "Jens Hansen", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.TellRecipients("dpo@example.dk", []dsr.Recipient{x}, "Slet alle oplysninger om kunde K-4711, også i jeres fakturaarkiv.", now)
		})
		m, err := goldenNotices(t, i18n.DA).Request(dsr.RecipientMail(x.ID), r, "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}},
	{"signin", func(t *testing.T, l i18n.Lang) Message {
		// The data functions/admin/signin.go gives the template.
		loc, _ := deadline.Location("DK")
		return render(t, goldenNotices(t, l), "signin", struct {
			Lang             i18n.Lang
			Controller, Link string
			ValidUntil       string
			Minutes          int
		}{l, "Eksempel ApS", "https://dsr.example.dk/admin/signin/confirm?token=secret", i18n.DateTime(l, goldenAt.Add(15*time.Minute).In(loc)), 15})
	}},
}

// goldenAnswer is an Art. 15 answer as a webshop's DPO keeps it in the settings.
var goldenAnswer = &dsr.AccessAnswer{
	Purposes:   "Vi bruger dine oplysninger til at levere dine ordrer og sende fakturaer.",
	Categories: "Navn, adresse, e-mail, telefonnummer, ordrer og betalinger.",
	Recipients: "Fragtfirmaet, der bringer dine pakker, og vores revisor.",
	Retention:  "Ordrer og fakturaer i fem år efter regnskabsårets udgang (bogføringsloven); kundeprofilen, til du sletter den.",
	Source:     "Du har selv givet os oplysningerne.",
	Automated:  "Vi træffer ingen automatiske afgørelser om dig.",
	Safeguards: "Vi overfører ikke dine oplysninger til lande uden for EU/EØS.",
}

// goldenLimits are a deployment's defaults.
var goldenLimits = dsr.DeliveryLimits{MaxFile: 200 << 20, MaxTotal: 1000 << 20, Retention: 30 * 24 * time.Hour, RemindAfter: 7 * 24 * time.Hour}

// unconfirmed puts a request back before its confirmation, as the verification and reminder
// mails see it.
func unconfirmed(r *dsr.Request) *dsr.Request {
	r.Status, r.TokenExpires = dsr.PendingVerification, r.ReceivedAt.Add(dsr.ExpireAfter)
	return r
}

func tellBoth(r *dsr.Request, now time.Time) (dsr.Change, error) {
	return r.TellRecipients("dpo@example.dk", []dsr.Recipient{goldenInvoicing, goldenLeasing}, "Slet alle oplysninger om kunde K-4711.", now)
}

func render(t *testing.T, n *Notices, name string, data any) Message {
	t.Helper()
	subject, text, html, err := n.Render(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return Message{To: []string{"dpo@example.dk"}, Subject: subject, Text: text, HTML: html}
}

// Every mail, in every language, is what testdata/mails says: the wording a reviewer read.
func TestMailsAsReviewed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range goldenCases {
		for _, lang := range i18n.Langs {
			t.Run(c.name+"."+string(lang), func(t *testing.T) {
				m := c.render(t, lang)
				checkMail(t, m, true)
				got := fmt.Sprintf("To: %s\nReply-To: %s\nSubject: %s\n\n%s", strings.Join(m.To, ", "), strings.Join(m.ReplyTo, ", "), m.Subject, m.Text)
				file := filepath.Join("testdata", "mails", c.name+"."+string(lang)+".txt")
				seen[filepath.Base(file)] = true
				if *update {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run go test ./shared/notice -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the template's mail (go test ./shared/notice -update to accept):\n%s", file, diff(string(want), got))
				}
			})
		}
	}
	// No golden file is left over from a mail that no longer exists.
	files, _ := filepath.Glob(filepath.Join("testdata", "mails", "*.txt"))
	for _, f := range files {
		if !seen[filepath.Base(f)] && !*update {
			t.Errorf("%s is no mail's golden file", f)
		}
	}
}

// checkMail holds a rendered mail to what every mail must be: every text translated, and the
// HTML part saying what the text part says, so the two cannot drift apart.
func checkMail(t *testing.T, m Message, sameLines bool) {
	t.Helper()
	for _, part := range []string{m.Subject, m.Text, m.HTML} {
		if strings.Contains(part, "[admin.") || strings.Contains(part, "[intake.") || strings.Contains(part, "[sweep.") || strings.Contains(part, "[portal.") || strings.Contains(part, "%!") {
			t.Errorf("untranslated or misformatted text in:\n%s", part)
		}
	}
	if !sameLines {
		return
	}
	visible := normalize(html.UnescapeString(tags.ReplaceAllString(m.HTML, " ")))
	for _, line := range strings.Split(m.Text, "\n") {
		line = strings.TrimPrefix(strings.TrimPrefix(line, "> "), "- ")
		if n := normalize(line); n != "" && !strings.Contains(visible, n) {
			t.Errorf("the HTML part lacks the text's line %q", line)
		}
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

// normalize makes text and HTML comparable: no colons after labels, single spaces.
func normalize(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, ":", " ")), " ")
}

// diff shows the first lines that differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n  golden:   %q\n  template: %q\n", i+1, a, c)
		}
	}
	return b.String()
}

// What the law asks of each mail, checked in every language: an Art. 12(4) answer (a refusal,
// a partial answer, a fee instead of a refusal, the notice before a restriction is lifted)
// gives the reasons and every remedy; a withdrawal's or a marketing objection's receipt
// promises action without undue delay and says nothing of a month or an extension.
func TestMailsSayWhatTheLawAsks(t *testing.T) {
	byName := map[string]goldenCase{}
	for _, c := range goldenCases {
		byName[c.name] = c
	}
	remedies := func(l i18n.Lang) []string {
		return []string{i18n.T(l, "authority.DK.name"), i18n.T(l, "authority.DK.url"), i18n.T(l, "rights.elsewhere"), i18n.T(l, "rights.court")}
	}
	for _, lang := range i18n.Langs {
		for name, want := range map[string][]string{
			"rejection":                  append(remedies(lang), "byretten", i18n.T(lang, "reject.legal_claims")),
			"rejection.withdraw_consent": append(remedies(lang), "samtykke du mener", i18n.T(lang, "reject.identity_not_confirmed")),
			"completion_partial": append(remedies(lang), "Fakturaerne fra 2024", "Bogføringsloven kræver",
				i18n.T(lang, "basis.art17_3_b"), i18n.T(lang, "admin.mail.recipients.ask")),
			"fee":                         append(remedies(lang), "en times arbejde", i18n.T(lang, "fee.amount.DK", 250)),
			"restriction_lift":            append(remedies(lang), "Folkeregistret", i18n.T(lang, "admin.mail.lift.before", i18n.LongDate(lang, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)))),
			"completion.recipients":       {i18n.T(lang, "admin.mail.recipients.told.other", 2, i18n.T(lang, "recipient.action.erasure")), i18n.T(lang, "admin.mail.recipients.ask")},
			"completion.no_data":          {i18n.T(lang, "admin.mail.no_data.body"), i18n.T(lang, "admin.mail.no_data.access")},
			"receipt.withdraw_consent":    {i18n.T(lang, "intake.mail.receipt.prompt.withdraw_consent"), i18n.T(lang, "intake.mail.receipt.prompt.contact")},
			"receipt.objection_marketing": {i18n.T(lang, "intake.mail.receipt.prompt.objection_marketing")},
		} {
			m := byName[name].render(t, lang)
			for _, w := range want {
				if !strings.Contains(m.Text, w) {
					t.Errorf("%s.%s lacks %q", name, lang, w)
				}
			}
		}
		for _, name := range []string{"receipt.withdraw_consent", "receipt.objection_marketing"} {
			m := byName[name].render(t, lang)
			for _, key := range []string{"intake.mail.receipt.extension", "intake.label.deadline"} {
				if strings.Contains(m.Text, i18n.T(lang, key)) {
					t.Errorf("%s.%s says %q", name, lang, i18n.T(lang, key))
				}
			}
			if strings.Contains(m.Text, i18n.T(lang, "intake.mail.receipt.next", "")[:10]) {
				t.Errorf("%s.%s promises an answer within a month", name, lang)
			}
		}
		// A completion that acts is no Art. 12(4) answer, but says where to complain all the same.
		if m := byName["completion"].render(t, lang); strings.Contains(m.Text, i18n.T(lang, "rights.court")) || !strings.Contains(m.Text, i18n.T(lang, "rights.elsewhere")) {
			t.Errorf("completion.%s: %s", lang, m.Text)
		}
	}
	// The answer with files links to the status page and carries neither the data nor the
	// address of a file: not the Art. 15 answer's texts, not the bucket, not a key.
	for _, lang := range i18n.Langs {
		for _, name := range []string{"delivery", "delivery.portability"} {
			m := byName[name].render(t, lang)
			for _, part := range []string{m.Text, m.HTML} {
				if !strings.Contains(part, "https://dsr.example.dk/status?token=") {
					t.Errorf("%s.%s has no status page link", name, lang)
				}
				for _, leak := range []string{"amazonaws", "X-Amz", "K7MQ-4XTZ/u", goldenAnswer.Purposes, goldenAnswer.Retention, "9e107d9d"} {
					if strings.Contains(part, leak) {
						t.Errorf("%s.%s carries %q", name, lang, leak)
					}
				}
			}
		}
		if m := byName["delivery"].render(t, lang); !strings.Contains(m.Text, i18n.T(lang, "admin.mail.delivery.proof.other")) ||
			!strings.Contains(m.Text, "kundeprofil.pdf") || !strings.Contains(m.Text, i18n.Size(lang, 7_654_321)) {
			t.Errorf("delivery.%s does not name the files and how to get them:\n%s", lang, m.Text)
		}
		if m := byName["delivery.portability"].render(t, lang); !strings.Contains(m.Text, "Nyt Elselskab A/S") ||
			!strings.Contains(m.Text, i18n.T(lang, "format.csv")) {
			t.Errorf("delivery.portability.%s does not say where the data went and in which format:\n%s", lang, m.Text)
		}
	}
	// The notice to a recipient goes to the register's address, never the requester's.
	if m := byName["recipient_notice"].render(t, i18n.NB); strings.Join(m.To, ",") != goldenInvoicing.Email || !strings.Contains(m.Text, "kunde@example.dk") {
		t.Errorf("recipient notice to %v:\n%s", m.To, m.Text)
	}
}

// mailRequest is an unclassified request that came by mail to the privacy address, in lang.
func mailRequest(t *testing.T, l i18n.Lang) *dsr.Request {
	t.Helper()
	cal, err := deadline.ForCountry("DK")
	if err != nil {
		t.Fatal(err)
	}
	return dsr.FromMail("K7MQ-4XTZ", dsr.IncomingMail{
		From: "kunde@example.dk", Name: "Jens Hansen", Text: "Hvad har I registreret om mig?", Lang: string(l), ReceivedAt: goldenAt,
		Mail: dsr.InboundMail{Key: "mail/abc", Subject: "Mine oplysninger"},
	}, dsr.Unclassified.Due(cal, goldenAt, dsr.DefaultPromptWorkingDays), "hash")
}
