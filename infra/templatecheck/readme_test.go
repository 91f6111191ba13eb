package templatecheck_test

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// readmeTable returns the rows of the table under header in the README's "Deploy to AWS"
// section, each row split into its cells.
func readmeTable(t *testing.T, header string) [][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Deploy to AWS\n")
	if !ok {
		t.Fatal("README.md has no \"## Deploy to AWS\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, table, ok := strings.Cut(section, "\n"+header+"\n")
	if !ok {
		t.Fatalf("the deploy section has no table headed %s", header)
	}
	var rows [][]string
	for _, line := range strings.Split(table, "\n")[1:] { // [0] is |---|
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	if len(rows) == 0 {
		t.Fatalf("the table headed %s is empty", header)
	}
	return rows
}

var backticked = regexp.MustCompile("`([^`]+)`")

func names(cell string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// The parameters the README tells a deployer about are the template's, all of them.
func TestReadmeListsTheParameters(t *testing.T) {
	s := stackFor(t, deploys[0])
	var listed []string
	for _, row := range readmeTable(t, "| parameter | what to give |") {
		listed = append(listed, names(row[0])...)
	}
	slices.Sort(listed)
	declared := slices.Sorted(maps.Keys(s.Template["Parameters"].(map[string]any)))
	for _, p := range listed {
		if !slices.Contains(declared, p) {
			t.Errorf("README lists parameter %s, which the template does not declare", p)
		}
	}
	for _, p := range declared {
		if !slices.Contains(listed, p) {
			t.Errorf("README does not list parameter %s", p)
		}
	}
	if len(slices.Compact(slices.Clone(listed))) != len(listed) {
		t.Errorf("README lists a parameter twice: %v", listed)
	}
}

// What the README says a deploy creates is what the translated template creates, for each
// deploy: every resource it names is created exactly when its "when" column says, and every
// resource created is named or made by SAM from one that is.
func TestReadmeSaysWhatIsCreated(t *testing.T) {
	rows := readmeTable(t, "| resource | when | what it is |")
	// when[id] lists the parameters that must be non-empty for id to be created.
	when := map[string][]string{}
	for _, row := range rows {
		if len(row) != 3 {
			t.Fatalf("row %q: want three cells", row)
		}
		var needs []string
		switch {
		case row[1] == "always":
		case strings.HasPrefix(row[1], "with "):
			needs = names(row[1])
		default:
			t.Fatalf("row %q: when is %q, want \"always\" or \"with `Parameter`…\"", row[0], row[1])
		}
		for _, id := range names(row[0]) {
			if _, dup := when[id]; dup {
				t.Errorf("README names %s twice", id)
			}
			when[id] = needs
		}
	}
	sam := samResources(t)
	for _, d := range deploys {
		t.Run(d.name, func(t *testing.T) {
			s := stackFor(t, d)
			res := s.Resources()
			for id, needs := range when {
				if _, ok := res[id]; !ok {
					t.Errorf("README names %s, which the translation does not have", id)
					continue
				}
				want := true
				for _, p := range needs {
					if _, ok := s.Parameters[p]; !ok {
						t.Errorf("README: %s is created with %s, which is no parameter", id, p)
					}
					want = want && s.Parameters[p] != ""
				}
				if got := s.Created(id); got != want {
					t.Errorf("README: %s is created %s, which these values make %v; the deploy's is %v", id, whenText(needs), want, got)
				}
			}
			for _, id := range s.CreatedOfType("") {
				if _, ok := when[id]; ok {
					continue
				}
				from := slices.IndexFunc(sam, func(src string) bool { _, ok := when[src]; return ok && strings.HasPrefix(id, src) })
				if from < 0 {
					t.Errorf("the deploy creates %s (%s), which the README does not name", id, res[id].Type)
				}
			}
		})
	}
}

// samResources returns the ids of the template's SAM resources (AWS::Serverless::*), whose
// translation adds resources named after them.
func samResources(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type string `yaml:"Type"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id, r := range doc.Resources {
		if strings.HasPrefix(r.Type, "AWS::Serverless::") {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func whenText(needs []string) string {
	if len(needs) == 0 {
		return "always"
	}
	return "with " + strings.Join(needs, " and ")
}
