package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func base() map[string]string {
	return map[string]string{
		"TABLE_NAME":      "dsr",
		"CONTROLLER_NAME": "JMA A/S",
		"COUNTRY":         "DK",
		"DEFAULT_LANG":    "da",
		"BASE_URL":        "https://privacy.example.dk/",
		"SENDER_ADDRESS":  "privacy@example.dk",
		"DPO_ADDRESSES":   "dpo@example.dk, backup@example.dk",

		"CONTROLLER_ADDRESS": "Vestergade 1, 8000 Aarhus C",
		"PRIVACY_POLICY_URL": "https://www.example.dk/privatliv#rettigheder",
	}
}

func TestLoadIntake(t *testing.T) {
	m := base()
	m["ALLOWED_ORIGINS"] = "https://www.example.dk, https://shop.example.dk/"
	m["RATE_LIMIT_PER_EMAIL"] = "3"
	c, err := LoadIntake(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://privacy.example.dk" || c.BasePath != "" || c.DPOContact() != "dpo@example.dk" || len(c.DPOAddresses) != 2 {
		t.Errorf("common = %+v", c.Common)
	}
	if c.Calendar.Country() != "DK" || c.Calendar.Location().String() != "Europe/Copenhagen" || c.DefaultLang != i18n.DA {
		t.Errorf("calendar %s %s, language %q", c.Calendar.Country(), c.Calendar.Location(), c.DefaultLang)
	}
	if !slices.Equal(c.AllowedOrigins, []string{"https://www.example.dk", "https://shop.example.dk"}) {
		t.Errorf("origins = %v", c.AllowedOrigins)
	}
	if c.RatePerEmail != 3 || c.RatePerIP != 20 || c.RateWindow != time.Hour || c.MinFill != 3*time.Second || c.UnconfirmedPerDay != 200 {
		t.Errorf("limits = %+v", c)
	}
	if c.ControllerAddress != "Vestergade 1, 8000 Aarhus C" || c.PrivacyPolicyURL != "https://www.example.dk/privatliv#rettigheder" ||
		c.PromptWorkingDays != dsr.DefaultPromptWorkingDays || c.Retention != dsr.DefaultRetention {
		t.Errorf("what the form tells = %+v", c)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]string)
		want string
	}{
		{"missing table", func(m map[string]string) { delete(m, "TABLE_NAME") }, "TABLE_NAME: is required"},
		{"bad country", func(m map[string]string) { m["COUNTRY"] = "SE" }, "COUNTRY: must be one of DK, NO"},
		{"lower-case country", func(m map[string]string) { m["COUNTRY"] = "dk" }, "COUNTRY"},
		{"bad language", func(m map[string]string) { m["DEFAULT_LANG"] = "sv" }, "DEFAULT_LANG"},
		{"relative base", func(m map[string]string) { m["BASE_URL"] = "privacy.example.dk" }, "BASE_URL"},
		{"base with query", func(m map[string]string) { m["BASE_URL"] = "https://x.dk/?a=b" }, "BASE_URL"},
		{"sender with name", func(m map[string]string) { m["SENDER_ADDRESS"] = "Privacy <p@x.dk>" }, "SENDER_ADDRESS"},
		{"no dpo", func(m map[string]string) { m["DPO_ADDRESSES"] = " , " }, "DPO_ADDRESSES: is required"},
		{"bad dpo", func(m map[string]string) { m["DPO_ADDRESSES"] = "dpo@x.dk, nope" }, "DPO_ADDRESSES"},
		{"origin with path", func(m map[string]string) { m["ALLOWED_ORIGINS"] = "https://x.dk/form" }, "ALLOWED_ORIGINS"},
		{"bad rate", func(m map[string]string) { m["RATE_LIMIT_PER_IP"] = "many" }, "RATE_LIMIT_PER_IP"},
		{"zero rate", func(m map[string]string) { m["RATE_LIMIT_PER_EMAIL"] = "0" }, "RATE_LIMIT_PER_EMAIL"},
		{"no ceiling", func(m map[string]string) { m["UNCONFIRMED_PER_DAY"] = "0" }, "UNCONFIRMED_PER_DAY"},
		{"a guessable edge secret", func(m map[string]string) { m["EDGE_SECRET"] = "short" }, "EDGE_SECRET"},
		{"no address", func(m map[string]string) { delete(m, "CONTROLLER_ADDRESS") }, "CONTROLLER_ADDRESS: is required"},
		{"no policy", func(m map[string]string) { delete(m, "PRIVACY_POLICY_URL") }, "PRIVACY_POLICY_URL: is required"},
		{"policy not a link", func(m map[string]string) { m["PRIVACY_POLICY_URL"] = "www.example.dk/privacy" }, "PRIVACY_POLICY_URL"},
		{"prompt clock too long", func(m map[string]string) { m["PROMPT_WORKING_DAYS"] = "20" }, "PROMPT_WORKING_DAYS"},
		{"inbound address with a name", func(m map[string]string) { m["INBOUND_ADDRESS"] = "Privacy <p@x.dk>" }, "INBOUND_ADDRESS"},
		{"inbound address with a tag", func(m map[string]string) { m["INBOUND_ADDRESS"] = "privacy+desk@x.dk" }, "INBOUND_ADDRESS: \"privacy+desk@x.dk\" must not have a +tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.edit(m)
			_, err := LoadIntake(env(m))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestLoadSweepThresholds(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		err  bool
	}{
		{"", []int{5, 2}, false},
		{"10,5,1", []int{10, 5, 1}, false},
		{"3", []int{3}, false},
		{"2,5", nil, true},
		{"5,5", nil, true},
		{"0", nil, true},
		{"x", nil, true},
	}
	for _, tt := range tests {
		m := base()
		m["ESCALATION_WORKING_DAYS"] = tt.in
		c, err := LoadSweep(env(m))
		if (err != nil) != tt.err || (!tt.err && !slices.Equal(c.Thresholds, tt.want)) {
			t.Errorf("%q: thresholds %v, err %v", tt.in, c.Thresholds, err)
		}
	}
}

// A deployment under a path serves its routes under it.
func TestBasePath(t *testing.T) {
	m := base()
	m["BASE_URL"] = "https://example.no/personvern/"
	m["COUNTRY"], m["DEFAULT_LANG"] = "NO", "nb"
	c, err := LoadSweep(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://example.no/personvern" || c.BasePath != "/personvern" || c.Calendar.Country() != "NO" || c.DefaultLang != i18n.NB {
		t.Errorf("common = %+v", c.Common)
	}
	if c.Retention != dsr.DefaultRetention {
		t.Errorf("retention %v, want the default %v", c.Retention, dsr.DefaultRetention)
	}
}

func TestLoadAdmin(t *testing.T) {
	m := base()
	m["SESSION_HOURS"] = "4"
	m["RETENTION_DAYS"] = "365"
	m["DELIVERY_BUCKET"] = "stack-deliveriesbucket-x1"
	m["DELIVERY_MAX_FILE_MB"] = "50"
	c, err := LoadAdmin(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionTTL != 4*time.Hour || c.Retention != 365*24*time.Hour {
		t.Errorf("admin = %+v", c)
	}
	if c.Deliveries != (Deliveries{Bucket: "stack-deliveriesbucket-x1", Retention: 30 * day}) || c.MaxFile != 50<<20 || c.MaxTotal != 1000<<20 {
		t.Errorf("deliveries %+v, files up to %d, %d together", c.Deliveries, c.MaxFile, c.MaxTotal)
	}
	// One file cannot hold more than all of them.
	m["DELIVERY_MAX_TOTAL_MB"] = "20"
	if c, err := LoadAdmin(env(m)); err != nil || c.MaxFile != 20<<20 || c.MaxTotal != 20<<20 {
		t.Errorf("file limit over the total: %d, %d, %v", c.MaxFile, c.MaxTotal, err)
	}
	for k, v := range map[string]string{"DELIVERY_BUCKET": "", "DELIVERY_MAX_FILE_MB": "0", "DELIVERY_MAX_TOTAL_MB": "many", "DELIVERY_RETENTION_DAYS": "400"} {
		bad := maps.Clone(m)
		bad[k] = v
		if _, err := LoadAdmin(env(bad)); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: %v", k, v, err)
		}
	}
}

func TestLoadAdminReminder(t *testing.T) {
	m := base()
	m["DELIVERY_BUCKET"] = "b1"
	m["DELIVERY_RETENTION_DAYS"] = "14"
	m["DELIVERY_REMINDER_DAYS"] = "3"
	c, err := LoadAdmin(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.Deliveries.Retention != 14*day || c.DeliveryReminder != 3*day {
		t.Errorf("files kept %s, reminded after %s", c.Deliveries.Retention, c.DeliveryReminder)
	}
}

func TestLoadPortal(t *testing.T) {
	m := base()
	m["RATE_LIMIT_PER_EMAIL"] = "2"
	m["RATE_LIMIT_WINDOW_MINUTES"] = "30"
	m["SESSION_HOURS"] = "2"
	m["DELIVERY_BUCKET"] = "b1"
	c, err := LoadPortal(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.Deliveries != (Deliveries{Bucket: "b1", Retention: DefaultDeliveryRetention}) {
		t.Errorf("deliveries %+v", c.Deliveries)
	}
	if c.RatePerEmail != 2 || c.RatePerIP != 20 || c.RateWindow != 30*time.Minute || c.SessionTTL != 2*time.Hour ||
		c.Retention != dsr.DefaultRetention || c.DPOContact() != "dpo@example.dk" {
		t.Errorf("portal = %+v", c)
	}
	m["SESSION_HOURS"] = "0"
	if _, err := LoadPortal(env(m)); err == nil || !strings.Contains(err.Error(), "SESSION_HOURS") {
		t.Errorf("SESSION_HOURS=0: %v", err)
	}
}

func TestLoadInbound(t *testing.T) {
	m := base()
	c, err := LoadInbound(env(m))
	if err != nil || c.Bucket != "" || c.InboundAddress != "" || c.MailConfigurationSet != "" {
		t.Fatalf("without inbound mail: %+v, %v", c, err)
	}
	m["INBOUND_ADDRESS"], m["INBOUND_BUCKET"], m["MAIL_CONFIGURATION_SET"] = "privacy@example.dk", "stack-inbound", "stack-mail"
	if c, err = LoadInbound(env(m)); err != nil || c.Bucket != "stack-inbound" || c.InboundAddress != "privacy@example.dk" || c.MailConfigurationSet != "stack-mail" {
		t.Fatalf("with inbound mail: %+v, %v", c, err)
	}
	delete(m, "INBOUND_BUCKET")
	if _, err := LoadInbound(env(m)); err == nil || !strings.Contains(err.Error(), "INBOUND_BUCKET") {
		t.Fatalf("an address without a bucket: %v", err)
	}
	m["INBOUND_BUCKET"], m["DELIVERY_BUCKET"] = "b", "stack-deliveries"
	a, err := LoadAdmin(env(m))
	if err != nil || a.InboundBucket != "b" {
		t.Fatalf("admin: %+v, %v", a, err)
	}
}
