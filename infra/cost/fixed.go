package cost

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
)

// pricing says how a resource type is billed: what it costs every month it exists, if
// anything. Every type template.yaml declares must be here, so that a new resource with a
// monthly price cannot slip past the cost table: [Fixed] refuses a type it does not know.
var pricing = map[string]string{
	// Billed per use, which the meter measures; nothing while idle.
	samtemplate.TypeFunction:                     "per use",
	samtemplate.TypeHTTPAPI:                      "per use",
	samtemplate.TypeTable:                        "per use and size",
	samtemplate.TypeBucket:                       "per use and size",
	"AWS::Logs::LogGroup":                        "per use and size",
	"AWS::SQS::Queue":                            "per use",
	samtemplate.TypeTopic:                        "per use",
	"AWS::SNS::Subscription":                     "per use",
	"AWS::Lambda::EventInvokeConfig":             "free",
	"AWS::IAM::ManagedPolicy":                    "free",
	"AWS::IAM::Role":                             "free",
	"AWS::S3::BucketPolicy":                      "free",
	"AWS::ApiGatewayV2::DomainName":              "free",
	"AWS::ApiGatewayV2::ApiMapping":              "free",
	"AWS::SES::ReceiptRule":                      "free",
	"AWS::SES::ReceiptRuleSet":                   "free",
	"AWS::SES::ReceiptFilter":                    "free",
	"AWS::SES::EmailIdentity":                    "free",
	"AWS::SES::ConfigurationSet":                 "free",
	"AWS::SES::ConfigurationSetEventDestination": "free (the events go to SNS, per use)",
	"AWS::Lambda::EventSourceMapping":            "free",
	"AWS::Events::Rule":                          "per use",
	"AWS::Scheduler::Schedule":                   "per use",
	"AWS::Lambda::Permission":                    "free",
	"AWS::SNS::TopicPolicy":                      "free",
	"AWS::SQS::QueuePolicy":                      "free",
	"AWS::Route53::RecordSet":                    "per use (an alias record's queries are free)",
	"AWS::CloudFront::OriginRequestPolicy":       "free",
	// The edge option: CloudFront is billed per request; its web ACL is the deployer's own
	// (EdgeWebAclArn), priced where the README describes the option.
	"AWS::CloudFront::Distribution": "per use",
	"AWS::CloudWatch::Alarm":        "monthly",
	"AWS::KMS::Key":                 "monthly",
}

// FixedCosts are what a deployment pays every month with nobody using it.
type FixedCosts struct {
	// Alarms counts alarm metrics (an alarm on metric math counts each metric it reads).
	Alarms int
	// KMSKeys are customer managed keys.
	KMSKeys int
	// SchedulesPerMonth are the scheduled invocations a month (the daily sweep: 30.44).
	SchedulesPerMonth float64
	// Scheduled names the functions a schedule starts.
	Scheduled []string
	// PITR is true when the table keeps point-in-time recovery (priced on its size).
	PITR bool
	// TableClass is the table's class (STANDARD or STANDARD_INFREQUENT_ACCESS), which sets
	// DynamoDB's prices.
	TableClass string
	// LogMonths is how long logs are kept (LogRetentionDays).
	LogMonths float64
	// RetentionMonths is how long an answered request is kept (RetentionDays).
	RetentionMonths float64
	// AccessLogBytes is one HTTP API access log line, as the template's format writes it.
	AccessLogBytes int
	// Memory is each function's memory size in MB, by logical id.
	Memory map[string]int
}

// Price is the monthly price of the resources themselves in region p (the scheduled runs'
// own usage is measured and priced apart).
func (f FixedCosts) Price(p RegionPrices) Breakdown {
	return Breakdown{
		"CloudWatch alarms": float64(f.Alarms) * p.AlarmMonth,
		"KMS keys":          float64(f.KMSKeys) * p.KMSKeyMonth,
	}
}

const daysPerMonth = 365.25 / 12

// Fixed reads what a deployment of stack pays every month, and the figures the usage is
// priced with. It fails on a resource type the pricing list does not know.
func Fixed(stack *samtemplate.Stack) (FixedCosts, error) {
	f := FixedCosts{Memory: map[string]int{}}
	var unknown []string
	for _, id := range sortedIDs(stack.Template.Resources) {
		r := stack.Template.Resources[id]
		if r.Condition != "" {
			if on, err := stack.Condition(r.Condition); err != nil {
				return f, err
			} else if !on {
				continue
			}
		}
		if _, ok := pricing[r.Type]; !ok {
			unknown = append(unknown, id+" ("+r.Type+")")
			continue
		}
		switch r.Type {
		case "AWS::CloudWatch::Alarm":
			f.Alarms += alarmMetrics(r)
		case "AWS::KMS::Key":
			f.KMSKeys++
		case samtemplate.TypeTable:
			if f.TableClass != "" {
				return f, fmt.Errorf("more than one table: the cost table prices one")
			}
			f.TableClass = "STANDARD"
			if n := r.Properties["TableClass"]; n != nil {
				v, err := stack.ResolveString(n)
				if err != nil {
					return f, err
				}
				f.TableClass = v
			}
			if n := r.Properties.Lookup("PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"); n != nil {
				v, err := stack.ResolveString(n)
				if err != nil {
					return f, err
				}
				f.PITR = f.PITR || v == "true"
			}
		case samtemplate.TypeHTTPAPI:
			if n := r.Properties.Lookup("AccessLogSettings", "Format"); n != nil {
				format, err := stack.ResolveString(n)
				if err != nil {
					return f, err
				}
				f.AccessLogBytes = accessLogLine(format)
			}
		case samtemplate.TypeFunction:
			fn, err := stack.Function(id)
			if err != nil {
				return f, err
			}
			f.Memory[id] = fn.MemorySize
			for _, ev := range fn.ScheduleEvents {
				if !ev.Enabled() {
					continue
				}
				n, err := perMonth(ev.ScheduleExpression)
				if err != nil {
					return f, fmt.Errorf("%s: %w", id, err)
				}
				f.SchedulesPerMonth += n
				f.Scheduled = append(f.Scheduled, id)
			}
		}
	}
	if len(unknown) > 0 {
		return f, fmt.Errorf("template.yaml declares resources the cost table does not price: %s (add their type to infra/cost's pricing list, with a monthly price in prices.json if they have one)", strings.Join(unknown, ", "))
	}
	days := func(param string) (float64, error) {
		v, err := strconv.ParseFloat(stack.Parameters[param], 64)
		if err != nil {
			return 0, fmt.Errorf("parameter %s: %w", param, err)
		}
		return v / daysPerMonth, nil
	}
	var err error
	if f.LogMonths, err = days("LogRetentionDays"); err != nil {
		return f, err
	}
	if f.RetentionMonths, err = days("RetentionDays"); err != nil {
		return f, err
	}
	return f, nil
}

func sortedIDs(m map[string]samtemplate.Resource) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// alarmMetrics is what an alarm is billed as: one per metric it reads.
func alarmMetrics(r samtemplate.Resource) int {
	if n := r.Properties["Metrics"]; n != nil && len(n.Content) > 0 {
		return len(n.Content)
	}
	return 1
}

var cronRe = regexp.MustCompile(`^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$`)

// perMonth is how often a schedule expression fires in an average month. It knows the
// forms a desk uses (rate(n unit), a daily or hourly cron, at(...)), and refuses others
// rather than guessing.
func perMonth(expr string) (float64, error) {
	if rest, ok := strings.CutPrefix(expr, "rate("); ok {
		n, unit, _ := strings.Cut(strings.TrimSuffix(rest, ")"), " ")
		v, err := strconv.ParseFloat(n, 64)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("schedule %q: %v", expr, err)
		}
		per := map[string]float64{"minute": 60 * 24, "minutes": 60 * 24, "hour": 24, "hours": 24, "day": 1, "days": 1}[unit]
		if per == 0 {
			return 0, fmt.Errorf("schedule %q: unit %q", expr, unit)
		}
		return per / v * daysPerMonth, nil
	}
	if strings.HasPrefix(expr, "at(") {
		return 0, nil // once, ever
	}
	m := cronRe.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q: not rate(…), at(…) or cron(6 fields)", expr)
	}
	minutes, hours, dom, month, dow := m[1], m[2], m[3], m[4], m[5]
	count := func(field string, full int) (int, bool) {
		if field == "*" || field == "?" {
			return full, true
		}
		if strings.ContainsAny(field, "/-LW#") {
			return 0, false
		}
		return len(strings.Split(field, ",")), true
	}
	nm, ok1 := count(minutes, 60)
	nh, ok2 := count(hours, 24)
	if !ok1 || !ok2 || month != "*" || (dom != "*" && dom != "?") {
		return 0, fmt.Errorf("schedule %q: only daily crons are priced", expr)
	}
	days := daysPerMonth
	switch dow {
	case "*", "?":
	case "MON-FRI", "2-6":
		days = daysPerMonth * 5 / 7
	default:
		n, ok := count(dow, 7)
		if !ok {
			return 0, fmt.Errorf("schedule %q: day of week %q", expr, dow)
		}
		days = daysPerMonth * float64(n) / 7
	}
	return float64(nm*nh) * days, nil
}

var contextVar = regexp.MustCompile(`\$context\.[A-Za-z0-9_.]+`)

// accessLogLine is the size of one access log line: the format with every $context
// variable given a 36-character value (a request id's length, longer than a status or a
// latency), plus its newline.
func accessLogLine(format string) int {
	return len(contextVar.ReplaceAllString(format, strings.Repeat("x", 36))) + 1
}
