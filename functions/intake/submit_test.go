package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// TestValidation posts every kind of bad field, as a form and as JSON, in every language:
// 400, the message next to its field and in the summary, the values kept, nothing stored,
// nothing sent.
func TestValidation(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	cases := []struct {
		name  string
		field string
		value string
		typ   string // request type to post (default access)
		code  string
	}{
		{"type missing", "type", "", "", dsr.CodeRequired},
		{"type unknown", "type", "delete_everything", "", dsr.CodeInvalidChoice},
		{"name missing", "name", "   ", "", dsr.CodeRequired},
		{"name too long", "name", strings.Repeat("æ", dsr.MaxName+1), "", dsr.CodeTooLong},
		{"name with a line break", "name", "Mette\r\nBcc: victim@example.dk", "", dsr.CodeControlChar},
		{"name with a line separator", "name", "Mette\u2028Sørensen", "", dsr.CodeControlChar},
		{"name not UTF-8", "name", "Mette S\xf8rensen", "", dsr.CodeInvalidUTF8},
		{"email missing", "email", "", "", dsr.CodeRequired},
		{"email without domain", "email", "mette@localhost", "", dsr.CodeInvalidEmail},
		{"email with display name", "email", "Mette <mette@example.dk>", "", dsr.CodeInvalidEmail},
		{"email with header injection", "email", "mette@example.dk\r\nBcc: victim@example.dk", "", dsr.CodeControlChar},
		{"email too long", "email", strings.Repeat("a", 250) + "@example.dk", "", dsr.CodeTooLong},
		{"details missing for a correction", "details", "", "rectification", dsr.CodeRequired},
		{"details too long", "details", strings.Repeat("x", dsr.MaxDetails+1), "", dsr.CodeTooLong},
		{"details not UTF-8", "details", "\xff\xfe", "", dsr.CodeInvalidUTF8},
		{"customer ref too long", "customer_ref", strings.Repeat("9", dsr.MaxCustomerRef+1), "", dsr.CodeTooLong},
		{"customer ref with a line break", "customer_ref", "K-1\nBcc: victim@example.dk", "", dsr.CodeControlChar},
		// Addresses SES cannot send to: their mails would fail five times, silently.
		{"email with a domain literal", "email", "mette@[192.0.2.1]", "", dsr.CodeUnsendableEmail},
		{"email with æøå in the local part", "email", "søren@example.dk", "", dsr.CodeUnsendableEmail},
		{"email as an encoded word", "email", "=?utf-8?q?s=C3=B8ren?=@example.dk", "", dsr.CodeUnsendableEmail},
		// Names that read otherwise than they are stored, or not at all.
		{"name with a right-to-left override", "name", "Mette \u202enesnerøS", "", dsr.CodeInvisibleChar},
		{"name of invisible characters", "name", "\u200b\u2060\u200b", "", dsr.CodeInvisibleChar},
		{"customer ref with a bidi isolate", "customer_ref", "K-1\u2066044", "", dsr.CodeInvisibleChar},
	}
	for _, l := range i18n.Langs {
		for _, tc := range cases {
			t.Run(string(l)+"/"+tc.name, func(t *testing.T) {
				email := address("invalid")
				v := hs.form(email, l)
				v.Set("name", "Keep Me Around")
				if tc.typ != "" {
					v.Set("type", tc.typ)
				}
				v.Set(tc.field, tc.value)
				want := fieldMessage(l, tc.field, tc.code)
				if strings.HasPrefix(want, "[") || want == "" {
					t.Fatalf("no message for %s/%s", tc.field, tc.code)
				}

				// The form: 400, summary and field, values kept, in the language posted.
				resp := hs.postForm(v)
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("form: %s, want 400", fmtStatus(resp))
				}
				id := tc.field
				if id == "type" {
					id = "type-access"
				}
				page := resp.Body
				mustContain(t, "form", page, `<html lang="`+string(l)+`">`, `role="alert"`,
					`<a href="#`+id+`">`+htmlEscape(want)+`</a>`,
					`id="`+tc.field+`-error">`+htmlEscape(want)+`</span>`,
					"<title>"+htmlEscape(i18n.T(l, "intake.title.error", i18n.T(l, "intake.form.title"))))
				if tc.field != "type" {
					mustContain(t, "form", page, `aria-describedby="`+tc.field+`-hint `+tc.field+`-error" aria-invalid="true"`)
				}
				if tc.field != "name" {
					mustContain(t, "form", page, `value="Keep Me Around"`)
				}
				checkNoMissingKeys(t, "form", page)

				// JSON: the same message under the field's name.
				body := map[string]any{}
				for k := range v {
					body[k] = v.Get(k)
				}
				jresp := hs.do(withRawJSON(event(t, "intake-json-post"), mustJSON(body)))
				if jresp.StatusCode != http.StatusBadRequest {
					t.Fatalf("json: %s, want 400: %s", fmtStatus(jresp), jresp.Body)
				}
				var got struct{ Errors map[string]string }
				if err := json.Unmarshal([]byte(jresp.Body), &got); err != nil {
					t.Fatal(err)
				}
				if tc.code == dsr.CodeInvalidUTF8 {
					// JSON carries the bytes raw, so the check sees the same invalid text.
					want = fieldMessage(l, tc.field, dsr.CodeInvalidUTF8)
				}
				if got.Errors[tc.field] != want || len(got.Errors) != 1 {
					t.Errorf("json errors %v, want %s: %q", got.Errors, tc.field, want)
				}
				if n := len(hs.env.Mails(t, email)); n != 0 {
					t.Errorf("%d mails sent for an invalid submission", n)
				}
			})
		}
	}
	if n := hs.requests(); n != 0 {
		t.Errorf("%d requests stored from invalid submissions", n)
	}
}

// mustJSON encodes v keeping invalid UTF-8 bytes as they are, as a careless client would
// send them (encoding/json would replace them).
func mustJSON(v map[string]any) []byte {
	var b strings.Builder
	b.WriteString("{")
	first := true
	for k, val := range v {
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(strconv.Quote(k) + ":" + jsonString(val.(string)))
	}
	b.WriteString("}")
	return []byte(b.String())
}

// jsonString quotes s for JSON without touching bytes that are not UTF-8.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteString(strconv.FormatInt(int64(c)>>4, 16))
			b.WriteString(strconv.FormatInt(int64(c)&15, 16))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestJSONShapes: what a JSON client can get wrong besides the fields' contents.
func TestJSONShapes(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	base := event(t, "intake-json-post")
	for _, tc := range []struct {
		name   string
		body   string
		status int
		field  string // expected field error, if any
		code   string
	}{
		{"syntax error", `{"type": "access",`, http.StatusBadRequest, "", ""},
		{"array", `[{"type": "access"}]`, http.StatusBadRequest, "", ""},
		{"null", `null`, http.StatusBadRequest, "", ""},
		{"two objects", `{"type":"access"} {"type":"erasure"}`, http.StatusBadRequest, "", ""},
		{"number for a name", `{"type":"access","name":42,"email":"x@example.dk"}`, http.StatusBadRequest, "name", codeNotText},
		{"object for an email", `{"type":"access","name":"A","email":{"a":1}}`, http.StatusBadRequest, "email", codeNotText},
		{"list for a type", `{"type":["access"],"name":"A","email":"x@example.dk"}`, http.StatusBadRequest, "type", codeNotText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := hs.do(withRawJSON(base, []byte(tc.body)))
			if resp.StatusCode != tc.status {
				t.Fatalf("%s, want %d: %s", fmtStatus(resp), tc.status, resp.Body)
			}
			body := jsonBody(t, resp)
			if tc.field == "" {
				if body["message"] != i18n.T(i18n.NB, "intake.badjson.text") {
					t.Errorf("body %v", body)
				}
				return
			}
			errs, _ := body["errors"].(map[string]any)
			if errs[tc.field] != fieldMessage(i18n.NB, tc.field, tc.code) {
				t.Errorf("errors %v, want %s=%s", errs, tc.field, tc.code)
			}
		})
	}
	if n := hs.requests(); n != 0 {
		t.Errorf("%d requests stored", n)
	}
}

// TestBotTraps: the honeypot and the minimum fill time get the answer a person gets, and
// nothing is stored or sent.
func TestBotTraps(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	now := hs.clock.Now()
	for _, tc := range []struct {
		name string
		set  map[string]string
	}{
		{"honeypot filled", map[string]string{"website": "https://spam.example"}},
		{"posted a second after rendering", map[string]string{"ts": hs.stamp(now.Add(-time.Second))}},
		{"posted just under the minimum", map[string]string{"ts": hs.stamp(now.Add(-2 * time.Second))}},
		{"render time not a number", map[string]string{"ts": "yesterday"}},
		{"render time in the future", map[string]string{"ts": hs.stamp(now.Add(time.Hour))}},
		// The attacks of issue 19, item 5: a render time the bot wrote itself, however old.
		{"render time forged: ts=1", map[string]string{"ts": "1"}},
		{"render time forged: a minute ago, unsigned", map[string]string{"ts": strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)}},
		{"render time forged: signed by another key", map[string]string{"ts": strconv.FormatInt(now.Add(-time.Minute).Unix(), 10) + ".c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZSwgbm90IHVzIQ"}},
		{"render time forged: a signature moved to another time", map[string]string{"ts": "1." + strings.SplitN(hs.stamp(now.Add(-time.Minute)), ".", 2)[1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			email := address("bot")
			v := hs.form(email, i18n.EN)
			for k, val := range tc.set {
				v.Set(k, val)
			}
			resp := hs.postForm(v)
			if resp.StatusCode != http.StatusSeeOther || header(resp, "Location") != baseURL+"/sent?lang=en" {
				t.Errorf("%s Location %q: want the generic 303", fmtStatus(resp), header(resp, "Location"))
			}
			if n := len(hs.env.Mails(t, email)); n != 0 {
				t.Errorf("%d mails sent to a bot", n)
			}
		})
	}
	t.Run("honeypot in JSON", func(t *testing.T) {
		email := address("jsonbot")
		resp := hs.do(withJSON(event(t, "intake-json-post"), map[string]any{
			"type": "access", "name": "Bot", "email": email, "website": "x",
		}))
		if resp.StatusCode != http.StatusAccepted || jsonBody(t, resp)["status"] != "received" {
			t.Errorf("%s: %s", fmtStatus(resp), resp.Body)
		}
		if n := len(hs.env.Mails(t, email)); n != 0 {
			t.Errorf("%d mails sent to a bot", n)
		}
	})
	if n := hs.requests(); n != 0 {
		t.Errorf("%d requests stored from bots", n)
	}

	// Exactly the minimum is a person.
	email := address("patient")
	v := hs.form(email, i18n.EN)
	v.Set("ts", hs.stamp(now.Add(-hs.cfg.MinFill)))
	if resp := hs.postForm(v); resp.StatusCode != http.StatusSeeOther || len(hs.env.Mails(t, email)) != 1 {
		t.Errorf("a post after exactly the minimum fill time was not filed")
	}
	// So is a form left open all day; one older than that is shown again, filled in, to send
	// again: a person must never lose a request silently, and a bot gains nothing by a form
	// it could fetch anew. A form without a render time (shown while the key could not be
	// read) comes back the same way.
	email = address("unstamped")
	v = hs.form(email, i18n.EN)
	v.Set("ts", "")
	if resp := hs.postForm(v); resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, htmlEscape(i18n.T(i18n.EN, "intake.form.again"))) ||
		len(hs.env.Mails(t, email)) != 0 {
		t.Errorf("a form without a render time: %s; want it shown again", fmtStatus(resp))
	}
	email = address("slow")
	v = hs.form(email, i18n.EN)
	v.Set("ts", hs.stamp(now.Add(-maxFormAge)))
	if resp := hs.postForm(v); resp.StatusCode != http.StatusSeeOther || len(hs.env.Mails(t, email)) != 1 {
		t.Errorf("a form open for %v was not filed", maxFormAge)
	}
	email = address("stale")
	v = hs.form(email, i18n.EN)
	v.Set("ts", hs.stamp(now.Add(-maxFormAge-time.Second)))
	resp := hs.postForm(v)
	if resp.StatusCode != http.StatusBadRequest || len(hs.env.Mails(t, email)) != 0 {
		t.Fatalf("a stale form: %s, %d mails; want it shown again", fmtStatus(resp), len(hs.env.Mails(t, email)))
	}
	mustContain(t, "stale form", resp.Body, htmlEscape(i18n.T(i18n.EN, "intake.form.stale")), `value="`+htmlEscape(email)+`"`)
	fresh := hidden(t, resp.Body, "ts")
	if fresh == v.Get("ts") {
		t.Fatal("the stale render time was kept")
	}
	v.Set("ts", fresh)
	hs.clock.Add(time.Minute)
	if resp := hs.postForm(v); resp.StatusCode != http.StatusSeeOther || len(hs.env.Mails(t, email)) != 1 {
		t.Errorf("sent again from the renewed form: %s, not filed", fmtStatus(resp))
	}
}

// hidden returns the value of a hidden input on a page.
func hidden(t testing.TB, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no hidden %s on the page", name)
	}
	return html.UnescapeString(m[1])
}

// TestRateLimits: past the limit per address or per source IP, the answer is unchanged and
// nothing is stored or sent. A new window starts from zero.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("per email", func(t *testing.T) {
		t.Parallel()
		hs := newHarness(t, withEnv("RATE_LIMIT_PER_EMAIL", "2"))
		email := address("often")
		var answers []web.Response
		for i := range 3 {
			// Letter case and surrounding spaces do not make a new address.
			e := email
			if i == 2 {
				e = "  " + strings.ToUpper(email) + " "
			}
			req := withIP(withForm(event(t, "intake-form-post"), hs.form(e, i18n.DA)), "203.0.113."+strconv.Itoa(i+1))
			answers = append(answers, hs.do(req))
		}
		sameAnswers(t, answers)
		if n := hs.requests(); n != 2 {
			t.Errorf("%d requests stored, want 2", n)
		}
		if n := len(hs.env.Mails(t, email)); n != 2 {
			t.Errorf("%d mails, want 2", n)
		}
		hs.clock.Add(hs.cfg.RateWindow)
		hs.postForm(hs.form(email, i18n.DA))
		if n := hs.requests(); n != 3 {
			t.Errorf("after the window: %d requests stored, want 3", n)
		}
	})
	t.Run("per IP", func(t *testing.T) {
		t.Parallel()
		hs := newHarness(t, withEnv("RATE_LIMIT_PER_IP", "2"))
		var answers []web.Response
		var emails []string
		for range 3 {
			e := address("sameip")
			emails = append(emails, e)
			answers = append(answers, hs.postForm(hs.form(e, i18n.DA)))
		}
		sameAnswers(t, answers)
		if n := hs.requests(); n != 2 {
			t.Errorf("%d requests stored, want 2", n)
		}
		if n := len(hs.env.Mails(t, emails[2])); n != 0 {
			t.Errorf("the limited submission was mailed")
		}
		// JSON from the same IP is limited too, with its usual answer.
		jsonEmail := address("sameip-json")
		limited := hs.do(withIP(withJSON(event(t, "intake-json-post"), map[string]any{"type": "access", "name": "A", "email": jsonEmail}),
			event(t, "intake-form-post").RequestContext.HTTP.SourceIP))
		if limited.StatusCode != http.StatusAccepted || jsonBody(t, limited)["status"] != "received" || len(hs.env.Mails(t, jsonEmail)) != 0 {
			t.Errorf("limited JSON: %s %s", fmtStatus(limited), limited.Body)
		}
		// Another IP is not affected.
		other := address("otherip")
		hs.do(withIP(withForm(event(t, "intake-form-post"), hs.form(other, i18n.DA)), "192.0.2.99"))
		if len(hs.env.Mails(t, other)) != 1 {
			t.Error("a submission from another IP was limited")
		}
	})
}

// TestLimitsCannotBeSpentOnSomeoneElse: the attacks of issue 19 (items 3 and 4). An IP over
// its own limit cannot go on to spend a victim's per-address limit, a submission refused for
// its address does not spend the IP's, and victim+1@ or v.ictim@ is the victim's address as
// far as the limit goes.
func TestLimitsCannotBeSpentOnSomeoneElse(t *testing.T) {
	t.Parallel()
	post := func(hs *harness, email, ip string) web.Response {
		return hs.do(withIP(withForm(event(t, "intake-form-post"), hs.form(email, i18n.DA)), ip))
	}
	t.Run("an IP over its limit does not spend the victim's", func(t *testing.T) {
		t.Parallel()
		hs := newHarness(t, withEnv("RATE_LIMIT_PER_IP", "2"), withEnv("RATE_LIMIT_PER_EMAIL", "1"))
		attacker, victim := "203.0.113.7", address("victim")
		for range 2 {
			post(hs, address("own"), attacker)
		}
		for range 3 {
			post(hs, victim, attacker) // refused: the IP has spent its limit
		}
		if n := len(hs.env.Mails(t, victim)); n != 0 {
			t.Fatalf("%d mails to the victim from an IP over its limit", n)
		}
		post(hs, victim, "192.0.2.50")
		if n := len(hs.env.Mails(t, victim)); n != 1 {
			t.Errorf("the victim's own request: %d mails, want 1 (their limit was spent by someone else)", n)
		}
	})
	t.Run("an address over its limit does not spend the IP's", func(t *testing.T) {
		t.Parallel()
		hs := newHarness(t, withEnv("RATE_LIMIT_PER_IP", "3"), withEnv("RATE_LIMIT_PER_EMAIL", "1"))
		ip, often := "198.51.100.9", address("often")
		for range 3 {
			post(hs, often, ip) // one stored, two refused for the address
		}
		others := []string{address("colleague"), address("colleague")}
		for _, e := range others {
			post(hs, e, ip)
		}
		for _, e := range others {
			if n := len(hs.env.Mails(t, e)); n != 1 {
				t.Errorf("a colleague behind the same IP: %d mails, want 1", n)
			}
		}
	})
	t.Run("plus-addressing and dots are the same address", func(t *testing.T) {
		t.Parallel()
		hs := newHarness(t, withEnv("RATE_LIMIT_PER_EMAIL", "2"))
		local := strings.TrimSuffix(address("victim"), "@example.dk")
		spellings := []string{local + "@example.dk", local + "+1@example.dk", local[:1] + "." + local[1:] + "@example.dk", local + "+2@example.dk"}
		for i, e := range spellings {
			post(hs, e, "203.0.113."+strconv.Itoa(20+i))
		}
		if n := hs.requests(); n != 2 {
			t.Errorf("%d requests stored from %d spellings of one mailbox, want 2", n, len(spellings))
		}
	})
}

// TestLimitedRequesterHasAWayThrough: a person whose submission was held back (over a limit)
// sees the same page as everyone, and that page and the form say where to write instead.
func TestLimitedRequesterHasAWayThrough(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	for _, l := range i18n.Langs {
		sent := hs.do(withQuery(event(t, "intake-sent-get"), "lang="+string(l)))
		form := hs.do(withQuery(event(t, "intake-form-get"), "lang="+string(l)))
		for name, body := range map[string]string{"sent page": sent.Body, "form": form.Body} {
			mustContain(t, string(l)+" "+name, body, `href="mailto:`+hs.dpo+`"`)
		}
		mustContain(t, string(l)+" sent page", sent.Body, htmlEscape(i18n.T(l, "intake.sent.nomail.write")))
	}
}

func sameAnswers(t *testing.T, answers []web.Response) {
	t.Helper()
	for i, a := range answers {
		if a.StatusCode != answers[0].StatusCode || a.Body != answers[0].Body || header(a, "Location") != header(answers[0], "Location") {
			t.Errorf("answer %d (%d %q) differs from the first (%d %q)", i, a.StatusCode, header(a, "Location"), answers[0].StatusCode, header(answers[0], "Location"))
		}
	}
	if answers[0].StatusCode != http.StatusSeeOther {
		t.Errorf("status %d, want 303", answers[0].StatusCode)
	}
}

// TestCountersCannotBeReversed: the attack of issue 19, item 9. Whoever reads the rate
// counters (a copy of the table, a log of its keys) tries every candidate IP and address
// against them, as 56 of 56 IPs were reversed in 0.2 s from unsalted SHA-256. Keyed with the
// deployment's secret, no candidate matches.
func TestCountersCannotBeReversed(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	email, ip := address("reversible"), "203.0.113.77"
	hs.do(withIP(withForm(event(t, "intake-form-post"), hs.form(email, i18n.DA)), ip))
	var candidates []string
	for _, c := range []string{ip, email, strings.ToLower(email), dsr.Mailbox(email)} {
		sum := sha256.Sum256([]byte(c))
		candidates = append(candidates, hex.EncodeToString(sum[:]))
	}
	out, err := hs.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(hs.cfg.Table)})
	if err != nil {
		t.Fatal(err)
	}
	counters := 0
	for _, it := range out.Items {
		pk := it["pk"].(*ddbtypes.AttributeValueMemberS).Value
		if !strings.HasPrefix(pk, store.RatePrefix) {
			continue
		}
		counters++
		for _, c := range candidates {
			if strings.Contains(pk, c) || strings.Contains(pk, c[:32]) {
				t.Errorf("counter %s is the unsalted SHA-256 of a candidate", pk)
			}
		}
	}
	if counters < 2 {
		t.Fatalf("%d rate counters, want the address's and the IP's", counters)
	}
	for _, c := range candidates {
		if strings.Contains(hs.logs.String(), c[:32]) {
			t.Errorf("the logs hold a candidate's SHA-256")
		}
	}
}

// TestFloodIsHeld: the attack of issue 19, item 1, at the intake. Past the day's ceiling on
// unconfirmed requests, a submission still gets the answer everyone gets and is stored, never
// lost, but held: no link is mailed (a flood must not make the desk mail thousands of
// addresses someone else chose) and the DPO sees it. A submission a rate limit refuses does
// not count against the ceiling.
func TestFloodIsHeld(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, withEnv("UNCONFIRMED_PER_DAY", "3"), withEnv("RATE_LIMIT_PER_IP", "2"))
	over := "203.0.113.200"
	for range 2 {
		hs.do(withIP(withForm(event(t, "intake-form-post"), hs.form(address("own"), i18n.DA)), over))
	}
	// Refused for its IP: counts against nothing.
	hs.do(withIP(withForm(event(t, "intake-form-post"), hs.form(address("refused"), i18n.DA)), over))
	var answers []web.Response
	var emails []string
	for i := range 4 {
		e := address("flood")
		emails = append(emails, e)
		answers = append(answers, hs.do(withIP(withForm(event(t, "intake-form-post"), hs.form(e, i18n.DA)), "198.51.100."+strconv.Itoa(100+i))))
	}
	sameAnswers(t, answers)
	if n := hs.requests(); n != 6 {
		t.Fatalf("%d requests stored, want 6 (2 + 4; the refused one not)", n)
	}
	held := 0
	for i, e := range emails {
		mailed := len(hs.env.Mails(t, e)) == 1
		if i == 0 && !mailed {
			t.Errorf("the third request of the day was not mailed")
		}
		if i > 0 && mailed {
			t.Errorf("request %d past the ceiling was mailed", i+3)
		}
	}
	for _, ref := range scanRequests(t, hs) {
		r := hs.request(ref)
		if r.Held() {
			held++
			if r.TokenHash != "" || len(r.Mails) != 0 || r.Status != dsr.PendingVerification || r.Email == "" {
				t.Errorf("held request %s: %+v", ref, r)
			}
		}
	}
	if held != 3 {
		t.Errorf("%d requests held, want 3", held)
	}
	if !strings.Contains(hs.logs.String(), `"outcome":"held"`) {
		t.Error("the log does not say a request was held")
	}
	// The JSON API is held alike.
	e := address("flood-json")
	resp := hs.do(withJSON(event(t, "intake-json-post"), map[string]any{"type": "access", "name": "A", "email": e}))
	if resp.StatusCode != http.StatusAccepted || len(hs.env.Mails(t, e)) != 0 {
		t.Errorf("JSON past the ceiling: %s, %d mails", fmtStatus(resp), len(hs.env.Mails(t, e)))
	}
}
