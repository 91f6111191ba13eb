package templatecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Translate runs the real SAM translator (translate.py beside this file, with python, which
// must have aws-sam-translator installed) on a template with the given parameter values and
// returns the CloudFormation template it makes. Numbers stay json.Number, so that a value
// keeps the text CloudFormation would turn it into.
func Translate(ctx context.Context, python, script, template string, params map[string]string) (map[string]any, error) {
	args := []string{script, template}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, name+"="+params[name])
	}
	cmd := exec.CommandContext(ctx, python, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("the SAM translator refuses the template: %w\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("read the translation: %w", err)
	}
	return out, nil
}

// Stack is a translated (plain CloudFormation) template with parameter values, instantiated
// the way CloudFormation would: parameters checked against their constraints, conditions
// evaluated, and the resources a deploy creates told apart from those it leaves out.
//
// Values a deploy only knows once resources exist are symbols: a Ref to a resource is
// "{Id}", a GetAtt is "{Id.Attribute}", and a Sub keeps them in place, so
// "${RequestsTable.Arn}/index/sweep" becomes "{RequestsTable.Arn}/index/sweep".
//
// It is not infra/samtemplate's Stack, which stands in for a deploy on a laptop and is
// lenient by design (a condition it cannot evaluate is false, a GetAtt a made-up ARN): this
// one must refuse what CloudFormation refuses, and reads the translator's JSON, not YAML.
type Stack struct {
	Template map[string]any
	// Parameters holds every parameter's value as CloudFormation passes it: the given one,
	// else the Default.
	Parameters map[string]string
	Conditions map[string]bool
	Name       string
	Region     string
	AccountID  string
	Partition  string
}

// Resource is one entry of a translated template's Resources.
type Resource struct {
	ID         string
	Type       string
	Condition  string
	Properties map[string]any
	DependsOn  []string
	// DeletionPolicy is what CloudFormation does with it when the stack goes ("" deletes).
	DeletionPolicy string
}

// NewStack checks values against the template's parameters as CloudFormation does before
// it creates anything, and evaluates the conditions. Every refused value is in the error.
func NewStack(tpl map[string]any, values map[string]string) (*Stack, error) {
	s := &Stack{Template: tpl, Parameters: map[string]string{}, Conditions: map[string]bool{},
		Name: "dsrdesk", Region: "eu-north-1", AccountID: "123456789012", Partition: "aws"}
	params, _ := tpl["Parameters"].(map[string]any)
	var errs []error
	for name := range values {
		if _, ok := params[name]; !ok {
			errs = append(errs, fmt.Errorf("parameter %s: the template declares no such parameter", name))
		}
	}
	for _, name := range sortedKeys(params) {
		decl, _ := params[name].(map[string]any)
		if d, ok := decl["Default"]; ok {
			def, err := scalar(d)
			if err == nil {
				err = checkParameter(decl, def)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("parameter %s: Default: %w", name, err))
			}
		}
		v, given := values[name]
		if !given {
			d, ok := decl["Default"]
			if !ok {
				errs = append(errs, fmt.Errorf("parameter %s has no Default and no value", name))
				continue
			}
			v, _ = scalar(d)
		}
		if err := checkParameter(decl, v); err != nil {
			errs = append(errs, fmt.Errorf("parameter %s: %w", name, err))
		}
		s.Parameters[name] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	conds, _ := tpl["Conditions"].(map[string]any)
	for _, name := range sortedKeys(conds) {
		if _, err := s.condition(name, map[string]bool{}); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errors.Join(errs...)
}

// checkParameter applies a parameter's Type, AllowedValues, AllowedPattern, lengths and
// bounds to a value. An AllowedValues entry that is not a string in the template is
// compared as CloudFormation compares it, by its text: a YAML 1.1 NO arrives as false and
// allows "false", not "NO".
func checkParameter(decl map[string]any, v string) error {
	typ, _ := decl["Type"].(string)
	values := []string{v}
	switch {
	case typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<"):
		values = strings.Split(v, ",")
		for i := range values {
			values[i] = strings.TrimSpace(values[i])
		}
	case typ == "String" || typ == "Number" || strings.HasPrefix(typ, "AWS::"):
	default:
		return fmt.Errorf("unknown Type %q", typ)
	}
	if allowed, ok := decl["AllowedValues"].([]any); ok {
		var texts []string
		for _, a := range allowed {
			t, err := scalar(a)
			if err != nil {
				return fmt.Errorf("AllowedValues: %w", err)
			}
			texts = append(texts, t)
		}
		for _, one := range values {
			if !slices.Contains(texts, one) {
				return fmt.Errorf("%q is not one of the AllowedValues %q", one, texts)
			}
		}
	}
	if pat, ok := decl["AllowedPattern"].(string); ok {
		// CloudFormation matches the whole value (Java's matches()).
		re, err := regexp.Compile(`^(?:` + pat + `)$`)
		if err != nil {
			return fmt.Errorf("AllowedPattern %s: %w", pat, err)
		}
		for _, one := range values {
			if !re.MatchString(one) {
				return fmt.Errorf("%q does not match the AllowedPattern %s", one, pat)
			}
		}
	}
	bound := func(key string) (float64, bool) {
		b, err := scalar(decl[key])
		if decl[key] == nil || err != nil {
			return 0, false
		}
		f, err := strconv.ParseFloat(b, 64)
		return f, err == nil
	}
	for _, one := range values {
		if typ == "Number" || typ == "List<Number>" {
			f, err := strconv.ParseFloat(one, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%q is not a Number", one)
			}
			if lo, ok := bound("MinValue"); ok && f < lo {
				return fmt.Errorf("%s is below MinValue %v", one, lo)
			}
			if hi, ok := bound("MaxValue"); ok && f > hi {
				return fmt.Errorf("%s is above MaxValue %v", one, hi)
			}
			continue
		}
		n := float64(utf8.RuneCountInString(one))
		if lo, ok := bound("MinLength"); ok && n < lo {
			return fmt.Errorf("%q is shorter than MinLength %v", one, lo)
		}
		if hi, ok := bound("MaxLength"); ok && n > hi {
			return fmt.Errorf("%q is longer than MaxLength %v", one, hi)
		}
	}
	return nil
}

// scalar is the text CloudFormation makes of a scalar template value.
func scalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("%v is not a scalar", v)
}

func (s *Stack) condition(name string, visiting map[string]bool) (bool, error) {
	if v, ok := s.Conditions[name]; ok {
		return v, nil
	}
	conds, _ := s.Template["Conditions"].(map[string]any)
	def, ok := conds[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not declared", name)
	}
	if visiting[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	visiting[name] = true
	v, err := s.eval(def, visiting)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is %v, not a condition function", name, v)
	}
	s.Conditions[name] = b
	return b, nil
}

// Resources returns every resource of the translated template, created or not.
func (s *Stack) Resources() map[string]Resource {
	raw, _ := s.Template["Resources"].(map[string]any)
	out := make(map[string]Resource, len(raw))
	for id, r := range raw {
		m, _ := r.(map[string]any)
		res := Resource{ID: id}
		res.Type, _ = m["Type"].(string)
		res.Condition, _ = m["Condition"].(string)
		res.Properties, _ = m["Properties"].(map[string]any)
		res.DeletionPolicy, _ = m["DeletionPolicy"].(string)
		switch d := m["DependsOn"].(type) {
		case string:
			res.DependsOn = []string{d}
		case []any:
			for _, x := range d {
				if str, ok := x.(string); ok {
					res.DependsOn = append(res.DependsOn, str)
				}
			}
		}
		out[id] = res
	}
	return out
}

// Created reports whether the deploy creates the resource: it exists and its Condition,
// if any, is true.
func (s *Stack) Created(id string) bool {
	r, ok := s.Resources()[id]
	return ok && (r.Condition == "" || s.Conditions[r.Condition])
}

// CreatedOfType returns the logical ids of the resources the deploy creates, of type typ (all
// when typ is empty), sorted.
func (s *Stack) CreatedOfType(typ string) []string {
	var ids []string
	for id, r := range s.Resources() {
		if (typ == "" || r.Type == typ) && s.Created(id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Eval resolves the intrinsic functions in a template value: parameters and pseudo
// parameters to their values, Fn::If by its condition, resources to symbols. A reference
// to a resource the deploy does not create is an error, as it is to CloudFormation.
func (s *Stack) Eval(v any) (any, error) {
	out, err := s.eval(v, nil)
	if _, none := out.(noValue); none {
		return nil, err
	}
	return out, err
}

// EvalString is Eval for a value that must be a scalar.
func (s *Stack) EvalString(v any) (string, error) {
	out, err := s.Eval(v)
	if err != nil {
		return "", err
	}
	return scalar(out)
}

// CheckReferences evaluates every property and DependsOn of every resource the deploy
// creates, and every output it makes, so that a reference to a resource left out by its
// condition (or to nothing at all) is found before CloudFormation refuses the stack.
func (s *Stack) CheckReferences() error {
	var errs []error
	for id, r := range s.Resources() {
		if !s.Created(id) {
			continue
		}
		if r.Condition != "" {
			if _, ok := s.Conditions[r.Condition]; !ok {
				errs = append(errs, fmt.Errorf("%s: condition %s is not declared", id, r.Condition))
			}
		}
		if _, err := s.Eval(r.Properties); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
		for _, d := range r.DependsOn {
			if !s.Created(d) {
				errs = append(errs, fmt.Errorf("%s: DependsOn %s, which this deploy does not create", id, d))
			}
		}
	}
	outputs, _ := s.Template["Outputs"].(map[string]any)
	for name, o := range outputs {
		m, _ := o.(map[string]any)
		if c, ok := m["Condition"].(string); ok && !s.Conditions[c] {
			continue
		}
		if _, err := s.Eval(m["Value"]); err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

type noValue struct{}

func (s *Stack) eval(v any, visiting map[string]bool) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			r, err := s.eval(x, visiting)
			if err != nil {
				return nil, err
			}
			if _, none := r.(noValue); !none {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for fn, arg := range v {
				if fn == "Ref" || fn == "Condition" || strings.HasPrefix(fn, "Fn::") {
					return s.call(fn, arg, visiting)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := s.eval(x, visiting)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, none := r.(noValue); !none {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (s *Stack) call(fn string, arg any, visiting map[string]bool) (any, error) {
	if visiting == nil {
		visiting = map[string]bool{}
	}
	args := func(n int) ([]any, error) {
		list, ok := arg.([]any)
		if !ok || (n >= 0 && len(list) != n) {
			return nil, fmt.Errorf("%s: expected %d arguments, got %v", fn, n, arg)
		}
		out := make([]any, len(list))
		for i, x := range list {
			r, err := s.eval(x, visiting)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return s.ref(name)
	case "Condition":
		name, _ := arg.(string)
		return s.condition(name, visiting)
	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case string:
			id, attr, _ = strings.Cut(a, ".")
		case []any:
			if len(a) == 2 {
				id, _ = a[0].(string)
				attr, _ = a[1].(string)
			}
		}
		if id == "" || attr == "" {
			return nil, fmt.Errorf("Fn::GetAtt %v: expected [Resource, Attribute]", arg)
		}
		if err := s.needs(id); err != nil {
			return nil, err
		}
		return "{" + id + "." + attr + "}", nil
	case "Fn::Sub":
		return s.sub(arg, visiting)
	case "Fn::If":
		list, ok := arg.([]any)
		if !ok || len(list) != 3 {
			return nil, fmt.Errorf("Fn::If: expected [condition, then, else]")
		}
		name, _ := list[0].(string)
		c, err := s.condition(name, visiting)
		if err != nil {
			return nil, err
		}
		if c {
			return s.eval(list[1], visiting)
		}
		return s.eval(list[2], visiting)
	case "Fn::Equals":
		a, err := args(2)
		if err != nil {
			return nil, err
		}
		x, err1 := scalar(a[0])
		y, err2 := scalar(a[1])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("Fn::Equals: %w", err)
		}
		return x == y, nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		a, err := args(-1)
		if err != nil {
			return nil, err
		}
		bs := make([]bool, len(a))
		for i, x := range a {
			b, ok := x.(bool)
			if !ok {
				return nil, fmt.Errorf("%s: %v is not a condition", fn, x)
			}
			bs[i] = b
		}
		switch {
		case fn == "Fn::Not" && len(bs) == 1:
			return !bs[0], nil
		case fn == "Fn::And" && len(bs) >= 2:
			return !slices.Contains(bs, false), nil
		case fn == "Fn::Or" && len(bs) >= 2:
			return slices.Contains(bs, true), nil
		}
		return nil, fmt.Errorf("%s: wrong number of conditions (%d)", fn, len(bs))
	case "Fn::Join":
		a, err := args(2)
		if err != nil {
			return nil, err
		}
		sep, ok := a[0].(string)
		list, ok2 := a[1].([]any)
		if !ok || !ok2 {
			return nil, fmt.Errorf("Fn::Join: expected [delimiter, [values]]")
		}
		parts := make([]string, len(list))
		for i, x := range list {
			if parts[i], err = scalar(x); err != nil {
				return nil, fmt.Errorf("Fn::Join: %w", err)
			}
		}
		return strings.Join(parts, sep), nil
	case "Fn::Split":
		a, err := args(2)
		if err != nil {
			return nil, err
		}
		sep, ok := a[0].(string)
		str, ok2 := a[1].(string)
		if !ok || !ok2 || sep == "" {
			return nil, fmt.Errorf("Fn::Split: expected [delimiter, string]")
		}
		var out []any
		for _, p := range strings.Split(str, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		a, err := args(2)
		if err != nil {
			return nil, err
		}
		i, err := scalar(a[0])
		idx, err2 := strconv.Atoi(i)
		list, ok := a[1].([]any)
		if err != nil || err2 != nil || !ok || idx < 0 || idx >= len(list) {
			return nil, fmt.Errorf("Fn::Select: index %v of %v", a[0], a[1])
		}
		return list[idx], nil
	case "Fn::FindInMap":
		a, err := args(3)
		if err != nil {
			return nil, err
		}
		maps, _ := s.Template["Mappings"].(map[string]any)
		var v any = maps
		for _, k := range a {
			key, err := scalar(k)
			m, ok := v.(map[string]any)
			if err != nil || !ok {
				return nil, fmt.Errorf("Fn::FindInMap %v: not found", a)
			}
			if v, ok = m[key]; !ok {
				return nil, fmt.Errorf("Fn::FindInMap %v: no %s", a, key)
			}
		}
		return v, nil
	}
	return nil, fmt.Errorf("%s is not evaluated by this check", fn)
}

func (s *Stack) ref(name string) (any, error) {
	if v, ok := s.Parameters[name]; ok {
		params, _ := s.Template["Parameters"].(map[string]any)
		decl, _ := params[name].(map[string]any)
		if typ, _ := decl["Type"].(string); typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
			var out []any
			for _, x := range strings.Split(v, ",") {
				out = append(out, strings.TrimSpace(x))
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
	case "AWS::Partition":
		return s.Partition, nil
	case "AWS::StackName":
		return s.Name, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackId":
		// Shaped as CloudFormation gives it, so that a template may take it apart.
		return "arn:" + s.Partition + ":cloudformation:" + s.Region + ":" + s.AccountID + ":stack/" + s.Name + "/5f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b", nil
	case "AWS::NoValue":
		return noValue{}, nil
	}
	if err := s.needs(name); err != nil {
		return nil, err
	}
	return "{" + name + "}", nil
}

// needs fails unless the deploy creates resource id.
func (s *Stack) needs(id string) error {
	if _, ok := s.Resources()[id]; !ok {
		return fmt.Errorf("refers to %s, which is neither a parameter nor a resource", id)
	}
	if !s.Created(id) {
		return fmt.Errorf("refers to %s, which this deploy does not create", id)
	}
	return nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (s *Stack) sub(arg any, visiting map[string]bool) (any, error) {
	text, _ := arg.(string)
	vars := map[string]any{}
	if list, ok := arg.([]any); ok && len(list) == 2 {
		text, _ = list[0].(string)
		m, err := s.eval(list[1], visiting)
		if err != nil {
			return nil, err
		}
		if vars, ok = m.(map[string]any); !ok {
			return nil, fmt.Errorf("Fn::Sub: the variables are not a mapping")
		}
	}
	var errs []error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var v any
		var err error
		if x, ok := vars[name]; ok {
			v = x
		} else if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			if err = s.needs(id); err == nil {
				v = "{" + id + "." + attr + "}"
			}
		} else {
			v, err = s.ref(name)
		}
		if err == nil {
			var str string
			if str, err = scalar(v); err == nil {
				return str
			}
		}
		errs = append(errs, fmt.Errorf("Fn::Sub %s: %w", m, err))
		return m
	})
	return out, errors.Join(errs...)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
