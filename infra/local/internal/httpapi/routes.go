// Package httpapi emulates API Gateway HTTP APIs with Lambda proxy integrations
// (payload format 2.0): it matches routes the way API Gateway does, builds the event
// API Gateway would send and turns the function's answer into the HTTP response API
// Gateway would give.
package httpapi

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Route is one HttpApi event of a function.
type Route struct {
	// Key is the route key: "GET /requests", "ANY /admin/{proxy+}" or "$default".
	Key      string
	Function string
	APIID    string
}

type segment struct {
	literal string
	param   string // set for {name} and {name+}
}

type route struct {
	Route
	method string
	segs   []segment
	greedy bool // the last segment is {name+}
}

// Router finds the route for a request.
type Router struct{ routes []route }

// NewRouter validates the routes; the same route key twice is an error, as API
// Gateway refuses it.
func NewRouter(routes []Route) (*Router, error) {
	rt := &Router{}
	seen := map[string]string{}
	for _, r := range routes {
		if prev, ok := seen[r.Key]; ok {
			return nil, fmt.Errorf("route %q is declared by both %s and %s", r.Key, prev, r.Function)
		}
		seen[r.Key] = r.Function
		parsed, err := parseRoute(r)
		if err != nil {
			return nil, err
		}
		rt.routes = append(rt.routes, parsed)
	}
	return rt, nil
}

func parseRoute(r Route) (route, error) {
	out := route{Route: r}
	if r.Key == "$default" {
		return out, nil
	}
	method, path, ok := strings.Cut(r.Key, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		return out, fmt.Errorf("route %q: want \"METHOD /path\"", r.Key)
	}
	out.method = method
	if path == "/" {
		return out, nil
	}
	parts := strings.Split(path[1:], "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return out, fmt.Errorf("route %q: a greedy {%s} must be the last segment", r.Key, p[1:len(p)-2])
			}
			out.greedy = true
			out.segs = append(out.segs, segment{param: p[1 : len(p)-2]})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			out.segs = append(out.segs, segment{param: p[1 : len(p)-1]})
		case strings.ContainsAny(p, "{}"):
			return out, fmt.Errorf("route %q: a path variable must be a whole segment", r.Key)
		default:
			out.segs = append(out.segs, segment{literal: p})
		}
	}
	return out, nil
}

// Match is a route chosen for a request, with its path parameters.
type Match struct {
	Route
	PathParameters map[string]string
}

// Match picks the most specific route, as API Gateway does: a route without a greedy
// variable over one with it, literal segments over variables (from the left), a
// method over ANY, and $default last. escapedPath is the request path as sent.
func (rt *Router) Match(method, escapedPath string) (Match, bool) {
	var parts []string
	if escapedPath != "/" && escapedPath != "" {
		for _, p := range strings.Split(strings.TrimPrefix(escapedPath, "/"), "/") {
			if u, err := url.PathUnescape(p); err == nil {
				p = u
			}
			parts = append(parts, p)
		}
	}
	var best *route
	var bestParams map[string]string
	var fallback *route
	for i := range rt.routes {
		r := &rt.routes[i]
		if r.Key == "$default" {
			fallback = r
			continue
		}
		if r.method != "ANY" && r.method != method {
			continue
		}
		params, ok := r.match(parts)
		if !ok {
			continue
		}
		if best == nil || r.moreSpecific(best) {
			best, bestParams = r, params
		}
	}
	if best != nil {
		return Match{Route: best.Route, PathParameters: bestParams}, true
	}
	if fallback != nil {
		return Match{Route: fallback.Route}, true
	}
	return Match{}, false
}

func (r *route) match(parts []string) (map[string]string, bool) {
	if len(parts) < len(r.segs) || (!r.greedy && len(parts) != len(r.segs)) {
		return nil, false
	}
	var params map[string]string
	for i, s := range r.segs {
		if s.param == "" {
			if parts[i] != s.literal {
				return nil, false
			}
			continue
		}
		v := parts[i]
		if r.greedy && i == len(r.segs)-1 {
			v = strings.Join(parts[i:], "/")
		}
		if v == "" {
			return nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[s.param] = v
	}
	return params, true
}

func (r *route) moreSpecific(o *route) bool {
	if r.greedy != o.greedy {
		return !r.greedy
	}
	for i := 0; i < min(len(r.segs), len(o.segs)); i++ {
		rl, ol := r.segs[i].param == "", o.segs[i].param == ""
		if rl != ol {
			return rl
		}
	}
	if len(r.segs) != len(o.segs) {
		return len(r.segs) > len(o.segs) // the longer greedy prefix is more specific
	}
	return r.method != "ANY" && o.method == "ANY"
}

// Keys lists the route keys, sorted, for the startup banner.
func (rt *Router) Keys() []Route {
	out := make([]Route, 0, len(rt.routes))
	for _, r := range rt.routes {
		out = append(out, r.Route)
	}
	slices.SortFunc(out, func(a, b Route) int {
		ap, bp := pathOf(a.Key), pathOf(b.Key)
		if c := strings.Compare(ap, bp); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func pathOf(key string) string {
	if _, p, ok := strings.Cut(key, " "); ok {
		return p
	}
	return "\uffff" + key // $default sorts last
}
