package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	examplePolicy = "../testdata/policy/example.yaml"
	cycloneDX     = "https://cyclonedx.org/bom"
	testResult    = "https://in-toto.io/attestation/test-result/v0.1"
)

func mustParsePolicy(t *testing.T, text string) *PolicyFile {
	t.Helper()
	pf, err := ParsePolicyFile([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// TestParsePolicyFile_Example: the example of the issue and of
// docs/policy.md loads with every field.
func TestParsePolicyFile_Example(t *testing.T) {
	pf, err := ParsePolicyFile(mustRead(t, examplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	want := PolicyFileSource{Repo: "octo-org/octo-repo", RepositoryID: "101", OwnerID: "202", Refs: []string{"refs/tags/v*"}}
	if !slices.Equal(pf.Source.Refs, want.Refs) || pf.Source.Repo != want.Repo || pf.Source.RepositoryID != want.RepositoryID || pf.Source.OwnerID != want.OwnerID {
		t.Errorf("source %+v, want %+v", pf.Source, want)
	}
	if pf.SignerWorkflow != "octo-org/build-platform/.github/workflows/slsa-build.yml" || pf.Level != 3 || !pf.SameRun || len(pf.Require) != 3 {
		t.Fatalf("policy %+v", pf)
	}
	types := []string{pf.Require[0].PredicateType, pf.Require[1].PredicateType, pf.Require[2].PredicateType}
	if !slices.Equal(types, []string{SLSAProvenanceV1, cycloneDX, testResult}) {
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
			_, err := ParsePolicyFile([]byte(tc.text))
			var pe *PolicyFileError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *PolicyFileError", err)
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

// signedAs signs a statement of the run with another predicate type and
// predicate (provenance when predicate is nil) over the demo artifact, and
// verifies it for that predicate type.
func signedAs(t *testing.T, s *testSigstore, run ghRun, predicateType string, predicate map[string]any) BundleResult {
	t.Helper()
	data, art := ownBundle(t, s, run, func(stmt map[string]any) {
		if predicate != nil {
			stmt["predicateType"], stmt["predicate"] = predicateType, predicate
		}
	}, signOpts{})
	br := verifyOne(t, s, data, art, Policy{Repo: run.Repo, PredicateType: predicateType})
	if !br.Verified {
		t.Fatalf("the %s bundle does not verify:\n%s", predicateType, bundleText(br))
	}
	return br
}

// TestPolicyFileEvaluate: one run attesting provenance, an SBOM and a test
// result passes the example policy; each attack fails naming its rule.
func TestPolicyFileEvaluate(t *testing.T) {
	s := newTestSigstore(t)
	run := defaultRun()
	policy := mustParsePolicy(t, strings.ReplaceAll(strings.NewReplacer("octo-org/octo-repo", "provenant/demo", "101", "123456", "202", "654321").
		Replace(string(mustRead(t, examplePolicy))), "level: 3\n", ""))
	other := run
	other.RunID = "111111111"
	recreated := run
	recreated.RepoID = "999999"
	otherOwner := run
	otherOwner.OwnerID = "777"
	branch := run
	branch.Ref = "refs/heads/main"
	branch.JobWorkflowRef = "provenant/demo/.github/workflows/release.yml@refs/heads/main"
	otherCommit := run
	otherCommit.SHA = "fedcba9876543210fedcba9876543210fedcba98"

	prov := signedAs(t, s, run, SLSAProvenanceV1, nil)
	sbom := signedAs(t, s, run, cycloneDX, map[string]any{"bomFormat": "CycloneDX"})
	passed := signedAs(t, s, run, testResult, map[string]any{"result": "PASSED"})
	failed := signedAs(t, s, run, testResult, map[string]any{"result": "FAILED"})
	sbomOtherRun := signedAs(t, s, other, cycloneDX, map[string]any{"bomFormat": "CycloneDX"})
	sbomOtherCommit := signedAs(t, s, otherCommit, cycloneDX, map[string]any{"bomFormat": "CycloneDX"})
	provRecreated := signedAs(t, s, recreated, SLSAProvenanceV1, nil)
	provOtherOwner := signedAs(t, s, otherOwner, SLSAProvenanceV1, nil)
	provBranch := signedAs(t, s, branch, SLSAProvenanceV1, nil)
	unverified := sbom
	unverified.Verified = false

	tests := []struct {
		name    string
		bundles []BundleResult
		rule    string // "" passes
		msg     string
	}{
		{"provenance, SBOM and passed tests from one run", []BundleResult{prov, sbom, passed}, "", ""},
		{"a failed test beside a passed one of the same run", []BundleResult{prov, sbom, failed, passed}, "", ""},
		{"missing SBOM", []BundleResult{prov, passed}, "require[1] (https://cyclonedx.org/bom)", "no verified attestation"},
		{"SBOM bundle that did not verify", []BundleResult{prov, unverified, passed}, "require[1] (https://cyclonedx.org/bom)", "no verified attestation"},
		{"SBOM from another run", []BundleResult{prov, sbomOtherRun, passed}, "same-run", "/actions/runs/111111111/"},
		{"SBOM from another commit of the run", []BundleResult{prov, sbomOtherCommit, passed}, "same-run", "at commit fedcba98"},
		{"failed test result", []BundleResult{prov, sbom, failed}, "require[2] (https://in-toto.io/attestation/test-result/v0.1).where.result", `result is "FAILED", required eq "PASSED"`},
		{"recreated repository (same name, other id)", []BundleResult{provRecreated, sbom, passed}, "source.repository-id", "is 999999, required 123456"},
		{"other owner id", []BundleResult{provOtherOwner, sbom, passed}, "source.owner-id", "is 777, required 654321"},
		{"ref outside the globs", []BundleResult{provBranch, sbom, passed}, "source.refs", `"refs/heads/main" matches none of refs/tags/v*`},
		{"nothing at all", nil, "require[0] (https://slsa.dev/provenance/v1)", "no verified attestation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := policy.Evaluate(tc.bundles, SLSAProvenanceV1)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("Evaluate: %v", err)
				}
				return
			}
			var pv *PolicyViolation
			if !errors.As(err, &pv) || pv.Rule != tc.rule || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Evaluate: %v, want rule %q and %q", err, tc.rule, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "policy rule "+tc.rule+": ") {
				t.Errorf("message %q does not start by naming the rule", err)
			}
		})
	}
}

// TestPolicyFileEvaluate_DefaultType: without require, the predicate type
// verify asks for must be there, meeting the source rules.
func TestPolicyFileEvaluate_DefaultType(t *testing.T) {
	s := newTestSigstore(t)
	run := defaultRun()
	recreated := run
	recreated.RepoID = "1"
	policy := mustParsePolicy(t, "source: {repo: provenant/demo, repository-id: 123456}\n")
	if err := policy.Evaluate([]BundleResult{signedAs(t, s, run, SLSAProvenanceV1, nil)}, SLSAProvenanceV1); err != nil {
		t.Errorf("Evaluate: %v", err)
	}
	err := policy.Evaluate([]BundleResult{signedAs(t, s, recreated, SLSAProvenanceV1, nil)}, SLSAProvenanceV1)
	if err == nil || !strings.Contains(err.Error(), "policy rule source.repository-id:") {
		t.Errorf("Evaluate: %v, want source.repository-id", err)
	}
}

// policyDir holds, for the command's policy tests (cmd_verify_policy_test.go),
// bundles of several predicate types over one artifact signed by a test
// Sigstore instance, its trusted root and a policy they meet (demo.yaml).
// go test -run TestPolicyFixtures -update rewrites the bundles.
const policyDir = "../testdata/policy"

// policyFixture is one stored bundle: the run that signed it, its
// predicate type and predicate (nil: our own provenance).
type policyFixture struct {
	file          string
	run           ghRun
	predicateType string
	predicate     map[string]any
}

func policyFixtures() []policyFixture {
	run := defaultRun().reusable()
	otherRun := run
	otherRun.RunID = "111111111"
	recreated := run
	recreated.RepoID = "999999"
	bom := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.5"}
	return []policyFixture{
		{"provenance.sigstore.json", run, SLSAProvenanceV1, nil},
		{"sbom.sigstore.json", run, cycloneDX, bom},
		{"test-passed.sigstore.json", run, testResult, map[string]any{"result": "PASSED", "passedTests": []any{"unit"}}},
		{"test-failed.sigstore.json", run, testResult, map[string]any{"result": "FAILED", "failedTests": []any{"unit"}}},
		{"sbom-other-run.sigstore.json", otherRun, cycloneDX, bom},
		{"provenance-recreated.sigstore.json", recreated, SLSAProvenanceV1, nil},
	}
}

// TestPolicyFixtures checks that each stored bundle verifies for its
// predicate type and meets demo.yaml's source rules, or, for the recreated
// repository, breaks source.repository-id; with -update it signs them anew.
func TestPolicyFixtures(t *testing.T) {
	if *update {
		writePolicyFixtures(t)
	}
	roots := mustLoadRoots(t, filepath.Join(policyDir, "trusted_root.json"))
	pf, err := ParsePolicyFile(mustRead(t, filepath.Join(policyDir, "demo.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range policyFixtures() {
		t.Run(fx.file, func(t *testing.T) {
			rep, err := Verify(context.Background(), Options{
				TrustedRoots: roots, Artifacts: []string{filepath.Join(policyDir, "demo-linux-amd64")},
				BundleFiles: []string{filepath.Join(policyDir, fx.file)},
				Policy:      Policy{Repo: pf.Source.Repo, SignerWorkflow: pf.SignerWorkflow, PredicateType: fx.predicateType},
			})
			if err != nil {
				t.Fatal(err)
			}
			br := rep.Artifacts[0].Bundles[0]
			if !br.Verified {
				t.Fatalf("does not verify:\n%s", text(rep))
			}
			err = pf.Source.check(br.Signer.Extensions)
			if want := fx.run.RepoID != defaultRun().RepoID; (err != nil) != want {
				t.Errorf("source rules: %v, want failure %v", err, want)
			}
		})
	}
}

func writePolicyFixtures(t *testing.T) {
	s := newTestSigstore(t)
	s.writeTrustedRoot(t, policyDir)
	mustWrite(t, filepath.Join(policyDir, "demo-linux-amd64"), []byte(attackArtifact))
	for _, fx := range policyFixtures() {
		data, _ := ownBundle(t, s, fx.run, func(stmt map[string]any) {
			if fx.predicate != nil {
				stmt["predicateType"], stmt["predicate"] = fx.predicateType, fx.predicate
			}
		}, signOpts{})
		mustWrite(t, filepath.Join(policyDir, fx.file), data)
	}
}

// TestPolicyFile_RefusedBundleDoesNotCount: two bundles for one artifact,
// one from the repository the policy pins by id (L2), one from the
// repository recreated under the same name (another id) at L3. The refused
// bundle counted: the report said L3, the VSA PASSED at L3 naming it among
// its inputAttestations, and the pins recorded its id. After Apply, level,
// VSA and pins come only from the bundle that meets the policy.
func TestPolicyFile_RefusedBundleDoesNotCount(t *testing.T) {
	s := newTestSigstore(t)
	own := defaultRun()
	recreated := defaultRun().reusable()
	recreated.RepoID = "999999"
	var bundles []BundleResult
	for i, r := range []ghRun{own, recreated} {
		data, art := ownBundle(t, s, r, nil, signOpts{})
		br := verifyOne(t, s, data, art, Policy{Repo: r.Repo, SignerRepo: repoOfRef(r.JobWorkflowRef)})
		br.Source, br.BundleSHA256 = []string{"own.sigstore.json", "recreated.sigstore.json"}[i], strings.Repeat(string(rune('a'+i)), 64)
		bundles = append(bundles, br)
	}
	if bundles[0].Level != 2 || bundles[1].Level != 3 {
		t.Fatalf("setup: levels %d and %d, want 2 and 3", bundles[0].Level, bundles[1].Level)
	}
	pf, err := ParsePolicyFile([]byte("source:\n  repo: provenant/demo\n  repository-id: 123456\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := ArtifactResult{Artifact: "demo", Digest: "sha256:" + strings.Repeat("0", 64), Verified: true, Level: 3, Bundles: bundles}
	if err := pf.Apply(&a, SLSAProvenanceV1); err != nil {
		t.Fatalf("Apply: %v (the own bundle meets the policy)", err)
	}
	if a.Level != 2 || a.Bundles[1].Verified || !strings.Contains(a.Bundles[1].Refused, "policy rule source.repository-id") {
		t.Fatalf("after Apply: level %d, recreated bundle verified %v refused %q; want L2 and the recreated bundle refused", a.Level, a.Bundles[1].Verified, a.Bundles[1].Refused)
	}
	vsa, err := Summary(a, SummaryOptions{PolicyURI: "file:policy.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(vsa), `"verifiedLevels":["SLSA_BUILD_LEVEL_2"]`) || strings.Contains(string(vsa), "recreated.sigstore.json") {
		t.Errorf("VSA %s: want L2 and no input from the refused bundle", vsa)
	}
	pins, _ := ParsePins(nil)
	if _, err := pins.Check(a, false); err != nil {
		t.Fatal(err)
	}
	if got := pins.Sources["https://github.com/provenant/demo"]; got.RepositoryID != "123456" || got.Level != 2 {
		t.Errorf("pinned %+v, want repository id 123456 at L2", got)
	}

	// Only the recreated repository's bundle: the artifact fails.
	b := ArtifactResult{Artifact: "demo", Verified: true, Level: 3, Bundles: []BundleResult{bundles[1]}}
	b.Bundles[0].Verified, b.Bundles[0].Refused = true, ""
	var pv *PolicyViolation
	if err := pf.Apply(&b, SLSAProvenanceV1); !errors.As(err, &pv) || b.Level != 0 {
		t.Errorf("Apply on the recreated repository's bundle alone = %v, level %d; want a violation and L0", err, b.Level)
	}
}
