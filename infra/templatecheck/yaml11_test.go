package templatecheck_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/infra/templatecheck"
)

// CloudFormation reads the template as YAML 1.1: every scalar in it must mean the same
// there as it does to the person who wrote it.
func TestTemplateReadsTheSameInYAML11(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	found, err := templatecheck.Misreadings(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range found {
		t.Errorf("template.yaml %s", m)
	}
}

func TestMisreadings(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		// want lists the paths reported, in document order.
		want []string
	}{
		{"the Country bug", "Parameters:\n  Country:\n    AllowedValues: [DK, NO]\n", []string{"Parameters.Country.AllowedValues[1]"}},
		{"quoted", "Parameters:\n  Country:\n    AllowedValues: [\"DK\", 'NO']\n", nil},
		{"every YAML 1.1 boolean word", "a: [yes, Yes, YES, no, No, NO, on, On, ON, off, Off, OFF, y, Y, n, N]\n",
			[]string{"a[0]", "a[1]", "a[2]", "a[3]", "a[4]", "a[5]", "a[6]", "a[7]", "a[8]", "a[9]", "a[10]", "a[11]", "a[12]", "a[13]", "a[14]", "a[15]"}},
		{"true and false are booleans in both", "a: [true, false, True, FALSE]\n", nil},
		{"inside an intrinsic", "IsNorway: !Equals [!Ref Country, NO]\n", []string{"IsNorway[1]"}},
		{"deep in a long-form intrinsic", "A:\n  Fn::If: [C, {Value: off}, x]\n", []string{"A.Fn::If[1].Value"}},
		{"a short-form intrinsic's own argument is a string", "a: !Ref NO\nb: !Sub yes\n", nil},
		{"keys too", "Conditions:\n  on: x\n  Y: z\n", []string{"Conditions.on (key)", "Conditions.Y (key)"}},
		{"in a block scalar nothing is resolved", "a: |\n  NO\nb: >-\n  off\n", nil},
		{"numbers that are their text", "a: [0, 300, -1, 1209600, 0.5, 12.25]\n", nil},
		{"leading zero is octal in YAML 1.1", "a: 010\n", []string{"a"}},
		{"other number forms", "a: [0x1F, 0o17, 1_000, +1, .5]\n", []string{"a[0]", "a[1]", "a[2]", "a[3]", "a[4]"}},
		{"exponents read differently in YAML 1.1 readers", "a: [1e3, 1.5e3, 1.5e+3]\n", []string{"a[0]", "a[1]", "a[2]"}},
		{"base 60", "a: 1:20\nb: \"1:20\"\n", []string{"a"}},
		{"a date", "AWSTemplateFormatVersion: 2010-09-09\nb: \"2010-09-09\"\n", []string{"AWSTemplateFormatVersion"}},
		{"nulls", "a:\nb: ~\nc: null\nd: \"\"\n", []string{"a", "b", "c"}},
		{"an anchor is checked where it is used", "a: &x NO\nb: *x\n", []string{"a", "b"}},
		{"plain text", "a: cron(0 7 * * ? *)\nb: $LATEST\nc: Europe/Oslo\nd: arn:aws:sns:eu-north-1:1:x\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, err := templatecheck.Misreadings([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range found {
				got = append(got, m.Path)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("reported %q, want %q", got, tc.want)
				for _, m := range found {
					t.Log(m)
				}
			}
		})
	}
}

// The message says what CloudFormation will see and where.
func TestMisreadingMessage(t *testing.T) {
	found, err := templatecheck.Misreadings([]byte("Parameters:\n  Country:\n    AllowedValues: [DK, NO]\n"))
	if err != nil || len(found) != 1 {
		t.Fatalf("%v, %v", found, err)
	}
	want := `line 3:25 Parameters.Country.AllowedValues[1]: "NO": YAML 1.2 reads the string "NO", CloudFormation's YAML 1.1 reads bool false; quote it if a string is meant`
	if got := found[0].String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
