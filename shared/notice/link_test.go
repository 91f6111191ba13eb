package notice

import (
	"net/url"
	"testing"
)

func TestVerifyLinkCarriesTheTokenIntact(t *testing.T) {
	for _, tc := range []struct{ base, token string }{
		{"https://dsr.example.dk", "ABCD2345.q-_w"},
		{"https://example.no/privacy", "ABCD2345.a+b/c=&d"}, // not base64url: must still survive
	} {
		link := VerifyLink(tc.base, tc.token)
		u, err := url.Parse(link)
		if err != nil {
			t.Fatalf("%q: %v", link, err)
		}
		if got := u.Query().Get("token"); got != tc.token {
			t.Errorf("%q carries token %q, want %q", link, got, tc.token)
		}
		if got := u.Scheme + "://" + u.Host + u.Path; got != tc.base+"/verify" {
			t.Errorf("%q points at %q, want %q", link, got, tc.base+"/verify")
		}
	}
}
