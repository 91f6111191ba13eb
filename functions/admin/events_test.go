package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// The events/ fixtures are what a developer passes to `sam local invoke -e`: each is a valid
// payload 2.0 event and does what its name says, as is and with a real session put in.
func TestEventFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "admin-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	checks := map[string]func(t *testing.T, e *tenv){
		"admin-signin-get": func(t *testing.T, e *tenv) {
			body := page(t, e.do(fixture(t, "admin-signin-get")), http.StatusOK)
			if !strings.Contains(body, `name="next" value="/admin/requests/K7MQ-4XTZ"`) {
				t.Fatalf("next not carried:\n%s", body)
			}
		},
		"admin-signin-post": func(t *testing.T, e *tenv) {
			// As is, the fixture's address is not on this deployment's list: the generic page.
			generic := page(t, e.do(fixture(t, "admin-signin-post")), http.StatusOK)
			addr := e.cfg.DPOAddresses[0]
			if body := page(t, e.requestLink(addr, "/admin/requests/K7MQ-4XTZ"), http.StatusOK); body != generic {
				t.Fatal("allowed and unknown addresses get different pages")
			}
			tok, _ := e.linkFrom(addr)
			if loc := redirect(t, e.confirm(tok)); loc != "/admin/requests/K7MQ-4XTZ" {
				t.Fatalf("to %q", loc)
			}
		},
		"admin-worklist-get": func(t *testing.T, e *tenv) {
			req := fixture(t, "admin-worklist-get")
			if loc := redirect(t, e.do(req)); loc != "/admin/signin?next=%2Fadmin" {
				t.Fatalf("placeholder session: to %q", loc)
			}
			d := e.session(e.cfg.DPOAddresses[0])
			req.Cookies[0] = d.cookie()
			page(t, e.do(req), http.StatusOK)
		},
		"admin-action-post": func(t *testing.T, e *tenv) {
			requester := "k." + uniq() + "@example.dk"
			before := e.seed("K7MQ-4XTZ", submission("da", requester), received0, verify)
			req := fixture(t, "admin-action-post")
			if loc := redirect(t, e.do(req)); loc != "/admin/signin?next=%2Fadmin%2Frequests%2FK7MQ-4XTZ" {
				t.Fatalf("placeholder session: to %q", loc)
			}
			d := e.session(e.cfg.DPOAddresses[0])
			req.Cookies[0] = d.cookie()
			page(t, e.do(req), http.StatusForbidden) // the placeholder CSRF token
			form := formOf(t, req)
			form.Set("csrf", d.csrf)
			if loc := redirect(t, e.do(withForm(req, form))); loc != "/admin/requests/K7MQ-4XTZ?done=note" {
				t.Fatalf("to %q", loc)
			}
			r := e.request("K7MQ-4XTZ")
			if len(r.Audit) != len(before.Audit)+1 || r.Audit[len(r.Audit)-1].Note != "Ringede til kunden 10/3 og bekræftede kundenummeret.\nUdtræk bestilt hos IT." {
				t.Fatalf("note not recorded as typed: %+v", r.Audit)
			}
		},
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		check, ok := checks[name]
		if !ok {
			t.Errorf("fixture %s has no test", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			check(t, e)
		})
	}
}
