package samtemplate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resource types the typed helpers understand.
const (
	TypeFunction    = "AWS::Serverless::Function"
	TypeTable       = "AWS::DynamoDB::Table"
	TypeSimpleTable = "AWS::Serverless::SimpleTable"
	TypeHTTPAPI     = "AWS::Serverless::HttpApi"
	TypeBucket      = "AWS::S3::Bucket"
	TypeTopic       = "AWS::SNS::Topic"
)

// Template is a SAM template as written. Values stay *yaml.Node so that intrinsic
// function tags are kept; resolve them through a [Stack].
type Template struct {
	FormatVersion string
	Transform     []string
	Description   string
	Parameters    map[string]Parameter
	Conditions    map[string]*yaml.Node
	Globals       Globals
	Resources     map[string]Resource
	Outputs       map[string]*yaml.Node
}

// Parameter is one entry of the Parameters section.
type Parameter struct {
	Name string
	Type string
	// Default is nil when the template gives none: such a parameter needs an override.
	Default        *string
	AllowedValues  []string
	AllowedPattern string
	Description    string
	NoEcho         bool
}

// IsList reports whether a !Ref to the parameter yields a list rather than a string.
func (p Parameter) IsList() bool {
	return p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<")
}

// Globals is the SAM Globals section, one unresolved property set per resource kind.
type Globals struct {
	Function    Properties
	HttpApi     Properties //nolint:revive // named after the SAM section.
	Api         Properties
	SimpleTable Properties
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID  string
	Type       string
	Condition  string
	DependsOn  []string
	Properties Properties
	Metadata   Properties
	// Node is the resource's mapping in the document, for line numbers in messages.
	Node *yaml.Node
}

// Properties is a mapping as written in the template; values are unresolved.
type Properties map[string]*yaml.Node

// Lookup follows nested mapping keys, for example Lookup("Environment", "Variables").
// It returns nil when a key is missing or a value on the way is not a mapping.
func (p Properties) Lookup(path ...string) *yaml.Node {
	if len(path) == 0 {
		return nil
	}
	n := p[path[0]]
	for _, key := range path[1:] {
		n = mappingValue(n, key)
	}
	return n
}

// Keys returns the property names in sorted order.
func (p Properties) Keys() []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// IDs returns the logical ids of the resources of type typ (all resources when typ is
// empty), sorted so that callers iterate deterministically.
func (t *Template) IDs(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if typ == "" || r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// ParseFile reads and parses a template file.
func ParseFile(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template document.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("parse template: the document is not a mapping")
	}
	root := doc.Content[0]
	t := &Template{
		Parameters: map[string]Parameter{},
		Conditions: map[string]*yaml.Node{},
		Resources:  map[string]Resource{},
		Outputs:    map[string]*yaml.Node{},
	}
	var err error
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i].Value, deref(root.Content[i+1])
		switch key {
		case "AWSTemplateFormatVersion":
			t.FormatVersion = val.Value
		case "Description":
			t.Description = val.Value
		case "Transform":
			t.Transform, err = scalarList(val)
		case "Parameters":
			err = eachEntry(val, func(name string, n *yaml.Node) error {
				p, err := parseParameter(name, n)
				t.Parameters[name] = p
				return err
			})
		case "Conditions":
			err = eachEntry(val, func(name string, n *yaml.Node) error { t.Conditions[name] = n; return nil })
		case "Outputs":
			err = eachEntry(val, func(name string, n *yaml.Node) error { t.Outputs[name] = n; return nil })
		case "Globals":
			err = eachEntry(val, func(name string, n *yaml.Node) error {
				props, err := properties(n)
				switch name {
				case "Function":
					t.Globals.Function = props
				case "HttpApi":
					t.Globals.HttpApi = props
				case "Api":
					t.Globals.Api = props
				case "SimpleTable":
					t.Globals.SimpleTable = props
				}
				return err
			})
		case "Resources":
			err = eachEntry(val, func(id string, n *yaml.Node) error {
				r, err := parseResource(id, n)
				t.Resources[id] = r
				return err
			})
		}
		if err != nil {
			return nil, fmt.Errorf("parse template: %s: %w", key, err)
		}
	}
	if len(t.Resources) == 0 {
		return nil, errors.New("parse template: no Resources")
	}
	return t, nil
}

func parseParameter(name string, n *yaml.Node) (Parameter, error) {
	p := Parameter{Name: name}
	props, err := properties(n)
	if err != nil {
		return p, err
	}
	for key, v := range props {
		switch key {
		case "Type":
			p.Type = v.Value
		case "Default":
			if v.Kind != yaml.ScalarNode {
				return p, nodeErr(v, "parameter %s: Default must be a scalar", name)
			}
			s := v.Value
			p.Default = &s
		case "AllowedValues":
			if p.AllowedValues, err = scalarList(v); err != nil {
				return p, fmt.Errorf("parameter %s: AllowedValues: %w", name, err)
			}
		case "AllowedPattern":
			p.AllowedPattern = v.Value
		case "Description":
			p.Description = v.Value
		case "NoEcho":
			p.NoEcho = v.Value == "true"
		}
	}
	if p.Type == "" {
		return p, nodeErr(n, "parameter %s has no Type", name)
	}
	return p, nil
}

func parseResource(id string, n *yaml.Node) (Resource, error) {
	r := Resource{LogicalID: id, Node: n}
	props, err := properties(n)
	if err != nil {
		return r, err
	}
	for key, v := range props {
		switch key {
		case "Type":
			r.Type = v.Value
		case "Condition":
			r.Condition = v.Value
		case "DependsOn":
			r.DependsOn, err = scalarList(v)
		case "Properties":
			r.Properties, err = properties(v)
		case "Metadata":
			r.Metadata, err = properties(v)
		}
		if err != nil {
			return r, fmt.Errorf("%s.%s: %w", id, key, err)
		}
	}
	if r.Type == "" {
		return r, nodeErr(n, "resource %s has no Type", id)
	}
	if r.Properties == nil {
		r.Properties = Properties{}
	}
	return r, nil
}

// deref follows YAML aliases so that anchors in a template behave like copies.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func eachEntry(n *yaml.Node, fn func(key string, val *yaml.Node) error) error {
	n = deref(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nodeErr(n, "expected a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if err := fn(n.Content[i].Value, deref(n.Content[i+1])); err != nil {
			return err
		}
	}
	return nil
}

func properties(n *yaml.Node) (Properties, error) {
	p := Properties{}
	err := eachEntry(n, func(k string, v *yaml.Node) error { p[k] = v; return nil })
	return p, err
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// scalarList accepts a scalar or a sequence of scalars, as CloudFormation does for
// Transform and DependsOn.
func scalarList(n *yaml.Node) ([]string, error) {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			c = deref(c)
			if c.Kind != yaml.ScalarNode {
				return nil, nodeErr(c, "expected a scalar")
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, nodeErr(n, "expected a scalar or a list of scalars")
}

func nodeErr(n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		return fmt.Errorf("line %d: %s", n.Line, msg)
	}
	return errors.New(msg)
}

// Node returns the properties as one YAML mapping node, for [Stack.Resolve].
func (p Properties) Node() *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, k := range p.Keys() {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, p[k])
	}
	return n
}

func propsNode(p Properties) *yaml.Node { return p.Node() }

// nodeFor makes a scalar node, for resolving a reference built in code.
func nodeFor(value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
}
