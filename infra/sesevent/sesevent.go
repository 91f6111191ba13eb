// Package sesevent makes the events AWS sends a receipt rule's Lambda action and a
// configuration set's SNS destination, from a raw message or a sent mail, as SES writes them:
// the local runner (POST /_local/inbound) invokes the inbound function with them, and the
// function's tests feed them to its handler. events/ holds one of each, as AWS documents them.
package sesevent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Receipt is what SES decided about one mail it received.
type Receipt struct {
	// MessageID is SES's id of the mail, under which its S3 action stored it.
	MessageID string
	// Recipients are the envelope recipients the rule matched.
	Recipients []string
	// Source is the envelope sender (MAIL FROM); "" for a bounce's null sender.
	Source string
	At     time.Time
	// Spam, Virus, SPF, DKIM, DMARC are verdicts: PASS, FAIL, GRAY, PROCESSING_FAILED
	// (DMARC: PASS, FAIL, GRAY, PROCESSING_FAILED); "" is PASS.
	Spam, Virus, SPF, DKIM, DMARC string
	// FunctionARN is the Lambda action's function.
	FunctionARN string
}

// maxHeaders is how much of the header SES puts in the event before it cuts the rest
// (headersTruncated).
const maxHeaders = 10 << 10

// Event is the receipt event SES sends a Lambda action (InvocationType Event) for raw, as
// SES's developer guide shows it: the mail's header, its common headers decoded as SES
// decodes them, and the receipt with its verdicts.
func Event(raw []byte, r Receipt) (events.SimpleEmailEvent, error) {
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	var h mail.Header
	if err == nil {
		h = msg.Header
	}
	verdict := func(v string) events.SimpleEmailVerdict {
		if v == "" {
			v = "PASS"
		}
		return events.SimpleEmailVerdict{Status: v}
	}
	at := r.At.UTC()
	m := events.SimpleEmailMessage{
		Source:      r.Source,
		Timestamp:   at,
		Destination: r.Recipients,
		MessageID:   r.MessageID,
		CommonHeaders: events.SimpleEmailCommonHeaders{
			ReturnPath: h.Get("Return-Path"),
			MessageID:  h.Get("Message-ID"),
			Date:       h.Get("Date"),
			Subject:    h.Get("Subject"),
			From:       addresses(h.Get("From")),
			To:         addresses(h.Get("To")),
			Cc:         addresses(h.Get("Cc")),
		},
	}
	size := 0
	for _, f := range fields(raw) {
		if size += len(f.Name) + len(f.Value); size > maxHeaders {
			m.HeadersTruncated = true
			break
		}
		m.Headers = append(m.Headers, f)
	}
	return events.SimpleEmailEvent{Records: []events.SimpleEmailRecord{{
		EventVersion: "1.0",
		EventSource:  "aws:ses",
		SES: events.SimpleEmailService{
			Mail: m,
			Receipt: events.SimpleEmailReceipt{
				Timestamp:            at,
				ProcessingTimeMillis: 574,
				Recipients:           r.Recipients,
				SpamVerdict:          verdict(r.Spam),
				VirusVerdict:         verdict(r.Virus),
				SPFVerdict:           verdict(r.SPF),
				DKIMVerdict:          verdict(r.DKIM),
				DMARCVerdict:         verdict(r.DMARC),
				DMARCPolicy:          "none",
				Action:               events.SimpleEmailReceiptAction{Type: "Lambda", InvocationType: "Event", FunctionARN: r.FunctionARN},
			},
		},
	}}}, nil
}

// addresses lists a header's addresses as SES's commonHeaders do: each as written.
func addresses(v string) []string {
	if v == "" {
		return nil
	}
	list, err := mail.ParseAddressList(v)
	if err != nil {
		return []string{v}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, a.String())
	}
	return out
}

// fields are the header's fields in order, as written: names in their own case, folded
// values unfolded.
func fields(raw []byte) []events.SimpleEmailHeader {
	var out []events.SimpleEmailHeader
	for line := range strings.SplitSeq(string(raw), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if n := len(out); n > 0 {
				out[n-1].Value += " " + strings.TrimSpace(line)
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		out = append(out, events.SimpleEmailHeader{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	return out
}

// Feedback is what a configuration set's event destination publishes to SNS when a mail the
// desk sent bounced (kind "Bounce") or drew a complaint ("Complaint"): the mail's tags name
// its request and kind.
type Feedback struct {
	Kind      string
	MessageID string
	To        string
	At        time.Time
	Tags      map[string]string
	TopicARN  string
}

// SNS is the SNS event a function subscribed to the topic receives for f.
func SNS(f Feedback) (events.SNSEvent, error) {
	tags := map[string][]string{"ses:configuration-set": {"dsrdesk-mail"}, "ses:from-domain": {"example.dk"}}
	for k, v := range f.Tags {
		tags[k] = []string{v}
	}
	at := f.At.UTC().Format("2006-01-02T15:04:05.000Z")
	body := map[string]any{
		"eventType": f.Kind,
		"mail": map[string]any{
			"timestamp": at, "source": "privacy@example.dk", "sendingAccountId": "123456789012",
			"messageId": f.MessageID, "destination": []string{f.To}, "headersTruncated": false, "tags": tags,
		},
	}
	switch f.Kind {
	case "Bounce":
		body["bounce"] = map[string]any{
			"bounceType": "Permanent", "bounceSubType": "General", "timestamp": at, "feedbackId": f.MessageID + "-bounce",
			"bouncedRecipients": []map[string]any{{"emailAddress": f.To, "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}},
			"reportingMTA":      "dns; a8-70.smtp-out.amazonses.com",
		}
	case "Complaint":
		body["complaint"] = map[string]any{
			"complainedRecipients": []map[string]any{{"emailAddress": f.To}}, "timestamp": at, "feedbackId": f.MessageID + "-complaint",
			"complaintFeedbackType": "abuse", "userAgent": "Mail/1.0",
		}
	default:
		return events.SNSEvent{}, fmt.Errorf("sesevent: no feedback of kind %q", f.Kind)
	}
	msg, err := json.Marshal(body)
	if err != nil {
		return events.SNSEvent{}, err
	}
	return events.SNSEvent{Records: []events.SNSEventRecord{{
		EventVersion:         "1.0",
		EventSource:          "aws:sns",
		EventSubscriptionArn: f.TopicARN + ":3b7c9a1e-5f2d-4c8b-9e6a-1d0f2b3c4a5e",
		SNS: events.SNSEntity{
			Type: "Notification", MessageID: "95df01b4-ee98-5cb9-9903-4c221d41eb5e", TopicArn: f.TopicARN,
			Message: string(msg), Timestamp: f.At.UTC(), SignatureVersion: "1",
			Signature:      "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
			SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
		},
	}}}, nil
}
