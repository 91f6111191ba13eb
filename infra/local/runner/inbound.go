package runner

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/infra/emulators"
	"github.com/dsrdesk/dsrdesk/infra/local/internal/httpapi"
	"github.com/dsrdesk/dsrdesk/infra/local/internal/lambdart"
	"github.com/dsrdesk/dsrdesk/infra/sesevent"
)

// maxInbound is the largest message SES accepts.
const maxInbound = 40 << 20

// InboundResult is what POST /_local/inbound answers: where the message was stored, which
// function took it, and what that function answered (its error, if it failed).
type InboundResult struct {
	MessageID string          `json:"messageId"`
	Bucket    string          `json:"bucket"`
	Key       string          `json:"key"`
	Function  string          `json:"function"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	Error     string          `json:"error,omitempty"`
}

// serveInbound is POST /_local/inbound: the body is one raw RFC 5322 message, received as SES
// receives mail for the template's receipt rule: stored in the S3 emulator under the rule's
// prefix and a fresh SES message id (its S3 action), then the rule's function invoked with
// the receipt event SES sends a Lambda action. SES invokes asynchronously; here the answer
// waits, so that it can say how the function took the mail.
//
// The query sets what SES would have decided: to (the envelope recipient; default the rule's
// address), from (the envelope sender; "<>" for a bounce's null sender; default the From
// header's address), and spam, virus, dmarc (PASS, FAIL, GRAY; default PASS).
func (r *Runner) serveInbound(w http.ResponseWriter, req *http.Request) {
	if len(r.rules) == 0 {
		httpapi.Message(http.StatusNotFound, "the template creates no receipt rule: run with -param InboundAddress=privacy@example.dk").Write(w)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(req.Body, maxInbound+1))
	switch {
	case err != nil:
		httpapi.Message(http.StatusBadRequest, err.Error()).Write(w)
		return
	case len(raw) > maxInbound:
		httpapi.Message(http.StatusRequestEntityTooLarge, "SES accepts mail up to 40 MB").Write(w)
		return
	case len(raw) == 0:
		httpapi.Message(http.StatusBadRequest, "post the raw message (an .eml file) as the body").Write(w)
		return
	}
	rule := r.rules[0]
	q := req.URL.Query()
	to := q.Get("to")
	if to == "" {
		to = rule.Recipients[0]
	}
	from := q.Get("from")
	if from == "" {
		from = headerAddress(raw, "From")
	}
	if from == "<>" {
		from = ""
	}
	res := InboundResult{MessageID: newMessageID(), Bucket: rule.Bucket, Function: rule.Function}
	res.Key = rule.Prefix + res.MessageID
	_, err = emulators.S3Client(r.Endpoints[emulators.S3]).PutObject(req.Context(), &s3.PutObjectInput{
		Bucket: aws.String(rule.Bucket), Key: aws.String(res.Key), Body: bytes.NewReader(raw),
	})
	if err != nil {
		httpapi.Message(http.StatusBadGateway, fmt.Sprintf("store the message in %s: %v", rule.Bucket, err)).Write(w)
		return
	}
	ev, err := sesevent.Event(raw, sesevent.Receipt{
		MessageID: res.MessageID, Recipients: []string{to}, Source: from, At: time.Now(),
		Spam: q.Get("spam"), Virus: q.Get("virus"), DMARC: q.Get("dmarc"), FunctionARN: rule.FunctionARN,
	})
	if err == nil {
		var payload []byte
		if payload, err = json.Marshal(ev); err == nil {
			res.Payload, err = r.invokeLogged(req.Context(), rule.Function, "inbound mail", payload)
		}
	}
	var fe *lambdart.FunctionError
	switch {
	case errors.As(err, &fe):
		res.Error, res.Payload = "the function failed: SES would retry it twice", fe.Payload
	case err != nil:
		res.Error = err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	if res.Error != "" {
		w.WriteHeader(http.StatusBadGateway)
	}
	_ = json.NewEncoder(w).Encode(res)
}

// InboundBucket is the bucket the template's receipt rule stores mail in, "" when the
// template creates none.
func (r *Runner) InboundBucket() string {
	if len(r.rules) == 0 {
		return ""
	}
	return r.rules[0].Bucket
}

// newMessageID is an id like SES's: 0100 and the time, then random hex.
func newMessageID() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("0100%012x-%s", time.Now().UnixMilli(), hex.EncodeToString(b[:]))
}

// headerAddress is the bare address of a header of raw, or "".
func headerAddress(raw []byte, name string) string {
	ev, err := sesevent.Event(raw, sesevent.Receipt{})
	if err != nil || len(ev.Records) == 0 {
		return ""
	}
	for _, h := range ev.Records[0].SES.Mail.Headers {
		if strings.EqualFold(h.Name, name) {
			v := h.Value
			if i := strings.LastIndexByte(v, '<'); i >= 0 {
				v = strings.TrimSuffix(v[i+1:], ">")
			}
			return strings.TrimSpace(v)
		}
	}
	return ""
}
