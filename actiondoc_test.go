package main

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/provenant/provenant/internal/cmd/attest"
	"github.com/provenant/provenant/internal/cmdutil"
)

// actionMeta is the part of an action.yml these tests read.
type actionMeta struct {
	Inputs  map[string]any
	Outputs map[string]any
}

// deprecatedInput reports whether input in of the action is an old name
// kept so that workflows using it keep working (it has a
// deprecationMessage); such an input must be a hidden alias of a flag
// (cmdutil.FlagIdeas), which fills that flag from it, and no
// documentation lists it.
func deprecatedInput(t *testing.T, a actionMeta, in string) bool {
	t.Helper()
	m, _ := a.Inputs[in].(map[string]any)
	if _, ok := m["deprecationMessage"]; !ok {
		return false
	}
	if to := string(cmdutil.NormalizeFlagName(nil, in)); to == in {
		t.Errorf("deprecated input %s is no alias of a flag (cmdutil.FlagIdeas): nothing would read it", in)
	} else if _, ok := a.Inputs[to]; !ok {
		t.Errorf("deprecated input %s is an alias of --%s, but the action has no input %s", in, to, to)
	}
	return true
}

func readAction(t *testing.T, path string) actionMeta {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a actionMeta
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// readmeTables returns the names in the first column of the README tables
// of section (from its "## " heading to the next): each backquoted name of
// a row, without a leading "--", split into inputs (rows of the table
// headed "input / flag" whose name has no "--"), flag-only names, and outputs
// (rows of the table headed "output").
func readmeTables(t *testing.T, section string) (inputs, flagsOnly, outputs []string) {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n## "+section)
	if i < 0 {
		t.Fatalf("README has no section %q", section)
	}
	text = text[i+1:]
	if j := strings.Index(text[3:], "\n## "); j >= 0 {
		text = text[:j+3]
	}
	name := regexp.MustCompile("`(-*)([a-z][a-z0-9-]*)`")
	table := ""
	for _, line := range strings.Split(text, "\n") {
		if strings.Trim(line, "|-: ") == "" && strings.HasPrefix(line, "|") {
			continue // the header's separator row
		}
		if !strings.HasPrefix(line, "| ") {
			table = ""
			continue
		}
		cell := strings.SplitN(line[2:], " |", 2)[0]
		if table == "" {
			table = cell
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cell, -1) {
			switch {
			case table == "output":
				outputs = append(outputs, m[2])
			case strings.HasPrefix(table, "input") && m[1] == "--":
				flagsOnly = append(flagsOnly, m[2])
			case strings.HasPrefix(table, "input"):
				inputs = append(inputs, m[2])
			}
		}
	}
	return inputs, flagsOnly, outputs
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestAttestActionDocumented: every input and output of action.yml is in
// the README's attest tables, every input there is in action.yml, and
// every name there is a flag of "provenant attest" (under its flag name).
func TestAttestActionDocumented(t *testing.T) {
	action := readAction(t, "action.yml")
	inputs, flagsOnly, outputs := readmeTables(t, "`provenant attest`")
	fs := attestFlagSet()
	flagOf := map[string]string{}
	for f, in := range attest.InputNames {
		flagOf[in] = f
	}
	for _, in := range keys(action.Inputs) {
		if !slices.Contains(inputs, in) {
			t.Errorf("action.yml input %s is not in the README's attest table", in)
		}
	}
	for _, in := range inputs {
		if _, ok := action.Inputs[in]; !ok {
			t.Errorf("README documents input %s, which action.yml does not have", in)
		}
		f := in
		if n, ok := flagOf[in]; ok {
			f = n
		}
		if fs.Lookup(f) == nil {
			t.Errorf("README input %s is not a flag of provenant attest", in)
		}
	}
	for _, f := range flagsOnly {
		if fs.Lookup(f) == nil {
			t.Errorf("README documents --%s, which provenant attest does not have", f)
		}
	}
	for _, out := range keys(action.Outputs) {
		if !slices.Contains(outputs, out) {
			t.Errorf("action.yml output %s is not in the README's output table", out)
		}
	}
	for _, out := range outputs {
		if _, ok := action.Outputs[out]; !ok {
			t.Errorf("README documents output %s, which action.yml does not have", out)
		}
	}
	if len(inputs) < 10 || len(outputs) < 4 {
		t.Fatalf("read only %d inputs and %d outputs from the README", len(inputs), len(outputs))
	}
}

// TestVerifyActionDocumented: every input of verify/action.yml is a flag of
// "provenant verify" (or "artifacts") and so is in docs/cli, and its outputs
// are named in the README.
func TestVerifyActionDocumented(t *testing.T) {
	action := readAction(t, "verify/action.yml")
	cli, err := os.ReadFile("docs/cli/provenant_verify.md")
	if err != nil {
		t.Fatal(err)
	}
	readme, _ := os.ReadFile("README.md")
	for _, in := range keys(action.Inputs) {
		if deprecatedInput(t, action, in) {
			continue
		}
		if in == "github-token" {
			// GH_TOKEN, not a flag: the README's verify section names it.
			if !strings.Contains(string(readme), "`github-token`") {
				t.Error("verify/action.yml input github-token is not named in the README")
			}
			continue
		}
		if in != "artifacts" && !strings.Contains(string(cli), "--"+in+" ") {
			t.Errorf("verify/action.yml input %s is not a documented flag in docs/cli/provenant_verify.md", in)
		}
	}
	for _, out := range keys(action.Outputs) {
		if !strings.Contains(string(readme), "`"+out+"`") {
			t.Errorf("verify/action.yml output %s is not named in the README", out)
		}
	}
}
