package store

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// Commit writes the attributes of the parts a change names: every part has attributes, and
// every attribute of a stored request is a part's, derived, or one no change writes.
func TestFieldAttributesCoverTheItem(t *testing.T) {
	owner := map[string]string{}
	var all dsr.Fields
	for _, f := range fieldAttributes {
		if f.field&(f.field-1) != 0 || all.Has(f.field) {
			t.Errorf("part %b listed twice or not one part", f.field)
		}
		all |= f.field
		for _, a := range f.attrs {
			owner[a] = "part"
		}
	}
	if all != dsr.AllFields {
		t.Errorf("the parts with attributes are %b, dsr.AllFields is %b", all, dsr.AllFields)
	}
	for _, a := range derived {
		owner[a] = "derived"
	}
	// Keys and what never changes (the list key, by type and receipt, too), and what has writes
	// of its own (mails, audit, escalation marks, version).
	for _, a := range []string{"pk", "sk", "ref", "lang", "received_at", "entered_at", "channel", "form_key", "mails", "audit", "esc", "version"} {
		owner[a] = "fixed"
	}
	rt := reflect.TypeFor[requestItem]()
	stored := map[string]bool{}
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("dynamodbav"), ",")
		stored[name] = true
		if owner[name] == "" {
			t.Errorf("attribute %s belongs to no part", name)
		}
	}
	for a := range owner {
		if !stored[a] {
			t.Errorf("attribute %s is not stored", a)
		}
	}
}
