package templatecheck_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/infra/templatecheck"
)

func cfnTemplate(t *testing.T, src string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var tpl map[string]any
	if err := dec.Decode(&tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// The values CloudFormation refuses before it creates anything are refused here too; in
// particular the YAML 1.1 reading of AllowedValues: [DK, NO].
func TestNewStackChecksParameters(t *testing.T) {
	tpl := cfnTemplate(t, `{"Parameters": {
		"Country": {"Type": "String", "AllowedValues": ["DK", "NO"], "Default": "DK"},
		"CountryAsYAML11ReadsIt": {"Type": "String", "AllowedValues": ["DK", false], "Default": "DK"},
		"Url": {"Type": "String", "AllowedPattern": "^https://[a-z.]+$|^$", "Default": ""},
		"Name": {"Type": "String", "MinLength": 1, "MaxLength": 3},
		"Days": {"Type": "Number", "MinValue": 1, "MaxValue": 30, "Default": 7},
		"Retention": {"Type": "Number", "AllowedValues": [1, 3, 5], "Default": 3},
		"Zones": {"Type": "CommaDelimitedList", "AllowedValues": ["a", "b"], "Default": "a,b"}
	}, "Resources": {}}`)
	for _, tc := range []struct {
		name   string
		values map[string]string
		refuse string
	}{
		{"defaults", map[string]string{"Name": "JMA"}, ""},
		{"Norway", map[string]string{"Name": "JMA", "Country": "NO"}, ""},
		{"Norway where NO was read as YAML 1.1", map[string]string{"Name": "JMA", "CountryAsYAML11ReadsIt": "NO"}, `"NO" is not one of the AllowedValues ["DK" "false"]`},
		{"not allowed", map[string]string{"Name": "JMA", "Country": "SE"}, `"SE" is not one of`},
		{"pattern matches the whole value", map[string]string{"Name": "JMA", "Url": "https://x.dk/"}, "does not match the AllowedPattern"},
		{"no value and no default", nil, "parameter Name has no Default and no value"},
		{"too short", map[string]string{"Name": ""}, "shorter than MinLength"},
		{"too long", map[string]string{"Name": "JMA A/S"}, "longer than MaxLength"},
		{"not a number", map[string]string{"Name": "JMA", "Days": "seven"}, "is not a Number"},
		{"over the maximum", map[string]string{"Name": "JMA", "Days": "31"}, "above MaxValue"},
		{"a number among numbers", map[string]string{"Name": "JMA", "Retention": "5"}, ""},
		{"a number not among them", map[string]string{"Name": "JMA", "Retention": "4"}, "not one of"},
		{"each list item is checked", map[string]string{"Name": "JMA", "Zones": "a, c"}, `"c" is not one of`},
		{"an unknown parameter", map[string]string{"Name": "JMA", "Contry": "NO"}, "declares no such parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := templatecheck.NewStack(tpl, tc.values)
			switch {
			case tc.refuse == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refuse != "" && (err == nil || !strings.Contains(err.Error(), tc.refuse)):
				t.Errorf("error %v, want one containing %q", err, tc.refuse)
			}
		})
	}
}

// Conditions decide which resources exist, and a resource that exists may not refer to one
// that does not.
func TestStackConditionsAndReferences(t *testing.T) {
	tpl := cfnTemplate(t, `{
		"Parameters": {
			"Cert": {"Type": "String", "Default": ""},
			"Zone": {"Type": "String", "Default": ""},
			"Country": {"Type": "String", "Default": "DK"}
		},
		"Conditions": {
			"HasCert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Cert"}, ""]}]},
			"HasZone": {"Fn::And": [{"Condition": "HasCert"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "Zone"}, ""]}]}]},
			"IsNorway": {"Fn::Equals": [{"Ref": "Country"}, "NO"]}
		},
		"Resources": {
			"Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {
				"Name": {"Fn::If": ["IsNorway", "oslo", {"Fn::Sub": "${AWS::StackName}-${AWS::Region}"}]}}},
			"Domain": {"Type": "AWS::ApiGatewayV2::DomainName", "Condition": "HasCert", "Properties": {"DomainName": "x"}},
			"Record": {"Type": "AWS::Route53::RecordSet", "Condition": "HasZone", "Properties": {
				"Name": {"Ref": "Domain"}, "Target": {"Fn::GetAtt": ["Domain", "RegionalDomainName"]}}},
			"Unguarded": {"Type": "AWS::Route53::RecordSet", "Condition": "HasZone", "Properties": {
				"Name": {"Fn::Sub": "${Domain.RegionalDomainName}"}}}
		},
		"Outputs": {"Domain": {"Value": {"Ref": "Domain"}}}
	}`)
	for _, tc := range []struct {
		name    string
		values  map[string]string
		created string
		refused []string
	}{
		{"no domain", nil, "Api", []string{"output Domain: refers to Domain, which this deploy does not create"}},
		{"a domain", map[string]string{"Cert": "arn"}, "Api Domain", nil},
		{"a domain and a zone", map[string]string{"Cert": "arn", "Zone": "Z1"}, "Api Domain Record Unguarded", nil},
		{"a zone alone is nothing", map[string]string{"Zone": "Z1"}, "Api", []string{"output Domain"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := templatecheck.NewStack(tpl, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(s.CreatedOfType(""), " "); got != tc.created {
				t.Errorf("creates %s, want %s", got, tc.created)
			}
			err = s.CheckReferences()
			for _, want := range tc.refused {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("references: %v, want %q", err, want)
				}
			}
			if len(tc.refused) == 0 && err != nil {
				t.Errorf("references: %v", err)
			}
			name, err := s.EvalString(s.Resources()["Api"].Properties["Name"])
			if err != nil || name != "dsrdesk-eu-north-1" {
				t.Errorf("Api name %q, %v", name, err)
			}
		})
	}
	s, err := templatecheck.NewStack(tpl, map[string]string{"Country": "NO"})
	if err != nil || !s.Conditions["IsNorway"] || s.Conditions["HasCert"] {
		t.Errorf("conditions %v, %v", s.Conditions, err)
	}
	if v, err := s.Eval(map[string]any{"Fn::GetAtt": []any{"Domain", "Arn"}}); err == nil {
		t.Errorf("GetAtt of a resource not created gave %v", v)
	}
}
