// Package config reads a function's settings from the environment once per cold start, into
// the typed values the code uses (a calendar, a language, durations): nothing downstream parses
// a setting again.
//
// Each function has its own loader, and every loader reads through the getenv it is given, so a
// test can record exactly which variables a function reads and check that template.yaml
// declares them. A missing or invalid value is an error naming the variable: a function must
// not start half-configured.
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// Common is what every function needs.
type Common struct {
	Table          string
	ControllerName string
	// Calendar is COUNTRY's (DK or NO): its statutory holidays and time zone, and its code,
	// which picks the supervisory authority.
	Calendar *deadline.Calendar
	// DefaultLang is the DPO's language and the one pages fall back to.
	DefaultLang i18n.Lang
	// BaseURL is the public origin and path prefix, without a trailing slash. Every link in a
	// page or mail is built from it, never from a request's Host header.
	BaseURL string
	// BasePath is BaseURL's path ("" at the root of a domain): the prefix the routes sit under.
	BasePath string
	Sender   string
	// DPOAddresses receive notifications and digests and may sign in; the first is the contact
	// address shown to requesters and used as Reply-To.
	DPOAddresses []string
	// ControllerAddress is the controller's postal address, which the form and every page's
	// footer give (Art. 13(1)(a)), and where requests may also be sent by letter.
	ControllerAddress string
	// PrivacyPolicyURL is the controller's privacy policy, which the form links to.
	PrivacyPolicyURL string
	// PromptWorkingDays is the short clock of a withdrawal of consent or an objection to direct
	// marketing: due that many working days after receipt (dsr.ClockPrompt).
	PromptWorkingDays int
	// UnconfirmedPerDay is the ceiling on confirmation links a day (store.CountUnconfirmed):
	// past it the intake stores a request held, without mailing it, and the sweep sends held
	// ones their links on a later day within it. The workspace shows the held ones.
	UnconfirmedPerDay int
	// InboundAddress is the privacy address the desk receives mail at (SES inbound), "" when it
	// receives none. Mails to requesters then say Reply-To its +tag form with the reference
	// (dsr.ReplyAddress), so a reply joins its request.
	InboundAddress string
	// MailConfigurationSet is the SES configuration set every mail is sent with, whose events
	// (bounces, complaints) come back to the inbound function; "" sends without one (local
	// runs).
	MailConfigurationSet string
}

// DPOContact is the address requesters are told to write to.
func (c Common) DPOContact() string { return c.DPOAddresses[0] }

// Intake is the public intake function's configuration.
type Intake struct {
	Common
	AllowedOrigins []string
	RatePerEmail   int
	RatePerIP      int
	RateWindow     time.Duration
	// MinFill is the least time a person takes to fill in the form; faster posts are bots.
	MinFill time.Duration
	// Retention is how long an answered request is kept, which the form tells the requester.
	Retention time.Duration
	// Region is the AWS region the desk runs in, which the form names as where its processor
	// keeps the data (Art. 13(1)(e)). Lambda sets AWS_REGION, not the template, so main takes
	// it from the AWS configuration (awsenv) rather than LoadIntake.
	Region string
	// EdgeSecret is set when the desk is served through its CloudFront distribution (a WAF
	// web ACL in front): only calls carrying it are answered (web.Site.EdgeSecret).
	EdgeSecret string
}

// Sweep is the scheduled sweep's configuration.
type Sweep struct {
	Common
	// Thresholds are the working-day levels before the deadline, largest first (e.g. 5, 2);
	// "due today" and "overdue" always follow.
	Thresholds []int
	Retention  time.Duration
}

// Deliveries is where the files of an answer are kept (the copy of Art. 15(3), the portable
// file of Art. 20), and for how long after their upload before S3 deletes them.
type Deliveries struct {
	Bucket    string
	Retention time.Duration
}

// Admin is the DPO workspace's configuration.
type Admin struct {
	Common
	Retention  time.Duration
	SessionTTL time.Duration
	// EdgeSecret: see Intake.EdgeSecret.
	EdgeSecret string
	Deliveries Deliveries
	// MaxFile and MaxTotal bound, in bytes, one uploaded file and the files of one answer.
	MaxFile, MaxTotal int64
	// DeliveryReminder is how long after an answer with files the digest reminds the DPO of
	// those not yet downloaded; each answer keeps the date it gets (dsr.Delivery.RemindAt).
	DeliveryReminder time.Duration
	// InboundBucket holds the raw mails requests came in, which a DPO opens by a short-lived
	// link; "" when the desk receives no mail.
	InboundBucket string
	// Thresholds are the digest's levels, as the sweep's (Sweep.Thresholds): the digest
	// preview shows what the sweep would report.
	Thresholds []int
}

// InboundPrefix is where in the inbound bucket SES's S3 action stores each mail, under its
// message id (template.yaml's receipt rule; infra/templatecheck holds the two together).
const InboundPrefix = "mail/"

// Inbound is the configuration of the function that takes mail to the privacy address and
// SES's bounce and complaint notifications.
type Inbound struct {
	Common
	// Bucket is where SES stores each raw mail (its S3 action), "" when the desk receives
	// no mail: the function then only handles notifications.
	Bucket string
	// Retention is how long a closed request is kept.
	Retention time.Duration
}

// Portal is the requester's status page's configuration.
type Portal struct {
	Common
	// RatePerEmail and RatePerIP bound how often one address, and one source IP, may ask for
	// their status page links to be mailed, per RateWindow: the intake's limits, read from
	// the same variables.
	RatePerEmail int
	RatePerIP    int
	RateWindow   time.Duration
	// SessionTTL is how long the status page's session cookie lasts, as the workspace's.
	SessionTTL time.Duration
	// Retention bounds how long a message is kept if its request's closing never reaches it.
	Retention time.Duration
	// EdgeSecret: see Intake.EdgeSecret.
	EdgeSecret string
	Deliveries Deliveries
}

// reader collects every problem so one cold-start error lists them all.
type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("config: %s: %s", name, fmt.Sprintf(format, args...)))
}

func (r *reader) required(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		r.fail(name, "is required")
	}
	return v
}

func (r *reader) oneOf(name string, allowed ...string) string {
	v := r.required(name)
	if v == "" {
		return v
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return v
}

func (r *reader) intDefault(name string, def, min, max int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		r.fail(name, "must be a whole number from %d to %d, got %q", min, max, v)
		return def
	}
	return n
}

func (r *reader) address(name, v string) {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v {
		r.fail(name, "%q is not a bare email address", v)
	}
}

func (r *reader) list(name string, required bool) []string {
	var out []string
	for _, p := range strings.Split(r.getenv(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if required && len(out) == 0 {
		r.fail(name, "is required")
	}
	return out
}

// origin reads an http(s) URL without query or fragment and returns it without a trailing
// slash, and its path likewise.
func (r *reader) origin(name, v string, allowPath bool) (string, string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		r.fail(name, "%q is not an http(s) URL", v)
		return v, ""
	}
	path := strings.TrimSuffix(u.Path, "/")
	if !allowPath && path != "" {
		r.fail(name, "%q must be an origin without a path", v)
	}
	return strings.TrimSuffix(v, "/"), path
}

// link reads an http(s) URL a page links to; unlike origin it may carry a query or fragment.
func (r *reader) link(name, v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		r.fail(name, "%q is not an http(s) URL", v)
	}
	return v
}

func (r *reader) err() error { return errors.Join(r.errs...) }

func (r *reader) common() Common {
	c := Common{
		Table:          r.required("TABLE_NAME"),
		ControllerName: r.required("CONTROLLER_NAME"),
		Calendar:       r.calendar("COUNTRY"),
		DefaultLang:    i18n.Lang(r.oneOf("DEFAULT_LANG", string(i18n.DA), string(i18n.NB), string(i18n.EN))),
		Sender:         r.required("SENDER_ADDRESS"),
		DPOAddresses:   r.list("DPO_ADDRESSES", true),

		ControllerAddress: r.required("CONTROLLER_ADDRESS"),
		PromptWorkingDays: r.intDefault("PROMPT_WORKING_DAYS", dsr.DefaultPromptWorkingDays, 1, 10),
		UnconfirmedPerDay: r.intDefault("UNCONFIRMED_PER_DAY", 200, 1, 100000),

		InboundAddress:       strings.TrimSpace(r.getenv("INBOUND_ADDRESS")),
		MailConfigurationSet: strings.TrimSpace(r.getenv("MAIL_CONFIGURATION_SET")),
	}
	if c.InboundAddress != "" {
		r.address("INBOUND_ADDRESS", c.InboundAddress)
		if strings.Contains(c.InboundAddress, "+") {
			r.fail("INBOUND_ADDRESS", "%q must not have a +tag: the desk adds one per request", c.InboundAddress)
		}
	}
	if policy := r.required("PRIVACY_POLICY_URL"); policy != "" {
		c.PrivacyPolicyURL = r.link("PRIVACY_POLICY_URL", policy)
	}
	if base := r.required("BASE_URL"); base != "" {
		c.BaseURL, c.BasePath = r.origin("BASE_URL", base, true)
	}
	if c.Sender != "" {
		r.address("SENDER_ADDRESS", c.Sender)
	}
	for _, a := range c.DPOAddresses {
		r.address("DPO_ADDRESSES", a)
	}
	return c
}

// calendar reads a country code and returns its calendar.
func (r *reader) calendar(name string) *deadline.Calendar {
	v := r.required(name)
	if v == "" {
		return nil
	}
	cal, err := deadline.ForCountry(v)
	if err != nil {
		r.fail(name, "must be one of DK, NO, got %q", v)
	}
	return cal
}

const day = 24 * time.Hour

func (r *reader) retention() time.Duration {
	return time.Duration(r.intDefault("RETENTION_DAYS", int(dsr.DefaultRetention/day), 30, 3650)) * day
}

func (r *reader) rateEmail() int { return r.intDefault("RATE_LIMIT_PER_EMAIL", 5, 1, 1000) }
func (r *reader) rateIP() int    { return r.intDefault("RATE_LIMIT_PER_IP", 20, 1, 100000) }

func (r *reader) rateWindow() time.Duration {
	return time.Duration(r.intDefault("RATE_LIMIT_WINDOW_MINUTES", 60, 1, 7*24*60)) * time.Minute
}

func (r *reader) sessionTTL() time.Duration {
	return time.Duration(r.intDefault("SESSION_HOURS", 8, 1, 24)) * time.Hour
}

// edgeSecret reads EDGE_SECRET: empty, or a secret long enough not to be guessed.
func (r *reader) edgeSecret() string {
	v := strings.TrimSpace(r.getenv("EDGE_SECRET"))
	if v != "" && len(v) < 32 {
		r.fail("EDGE_SECRET", "must be empty or at least 32 characters")
	}
	return v
}

// DefaultDeliveryRetention is how long an answer's files are kept when the deployment says
// nothing.
const DefaultDeliveryRetention = 30 * day

func (r *reader) deliveryRetention() time.Duration {
	return time.Duration(r.intDefault("DELIVERY_RETENTION_DAYS", int(DefaultDeliveryRetention/day), 1, 365)) * day
}

func (r *reader) deliveries() Deliveries {
	return Deliveries{Bucket: r.required("DELIVERY_BUCKET"), Retention: r.deliveryRetention()}
}

const mb = 1 << 20

// LoadIntake reads the intake function's configuration.
func LoadIntake(getenv func(string) string) (Intake, error) {
	r := &reader{getenv: getenv}
	c := Intake{
		Common:       r.common(),
		RatePerEmail: r.rateEmail(),
		RatePerIP:    r.rateIP(),
		RateWindow:   r.rateWindow(),
		MinFill:      time.Duration(r.intDefault("MIN_FILL_SECONDS", 3, 0, 600)) * time.Second,
		Retention:    r.retention(),
		EdgeSecret:   r.edgeSecret(),
	}
	for _, o := range r.list("ALLOWED_ORIGINS", false) {
		origin, _ := r.origin("ALLOWED_ORIGINS", o, false)
		c.AllowedOrigins = append(c.AllowedOrigins, origin)
	}
	return c, r.err()
}

// LoadPortal reads the status page's configuration.
func LoadPortal(getenv func(string) string) (Portal, error) {
	r := &reader{getenv: getenv}
	c := Portal{
		Common:       r.common(),
		RatePerEmail: r.rateEmail(),
		RatePerIP:    r.rateIP(),
		RateWindow:   r.rateWindow(),
		SessionTTL:   r.sessionTTL(),
		Retention:    r.retention(),
		EdgeSecret:   r.edgeSecret(),
		Deliveries:   r.deliveries(),
	}
	return c, r.err()
}

// LoadSweep reads the sweep's configuration.
func LoadSweep(getenv func(string) string) (Sweep, error) {
	r := &reader{getenv: getenv}
	c := Sweep{Common: r.common(), Retention: r.retention(), Thresholds: r.thresholds()}
	return c, r.err()
}

// thresholds reads the digest's working-day levels (ESCALATION_WORKING_DAYS, default 5,2):
// the sweep reports by them, the workspace previews the digest by them.
func (r *reader) thresholds() []int {
	raw := r.list("ESCALATION_WORKING_DAYS", false)
	if len(raw) == 0 {
		raw = []string{"5", "2"}
	}
	var out []int
	for _, v := range raw {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 20 {
			r.fail("ESCALATION_WORKING_DAYS", "%q is not a number of working days from 1 to 20", v)
			continue
		}
		if len(out) > 0 && n >= out[len(out)-1] {
			r.fail("ESCALATION_WORKING_DAYS", "thresholds must be distinct and in decreasing order, e.g. 5,2")
			continue
		}
		out = append(out, n)
	}
	return out
}

// LoadAdmin reads the DPO workspace's configuration.
func LoadAdmin(getenv func(string) string) (Admin, error) {
	r := &reader{getenv: getenv}
	c := Admin{
		Common:        r.common(),
		Retention:     r.retention(),
		SessionTTL:    r.sessionTTL(),
		EdgeSecret:    r.edgeSecret(),
		InboundBucket: strings.TrimSpace(getenv("INBOUND_BUCKET")),
		Deliveries:    r.deliveries(),
		MaxFile:       int64(r.intDefault("DELIVERY_MAX_FILE_MB", 200, 1, 5000)) * mb,
		MaxTotal:      int64(r.intDefault("DELIVERY_MAX_TOTAL_MB", 1000, 1, 50000)) * mb,

		DeliveryReminder: time.Duration(r.intDefault("DELIVERY_REMINDER_DAYS", 7, 1, 365)) * day,
		Thresholds:       r.thresholds(),
	}
	if c.MaxFile > c.MaxTotal {
		// One file may not hold more than all of them together.
		c.MaxFile = c.MaxTotal
	}
	return c, r.err()
}

// LoadInbound reads the inbound function's configuration.
func LoadInbound(getenv func(string) string) (Inbound, error) {
	r := &reader{getenv: getenv}
	c := Inbound{
		Common:    r.common(),
		Bucket:    strings.TrimSpace(getenv("INBOUND_BUCKET")),
		Retention: r.retention(),
	}
	if (c.Bucket == "") != (c.InboundAddress == "") {
		r.fail("INBOUND_BUCKET", "INBOUND_BUCKET and INBOUND_ADDRESS go together: both set, or both empty")
	}
	return c, r.err()
}
