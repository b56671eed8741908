package policy

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/verifier"
)

const (
	examplePolicy = "../testdata/policy/example.yaml"
	cycloneDX     = "https://cyclonedx.org/bom"
	testResult    = "https://in-toto.io/attestation/test-result/v0.1"
)

func mustParsePolicy(t *testing.T, text string) *File {
	t.Helper()
	pf, err := ParseFile([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// TestParsePolicyFile_Example: the example of the issue and of
// docs/policy.md loads with every field.
func TestParsePolicyFile_Example(t *testing.T) {
	pf, err := ParseFile(mustRead(t, examplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	want := Source{Repo: "octo-org/octo-repo", RepositoryID: "101", OwnerID: "202", Refs: []string{"refs/tags/v*"}}
	if !slices.Equal(pf.Source.Refs, want.Refs) || pf.Source.Repo != want.Repo || pf.Source.RepositoryID != want.RepositoryID || pf.Source.OwnerID != want.OwnerID {
		t.Errorf("source %+v, want %+v", pf.Source, want)
	}
	if pf.SignerWorkflow != "octo-org/build-platform/.github/workflows/slsa-build.yml" || pf.Level != 3 || !pf.SameRun || len(pf.Require) != 3 {
		t.Fatalf("policy %+v", pf)
	}
	types := []string{pf.Require[0].PredicateType, pf.Require[1].PredicateType, pf.Require[2].PredicateType}
	if !slices.Equal(types, []string{formats.SLSAProvenanceV1, cycloneDX, testResult}) {
		t.Errorf("require %v", types)
	}
	if w := pf.Require[2].Where; len(w) != 1 || w[0].Path != "result" || w[0].Op != "eq" || w[0].Value != "PASSED" {
		t.Errorf("where %+v", w)
	}
	// docs/policy.md shows the same example.
	doc := string(mustRead(t, "../docs/policy.md"))
	body := string(mustRead(t, examplePolicy))
	body = body[strings.Index(body, "source:"):]
	if !strings.Contains(doc, body) {
		t.Errorf("docs/policy.md does not show testdata/policy/example.yaml")
	}
}

// TestPolicySchemaListsTheLoadersKeys: docs/policy.schema.json parses and
// names exactly the keys the loader knows, at each level.
func TestPolicySchemaListsTheLoadersKeys(t *testing.T) {
	var schema struct {
		Properties map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Items      struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"items"`
		} `json:"properties"`
		Defs struct {
			Condition struct {
				OneOf []struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"oneOf"`
			} `json:"condition"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(mustRead(t, "../docs/policy.schema.json"), &schema); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	var top []string
	for k := range schema.Properties {
		top = append(top, k)
	}
	slices.Sort(top)
	ops := []string{}
	if len(schema.Defs.Condition.OneOf) == 2 {
		ops = keys(schema.Defs.Condition.OneOf[1].Properties)
	}
	tests := []struct {
		name      string
		schema    []string
		loaderKey []string
	}{
		{"top level", top, policyFileKeys},
		{"source", keys(schema.Properties["source"].Properties), policySourceKeys},
		{"signer", keys(schema.Properties["signer"].Properties), policySignerKeys},
		{"require", keys(schema.Properties["require"].Items.Properties), policyRequireKey},
		{"condition operators", ops, conditionOps},
	}
	for _, tc := range tests {
		want := slices.Sorted(slices.Values(tc.loaderKey))
		if !slices.Equal(tc.schema, want) {
			t.Errorf("%s: schema lists %v, loader knows %v", tc.name, tc.schema, want)
		}
	}
}

// TestParsePolicyFile_ErrorsNameTheLine: every schema violation is an
// error naming its line and what is wrong.
func TestParsePolicyFile_ErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"unknown top-level key", "source: {repo: o/r}\nsigners: {workflow: x}\n", 2, `unknown key "signers"`},
		{"unknown source key", "source:\n  repo: o/r\n  repository_id: 1\n", 3, `source: unknown key "repository_id"`},
		{"key twice", "level: 2\nlevel: 3\n", 2, `key "level" given twice`},
		{"level out of range", "source: {repo: o/r}\nlevel: 4\n", 2, "level: want 1, 2 or 3"},
		{"level a string", "level: \"3\"\n", 1, "level: want 1, 2 or 3"},
		{"repo not owner/name", "source: {repo: octo}\n", 1, `source.repo "octo": want owner/name`},
		{"repository-id not numeric", "source:\n  repository-id: abc\n", 2, "source.repository-id: want GitHub's numeric id"},
		{"refs not a list", "source:\n  refs: refs/tags/v*\n", 2, "source.refs: want a list"},
		{"bad glob", "source:\n  refs: [\"refs/[\"]\n", 2, "not a valid glob"},
		{"signer unknown key", "signer: {repo: o/r}\n", 1, `signer: unknown key "repo"`},
		{"require not a list", "require: {predicate-type: x}\n", 1, "require: want a list"},
		{"require without type", "require:\n  - where: {a: 1}\n", 2, "require[0]: predicate-type is required"},
		{"require unknown key", "require:\n  - predicate-type: x\n    wher: {a: 1}\n", 3, `require[0]: unknown key "wher"`},
		{"require type twice", "require:\n  - predicate-type: x\n  - predicate-type: x\n", 3, "required twice"},
		{"unknown operator", "require:\n  - predicate-type: x\n    where: {result: {equals: PASSED}}\n", 3, `unknown operator "equals"`},
		{"gt of a string", "require:\n  - predicate-type: x\n    where:\n      n: {gt: many}\n", 4, "want a number"},
		{"in of a scalar", "require:\n  - predicate-type: x\n    where:\n      n: {in: PASSED}\n", 4, "want a list of values"},
		{"bad path", "require:\n  - predicate-type: x\n    where:\n      \"a..b\": 1\n", 4, `path "a..b"`},
		{"same-run not bool", "same-run: yes\n", 1, "same-run: want true or false"},
		{"same-run with one type", "require:\n  - predicate-type: x\nsame-run: true\n", 1, "needs at least two"},
		{"not a mapping", "- a\n", 1, "the policy: want a mapping"},
		{"not YAML", "source: [\n", 0, "not YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile([]byte(tc.text))
			var pe *FileError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *FileError", err)
			}
			if pe.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q (line %d), want line %d and %q", err, pe.Line, tc.line, tc.msg)
			}
			if tc.line > 0 && !regexp.MustCompile(`^line \d+: `).MatchString(err.Error()) {
				t.Errorf("error %q does not start with its line", err)
			}
		})
	}
}

// TestConditionHolds: each operator on simple paths, with the reason of a
// failure naming the path and the value found.
func TestConditionHolds(t *testing.T) {
	var pred any
	if err := json.Unmarshal([]byte(`{"result":"PASSED","counts":{"failed":0,"passed":12},"runs":[{"os":"linux"},{"os":"mac"}],"nested":{"x":[1,2]},"nil":null}`), &pred); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		where string
		fail  string // "" holds
	}{
		{"{result: PASSED}", ""},
		{"{result: FAILED}", `result is "PASSED", required eq "FAILED"`},
		{"{result: {ne: FAILED}}", ""},
		{"{result: {in: [PASSED, WARNED]}}", ""},
		{"{result: {in: [FAILED]}}", `required in ["FAILED"]`},
		{"{counts.failed: 0}", ""},
		{"{counts.failed: {le: 0}}", ""},
		{"{counts.passed: {gt: 12}}", "counts.passed is 12, required gt 12"},
		{"{counts.passed: {ge: 12}}", ""},
		{"{counts.passed: {lt: 13}}", ""},
		{"{result: {gt: 1}}", `result is "PASSED", required gt 1`},
		{`{"runs[1].os": mac}`, ""},
		{`{"runs[2].os": mac}`, "runs[2].os is absent"},
		{`{"nested.x[0]": 1}`, ""},
		{"{nested: 1}", `nested is {"x":[1,2]}, required eq 1`},
		{"{nested.x: {in: [1]}}", "required in [1]"},
		{"{nil: null}", ""},
		{"{counts: {exists: true}}", ""},
		{"{signature: {exists: false}}", ""},
		{"{signature: {exists: true}}", "signature is absent, required present"},
		{"{result: {exists: false}}", "result is present, required absent"},
		{"{missing: PASSED}", "missing is absent"},
	}
	for _, tc := range tests {
		t.Run(tc.where, func(t *testing.T) {
			pf := mustParsePolicy(t, "require:\n  - predicate-type: x\n    where: "+tc.where+"\n")
			c := pf.Require[0].Where[0]
			err := c.Holds(pred)
			if (err == nil) != (tc.fail == "") || (err != nil && !strings.Contains(err.Error(), tc.fail)) {
				t.Errorf("Holds: %v, want %q", err, tc.fail)
			}
		})
	}
}

// TestParsePins: the file round-trips; unknown fields and other versions
// are errors.
func TestParsePins(t *testing.T) {
	p := &Pins{Version: PinsVersion, Sources: map[string]Pin{"https://github.com/o/r": {RepositoryID: "1", OwnerID: "2", SignerWorkflow: "https://github.com/o/r/.github/workflows/release.yml", Level: 2}}}
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePins(data)
	if err != nil || back.Sources["https://github.com/o/r"] != p.Sources["https://github.com/o/r"] {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, bad := range []struct{ text, msg string }{
		{`{"version": 2, "sources": {}}`, "version 2"},
		{`{"version": 1, "sources": {}, "extra": 1}`, `unknown field "extra"`},
		{`{"version": 1, "sources": {"x": {"level": "3"}}}`, "cannot unmarshal"},
	} {
		if _, err := ParsePins([]byte(bad.text)); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("ParsePins(%s): %v, want %q", bad.text, err, bad.msg)
		}
	}
}

func mustRead(tb testing.TB, p string) []byte {
	tb.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestEvaluate_SaysWhyTheFoundAttestationDoesNotCount: a require rule
// with no verified attestation names the first failure of the ones found
// of that predicate type (what a kubectl user reads when an image was
// attested from another repository), and says only "none" when none was.
func TestEvaluate_SaysWhyTheFoundAttestationDoesNotCount(t *testing.T) {
	pf := mustParsePolicy(t, "require:\n  - predicate-type: https://slsa.dev/provenance/v1\n")
	failed := verifier.BundleResult{
		PredicateType: "https://slsa.dev/provenance/v1",
		Checks: []verifier.CheckResult{
			{Number: 4, Name: verifier.CheckSignature, Status: verifier.StatusPass},
			{Number: 6, Name: verifier.CheckIdentity, Status: verifier.StatusFail, Reason: "source repository is other/repo, want o/app"},
		},
	}
	refused := verifier.BundleResult{PredicateType: "https://slsa.dev/provenance/v1", Refused: "source.repository-id is 7, want 9"}
	other := verifier.BundleResult{PredicateType: "https://spdx.dev/Document", Checks: []verifier.CheckResult{{Number: 4, Name: verifier.CheckSignature, Status: verifier.StatusFail, Reason: "bad signature"}}}
	for _, tc := range []struct {
		name    string
		bundles []verifier.BundleResult
		want    []string
		notWant string
	}{
		{"failed check named", []verifier.BundleResult{other, failed}, []string{"require[0]", "no verified attestation", "the first found failed", "identity", "other/repo"}, "bad signature"},
		{"policy refusal named", []verifier.BundleResult{refused}, []string{"refused by the policy file", "repository-id is 7"}, ""},
		{"none found", []verifier.BundleResult{other}, []string{"no verified attestation of this predicate type for the artifact"}, "first found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := pf.Evaluate(tc.bundles, "https://slsa.dev/provenance/v1")
			if err == nil {
				t.Fatal("no violation for an artifact without a verified attestation")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("%q says %q", err, tc.notWant)
			}
		})
	}
}
