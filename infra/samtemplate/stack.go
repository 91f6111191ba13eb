package samtemplate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Local values for the pseudo parameters, the ones sam local uses.
const (
	DefaultStackName = "local"
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
	DefaultPartition = "aws"
)

// StackOptions instantiates a template. The zero value uses the defaults above and
// parameter Defaults.
type StackOptions struct {
	// Parameters override parameter Defaults. A name the template does not declare is
	// an error, so that a typo does not go unnoticed.
	Parameters map[string]string
	StackName  string
	Region     string
	AccountID  string
	Partition  string
	// Attributes supplies !GetAtt values the stack cannot know, keyed "LogicalId.Attr"
	// (for example "ServerlessHttpApi.ApiEndpoint" → the local URL).
	Attributes map[string]string
}

// Stack is a template with parameter values: it resolves intrinsic functions.
type Stack struct {
	Template   *Template
	Name       string
	Region     string
	AccountID  string
	Partition  string
	Attributes map[string]string
	// Parameters holds the effective value of every parameter (override, else Default,
	// else the empty string).
	Parameters map[string]string
	// Unset lists, sorted, the parameters that have neither an override nor a Default.
	// They resolve to the empty string, as sam local leaves them, so that an env-vars
	// file can supply the variables built from them; their constraints are not checked.
	Unset []string

	// Conditions are all evaluated when the stack is made, so that a Stack is read-only
	// afterwards and safe for concurrent use.
	conditions map[string]bool
	evaluating map[string]bool
}

// UnsupportedError is an intrinsic function or pseudo parameter that the local stack does
// not evaluate: only what template.yaml and the resources planned for it use is kept.
type UnsupportedError struct {
	Intrinsic string // Fn::Base64, AWS::StackId
	// Where is "resource <LogicalId>" or "condition <Name>"; empty from [Stack.Resolve]
	// on a bare value.
	Where string
	Line  int
}

func (e *UnsupportedError) Error() string {
	msg := "unsupported intrinsic " + e.Intrinsic
	if e.Where != "" {
		msg += " in " + e.Where
	}
	if e.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", e.Line)
	}
	return msg + ": the local runner does not evaluate it"
}

// in names where an unsupported intrinsic was found, once: the innermost resource or
// condition is the one to name. The messages wrapped around it on the way up (the
// property's path) are kept.
func in(where string, err error) error {
	var u *UnsupportedError
	if !errors.As(err, &u) || u.Where != "" {
		return err
	}
	path := strings.TrimSuffix(err.Error(), u.Error())
	named := *u
	named.Where = where
	return fmt.Errorf("%s%w", path, &named)
}

// noValue is what !Ref AWS::NoValue resolves to: the enclosing mapping or sequence
// drops the entry that holds it.
type noValue struct{}

// Stack validates the parameter values (overrides and Defaults) against Type,
// AllowedValues and AllowedPattern and returns the instantiated stack.
func (t *Template) Stack(opts StackOptions) (*Stack, error) {
	s := &Stack{
		Template:   t,
		Name:       or(opts.StackName, DefaultStackName),
		Region:     or(opts.Region, DefaultRegion),
		AccountID:  or(opts.AccountID, DefaultAccountID),
		Partition:  or(opts.Partition, DefaultPartition),
		Attributes: opts.Attributes,
		Parameters: map[string]string{},
		conditions: map[string]bool{},
		evaluating: map[string]bool{},
	}
	for name := range opts.Parameters {
		if _, ok := t.Parameters[name]; !ok {
			return nil, fmt.Errorf("parameter override %s: the template declares no such parameter", name)
		}
	}
	names := make([]string, 0, len(t.Parameters))
	for name := range t.Parameters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := t.Parameters[name]
		v, ok := opts.Parameters[name]
		if !ok {
			if p.Default == nil {
				s.Parameters[name] = ""
				s.Unset = append(s.Unset, name)
				continue
			}
			v = *p.Default
		}
		if err := p.check(v); err != nil {
			return nil, err
		}
		s.Parameters[name] = v
	}
	conds := make([]string, 0, len(t.Conditions))
	for name := range t.Conditions {
		conds = append(conds, name)
	}
	sort.Strings(conds)
	for _, name := range conds {
		if _, err := s.Condition(name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p Parameter) check(v string) error {
	values := []string{v}
	if p.IsList() {
		values = splitList(v)
	}
	for _, one := range values {
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, one) {
			return fmt.Errorf("parameter %s: %q is not one of the AllowedValues %v", p.Name, one, p.AllowedValues)
		}
		if p.AllowedPattern != "" {
			re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
			if err != nil {
				return fmt.Errorf("parameter %s: AllowedPattern: %w", p.Name, err)
			}
			if !re.MatchString(one) {
				return fmt.Errorf("parameter %s: %q does not match the AllowedPattern %s", p.Name, one, p.AllowedPattern)
			}
		}
		if p.Type == "Number" {
			if _, err := strconv.ParseFloat(one, 64); err != nil {
				return fmt.Errorf("parameter %s: %q is not a Number", p.Name, one)
			}
		}
	}
	return nil
}

func splitList(v string) []string {
	if v == "" {
		return []string{}
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// Resolve evaluates a template value. The result is built from string (every YAML
// scalar, numbers and booleans included, as CloudFormation passes them), bool (the
// condition functions), []any, map[string]any and nil (a YAML null).
func (s *Stack) Resolve(n *yaml.Node) (any, error) {
	v, err := s.resolve(n)
	if _, ok := v.(noValue); ok {
		return nil, nil
	}
	return v, err
}

// ResolveString resolves a value that must be a scalar: a string, or a bool or null
// turned into text the way an environment variable would carry it.
func (s *Stack) ResolveString(n *yaml.Node) (string, error) {
	v, err := s.Resolve(n)
	if err != nil {
		return "", err
	}
	return scalarString(n, v)
}

func scalarString(n *yaml.Node, v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case nil:
		return "", nil
	}
	return "", nodeErr(n, "expected a scalar value, got %T", v)
}

func (s *Stack) resolve(n *yaml.Node) (any, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if fn, arg, ok := intrinsic(n); ok {
		return s.call(n, fn, arg)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := s.resolve(c)
			if err != nil {
				return nil, err
			}
			if _, ok := v.(noValue); !ok {
				out = append(out, v)
			}
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := s.resolve(n.Content[i+1])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n.Content[i].Value, err)
			}
			if _, ok := v.(noValue); !ok {
				out[n.Content[i].Value] = v
			}
		}
		return out, nil
	}
	return nil, nodeErr(n, "unexpected YAML node kind %d", n.Kind)
}

// intrinsic recognises both the short form (a tag such as !Sub) and the long form (a
// one-key mapping such as {"Fn::Sub": …}) and returns the function's long name.
func intrinsic(n *yaml.Node) (name string, arg *yaml.Node, ok bool) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		short := strings.TrimPrefix(n.Tag, "!")
		// The tag applies to the node itself: strip it to get the argument.
		a := *n
		a.Tag = ""
		switch a.Kind {
		case yaml.ScalarNode:
			a.Tag = "!!str"
		case yaml.SequenceNode:
			a.Tag = "!!seq"
		case yaml.MappingNode:
			a.Tag = "!!map"
		}
		if short == "Ref" || short == "Condition" {
			return short, &a, true
		}
		return "Fn::" + short, &a, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, deref(n.Content[1]), true
		}
	}
	return "", nil, false
}

func (s *Stack) call(n *yaml.Node, fn string, arg *yaml.Node) (any, error) {
	switch fn {
	case "Ref":
		return s.ref(arg)
	case "Condition":
		return s.Condition(arg.Value)
	case "Fn::Sub":
		return s.sub(arg)
	case "Fn::GetAtt":
		return s.getAtt(arg)
	case "Fn::If":
		return s.fnIf(arg)
	case "Fn::Join":
		return s.join(arg)
	case "Fn::Split":
		return s.split(arg)
	case "Fn::Select":
		return s.selectFn(arg)
	case "Fn::Equals":
		args, err := s.args(arg, 2)
		if err != nil {
			return nil, err
		}
		return fmt.Sprint(args[0]) == fmt.Sprint(args[1]), nil
	case "Fn::Not":
		args, err := s.args(arg, 1)
		if err != nil {
			return nil, err
		}
		b, ok := args[0].(bool)
		if !ok {
			return nil, nodeErr(n, "Fn::Not needs a condition")
		}
		return !b, nil
	case "Fn::And", "Fn::Or":
		args, err := s.args(arg, -1)
		if err != nil {
			return nil, err
		}
		result := fn == "Fn::And"
		for _, a := range args {
			b, ok := a.(bool)
			if !ok {
				return nil, nodeErr(n, "%s needs conditions", fn)
			}
			if fn == "Fn::And" {
				result = result && b
			} else {
				result = result || b
			}
		}
		return result, nil
	}
	return nil, &UnsupportedError{Intrinsic: fn, Line: n.Line}
}

// args resolves the sequence argument of a function; want < 0 accepts any length.
func (s *Stack) args(arg *yaml.Node, want int) ([]any, error) {
	if arg.Kind != yaml.SequenceNode || (want >= 0 && len(arg.Content) != want) {
		return nil, nodeErr(arg, "expected a list of %d arguments", want)
	}
	out := make([]any, len(arg.Content))
	for i, c := range arg.Content {
		v, err := s.resolve(c)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (s *Stack) ref(arg *yaml.Node) (any, error) {
	name := arg.Value
	if p, ok := s.Template.Parameters[name]; ok {
		v := s.Parameters[name]
		if p.IsList() {
			var out []any
			for _, x := range splitList(v) {
				out = append(out, x)
			}
			return out, nil
		}
		return v, nil
	}
	switch name {
	case "AWS::Region":
		return s.Region, nil
	case "AWS::AccountId":
		return s.AccountID, nil
	case "AWS::StackName":
		return s.Name, nil
	case "AWS::Partition":
		return s.Partition, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NoValue":
		return noValue{}, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, &UnsupportedError{Intrinsic: name, Line: arg.Line}
	}
	if r, ok := s.Template.Resources[name]; ok {
		nameProp := map[string]string{
			TypeTable: "TableName", TypeSimpleTable: "TableName", TypeFunction: "FunctionName",
			TypeBucket: "BucketName", TypeTopic: "TopicName",
		}[r.Type]
		physical := name
		if n := r.Properties[nameProp]; nameProp != "" && n != nil {
			v, err := s.ResolveString(n)
			if err != nil {
				return nil, in("resource "+name, err)
			}
			physical = v
		} else if r.Type == TypeBucket {
			physical = s.generatedBucketName(name)
		}
		if r.Type == TypeTopic { // a topic's Ref is its ARN
			return fmt.Sprintf("arn:%s:sns:%s:%s:%s", s.Partition, s.Region, s.AccountID, physical), nil
		}
		return physical, nil
	}
	if s.implicit(name) {
		return name, nil
	}
	return nil, nodeErr(arg, "!Ref %s: no such parameter or resource", name)
}

// implicit reports whether name is a resource SAM generates from the template.
func (s *Stack) implicit(name string) bool {
	if name == "ServerlessHttpApi" || name == "ServerlessRestApi" {
		return true
	}
	if fn, ok := strings.CutSuffix(name, "Role"); ok {
		r, ok := s.Template.Resources[fn]
		return ok && r.Type == TypeFunction
	}
	return false
}

func (s *Stack) getAtt(arg *yaml.Node) (any, error) {
	var id, attr string
	switch arg.Kind {
	case yaml.ScalarNode:
		var ok bool
		if id, attr, ok = strings.Cut(arg.Value, "."); !ok {
			return nil, nodeErr(arg, "!GetAtt %s: expected Resource.Attribute", arg.Value)
		}
	case yaml.SequenceNode:
		args, err := s.args(arg, 2)
		if err != nil {
			return nil, err
		}
		id, attr = fmt.Sprint(args[0]), fmt.Sprint(args[1])
	default:
		return nil, nodeErr(arg, "!GetAtt: expected Resource.Attribute")
	}
	return s.attribute(arg, id, attr)
}

func (s *Stack) attribute(at *yaml.Node, id, attr string) (any, error) {
	if v, ok := s.Attributes[id+"."+attr]; ok {
		return v, nil
	}
	r, ok := s.Template.Resources[id]
	if !ok && !s.implicit(id) {
		return nil, nodeErr(at, "!GetAtt %s.%s: no such resource", id, attr)
	}
	name := id
	if ok {
		ref, err := s.ref(&yaml.Node{Kind: yaml.ScalarNode, Value: id, Line: at.Line})
		if err != nil {
			return nil, err
		}
		if str, isStr := ref.(string); isStr {
			name = str
		}
	}
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.Partition, service, s.Region, s.AccountID, resource)
	}
	switch {
	case attr == "Arn" && (r.Type == TypeTable || r.Type == TypeSimpleTable):
		return arn("dynamodb", "table/"+name), nil
	case attr == "Arn" && r.Type == TypeBucket:
		return fmt.Sprintf("arn:%s:s3:::%s", s.Partition, name), nil
	case attr == "TopicArn" && r.Type == TypeTopic:
		return name, nil // a topic's Ref is its ARN already
	case attr == "Arn" && r.Type == TypeFunction:
		return arn("lambda", "function:"+name), nil
	case attr == "Arn" && (r.Type == "AWS::IAM::Role" || strings.HasSuffix(id, "Role")):
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", s.Partition, s.AccountID, name), nil
	case attr == "Arn":
		return arn("local", id), nil
	case attr == "ApiEndpoint":
		return fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com", strings.ToLower(id), s.Region), nil
	}
	return fmt.Sprintf("local-%s-%s", id, attr), nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (s *Stack) sub(arg *yaml.Node) (any, error) {
	text := arg
	vars := map[string]any{}
	if arg.Kind == yaml.SequenceNode {
		if len(arg.Content) != 2 {
			return nil, nodeErr(arg, "!Sub: expected [string, {variables}]")
		}
		text = deref(arg.Content[0])
		v, err := s.resolve(arg.Content[1])
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nodeErr(arg, "!Sub: the variables must be a mapping")
		}
		vars = m
	}
	if text.Kind != yaml.ScalarNode {
		return nil, nodeErr(arg, "!Sub: expected a string")
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(text.Value, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}" // ${!Literal} escapes a dollar-brace.
		}
		var v any
		var err error
		if x, ok := vars[name]; ok {
			v = x
		} else if id, attr, ok := strings.Cut(name, "."); ok {
			v, err = s.attribute(text, id, attr)
		} else {
			v, err = s.ref(&yaml.Node{Kind: yaml.ScalarNode, Value: name, Line: text.Line})
		}
		if err == nil {
			var str string
			str, err = scalarString(text, v)
			if err == nil {
				return str
			}
		}
		if firstErr == nil {
			firstErr = err
		}
		return m
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func (s *Stack) fnIf(arg *yaml.Node) (any, error) {
	if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
		return nil, nodeErr(arg, "!If: expected [condition, true value, false value]")
	}
	ok, err := s.Condition(deref(arg.Content[0]).Value)
	if err != nil {
		return nil, err
	}
	if ok {
		return s.resolve(arg.Content[1])
	}
	return s.resolve(arg.Content[2])
}

// Condition evaluates a named condition.
func (s *Stack) Condition(name string) (bool, error) {
	if v, ok := s.conditions[name]; ok {
		return v, nil
	}
	n, ok := s.Template.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not declared", name)
	}
	if s.evaluating[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	s.evaluating[name] = true
	defer delete(s.evaluating, name)
	v, err := s.resolve(n)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, in("condition "+name, err))
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, nodeErr(n, "condition %s is not a condition function", name)
	}
	s.conditions[name] = b
	return b, nil
}

func (s *Stack) join(arg *yaml.Node) (any, error) {
	args, err := s.args(arg, 2)
	if err != nil {
		return nil, err
	}
	delim, ok := args[0].(string)
	list, ok2 := args[1].([]any)
	if !ok || !ok2 {
		return nil, nodeErr(arg, "!Join: expected [delimiter, [values]]")
	}
	parts := make([]string, len(list))
	for i, v := range list {
		if parts[i], err = scalarString(arg, v); err != nil {
			return nil, err
		}
	}
	return strings.Join(parts, delim), nil
}

func (s *Stack) split(arg *yaml.Node) (any, error) {
	args, err := s.args(arg, 2)
	if err != nil {
		return nil, err
	}
	delim, ok := args[0].(string)
	str, ok2 := args[1].(string)
	if !ok || !ok2 || delim == "" {
		return nil, nodeErr(arg, "!Split: expected [delimiter, string]")
	}
	var out []any
	for _, p := range strings.Split(str, delim) {
		out = append(out, p)
	}
	return out, nil
}

func (s *Stack) selectFn(arg *yaml.Node) (any, error) {
	args, err := s.args(arg, 2)
	if err != nil {
		return nil, err
	}
	idx, err := strconv.Atoi(fmt.Sprint(args[0]))
	list, ok := args[1].([]any)
	if err != nil || !ok {
		return nil, nodeErr(arg, "!Select: expected [index, [values]]")
	}
	if idx < 0 || idx >= len(list) {
		return nil, nodeErr(arg, "!Select: index %d out of range (%d values)", idx, len(list))
	}
	return list[idx], nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
