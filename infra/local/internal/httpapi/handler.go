package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/local/internal/lambdart"
)

// maxBody is API Gateway's payload limit.
const maxBody = 10 * 1024 * 1024

// Invoker runs a function synchronously and returns its payload.
type Invoker func(ctx context.Context, function string, payload []byte) ([]byte, error)

// Handler serves an HTTP API.
type Handler struct {
	Router  *Router
	Invoke  Invoker
	Context Context
	// Logger gets one line per request.
	Logger *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := RequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	m, ok := h.Router.Match(r.Method, r.URL.EscapedPath())
	if !ok {
		Message(http.StatusNotFound, "Not Found").Write(w)
		h.Logger.Info("no route", "method", r.Method, "path", r.URL.Path, "status", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		Message(http.StatusBadRequest, "Bad Request").Write(w)
		return
	}
	if len(body) > maxBody {
		Message(http.StatusRequestEntityTooLarge, "Request Entity Too Large").Write(w)
		return
	}
	ev := BuildEvent(r, body, m, h.Context, start)
	ev.RequestContext.RequestID = requestID
	payload, err := json.Marshal(ev)
	if err != nil {
		Message(http.StatusInternalServerError, "Internal Server Error").Write(w)
		return
	}
	out, err := h.Invoke(r.Context(), m.Function, payload)
	var res Response
	if err == nil {
		if res, err = ParseResponse(out); err != nil {
			res = Message(http.StatusInternalServerError, "Internal Server Error")
		}
	} else {
		res = ErrorResponse(err)
	}
	res.Write(w)
	attrs := []any{"function", m.Function, "route", m.Key, "path", r.URL.Path, "status", res.Status,
		"duration", time.Since(start).Round(time.Millisecond)}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	h.Logger.Info("invoke", attrs...)
}

// ErrorResponse is what the client sees when an invocation fails: 500 for a function
// error (as API Gateway), 504 for a timeout, 502 for a crashed process, 413 for an
// oversized payload.
func ErrorResponse(err error) Response {
	var fe *lambdart.FunctionError
	switch {
	case errors.As(err, &fe):
		return Message(http.StatusInternalServerError, "Internal Server Error")
	case errors.Is(err, lambdart.ErrTimeout):
		return Message(http.StatusGatewayTimeout, "Gateway Timeout")
	case errors.Is(err, lambdart.ErrTooLarge):
		return Message(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this.
		return Message(499, "Client Closed Request")
	case errors.Is(err, lambdart.ErrClosed):
		return Message(http.StatusServiceUnavailable, "Service Unavailable")
	}
	return Message(http.StatusBadGateway, "Bad Gateway")
}
