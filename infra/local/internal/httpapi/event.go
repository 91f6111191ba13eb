package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Context is what the event says about the deployment rather than the request.
type Context struct {
	AccountID string
	// APIIDs maps an API's logical id to the id put in requestContext.apiId; an API
	// missing from it gets its logical id lower-cased.
	APIIDs map[string]string
}

// BuildEvent makes the payload 2.0 event API Gateway sends for r (whose body has been
// read into body) matched to m, received at now.
//
// Like API Gateway: header names are lower-cased and repeated headers joined with
// commas; Cookie headers become the cookies array and are not repeated in headers;
// repeated query parameters are joined with commas; a body is base64-encoded unless
// its content type is text (see isText); x-forwarded-for/-port/-proto and
// x-amzn-trace-id are added; stageVariables are omitted (the $default stage has none).
func BuildEvent(r *http.Request, body []byte, m Match, c Context, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lname] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	if len(body) > 0 {
		headers["content-length"] = fmt.Sprint(len(body))
	}
	ip, port := clientIP(r), localPort(r)
	if prev := headers["x-forwarded-for"]; prev != "" {
		headers["x-forwarded-for"] = prev + ", " + ip
	} else {
		headers["x-forwarded-for"] = ip
	}
	headers["x-forwarded-port"] = port
	headers["x-forwarded-proto"] = "http"
	traceID := fmt.Sprintf("Root=1-%08x-%s", now.Unix(), randomHex(12))
	headers["x-amzn-trace-id"] = traceID

	var query map[string]string
	if r.URL.RawQuery != "" {
		query = map[string]string{}
		// Parse by hand to keep API Gateway's order of repeated values and keys with
		// no value; url.ParseQuery would do, but drops pairs it cannot decode.
		for _, pair := range strings.Split(r.URL.RawQuery, "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			k, v = unescape(k), unescape(v)
			if prev, ok := query[k]; ok {
				query[k] = prev + "," + v
			} else {
				query[k] = v
			}
		}
	}

	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")
	apiID := c.APIIDs[m.APIID]
	if apiID == "" {
		apiID = strings.ToLower(m.APIID)
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              m.Key,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        m.PathParameters,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     m.Key,
			AccountID:    c.AccountID,
			Stage:        "$default",
			RequestID:    RequestID(),
			APIID:        apiID,
			DomainName:   host,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  ip,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText reports whether API Gateway passes a body of this content type as text.
// It base64-encodes everything else, application/x-www-form-urlencoded and
// multipart/form-data included (a form post arrives with isBase64Encoded true).
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/ecmascript",
		mt == "application/graphql", mt == "application/yaml":
		return true
	}
	return false
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func localPort(r *http.Request) string {
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(addr.String()); err == nil {
			return port
		}
	}
	return "80"
}

// RequestID makes an id shaped like API Gateway's (16 characters ending in "=").
func RequestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)[:15] + "="
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
