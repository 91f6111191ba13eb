package samtemplate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Lambda's defaults for properties a template may leave out.
const (
	DefaultTimeout    = 3 * time.Second
	DefaultMemorySize = 128
)

// Function is an AWS::Serverless::Function with Globals.Function merged in (the
// function's own value wins; Environment.Variables are merged key by key) and every
// value resolved.
type Function struct {
	LogicalID string
	// Name is FunctionName when set, else the logical id (what !Ref gives).
	Name          string
	CodeURI       string
	Handler       string
	Runtime       string
	Architectures []string
	Timeout       time.Duration
	MemorySize    int
	// BuildMethod is Metadata.BuildMethod (go1.x, makefile, …), empty when not set.
	BuildMethod string
	// Environment is Environment.Variables, resolved.
	Environment map[string]string
	// Events holds every event source, resolved; the typed views below cover the kinds
	// the local runner serves.
	Events         []Event
	HTTPAPIEvents  []HTTPAPIEvent
	ScheduleEvents []ScheduleV2Event
}

// Event is one entry of a function's Events, with resolved properties.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
}

// HTTPAPIEvent is an event of Type HttpApi: one route of an HTTP API.
type HTTPAPIEvent struct {
	Name string
	// Path is the route path ("/requests", "/admin/requests/{ref}", "/{proxy+}") or
	// "$default" when the event gives neither Path nor Method.
	Path string
	// Method is upper case; ANY matches every method.
	Method string
	// APIID is what ApiId resolves to (the logical id of the AWS::Serverless::HttpApi),
	// or ServerlessHttpApi, SAM's implicit API, when ApiId is not set.
	APIID                string
	PayloadFormatVersion string
	TimeoutInMillis      int
}

// RouteKey is the API Gateway route key: "GET /requests", "ANY /{proxy+}", "$default".
func (e HTTPAPIEvent) RouteKey() string {
	if e.Path == "$default" {
		return "$default"
	}
	return e.Method + " " + e.Path
}

// ScheduleV2Event is an event of Type ScheduleV2: an EventBridge Scheduler schedule.
type ScheduleV2Event struct {
	Name string
	// ScheduleName is the Name property, else the name SAM generates (<LogicalId><Event>).
	ScheduleName string
	GroupName    string
	// ScheduleExpression is cron(…), rate(…) or at(…).
	ScheduleExpression string
	// Timezone is ScheduleExpressionTimezone, "UTC" when not set.
	Timezone string
	// State is ENABLED or DISABLED.
	State string
	// Input is the payload the schedule sends, empty for the default.
	Input     string
	StartDate string
	EndDate   string
}

// Enabled reports whether the schedule fires.
func (e ScheduleV2Event) Enabled() bool { return e.State != "DISABLED" }

// Functions returns every AWS::Serverless::Function whose Condition (if any) holds,
// sorted by logical id.
func (s *Stack) Functions() ([]*Function, error) {
	var out []*Function
	for _, id := range s.Template.IDs(TypeFunction) {
		if !s.created(id) {
			continue
		}
		fn, err := s.Function(id)
		if err != nil {
			return nil, err
		}
		out = append(out, fn)
	}
	return out, nil
}

func (s *Stack) created(id string) bool {
	c := s.Template.Resources[id].Condition
	if c == "" {
		return true
	}
	ok, _ := s.Condition(c)
	return ok
}

// Function returns the resolved view of one AWS::Serverless::Function.
func (s *Stack) Function(logicalID string) (*Function, error) {
	r, ok := s.Template.Resources[logicalID]
	if !ok || r.Type != TypeFunction {
		return nil, fmt.Errorf("function %s: no AWS::Serverless::Function with that logical id", logicalID)
	}
	fn, err := s.function(r)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", logicalID, in("resource "+logicalID, err))
	}
	return fn, nil
}

func (s *Stack) function(r Resource) (*Function, error) {
	props := Properties{}
	for k, v := range s.Template.Globals.Function {
		props[k] = v
	}
	for k, v := range r.Properties {
		props[k] = v
	}
	fn := &Function{
		LogicalID:   r.LogicalID,
		Timeout:     DefaultTimeout,
		MemorySize:  DefaultMemorySize,
		Environment: map[string]string{},
	}
	var err error
	str := func(key string, dst *string) {
		if n := props[key]; n != nil && err == nil {
			if *dst, err = s.ResolveString(n); err != nil {
				err = fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	str("Handler", &fn.Handler)
	str("Runtime", &fn.Runtime)
	var timeout, memory string
	str("Timeout", &timeout)
	str("MemorySize", &memory)
	if n := props["CodeUri"]; n != nil && err == nil {
		if n.Kind != yaml.ScalarNode && !isIntrinsic(n) {
			return nil, nodeErr(n, "CodeUri: only a local path can be run locally")
		}
		str("CodeUri", &fn.CodeURI)
	}
	ref, refErr := s.ref(nodeFor(r.LogicalID))
	if err == nil && refErr != nil {
		err = refErr
	}
	if err != nil {
		return nil, err
	}
	fn.Name, _ = ref.(string)
	if timeout != "" {
		secs, err := strconv.Atoi(timeout)
		if err != nil || secs < 1 {
			return nil, nodeErr(props["Timeout"], "Timeout %q is not a whole number of seconds", timeout)
		}
		fn.Timeout = time.Duration(secs) * time.Second
	}
	if memory != "" {
		if fn.MemorySize, err = strconv.Atoi(memory); err != nil {
			return nil, nodeErr(props["MemorySize"], "MemorySize %q is not a number", memory)
		}
	}
	if n := props["Architectures"]; n != nil {
		v, err := s.Resolve(n)
		if err != nil {
			return nil, fmt.Errorf("Architectures: %w", err)
		}
		list, _ := v.([]any)
		for _, a := range list {
			fn.Architectures = append(fn.Architectures, fmt.Sprint(a))
		}
	}
	if n := r.Metadata["BuildMethod"]; n != nil {
		fn.BuildMethod = n.Value
	}
	// Variables merge key by key, the function's winning, as SAM merges Globals maps.
	for _, vars := range []*yaml.Node{
		s.Template.Globals.Function.Lookup("Environment", "Variables"),
		r.Properties.Lookup("Environment", "Variables"),
	} {
		err := eachEntry(vars, func(k string, v *yaml.Node) error {
			val, err := s.Resolve(v)
			if err != nil {
				return fmt.Errorf("Environment.Variables.%s: %w", k, err)
			}
			if val == nil && isIntrinsic(v) {
				delete(fn.Environment, k) // !Ref AWS::NoValue or an !If without value.
				return nil
			}
			str, err := scalarString(v, val)
			if err != nil {
				return fmt.Errorf("Environment.Variables.%s: %w", k, err)
			}
			fn.Environment[k] = str
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := s.events(r, fn); err != nil {
		return nil, err
	}
	return fn, nil
}

func isIntrinsic(n *yaml.Node) bool {
	_, _, ok := intrinsic(deref(n))
	return ok
}

func (s *Stack) events(r Resource, fn *Function) error {
	evs := r.Properties["Events"]
	var names []string
	err := eachEntry(evs, func(name string, _ *yaml.Node) error { names = append(names, name); return nil })
	if err != nil {
		return fmt.Errorf("Events: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		n := mappingValue(evs, name)
		typ := mappingValue(n, "Type")
		if typ == nil {
			return nodeErr(n, "Events.%s has no Type", name)
		}
		props := map[string]any{}
		if pn := mappingValue(n, "Properties"); pn != nil {
			v, err := s.Resolve(pn)
			if err != nil {
				return fmt.Errorf("Events.%s: %w", name, err)
			}
			if m, ok := v.(map[string]any); ok {
				props = m
			}
		}
		ev := Event{Name: name, Type: typ.Value, Properties: props}
		fn.Events = append(fn.Events, ev)
		switch ev.Type {
		case "HttpApi":
			h, err := httpAPIEvent(ev)
			if err != nil {
				return fmt.Errorf("Events.%s: %w", name, err)
			}
			fn.HTTPAPIEvents = append(fn.HTTPAPIEvents, h)
		case "ScheduleV2":
			sc, err := scheduleV2Event(fn.LogicalID, ev)
			if err != nil {
				return fmt.Errorf("Events.%s: %w", name, err)
			}
			fn.ScheduleEvents = append(fn.ScheduleEvents, sc)
		}
	}
	return nil
}

func prop(props map[string]any, key string) (string, error) {
	v, ok := props[key]
	if !ok || v == nil {
		return "", nil
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("%s: expected a string, got %T", key, v)
}

func httpAPIEvent(ev Event) (HTTPAPIEvent, error) {
	h := HTTPAPIEvent{Name: ev.Name, APIID: "ServerlessHttpApi", PayloadFormatVersion: "2.0"}
	var err error
	get := func(key string, dst *string) {
		if err == nil {
			var v string
			if v, err = prop(ev.Properties, key); v != "" {
				*dst = v
			}
		}
	}
	get("Path", &h.Path)
	get("Method", &h.Method)
	get("ApiId", &h.APIID)
	get("PayloadFormatVersion", &h.PayloadFormatVersion)
	var timeout string
	get("TimeoutInMillis", &timeout)
	if err != nil {
		return h, err
	}
	if timeout != "" {
		if h.TimeoutInMillis, err = strconv.Atoi(timeout); err != nil {
			return h, fmt.Errorf("TimeoutInMillis %q is not a number", timeout)
		}
	}
	// SAM: no Path and no Method is the $default route; no Method is any method.
	switch {
	case h.Path == "" && h.Method == "":
		h.Path = "$default"
	case h.Path == "":
		return h, fmt.Errorf("Method %s without a Path", h.Method)
	case !strings.HasPrefix(h.Path, "/") && h.Path != "$default":
		return h, fmt.Errorf("Path %q must start with /", h.Path)
	}
	h.Method = strings.ToUpper(h.Method)
	if h.Method == "" || h.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
		h.Method = "ANY"
	}
	return h, nil
}

func scheduleV2Event(fnID string, ev Event) (ScheduleV2Event, error) {
	sc := ScheduleV2Event{
		Name:         ev.Name,
		ScheduleName: fnID + ev.Name,
		GroupName:    "default",
		Timezone:     "UTC",
		State:        "ENABLED",
	}
	var err error
	for key, dst := range map[string]*string{
		"Name":                       &sc.ScheduleName,
		"GroupName":                  &sc.GroupName,
		"ScheduleExpression":         &sc.ScheduleExpression,
		"ScheduleExpressionTimezone": &sc.Timezone,
		"State":                      &sc.State,
		"Input":                      &sc.Input,
		"StartDate":                  &sc.StartDate,
		"EndDate":                    &sc.EndDate,
	} {
		v, e := prop(ev.Properties, key)
		if e != nil && err == nil {
			err = e
		}
		if v != "" {
			*dst = v
		}
	}
	if err != nil {
		return sc, err
	}
	if sc.ScheduleExpression == "" {
		return sc, fmt.Errorf("ScheduleV2 without a ScheduleExpression")
	}
	sc.State = strings.ToUpper(sc.State)
	if sc.State != "ENABLED" && sc.State != "DISABLED" {
		return sc, fmt.Errorf("State %q is neither ENABLED nor DISABLED", sc.State)
	}
	return sc, nil
}
