package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// What the desk reads of a mail, with the standard library's MIME readers and x/text's
// decoders for the charsets Nordic mail clients still send (ISO-8859-1 and -15,
// Windows-1252). A mail the parser cannot read is quarantined for the DPO (dsr.QuarantineUnreadable),
// never dropped: it stays in the bucket whole.

// Limits of what the parser reads. SES accepts mail up to 40 MB; attachments are counted,
// not kept (they stay in the raw mail), so only the text parts take memory.
const (
	maxMail = 40 << 20
	// maxText bounds the text read from one part; the request keeps dsr.MaxDetails of it.
	maxText = 1 << 20
	// maxParts and maxDepth bound the MIME tree, so a crafted mail cannot make the parser
	// walk forever.
	maxParts = 500
	maxDepth = 16
)

// errUnreadable is a mail whose structure the parser cannot read.
var errUnreadable = errors.New("inbound: mail not readable")

// parsed is what the desk keeps of one mail.
type parsed struct {
	// From is the sender's bare address, Name its display name, both "" if From is absent or
	// cannot be read.
	From, Name string
	Subject    string
	// Text is the mail's text: its plain parts, or its HTML part as text when it has none.
	Text        string
	Attachments []dsr.Attachment
	// Automatic is a mail no person wrote to us (RFC 3834): an auto-reply, a bounce or
	// another report, a mailing list's; the desk makes nothing of it and never answers it.
	Automatic bool
}

// parse reads one RFC 5322 message. Only an unreadable structure is an error; a missing or
// odd header, an unknown charset, an attachment that does not decode are read as well as
// they can be.
func parse(r io.Reader) (*parsed, error) {
	msg, err := mail.ReadMessage(bufio.NewReader(io.LimitReader(r, maxMail+1)))
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", errUnreadable, err)
	}
	p := &parsed{Automatic: automatic(textproto.MIMEHeader(msg.Header))}
	p.Subject = decodeHeader(msg.Header.Get("Subject"))
	if from := msg.Header.Get("From"); from != "" {
		if a, err := addressParser.Parse(from); err == nil {
			// A display name of raw 8-bit bytes reads as decodeCharset reads a body.
			p.From, p.Name = strings.ToValidUTF8(a.Address, "\uFFFD"), decodeCharset("", []byte(a.Name))
		}
	}
	w := &walker{p: p}
	if err := w.part(textproto.MIMEHeader(msg.Header), msg.Body, 0); err != nil {
		return nil, err
	}
	p.Text = w.text()
	return p, nil
}

// automatic reports whether a mail's header says a machine sent it (RFC 3834 § 2 and the
// conventions its § 3.1 names): Auto-Submitted other than "no", Precedence bulk, junk or
// list, a mailing list's List-Id, the auto-reply headers of common clients, or a report
// (a delivery status notification, a read receipt).
func automatic(h textproto.MIMEHeader) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && !strings.HasPrefix(v, "no") {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list":
		return true
	}
	for _, k := range []string{"List-Id", "X-Autoreply", "X-Autorespond"} {
		if h.Get(k) != "" {
			return true
		}
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "multipart/report" || mt == "message/delivery-status" || mt == "message/disposition-notification"
}

// walker collects a message's text and attachments as it walks its MIME tree.
type walker struct {
	p     *parsed
	parts int
	plain []string
	html  []string
}

func (w *walker) text() string {
	if t := strings.TrimSpace(strings.Join(w.plain, "\n\n")); t != "" {
		return t
	}
	return strings.TrimSpace(strings.Join(w.html, "\n\n"))
}

// part reads one MIME part with header h and body (still transfer-encoded).
func (w *walker) part(h textproto.MIMEHeader, body io.Reader, depth int) error {
	w.parts++
	if w.parts > maxParts || depth > maxDepth {
		return fmt.Errorf("%w: more than %d parts or %d levels", errUnreadable, maxParts, maxDepth)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		// RFC 2045 § 5.2: a missing or unreadable Content-Type is text/plain in US-ASCII.
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		return w.multipart(mt, params, body, depth)
	}
	if mt == "message/delivery-status" || mt == "message/disposition-notification" {
		w.p.Automatic = true
	}
	decoded := transferDecoder(h.Get("Content-Transfer-Encoding"), body)
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := decodeHeader(dparams["filename"])
	if name == "" {
		name = decodeHeader(params["name"])
	}
	isText := mt == "text/plain" || mt == "text/html"
	if !isText || disposition == "attachment" || (name != "" && disposition != "inline") {
		return w.attachment(name, mt, decoded)
	}
	raw, err := io.ReadAll(io.LimitReader(decoded, maxText))
	if err != nil && len(raw) == 0 {
		return fmt.Errorf("%w: %s part: %v", errUnreadable, mt, err)
	}
	_, _ = io.Copy(io.Discard, decoded) // the rest of an over-long part
	text := decodeCharset(params["charset"], raw)
	if mt == "text/html" {
		w.html = append(w.html, htmlText(text))
	} else {
		w.plain = append(w.plain, text)
	}
	return nil
}

// multipart reads the parts of a multipart body. Of multipart/alternative, the plain text is
// kept and the HTML only where there is no plain text.
func (w *walker) multipart(mt string, params map[string]string, body io.Reader, depth int) error {
	if mt == "multipart/report" {
		w.p.Automatic = true
	}
	boundary := params["boundary"]
	if boundary == "" {
		return fmt.Errorf("%w: %s without a boundary", errUnreadable, mt)
	}
	outer := w
	if mt == "multipart/alternative" {
		outer = &walker{p: w.p, parts: w.parts}
	}
	mr := multipart.NewReader(body, boundary)
	for n := 0; ; n++ {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return fmt.Errorf("%w: %s with no part", errUnreadable, mt)
			}
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %v", errUnreadable, mt, err)
		}
		if err := outer.part(part.Header, part, depth+1); err != nil {
			return err
		}
	}
	if outer != w {
		w.parts = outer.parts
		if t := outer.text(); t != "" {
			w.plain = append(w.plain, t)
		}
	}
	return nil
}

// attachment lists a part that is not the mail's text: its name, its decoded size and type.
// A forwarded mail (message/rfc822) is an attachment too, named by its subject.
func (w *walker) attachment(name, mt string, body io.Reader) error {
	if name == "" && mt == "message/rfc822" {
		name = "message.eml"
	}
	if name == "" {
		name = "attachment"
		if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
			name += exts[0]
		}
	}
	n, _ := io.Copy(io.Discard, body) // a part that does not decode is listed as far as it does
	w.p.Attachments = append(w.p.Attachments, dsr.Attachment{Name: name, Size: n, Type: mt})
	return nil
}

// transferDecoder undoes a part's Content-Transfer-Encoding; an unknown one is read as is.
func transferDecoder(cte string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: body})
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	}
	return body
}

// base64Cleaner drops what is not base64 from a base64 body (line breaks, spaces, a stray
// character some clients leave), as mail readers do.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		k := 0
		for _, b := range p[:n] {
			if b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=' {
				p[k] = b
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// decodeCharset returns body, in charset, as UTF-8. UTF-8 and US-ASCII are kept (invalid
// bytes then read as Windows-1252, which is what a client that says UTF-8 and is wrong
// usually sent); the ISO-8859 family, Windows code pages and every other WHATWG label go
// through x/text; a charset nobody knows is read as UTF-8 if it is valid, else as
// Windows-1252.
func decodeCharset(charset string, body []byte) string {
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"`))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if utf8.Valid(body) {
			return string(body)
		}
		return decodeWith(charmap.Windows1252, body)
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		if utf8.Valid(body) {
			return string(body)
		}
		enc = charmap.Windows1252
	}
	return decodeWith(enc, body)
}

func decodeWith(enc encoding.Encoding, body []byte) string {
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return strings.ToValidUTF8(string(body), "\uFFFD")
	}
	return string(out)
}

// wordDecoder decodes RFC 2047 encoded words in any charset decodeCharset reads.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(io.LimitReader(input, maxText))
	if err != nil {
		return nil, err
	}
	return bytes.NewReader([]byte(decodeCharset(charset, b))), nil
}}

var addressParser = &mail.AddressParser{WordDecoder: wordDecoder}

// decodeHeader decodes a header's encoded words; one that cannot be decoded is kept as
// written, and 8-bit bytes a client put in a header unencoded read as decodeCharset reads
// them.
func decodeHeader(v string) string {
	if v == "" {
		return ""
	}
	if !utf8.ValidString(v) {
		v = decodeCharset("", []byte(v))
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	if !utf8.ValidString(d) {
		// An encoded word that said UTF-8 and was not.
		d = decodeCharset("", []byte(d))
	}
	return d
}
