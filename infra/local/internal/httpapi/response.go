package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
)

// Response is an HTTP response ready to write.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrMalformed is a function answer API Gateway cannot turn into a response (it
// answers 500).
var ErrMalformed = errors.New("malformed Lambda proxy response")

// ParseResponse turns a function's payload into the HTTP response API Gateway gives.
//
// A JSON object with a statusCode is the structured format: headers, multiValueHeaders,
// cookies (each a Set-Cookie header) and a body, base64-decoded when isBase64Encoded.
// Anything else that is valid JSON is the body of a 200 application/json response, a
// JSON string unquoted first, as API Gateway infers for payload format 2.0.
func ParseResponse(payload []byte) (Response, error) {
	trimmed := bytes.TrimSpace(payload)
	if !json.Valid(trimmed) {
		return Response{}, ErrMalformed
	}
	inferred := func(body []byte) Response {
		return Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
	}
	switch trimmed[0] {
	case '"':
		var s string
		_ = json.Unmarshal(trimmed, &s)
		return inferred([]byte(s)), nil
	case '{':
	default:
		return inferred(trimmed), nil
	}
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(trimmed, &probe)
	if _, ok := probe["statusCode"]; !ok {
		return inferred(trimmed), nil
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(trimmed, &res); err != nil {
		return Response{}, errors.Join(ErrMalformed, err)
	}
	if res.StatusCode < 100 || res.StatusCode > 599 {
		return Response{}, errors.Join(ErrMalformed, errors.New("statusCode "+strconv.Itoa(res.StatusCode)))
	}
	out := Response{Status: res.StatusCode, Header: http.Header{}}
	for k, v := range res.Headers {
		out.Header.Set(k, v)
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	for _, c := range res.Cookies {
		out.Header.Add("Set-Cookie", c)
	}
	out.Body = []byte(res.Body)
	if res.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(res.Body)
		if err != nil {
			return Response{}, errors.Join(ErrMalformed, err)
		}
		out.Body = b
	}
	return out, nil
}

// Write sends the response. Without a Content-Type from the function none is sent
// (net/http would otherwise sniff one).
func (r Response) Write(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range r.Header {
		h[k] = vs
	}
	if h.Get("Content-Type") == "" {
		h["Content-Type"] = nil
	}
	h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	w.WriteHeader(r.Status)
	_, _ = w.Write(r.Body)
}

// Message is API Gateway's own answer, {"message": "..."}.
func Message(status int, msg string) Response {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}
