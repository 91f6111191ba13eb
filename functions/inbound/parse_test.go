package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// Each fixture is a mail as a real client sends it; testdata/mail holds them byte for byte.
var fixtures = []struct {
	file        string
	from, name  string
	subject     string
	says        []string // the text holds each
	notSays     []string // and none of these
	attachments []dsr.Attachment
	automatic   bool
	lang        string
	unreadable  bool
}{
	{file: "gmail-da-utf8.eml", from: "soren.olgaard@gmail.com", name: "Søren Ærø Ølgaard",
		subject: "Anmodning om indsigt – mine oplysninger",
		says:    []string{"Jeg vil gerne have indsigt i de personoplysninger", "også en kopi", "Søren Ærø Ølgaard"},
		notSays: []string{"<div", "=C3"}, lang: "da"},
	{file: "outlook-nb-latin1.eml", from: "kare.odegard@outlook.com", name: "Kåre Ødegård",
		subject: "Innsyn og sletting - Kåre Ødegård",
		says:    []string{"Jeg ønsker innsyn i hvilke personopplysninger dere har om meg", "Kåre Ødegård"},
		notSays: []string{"MsoNormal", "=F8"}, lang: "nb"},
	{file: "applemail-nb-attachment.eml", from: "ingrid.bjornstad@icloud.com", name: "Ingrid Bjørnstad",
		subject: "Sletting av konto", says: []string{"førerkortet mitt", "Ingrid Bjørnstad"},
		attachments: []dsr.Attachment{{Name: "førerkort.pdf", Size: 1540, Type: "application/pdf"}, {Name: "IMG_4711.jpeg", Size: 3072, Type: "image/jpeg"}},
		lang:        "nb"},
	{file: "thunderbird-da-latin9.eml", from: "bjorn.aebelo@example.net", name: "Bjørn Æbelø",
		subject: "Afmelding - tilbagetrækning af samtykke", says: []string{"Jeg trækker hermed mit samtykke tilbage", "49 €", "Bjørn Æbelø"},
		lang: "da"},
	{file: "html-only-en-cp1252.eml", from: "john.smith@example.org", name: "John Smith", subject: "Erasure request",
		says:    []string{"Dear Sir or Madam,", "delete all personal data you hold about me – including my account john.smith", "- Account: john.smith", "it’s done", "your policy (https://www.example.org/policy)", "Kind regards,\nJohn Smith"},
		notSays: []string{"<p>", "font-family", "var x", "Request\n", "sent from webmail"}, lang: "en"},
	{file: "gmail-forwarded-nb.eml", from: "ola.nordmann@gmail.com", name: "Ola Nordmann", subject: "Fwd: Ditt nyhetsbrev",
		says:        []string{"Jeg vil vite hva dere har lagret om meg", "Forwarded message", "her er ukens tilbud"},
		attachments: []dsr.Attachment{{Name: "Ditt nyhetsbrev.eml", Size: 225, Type: "message/rfc822"}}, lang: "nb"},
	{file: "bounce-dsn.eml", from: "MAILER-DAEMON@mx.example.net", name: "Mail Delivery System", subject: "Undelivered Mail Returned to Sender",
		attachments: []dsr.Attachment{{Name: "attachment", Size: 214, Type: "message/delivery-status"}},
		automatic:   true, lang: "en"},
	{file: "autoreply-outlook.eml", from: "mette.sorensen@firma.dk", name: "Mette Sørensen",
		subject: "Automatisk svar: Bekræft din anmodning til Eksempel ApS", says: []string{"Jeg er på ferie"}, automatic: true, lang: "da"},
	{file: "reply-to-receipt.eml", from: "kunde@example.dk", name: "Jens Hansen", subject: "Re: Kvittering for din anmodning K7MQ-4XTZ",
		says: []string{"Mit kundenummer er K-4711", "> Referencenummer: K7MQ-4XTZ"}, lang: "da"},
	{file: "malformed-no-boundary.eml", unreadable: true},
}

func TestParseFixtures(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "mail", f.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := parse(bytes.NewReader(raw))
			if f.unreadable {
				if !errors.Is(err, errUnreadable) {
					t.Fatalf("parse = %+v, %v; want it unreadable", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.From != f.from || p.Name != f.name || p.Subject != f.subject || p.Automatic != f.automatic {
				t.Fatalf("from %q name %q subject %q automatic %v", p.From, p.Name, p.Subject, p.Automatic)
			}
			if !utf8.ValidString(p.Text) {
				t.Fatalf("text is not UTF-8: %q", p.Text)
			}
			for _, s := range f.says {
				if !strings.Contains(p.Text, s) {
					t.Errorf("text does not say %q:\n%s", s, p.Text)
				}
			}
			for _, s := range f.notSays {
				if strings.Contains(p.Text, s) {
					t.Errorf("text says %q:\n%s", s, p.Text)
				}
			}
			if !slices.Equal(p.Attachments, f.attachments) {
				t.Errorf("attachments %+v, want %+v", p.Attachments, f.attachments)
			}
			if got := guessLang(p.Subject+"\n"+p.Text, "en"); got != f.lang {
				t.Errorf("language %s, want %s", got, f.lang)
			}
		})
	}
}

// Mails that no reader can read as a mail are unreadable, not a crash; odd but readable
// ones are read.
func TestParseOddMail(t *testing.T) {
	tests := []struct {
		name, raw  string
		unreadable bool
		text       string
	}{
		{"no header at all", "just text, no header\r\n", true, ""},
		{"a header line without a colon", "From a@example.com\r\nSubject x\r\n\r\nbody\r\n", true, ""},
		{"no Content-Type is plain ASCII text", "From: a@example.com\r\n\r\nplain body\r\n", false, "plain body"},
		{"an unknown charset that is UTF-8", "From: a@example.com\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nblåbær\r\n", false, "blåbær"},
		{"UTF-8 that is not", "From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbl\xe5b\xe6r\r\n", false, "blåbær"},
		{"base64 with junk", "From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\naGVq\r\nIG1l!ZA==\r\n", false, "hej med"},
		{"a multipart whose end never comes", "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n", false, "hello"},
		{"a multipart with no part", "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\nno parts here\r\n", true, ""},
		{"parts nested too deep", deepMail(40), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parse(strings.NewReader(tt.raw))
			if tt.unreadable {
				if !errors.Is(err, errUnreadable) {
					t.Fatalf("parse = %+v, %v; want unreadable", p, err)
				}
				return
			}
			if err != nil || !strings.Contains(p.Text, tt.text) {
				t.Fatalf("parse = %+v, %v; want the text %q", p, err, tt.text)
			}
		})
	}
}

func deepMail(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i <= depth; i++ {
		b.WriteString("--b" + itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + itoa(i) + "\r\n\r\n")
	}
	b.WriteString("--b" + itoa(depth) + "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n")
	return b.String()
}

func itoa(i int) string { return strings.TrimLeft(string(rune('0'+i/10))+string(rune('0'+i%10)), "0") }

func TestHTMLText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>One</p><p>Two</p>", "One\n\nTwo"},
		{"a<br>b<br/>c", "a\nb\nc"},
		{"<ul><li>x</li><li>y</li></ul>", "- x\n- y"},
		{"<a href='https://e.example/x'>link</a>", "link (https://e.example/x)"},
		{"<a href=\"https://e.example/\">https://e.example/</a>", "https://e.example/"},
		{"<a href=\"mailto:a@b\">write</a>", "write"},
		{"x &lt;y&gt; &amp; &aelig;&oslash;&aring;", "x <y> & æøå"},
		{"<style>p{}</style><script>if (a<b) {}</script>kept", "kept"},
		{"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"unclosed <b", "unclosed"},
		{"<p title='a>b'>q</p>", "q"},
	}
	for _, tt := range tests {
		if got := htmlText(tt.in); got != tt.want {
			t.Errorf("htmlText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGuessLang(t *testing.T) {
	tests := []struct{ text, fallback, want string }{
		{"Jeg vil gerne have indsigt i mine oplysninger. Venlig hilsen", "en", "da"},
		{"Jeg ønsker innsyn i opplysningene om meg. Vennlig hilsen", "en", "nb"},
		{"Please delete my personal data. Thank you.", "da", "en"},
		{"Hej", "nb", "nb"},          // too little to tell
		{"12345 !!", "da", "da"},     // nothing to tell
		{"Jeg har ikke", "nb", "nb"}, // only words both write alike: the deployment's
	}
	for _, tt := range tests {
		if got := guessLang(tt.text, tt.fallback); got != tt.want {
			t.Errorf("guessLang(%q, %s) = %s, want %s", tt.text, tt.fallback, got, tt.want)
		}
	}
}

// FuzzParse holds the parser to never panic and to return either an error or UTF-8 text and
// attachments with sane sizes, whatever the bytes. The fixtures and testdata/fuzz/FuzzParse
// are its seed corpus, run by every go test; go test -fuzz=FuzzParse ./functions/inbound
// explores further.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "mail", "*.eml"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parse(bytes.NewReader(raw))
		if err != nil {
			if !errors.Is(err, errUnreadable) {
				t.Fatalf("an error that is not errUnreadable: %v", err)
			}
			return
		}
		if !utf8.ValidString(p.Text) || !utf8.ValidString(p.Subject) || !utf8.ValidString(p.Name) {
			t.Fatalf("not UTF-8: %+v", p)
		}
		for _, a := range p.Attachments {
			if a.Size < 0 || a.Size > int64(len(raw)) {
				t.Fatalf("attachment %+v from %d bytes", a, len(raw))
			}
		}
		_ = htmlText(string(raw))
		_ = guessLang(string(raw), "da")
	})
}
