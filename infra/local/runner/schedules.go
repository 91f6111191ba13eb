package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/local/internal/httpapi"
	"github.com/dsrdesk/dsrdesk/infra/local/internal/lambdart"
	"github.com/dsrdesk/dsrdesk/infra/local/internal/schedule"
	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
)

// scheduled is one ScheduleV2 event.
type scheduled struct {
	fn     string
	ev     samtemplate.ScheduleV2Event
	sched  schedule.Schedule
	target schedule.Target
	next   time.Time
}

func (s *scheduled) nextText(off bool) string {
	switch {
	case !s.ev.Enabled():
		return ""
	case off:
		return ", not fired (-no-schedules)"
	}
	if s.next.IsZero() {
		return ", does not fire again"
	}
	return ", next " + s.next.Format(time.RFC3339)
}

// planSchedules parses every schedule up front, so a bad expression stops the runner
// at start rather than when it would have fired.
func (r *Runner) planSchedules() error {
	now := time.Now()
	for _, id := range r.order {
		for _, ev := range r.functions[id].def.ScheduleEvents {
			sc, err := schedule.Parse(ev.ScheduleExpression, ev.Timezone, now)
			if err != nil {
				return fmt.Errorf("function %s, event %s: %w", id, ev.Name, err)
			}
			s := &scheduled{fn: id, ev: ev, sched: sc, target: schedule.Target{
				ARN: fmt.Sprintf("arn:%s:scheduler:%s:%s:schedule/%s/%s", r.stack.Partition, r.stack.Region,
					r.stack.AccountID, ev.GroupName, ev.ScheduleName),
				Region: r.stack.Region, Account: r.stack.AccountID, Input: ev.Input,
			}}
			if ev.Enabled() && !r.opts.NoSchedules {
				s.next = sc.Next(now)
			}
			r.schedules = append(r.schedules, s)
		}
	}
	return nil
}

func (r *Runner) startSchedules() {
	for _, s := range r.schedules {
		if !s.ev.Enabled() {
			continue
		}
		r.bg.Add(1)
		go func() {
			defer r.bg.Done()
			r.runSchedule(s)
		}()
	}
}

// runSchedule fires like EventBridge Scheduler: asynchronously, one invocation per
// firing even if the last one is still running.
func (r *Runner) runSchedule(s *scheduled) {
	next := s.next
	for !next.IsZero() {
		timer := time.NewTimer(time.Until(next))
		select {
		case <-r.stopCtx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		at := next
		r.bg.Add(1)
		go func() {
			defer r.bg.Done()
			r.invokeLogged(r.stopCtx, s.fn, "schedule "+s.ev.Name, s.target.Payload(at))
		}()
		next = s.sched.Next(time.Now())
	}
}

func (r *Runner) invokeLogged(ctx context.Context, fn, what string, payload []byte) ([]byte, error) {
	start := time.Now()
	out, err := r.Invoke(ctx, fn, payload)
	attrs := []any{"function", fn, "route", what, "status", statusOf(err), "duration", time.Since(start).Round(time.Millisecond)}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	r.log.Info("invoke", attrs...)
	return out, err
}

func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return httpapi.ErrorResponse(err).Status
}

// serveInvoke is POST /_local/invoke/{function}: a synchronous invoke with the request
// body as the event, or, with no body, the event the function's first schedule sends
// (an empty object for a function without one). It answers like Lambda's Invoke API:
// 200 with the payload, and a function error as 200 with X-Amz-Function-Error.
func (r *Runner) serveInvoke(w http.ResponseWriter, req *http.Request) {
	id := req.PathValue("function")
	_, ok := r.functions[id]
	if !ok {
		httpapi.Message(http.StatusNotFound, "no function "+id+"; functions: "+fmt.Sprint(r.order)).Write(w)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(req.Body, 6*1024*1024+1))
	if err != nil {
		httpapi.Message(http.StatusBadRequest, err.Error()).Write(w)
		return
	}
	what := "invoke"
	if len(payload) == 0 {
		payload = []byte("{}")
		for _, s := range r.schedules {
			if s.fn == id {
				payload, what = s.target.Payload(time.Now()), "invoke schedule "+s.ev.Name
				break
			}
		}
	} else if !json.Valid(payload) {
		httpapi.Message(http.StatusBadRequest, "the event must be JSON").Write(w)
		return
	}
	out, err := r.invokeLogged(req.Context(), id, what, payload)
	var fe *lambdart.FunctionError
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	case errors.As(err, &fe):
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_, _ = w.Write(fe.Payload)
	default:
		res := httpapi.ErrorResponse(err)
		httpapi.Message(res.Status, err.Error()).Write(w)
	}
}
