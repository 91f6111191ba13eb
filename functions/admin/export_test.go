package main

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// sheetRows checks that resp is a CSV download for a DPO reading l (byte order mark, the
// separator l's spreadsheet splits on, every field quoted) and returns its rows by column
// name (columns, headed by prefix+name in l).
func sheetRows(t *testing.T, resp web.Response, l i18n.Lang, prefix string, columns []string) []map[string]string {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "text/csv; charset=utf-8" || resp.Headers["Cache-Control"] != "no-store" ||
		!strings.HasPrefix(resp.Headers["Content-Disposition"], `attachment; filename="`) {
		t.Fatalf("%d %v", resp.StatusCode, resp.Headers)
	}
	body, ok := strings.CutPrefix(resp.Body, "\ufeff")
	if !ok {
		t.Fatal("no byte order mark for spreadsheets")
	}
	sep := ';'
	if l == i18n.EN {
		sep = ','
	}
	if !allQuoted(body, sep) {
		t.Errorf("a field is not quoted:\n%.300s", body)
	}
	rd := csv.NewReader(strings.NewReader(body))
	rd.Comma = sep
	all, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("%v\n%.500s", err, body)
	}
	if len(all) == 0 || len(all[0]) != len(columns) {
		t.Fatalf("no header of %d columns: %v", len(columns), all)
	}
	for i, name := range columns {
		if want := i18n.T(l, prefix+name); all[0][i] != want {
			t.Errorf("column %d heading %q, want %q", i, all[0][i], want)
		}
	}
	var rows []map[string]string
	for _, rec := range all[1:] {
		m := map[string]string{}
		for i, name := range columns {
			m[name] = rec[i]
		}
		rows = append(rows, m)
	}
	// No reader finds a formula: not one splitting on either separator or on line breaks
	// and ignoring the quotes.
	for _, piece := range regexp.MustCompile(`[,;\t\r\n]`).Split(body, -1) {
		if p := strings.TrimLeft(piece, `"`); p != "" && strings.ContainsRune(formulaStart, rune(p[0])) {
			t.Errorf("a cell could start a formula: %q", piece)
		}
	}
	return rows
}

// The requests export holds every request with everything decided and answered, opens as a
// table in the DPO's language (";" for Danish and Norwegian Excel, "," in English, localized
// headings and values) and never hands a spreadsheet a formula a requester typed, however
// they split it (issue 19.6).
func TestExportCSV(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	hostile := submission("da", "-"+uniq()+"@example.dk")
	hostile.Name = `Jens;=2+3;"=HYPERLINK("http://evil.example")"`
	hostile.CustomerRef = "@SUM(A1),+1"
	e.seed(ref0, hostile, received0, verify)
	redirect(t, d.act(ref0, "extend", url.Values{"reason": {"Mange systemer;\n=1+1 i alt."}}))
	redirect(t, d.act(ref0, "complete", url.Values{"message": {"Sendt, -vi har slettet alt."}, "confirm": {"no_delivery"}}))
	at := submission("nb", "p."+uniq()+"@example.dk")
	at.Name = "+45 1234 @home"
	e.seed("PEND-2222", at, now0.Add(-time.Hour))
	refused := dsr.NewReference()
	e.seed(refused, submission("en", "r."+uniq()+"@example.dk"), received0.Add(time.Hour), verify)
	redirect(t, d.act(refused, "reject", url.Values{"category": {string(dsr.GroundManifestlyUnfounded)},
		"reason": {"Same request as last week."}, "justification": {"Five identical requests in May."}}))

	for _, l := range []i18n.Lang{i18n.DA, i18n.NB, i18n.EN} {
		t.Run(string(l), func(t *testing.T) {
			resp := d.get("/admin/export.csv?lang=" + string(l))
			if cd := resp.Headers["Content-Disposition"]; cd != `attachment; filename="requests-2026-03-10.csv"` {
				t.Errorf("Content-Disposition %q", cd)
			}
			rows := sheetRows(t, resp, l, "admin.export.col.", exportColumns)
			if len(rows) != 3 {
				t.Fatalf("%d rows, want 3", len(rows))
			}
			done, rej, pending := rows[0], rows[1], rows[2]
			for name, want := range map[string]string{
				"reference": ref0, "type": typeLabel(l, dsr.Access), "status": statusLabel(l, dsr.Completed),
				"language": i18n.T(l, "admin.langname.da"),
				"name":     `Jens;'=2+3;"'=HYPERLINK("http://evil.example")"`, "email": "'" + hostile.Email,
				"customer_ref": "'@SUM(A1),'+1",
				"received":     "2026-03-02T10:00:00+01:00", "verified": "2026-03-02T11:00:00+01:00",
				"due": "2026-04-07", "deadline": "2026-06-02", "extended_deadline": "2026-06-02",
				"extension_reason": "Mange systemer;\n'=1+1 i alt.", "closed": "2026-03-10T10:15:00+01:00",
				"outcome": i18n.T(l, "result.done"), "reply": "Sendt, '-vi har slettet alt.", "ground": "",
				"on_time": i18n.T(l, "admin.export.yes"), "late": "", "audit_events": "4", // submitted, verified, extended, completed
			} {
				if got := done[name]; got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			for name, want := range map[string]string{
				"reference": refused, "status": statusLabel(l, dsr.Rejected), "language": i18n.T(l, "admin.langname.en"),
				"ground": i18n.T(l, "reject."+string(dsr.GroundManifestlyUnfounded)), "reply": "Same request as last week.",
				"justification": "Five identical requests in May.", "outcome": "", "on_time": i18n.T(l, "admin.export.yes"),
			} {
				if got := rej[name]; got != want {
					t.Errorf("refusal: %s = %q, want %q", name, got, want)
				}
			}
			if pending["name"] != "'+45 1234 @home" || pending["status"] != statusLabel(l, dsr.PendingVerification) ||
				pending["on_time"] != "" || pending["closed"] != "" || pending["deadline"] != "" {
				t.Errorf("pending row %v", pending)
			}
		})
	}
}

// The audit export is every request's history as its page shows it, one event a row: the
// trail, and the exact text of every mail that went, to whom and in which language.
func TestAuditExport(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	e.seed(ref0, submission("da", "audit."+uniq()+"@example.dk"), received0, verify)
	redirect(t, d.act(ref0, "extend", url.Values{"reason": {"=Mange systemer."}}))
	e.clock.Set(e.clock.Now().Add(time.Hour))
	redirect(t, d.act(ref0, "complete", url.Values{"message": {"Vi har sendt dig en kopi."}, "confirm": {"no_delivery"}}))
	other := dsr.NewReference()
	e.seed(other, submission("en", "other."+uniq()+"@example.dk"), received0.Add(time.Hour))

	for _, l := range []i18n.Lang{i18n.DA, i18n.EN} {
		t.Run(string(l), func(t *testing.T) {
			resp := d.get("/admin/audit.csv?lang=" + string(l))
			if cd := resp.Headers["Content-Disposition"]; cd != `attachment; filename="audit-2026-03-10.csv"` {
				t.Errorf("Content-Disposition %q", cd)
			}
			rows := sheetRows(t, resp, l, "admin.audit.col.", auditColumns)
			var events []string
			var mails []map[string]string
			for _, r := range rows {
				if r["reference"] == ref0 {
					events = append(events, r["event"])
				}
				if r["mail_to"] != "" {
					mails = append(mails, r)
				}
			}
			want := []string{
				i18n.T(l, "action."+string(dsr.ActionSubmitted)), i18n.T(l, "action."+string(dsr.ActionVerified)),
				i18n.T(l, "action."+string(dsr.ActionExtended)), i18n.T(l, "admin.history.mail", i18n.T(l, "mail.kind.extension")),
				i18n.T(l, "action."+string(dsr.ActionCompleted)), i18n.T(l, "admin.history.mail", i18n.T(l, "mail.kind.completion")),
			}
			if strings.Join(events, "|") != strings.Join(want, "|") {
				t.Errorf("events of %s:\n got %q\nwant %q", ref0, events, want)
			}
			if len(mails) != 2 || !strings.Contains(mails[0]["text"], "> =Mange systemer.") ||
				!strings.Contains(mails[1]["text"], "Vi har sendt dig en kopi.") || mails[1]["mail_subject"] == "" ||
				mails[1]["mail_language"] != i18n.T(l, "admin.langname.da") {
				t.Errorf("mails %v", mails)
			}
			if rows[len(rows)-1]["reference"] != other {
				t.Errorf("the later request's events do not come last: %v", rows[len(rows)-1])
			}
		})
	}
}

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "Karen": "Karen", "=1+1": "'=1+1", "+45": "'+45", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b", "a-b c+d": "a-b c+d",
		"Jens;=2+3;": "Jens;'=2+3;", "a,-1": "a,'-1", "x\n@y": "x\n'@y", "x\r\n=y": "x\r\n'=y", "a\t+b": "a\t'+b",
		"æ;ø": "æ;ø", "1,5 dage": "1,5 dage", `"=1"`: `"'=1"`, " =1": " '=1", `a; "-x`: `a; "'-x`,
	} {
		if got := defuse(in); got != want {
			t.Errorf("defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

// allQuoted reports whether every field of a CSV body is quoted: each starts with a quote,
// right at the body's start, after a separator or after a record's CRLF.
func allQuoted(body string, sep rune) bool {
	rs := []rune(body)
	start, in := true, false
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case start:
			if r != '"' {
				return false
			}
			start, in = false, true
		case in:
			if r == '"' {
				if i+1 < len(rs) && rs[i+1] == '"' {
					i++
					continue
				}
				in = false
			}
		case r == sep:
			start = true
		case r == '\r' && i+1 < len(rs) && rs[i+1] == '\n':
			i++
			start = i+1 < len(rs)
		default:
			return false
		}
	}
	return !in && !start
}
