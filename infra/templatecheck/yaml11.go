package templatecheck

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml11 "gopkg.in/yaml.v2"
	"gopkg.in/yaml.v3"
)

// A Misreading is a scalar of the template that CloudFormation, which reads YAML 1.1, takes
// for something other than what a YAML 1.2 reader (and most people) see in it: a bare NO is
// the boolean false to CloudFormation, so AllowedValues: [DK, NO] allows "DK" and "false".
type Misreading struct {
	Line, Column int
	// Path is where the scalar sits, e.g. Parameters.Country.AllowedValues[1].
	Path string
	// Text is the scalar as written.
	Text    string
	Problem string
}

func (m Misreading) String() string {
	return fmt.Sprintf("line %d:%d %s: %q: %s", m.Line, m.Column, m.Path, m.Text, m.Problem)
}

// Misreadings reads a template twice, as YAML 1.2 (gopkg.in/yaml.v3) and as YAML 1.1
// (gopkg.in/yaml.v2, which resolves yes/no/on/off/y/n in any case to booleans), and
// returns every scalar, key or value, that the two readings give a different type or
// value. It also returns what both readings agree on but YAML 1.1 still changes:
// a number written in another form than its value (010 is 8, 1_000, +1, .5, base 60 as
// in 1:20), a date (CloudFormation's reader makes it a timestamp) and a null (nowhere in
// a template is a null meant). Quote a scalar to make it a string in every reading.
func Misreadings(data []byte) ([]Misreading, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read as YAML 1.2: %w", err)
	}
	var old yaml11.MapSlice
	if err := yaml11.Unmarshal(data, &old); err != nil {
		return nil, fmt.Errorf("read as YAML 1.1: %w", err)
	}
	if len(doc.Content) != 1 {
		return nil, errors.New("the template is not one YAML document")
	}
	w := &walker{}
	w.node(doc.Content[0], old, "")
	return w.found, w.err
}

type walker struct {
	found []Misreading
	err   error
}

func (w *walker) report(n *yaml.Node, path, format string, args ...any) {
	w.found = append(w.found, Misreading{Line: n.Line, Column: n.Column, Path: path, Text: n.Value, Problem: fmt.Sprintf(format, args...)})
}

func (w *walker) fail(n *yaml.Node, path, format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf("line %d %s: %s", n.Line, path, fmt.Sprintf(format, args...))
	}
}

// node walks the YAML 1.2 node tree and the YAML 1.1 value side by side; both keep the
// document's order (MapSlice), so the i-th entry of one is the i-th of the other.
func (w *walker) node(n *yaml.Node, old any, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		m, ok := old.(yaml11.MapSlice)
		if !ok || len(m) != len(n.Content)/2 {
			w.fail(n, path, "YAML 1.1 reads a %T here, not this mapping", old)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if key.Value == "<<" && key.Tag == "!!merge" {
				w.fail(key, path, "merge keys (<<) are not checked: write the entries out")
				return
			}
			p := key.Value
			if path != "" {
				p = path + "." + key.Value
			}
			w.scalar(key, m[i/2].Key, p+" (key)")
			w.node(val, m[i/2].Value, p)
		}
	case yaml.SequenceNode:
		s, ok := old.([]any)
		if !ok || len(s) != len(n.Content) {
			w.fail(n, path, "YAML 1.1 reads a %T here, not this sequence", old)
			return
		}
		for i, c := range n.Content {
			w.node(c, s[i], fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.ScalarNode:
		w.scalar(n, old, path)
	}
}

var (
	// YAML 1.1's base-60 numbers, which gopkg.in/yaml.v2 reads as strings but
	// CloudFormation's and PyYAML's readers as numbers (1:20 is 80).
	sexagesimal = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$`)
	// A float every reader takes for the same number. YAML 1.1 wants a dot and a signed
	// exponent (1e3 and 1.5e3 are strings to PyYAML, numbers to gopkg.in/yaml.v2): a plain
	// decimal is safe everywhere.
	plainFloat = regexp.MustCompile(`^-?(0|[1-9][0-9]*)\.[0-9]+$`)
)

func (w *walker) scalar(n *yaml.Node, old any, path string) {
	if n.Kind != yaml.ScalarNode {
		w.fail(n, path, "a key that is not a scalar")
		return
	}
	var now any = n.Value
	// A short-form intrinsic (!Ref NO) is a string to every reader: its tag is not one the
	// resolver knows.
	custom := strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
	if !custom {
		if err := n.Decode(&now); err != nil {
			w.fail(n, path, "%v", err)
			return
		}
	}
	k12, k11 := kind(now), kind(old)
	switch {
	case k12 != k11:
		w.report(n, path, "YAML 1.2 reads %s, CloudFormation's YAML 1.1 reads %s %v; quote it if a string is meant", describe(now), k11, old)
		return
	case fmt.Sprint(now) != fmt.Sprint(old):
		w.report(n, path, "YAML 1.2 reads %v, YAML 1.1 reads %v", now, old)
		return
	}
	quoted := n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
	if quoted || custom {
		return
	}
	switch k11 {
	case "null":
		w.report(n, path, "a null: CloudFormation wants a value here (write \"\" for an empty string)")
	case "int":
		if canon := fmt.Sprint(old); canon != n.Value {
			w.report(n, path, "YAML 1.1 reads the number %s; write %s, or quote it if text is meant", canon, canon)
		}
	case "float":
		if !plainFloat.MatchString(n.Value) {
			w.report(n, path, "YAML 1.1 reads the number %v; write it as a plain decimal, or quote it if text is meant", old)
		}
	case "string":
		if sexagesimal.MatchString(n.Value) {
			w.report(n, path, "YAML 1.1 reads a base-60 number; quote it")
		}
	}
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case int, int64, uint64:
		return "int"
	case float64:
		return "float"
	case string:
		return "string"
	case time.Time:
		return "timestamp"
	}
	return fmt.Sprintf("%T", v)
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return "the string " + strconv.Quote(s)
	}
	return fmt.Sprintf("%s %v", kind(v), v)
}
