package main

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/testkit/logsink"
)

// A whole working session leaves references, outcomes and hashes in the logs, and none of
// the addresses, names, texts, tokens or session ids it handled.
func TestLogsHoldNoPersonalData(t *testing.T) {
	e := setup(t)
	var logs logsink.Buffer
	e.h.log = slog.New(slog.NewJSONHandler(&logs, nil))
	requester := "karen." + uniq() + "@example.dk"
	s := submission("da", requester)
	s.Name, s.Details = "Karen Blixen-Finecke", "Mit CPR-nummer er 010203-1234"
	e.seed(ref0, s, received0, verify)

	dpoAddr := e.cfg.DPOAddresses[0]
	page(t, e.requestLink(dpoAddr, ""), http.StatusOK)
	page(t, e.requestLink("stranger."+uniq()+"@example.dk", ""), http.StatusOK)
	tok, _ := e.linkFrom(dpoAddr)
	resp := e.confirm(tok)
	sid, _, _ := cookieValue(resp, sessionCookieName)
	d := &dpo{e: e, email: dpoAddr, sid: sid}
	sess, err := e.st.GetSession(t.Context(), sid)
	if err != nil {
		t.Fatal(err)
	}
	d.csrf = sess.CSRF

	page(t, d.get("/admin/search?q="+url.QueryEscape(requester)), http.StatusOK)
	page(t, d.get("/admin/requests/"+url.PathEscape(requester)), http.StatusNotFound)
	redirect(t, d.act(ref0, "note", url.Values{"note": {"Ringede til Karen på 12345678."}}))
	page(t, d.act(ref0, "complete", url.Values{"message": {""}}), http.StatusBadRequest)
	redirect(t, d.act(ref0, "reject", url.Values{"category": {"other"}, "reason": {"Karen har ingen konto."}}))
	d.get("/admin/export.csv")
	d.get("/admin/audit.csv")
	redirect(t, d.post("/admin/signout", nil))

	out := logs.String()
	if !strings.Contains(out, ref0) || !strings.Contains(out, `"outcome":"sent"`) || !strings.Contains(out, `"outcome":"not_allowed"`) {
		t.Fatalf("logs do not tell what happened:\n%s", out)
	}
	for _, secret := range []string{
		requester, "karen", "Karen", "Blixen", "010203", "12345678", "konto", "stranger",
		dpoAddr, strings.Split(dpoAddr, "@")[0], tok, sid, d.csrf,
	} {
		if strings.Contains(out, secret) {
			t.Errorf("logs hold %q:\n%s", secret, out)
		}
	}
	// Nor anything a dictionary reverses (issue 19, item 9): an unsalted SHA-256 of an
	// address, as it is typed or folded, or of the source IP.
	for _, v := range []string{dpoAddr, strings.ToLower(dpoAddr), requester, "198.51.100.23"} {
		sum := sha256.Sum256([]byte(v))
		if h := hex.EncodeToString(sum[:]); strings.Contains(out, h[:16]) {
			t.Errorf("logs hold the SHA-256 of %q", v)
		}
	}
}
