package schedule

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Target says who a schedule is and what it sends.
type Target struct {
	// ARN is the schedule's ARN, arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>.
	ARN     string
	Region  string
	Account string
	// Input is the schedule's Input; empty sends the Scheduled Event below.
	Input string
}

// event is what EventBridge Scheduler delivers to a Lambda target without an Input.
type event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Payload is the invocation payload for a firing at the scheduled time t. An Input gets
// Scheduler's context attributes substituted, as the service does.
func (tg Target) Payload(t time.Time) []byte {
	id := newID()
	when := t.UTC().Format(time.RFC3339)
	if tg.Input != "" {
		return []byte(strings.NewReplacer(
			"<aws.scheduler.schedule-arn>", tg.ARN,
			"<aws.scheduler.scheduled-time>", when,
			"<aws.scheduler.execution-id>", id,
			"<aws.scheduler.attempt-number>", "1",
		).Replace(tg.Input))
	}
	b, _ := json.Marshal(event{
		Version: "0", ID: id, DetailType: "Scheduled Event", Source: "aws.scheduler",
		Account: tg.Account, Time: when, Region: tg.Region,
		Resources: []string{tg.ARN}, Detail: json.RawMessage("{}"),
	})
	return b
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
