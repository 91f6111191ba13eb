// Package notice writes and sends every mail the product sends: to requesters in their own
// language, to the DPO in the deployment's language. Each mail has a plain-text and an HTML
// part rendered from one template file (text/template for the subject and text, html/template
// for the HTML), so the two parts cannot drift apart.
package notice

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// Message is one mail ready to send.
type Message struct {
	// Lang is the language the mail is written in (not sent: kept with its text).
	Lang i18n.Lang
	// Ref and Kind name the request and the mail, for SES to give back with a bounce or a
	// complaint (Mailer tags the mail with them); "" for a mail about no one request.
	Ref     string
	Kind    dsr.MailKind
	To      []string
	ReplyTo []string
	Subject string
	Text    string
	HTML    string
}

// Settings are the deployment facts mails state.
type Settings struct {
	Controller   string
	Country      string
	BaseURL      string
	DPOAddresses []string
	DefaultLang  i18n.Lang
	// Location is the controller's time zone; dates in mails are local dates.
	Location *time.Location
	// InboundAddress is the privacy address the desk receives mail at, "" for none: a mail
	// to a requester then says Reply-To its +tag form with the reference (dsr.ReplyAddress),
	// so their reply joins the request; otherwise Reply-To is the first DPO address.
	InboundAddress string
}

//go:embed templates/*.tmpl
var templateFiles embed.FS

// Notices renders mails.
type Notices struct {
	s Settings
	// mails are the templates by name, each read and parsed when first rendered: a function
	// sends a few kinds of mail, and parsing all of them was a good part of every cold start;
	// copying all their sources out of the binary still took about 0.2 ms of one.
	mails map[string]*mail
}

// mail is one template file and, once parsed, its text and HTML templates.
type mail struct {
	file string
	once sync.Once
	text *texttemplate.Template
	html *htmltemplate.Template
	err  error
}

// New lists the mail templates once per cold start. Each is read and parsed the first time it
// is rendered; the tests render every one.
func New(s Settings) (*Notices, error) {
	if s.Location == nil || len(s.DPOAddresses) == 0 {
		return nil, fmt.Errorf("notice: settings need a location and a DPO address")
	}
	entries, err := fs.ReadDir(templateFiles, "templates")
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	n := &Notices{s: s, mails: make(map[string]*mail, len(entries))}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".tmpl")
		if !ok || strings.HasPrefix(name, "_") {
			continue
		}
		n.mails[name] = &mail{file: "templates/" + e.Name()}
	}
	return n, nil
}

// parsed returns template name's text and HTML templates, reading and parsing them on first
// use.
func (n *Notices) parsed(name string) (*mail, error) {
	m, ok := n.mails[name]
	if !ok {
		return nil, fmt.Errorf("notice: no template %q", name)
	}
	m.once.Do(func() {
		m.text, m.html, m.err = parse(name, m.file)
	})
	return m, m.err
}

// parse parses the mail in file, after the layout every mail shares, as text and as HTML.
func parse(name, file string) (*texttemplate.Template, *htmltemplate.Template, error) {
	base, err := fs.ReadFile(templateFiles, "templates/_base.tmpl")
	if err != nil {
		return nil, nil, fmt.Errorf("notice: %w", err)
	}
	body, err := fs.ReadFile(templateFiles, file)
	if err != nil {
		return nil, nil, fmt.Errorf("notice: %w", err)
	}
	src := string(base) + string(body)
	text, err := texttemplate.New(name).Funcs(funcs()).Parse(src)
	if err != nil {
		return nil, nil, fmt.Errorf("notice: %s: %w", name, err)
	}
	html, err := htmltemplate.New(name).Funcs(funcs()).Parse(src)
	if err != nil {
		return nil, nil, fmt.Errorf("notice: %s: %w", name, err)
	}
	return text, html, nil
}

// funcs are the template functions of every mail: i18n's, join for address lists, and plural,
// which picks the ".one" or ".other" form of a message for a count.
func funcs() map[string]any {
	f := i18n.Funcs()
	f["join"] = strings.Join
	f["plural"] = func(n int) string {
		if n == 1 {
			return "one"
		}
		return "other"
	}
	return f
}

// Render renders template name with data: the subject and text parts with text/template, the
// HTML part (wrapped in the shared mail layout) with html/template.
func (n *Notices) Render(name string, data any) (subject, text, html string, err error) {
	m, err := n.parsed(name)
	if err != nil {
		return "", "", "", err
	}
	tt := m.text
	var s, t, h bytes.Buffer
	if err := tt.ExecuteTemplate(&s, "subject", data); err != nil {
		return "", "", "", fmt.Errorf("notice: %s subject: %w", name, err)
	}
	if err := tt.ExecuteTemplate(&t, "text", data); err != nil {
		return "", "", "", fmt.Errorf("notice: %s text: %w", name, err)
	}
	if err := m.html.ExecuteTemplate(&h, "htmlmail", data); err != nil {
		return "", "", "", fmt.Errorf("notice: %s html: %w", name, err)
	}
	// A subject is one header line whatever the data held.
	subj := strings.Join(strings.Fields(s.String()), " ")
	return subj, strings.TrimSpace(t.String()) + "\n", h.String(), nil
}

// RequestData is what a mail about one request can show.
type RequestData struct {
	Lang       i18n.Lang
	Controller string
	Country    string
	Request    *dsr.Request
	Ref        string
	Type       dsr.Type
	Article    string
	// Dates as the reader's language writes them, in the controller's time zone.
	Received string
	Deadline string
	Due      string
	// Link is the confirmation link (verification and reminder mails only).
	Link string
	// StatusLink is the link to the requester's status page (dsr.MailKind.CarriesPageLink),
	// or "" if none could be issued: the mail goes out without it.
	StatusLink string
	// PageOpenUntil is the day StatusLink stops working, once the request has been answered
	// (dsr.Request.PageOpenUntil); "" before.
	PageOpenUntil string
	// LinkValidUntil is when Link stops working.
	LinkValidUntil string
	AdminLink      string
	DPOContact     string
	FormLink       string
	// Prompt: a withdrawal of consent or a marketing objection, acted on without undue delay
	// and never extended (dsr.ClockPrompt): its mails name no month and no extension.
	Prompt bool
	// Result is how a completed request was answered (dsr.ResultDone for one completed before
	// results were recorded).
	Result dsr.Result
	// Told is how many recipients of the data were informed (Art. 19).
	Told int
	// FeeAmount is the announced fee with its currency, in the reader's language.
	FeeAmount string
	// LiftFrom is the date a restriction will be lifted.
	LiftFrom string
	// Recipient is the recipient a notice under Art. 19 goes to (recipient notices only).
	Recipient *dsr.RecipientNotice
	// Resumed says the request's last change ran its stopped clock again (a reply did).
	Resumed bool
	// FilesUntil is when the first of the delivered files is deleted (dsr.File.Expires), for
	// an answer with files.
	FilesUntil string
	// Letter is set when the mail is a letter the DPO prints and posts, to a requester the
	// desk cannot mail (dsr.Request.ByMail): it then says nothing of replying to an email or
	// of a status page.
	Letter bool
}

// requestTemplates maps a mail kind to its template; the DPO's mail is in the deployment's
// language and goes to the DPO addresses, every other one to the requester.
var requestTemplates = map[dsr.MailKind]string{
	dsr.MailVerification: "verification",
	dsr.MailReminder:     "reminder",
	dsr.MailReceipt:      "receipt",
	dsr.MailDPONew:       "dpo_new",
	dsr.MailExtension:    "extension",
	dsr.MailCompletion:   "completion",
	dsr.MailRejection:    "rejection",
	dsr.MailFee:          "fee",
	dsr.MailLift:         "restriction_lift",
	dsr.MailQuestion:     "question",
	dsr.MailDPOReply:     "dpo_reply",
	dsr.MailDelivery:     "delivery",
}

// Request renders the mail of the given kind about r. link is the link the mail carries: the
// confirmation link for the verification and reminder mails, the status page link for the
// others to the requester (dsr.MailKind.CarriesPageLink); the secret in it is never stored,
// so the caller passes it.
func (n *Notices) Request(kind dsr.MailKind, r *dsr.Request, link string) (Message, error) {
	return n.request(kind, r, link, false)
}

// Letter renders the mail of the given kind about r as the letter it is to a requester the
// desk cannot mail (dsr.Request.ByLetter): the same template in the requester's language,
// without a link, addressed (To) to the requester's name and postal address, one line each
// ("" when none was registered).
func (n *Notices) Letter(kind dsr.MailKind, r *dsr.Request) (Message, error) {
	if !r.ByLetter(kind) {
		return Message{}, fmt.Errorf("notice: %s to %s is not a letter", kind, r.Ref)
	}
	return n.request(kind, r, "", true)
}

// LetterAddress is the address block of a letter to r's requester: their name and postal
// address, one line each.
func LetterAddress(r *dsr.Request) string {
	return strings.TrimSpace(strings.Join([]string{r.Name, r.PostalAddress}, "\n"))
}

func (n *Notices) request(kind dsr.MailKind, r *dsr.Request, link string, letter bool) (Message, error) {
	name, ok := requestTemplates[kind]
	lang, to, replyTo := n.requesterLang(r), []string{r.Email}, []string{n.replyTo(r)}
	var recipient *dsr.RecipientNotice
	switch id, isRecipient := kind.RecipientID(); {
	case isRecipient:
		// Art. 19: to the recipient's address from the register, in their language; their
		// answer goes to the DPO, not into the requester's conversation.
		rn, found := r.Notice(id)
		if !found {
			return Message{}, fmt.Errorf("notice: %s has no recipient %q", r.Ref, id)
		}
		name, ok, recipient, to = "recipient_notice", true, &rn, []string{rn.Email}
		replyTo = []string{n.s.DPOAddresses[0]}
		if l, valid := i18n.Parse(rn.Lang); valid {
			lang = l
		}
	case !kind.ToRequester():
		// The DPO's notices, in the deployment's language.
		lang, to, replyTo = n.s.DefaultLang, n.s.DPOAddresses, nil
	case kind == dsr.MailCompletion && r.Outcome != nil && r.Outcome.Result == dsr.ResultPartial:
		name = "completion_partial"
	}
	if !ok {
		return Message{}, fmt.Errorf("notice: unknown mail kind %q", kind)
	}
	if letter {
		to, replyTo = []string{LetterAddress(r)}, nil
	} else if len(to) == 0 || to[0] == "" {
		return Message{}, fmt.Errorf("notice: %s mail for %s has no recipient", kind, r.Ref)
	}
	if kind == dsr.MailQuestion && r.Waiting == nil {
		return Message{}, fmt.Errorf("notice: question mail for %s without an open question", r.Ref)
	}
	d := n.RequestData(lang, r)
	if kind.CarriesPageLink() {
		d.StatusLink = link
		if r.Status.Closed() {
			d.PageOpenUntil = i18n.Date(lang, r.PageOpenUntil().In(n.s.Location))
		}
	} else {
		d.Link = link
	}
	d.Recipient = recipient
	d.Letter = letter
	subject, text, html, err := n.Render(name, d)
	if err != nil {
		return Message{}, err
	}
	return Message{Lang: lang, Ref: r.Ref, Kind: kind, To: to, ReplyTo: replyTo, Subject: subject, Text: text, HTML: html}, nil
}

// replyTo is where the requester's answer to a mail about r goes: into the desk when it
// receives mail, else to the DPO.
func (n *Notices) replyTo(r *dsr.Request) string {
	if n.s.InboundAddress != "" {
		return dsr.ReplyAddress(n.s.InboundAddress, r.Ref)
	}
	return n.s.DPOAddresses[0]
}

func (n *Notices) requesterLang(r *dsr.Request) i18n.Lang {
	return i18n.ParseOr(r.Lang, n.s.DefaultLang)
}

// RequestData fills the data every request mail template can use.
func (n *Notices) RequestData(lang i18n.Lang, r *dsr.Request) RequestData {
	loc := n.s.Location
	d := RequestData{
		Lang:           lang,
		Controller:     n.s.Controller,
		Country:        n.s.Country,
		Request:        r,
		Ref:            r.Ref,
		Type:           r.Type,
		Article:        i18n.Article(lang, r.Type.Article()),
		Received:       i18n.Date(lang, r.ReceivedAt.In(loc)),
		Deadline:       i18n.LongDate(lang, r.Deadline().In(loc)),
		Due:            i18n.LongDate(lang, r.Due.In(loc)),
		LinkValidUntil: i18n.DateTime(lang, r.TokenExpires.In(loc)),
		AdminLink:      n.s.BaseURL + "/admin/requests/" + r.Ref,
		DPOContact:     n.s.DPOAddresses[0],
		FormLink:       n.s.BaseURL + "/?lang=" + string(lang),
		Prompt:         r.Type.Rules().Clock == dsr.ClockPrompt,
		Result:         dsr.ResultDone,
		Told:           len(r.Told()),
		Resumed:        len(r.Audit) > 0 && r.Audit[len(r.Audit)-1].Action == dsr.ActionClockResumed,
	}
	if o := r.Outcome; o != nil && o.Result != "" {
		d.Result = o.Result
	}
	if f := r.Fee; f != nil {
		d.FeeAmount = i18n.T(lang, "fee.amount."+n.s.Country, f.Amount)
	}
	if l := r.Lift; l != nil {
		d.LiftFrom = i18n.LongDate(lang, l.From.In(loc))
	}
	if r.HasFiles() {
		until := r.Delivery.Files[0].Expires
		for _, f := range r.Delivery.Files {
			if f.Expires.Before(until) {
				until = f.Expires
			}
		}
		d.FilesUntil = i18n.DateTime(lang, until.In(loc))
	}
	return d
}

// Settings returns the deployment facts, for callers building their own template data.
func (n *Notices) Settings() Settings { return n.s }
