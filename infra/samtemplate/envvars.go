package samtemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strconv"
)

// EnvVars is a sam local --env-vars file:
//
//	{"Parameters": {"BASE_URL": "http://127.0.0.1:3000"}, "IntakeFunction": {"MIN_FILL_SECONDS": "0"}}
//
// "Parameters" applies to every function and a logical id to that function alone (it
// wins over "Parameters"). Despite its name, "Parameters" holds environment variables,
// not template parameters. As in sam local, a value only replaces a variable the
// function's Environment.Variables already declares; others are ignored.
type EnvVars struct {
	All       map[string]string
	Functions map[string]map[string]string
}

// ReadEnvVars reads an --env-vars file.
func ReadEnvVars(path string) (EnvVars, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return EnvVars{}, fmt.Errorf("read env vars: %w", err)
	}
	ev, err := ParseEnvVars(data)
	if err != nil {
		return EnvVars{}, fmt.Errorf("%s: %w", path, err)
	}
	return ev, nil
}

// ParseEnvVars parses an --env-vars document. Numbers and booleans become their text
// and null the empty string, as sam local does; nested objects or lists are an error.
func ParseEnvVars(data []byte) (EnvVars, error) {
	var raw map[string]map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return EnvVars{}, fmt.Errorf("parse env vars: want {\"Parameters\"|\"<LogicalId>\": {\"NAME\": \"value\"}}: %w", err)
	}
	ev := EnvVars{All: map[string]string{}, Functions: map[string]map[string]string{}}
	for section, vars := range raw {
		out := make(map[string]string, len(vars))
		for k, v := range vars {
			switch v := v.(type) {
			case string:
				out[k] = v
			case bool:
				out[k] = strconv.FormatBool(v)
			case float64:
				out[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case nil:
				out[k] = ""
			default:
				return EnvVars{}, fmt.Errorf("parse env vars: %s.%s: a value must be a string, number or boolean", section, k)
			}
		}
		if section == "Parameters" {
			ev.All = out
		} else {
			ev.Functions[section] = out
		}
	}
	return ev, nil
}

// Apply returns a copy of env (a function's resolved environment) with the overrides
// for logicalID applied: "Parameters" first, then the function's own section.
func (e EnvVars) Apply(logicalID string, env map[string]string) map[string]string {
	out := maps.Clone(env)
	if out == nil {
		out = map[string]string{}
	}
	for _, overrides := range []map[string]string{e.All, e.Functions[logicalID]} {
		for k, v := range overrides {
			if _, declared := out[k]; declared {
				out[k] = v
			}
		}
	}
	return out
}

// Sets reports whether the file sets variable name, for every function or for one.
func (e EnvVars) Sets(name string) bool {
	if _, ok := e.All[name]; ok {
		return true
	}
	for _, f := range e.Functions {
		if _, ok := f[name]; ok {
			return true
		}
	}
	return false
}
