package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/provenant/provenant/internal/cmd/verify"
)

// runVerifyIn runs "provenant verify" in-process with the given environment.
func runVerifyIn(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return vars[k] }
	code = run(context.Background(), append([]string{"verify"}, args...), env{stdout: &out, stderr: &errOut, getenv: getenv})
	return code, out.String(), errOut.String()
}

const (
	fixturesDir = "testdata/fixtures"
	pgRoot      = fixturesDir + "/trusted-roots/public-good-cli.json"
	npmBundle   = fixturesDir + "/npm/sigstore-js-2.1.0-bundle.json"
	npmTgz      = fixturesDir + "/npm/sigstore-js-2.1.0.tgz"
)

func TestVerifyExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{"verified", []string{"--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, npmTgz}, exitOK,
			"VERIFIED at SLSA Build L2", ""},
		{"two bundles in JSON Lines", []string{"-v", "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", fixturesDir + "/npm/sigstore-js-2.1.0_with_2_bundles.jsonl", npmTgz}, exitOK,
			"sigstore-js-2.1.0_with_2_bundles.jsonl:2: verified", ""},
		{"tampered: check 3", []string{"--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", fixturesDir + "/npm/sigstoreBundle-invalid-signature.json", npmTgz}, exitFailed,
			"FAIL      3 timestamps  transparency log entry does not verify", ""},
		{"min level 3 not reached: check 9", []string{"--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--min-level", "3", "--bundle", npmBundle, npmTgz}, exitFailed,
			"FAIL      9 level       SLSA Build L2", ""},
		{"digest instead of file", []string{"--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", fixturesDir + "/sigstore-go/sigstore.js@2.0.0-provenance.sigstore.json",
			"--digest", "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"}, exitOK, "VERIFIED", ""},
		{"workflow inputs and versioned tag", []string{"--trusted-root", pgRoot, "--repo", "slsa-framework/example-package", "--signer-repo", "slsa-framework/slsa-github-generator",
			"--source-versioned-tag", "v13.0", "--workflow-input", "rekor-log-public=false", "--bundle", fixturesDir + "/slsa-github-generator/gha_delegator-v2.1.0/binary-linux-amd64-push-v13.0.30.build.slsa",
			fixturesDir + "/slsa-github-generator/gha_delegator-v2.1.0/binary-linux-amd64-push-v13.0.30"}, exitOK, "VERIFIED at SLSA Build L3", ""},
		{"further extensions", []string{"--verbose", "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--cert-extension", "buildTrigger=push",
			"--cert-extension", "sourceRepositoryVisibilityAtSigning=public", "--bundle", npmBundle, npmTgz}, exitOK, "buildTrigger = push", ""},
		{"further extension mismatch: check 6", []string{"--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--cert-extension", "buildTrigger=release",
			"--bundle", npmBundle, npmTgz}, exitFailed, `FAIL      6 identity`, ""},
		{"unknown extension", []string{"--trusted-root", pgRoot, "--repo", "a/b", "--cert-extension", "nope=1", "--bundle", npmBundle, npmTgz}, exitUsage, "", "unknown field"},
		{"other host", []string{"--trusted-root", pgRoot, "--hostname", "ghes.example.com", "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, npmTgz}, exitFailed,
			"https://ghes\\.example\\.com/sigstore/sigstore-js/", ""},
		{"no identity", []string{"--trusted-root", pgRoot, "--bundle", npmBundle, npmTgz}, exitUsage, "", "the policy names no signer"},
		{"unreadable bundle", []string{"--trusted-root", pgRoot, "--repo", "a/b", "--bundle", "does-not-exist.json", npmTgz}, exitUsage, "", "reading bundle"},
		{"unreadable artifact", []string{"--trusted-root", pgRoot, "--repo", "a/b", "--bundle", npmBundle, "does-not-exist.tgz"}, exitUsage, "", "reading artifact"},
		{"unreadable trusted root", []string{"--trusted-root", "nope.json", "--repo", "a/b", "--bundle", npmBundle, npmTgz}, exitUsage, "", "reading trusted root"},
		{"bad digest", []string{"--trusted-root", pgRoot, "--repo", "a/b", "--bundle", npmBundle, "--digest", "md5:00"}, exitUsage, "", "want sha256"},
		{"bad format", []string{"--format", "yaml", "--repo", "a/b"}, exitUsage, "", "--format"},
		{"bad workflow input", []string{"--workflow-input", "novalue", "--repo", "a/b"}, exitUsage, "", "KEY=VALUE"},
		{"bad min level", []string{"--min-level", "4", "--repo", "a/b"}, exitUsage, "", "--min-level"},
		{"unknown flag", []string{"--nope"}, exitUsage, "", "unknown flag: --nope"},
		{"nothing to verify", []string{"--trusted-root", pgRoot, "--repo", "a/b", "--bundle", npmBundle}, exitUsage, "", "nothing to verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runVerifyIn(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
		})
	}
}

func TestVerifyJSONFormat(t *testing.T) {
	code, out, _ := runVerifyIn(t, nil, "--format", "report", "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, npmTgz)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep struct {
		Verified  bool
		Artifacts []struct {
			Level   int
			Bundles []struct {
				Signer struct{ SubjectAlternativeName string }
				Checks []struct {
					Number int
					Name   string
					Status string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !rep.Verified || len(rep.Artifacts) != 1 || rep.Artifacts[0].Level != 2 || len(rep.Artifacts[0].Bundles[0].Checks) != 9 {
		t.Fatalf("report %+v", rep)
	}
	b := rep.Artifacts[0].Bundles[0]
	if b.Signer.SubjectAlternativeName != "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main" {
		t.Errorf("signer %q", b.Signer.SubjectAlternativeName)
	}
	for i, c := range b.Checks {
		if c.Number != i+1 || c.Status != "pass" {
			t.Errorf("check %+v", c)
		}
	}
}

// TestVerifyAsActionStep: inputs from INPUT_*, outputs, step summary and
// the JSON report file, as verify/action.yml runs it.
func TestVerifyAsActionStep(t *testing.T) {
	dir := t.TempDir()
	assets := filepath.Join(dir, "assets")
	if err := os.MkdirAll(assets, 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{npmTgz: "sigstore-js-2.1.0.tgz", npmBundle: "sigstore-js-2.1.0.tgz.sigstore.json"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(assets, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"RUNNER_TEMP":         filepath.Join(dir, "tmp"),
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		"INPUT_BUNDLE-DIR":    assets,
		"INPUT_REPO":          "sigstore/sigstore-js",
		"INPUT_TRUSTED-ROOT":  pgRoot,
		"INPUT_MIN-LEVEL":     "2",
	}
	code, out, errOut := runVerifyIn(t, vars)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	outputs, _ := os.ReadFile(vars["GITHUB_OUTPUT"])
	for _, want := range []string{"verified", "true", "level", "2", "report-path", "verify-report.json"} {
		if !strings.Contains(string(outputs), want) {
			t.Errorf("outputs lack %q:\n%s", want, outputs)
		}
	}
	summary, _ := os.ReadFile(vars["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(summary), "| sigstore-js-2.1.0.tgz | sigstore-js-2.1.0.tgz.sigstore.json | 7 predicate | pass |") {
		t.Errorf("summary lacks the check rows:\n%s", summary)
	}
	if n := strings.Count(string(summary), "| sigstore-js-2.1.0.tgz |"); n != 9 {
		t.Errorf("summary has %d rows for the artifact, want one per check (9)", n)
	}
	report, err := os.ReadFile(filepath.Join(vars["RUNNER_TEMP"], "provenant", "verify-report.json"))
	if err != nil || !json.Valid(report) {
		t.Errorf("report file: %v", err)
	}
}

// TestVerifyActionInputsAreFlags: every input of verify/action.yml is a
// flag of "provenant verify" (or "artifacts") and is passed to the step.
func TestVerifyActionInputsAreFlags(t *testing.T) {
	fs := verify.NewCmdVerify(env{getenv: func(string) string { return "" }}.factory(), nil).Flags()
	checkActionInputs(t, "verify/action.yml", "verify", fs, nil, "artifacts", "github-token")
}

// actionEnvInputs are inputs a step gets as another variable than
// INPUT_<NAME>: verify's github-token is GH_TOKEN, as gh reads it.
var actionEnvInputs = map[string]map[string]string{"verify/action.yml": {"github-token": "GH_TOKEN"}}

// checkActionInputs checks that every input of an action is a flag of fs
// (under the name renames gives it, or one of nonFlags) and is passed to
// the step stepID as INPUT_<NAME>.
func checkActionInputs(t *testing.T, path, stepID string, fs *pflag.FlagSet, renames map[string]string, nonFlags ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]any
		Runs   struct {
			Steps []struct {
				ID  string
				Env map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	var stepEnv map[string]string
	for _, s := range action.Runs.Steps {
		if s.ID == stepID {
			stepEnv = s.Env
		}
	}
	flagOf := map[string]string{}
	for flagName, input := range renames {
		flagOf[input] = flagName
	}
	if len(action.Inputs) < 5 {
		t.Fatalf("%s: only %d inputs", path, len(action.Inputs))
	}
	for name := range action.Inputs {
		flagName := name
		if f, ok := flagOf[name]; ok {
			flagName = f
		}
		if fs.Lookup(flagName) == nil && !slices.Contains(nonFlags, name) {
			t.Errorf("%s: input %s is not a flag", path, name)
		}
		envName := "INPUT_" + strings.ToUpper(name)
		if v, ok := actionEnvInputs[path][name]; ok {
			envName = v
		}
		if want := "${{ inputs." + name + " }}"; stepEnv[envName] != want {
			t.Errorf("%s: input %s is not passed as INPUT_%s", path, name, strings.ToUpper(name))
		}
	}
}

// TestVerifyDocJSONExample: the --format json example of docs/verify.md is
// the output of the command printed above it.
func TestVerifyDocJSONExample(t *testing.T) {
	doc, err := os.ReadFile("docs/verify.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- json-example")
	if !ok {
		t.Fatal("docs/verify.md has no json-example marker")
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	command, rest, _ := strings.Cut(rest, "\n```")
	_, rest, _ = strings.Cut(rest, "```json\n")
	example, _, _ := strings.Cut(rest, "```")
	args := strings.Fields(command)
	if len(args) < 3 || args[0] != "provenant" || args[1] != "verify" {
		t.Fatalf("example command %q", command)
	}
	code, out, errOut := runVerifyIn(t, nil, args[2:]...)
	if code != exitOK {
		t.Fatalf("example command: exit %d: %s", code, errOut)
	}
	if out != example {
		t.Errorf("docs/verify.md JSON example differs from the output of %q:\n%s", command, out)
	}
}

// TestVerifyAsActionStep_PolicyPinsAndExcludeInputs: the headline features
// are inputs of the verify action too, applied as the flags are: a policy
// file the bundle breaks fails the step, pins are recorded, exclude leaves
// an entry out.
func TestVerifyAsActionStep_PolicyPinsAndExcludeInputs(t *testing.T) {
	dir := t.TempDir()
	assets := filepath.Join(dir, "assets")
	os.MkdirAll(assets, 0o755)
	copyFile(t, npmTgz, filepath.Join(assets, "sigstore-js-2.1.0.tgz"))
	copyFile(t, npmBundle, filepath.Join(assets, "sigstore-js-2.1.0.tgz.sigstore.json"))
	if err := os.WriteFile(filepath.Join(assets, "NOTES.txt"), []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := func() map[string]string {
		return map[string]string{"GITHUB_ACTIONS": "true", "RUNNER_TEMP": filepath.Join(dir, "tmp"),
			"INPUT_BUNDLE-DIR": assets, "INPUT_TRUSTED-ROOT": pgRoot, "INPUT_EXCLUDE": "*.txt"}
	}
	ok := base()
	ok["INPUT_POLICY"] = writePolicy(t, npmPolicy)
	ok["INPUT_PINS"] = filepath.Join(dir, "pins.json")
	if code, out, errOut := runVerifyIn(t, ok); code != exitOK {
		t.Fatalf("policy, pins and exclude inputs: exit %d\n%s\n%s", code, out, errOut)
	}
	if pins, err := os.ReadFile(ok["INPUT_PINS"]); err != nil || !strings.Contains(string(pins), `"repositoryId": "495574555"`) {
		t.Errorf("pins input not applied: %v\n%s", err, pins)
	}
	broken := base()
	broken["INPUT_POLICY"] = writePolicy(t, strings.Replace(npmPolicy, "495574555", "1", 1))
	if code, out, _ := runVerifyIn(t, broken); code != exitFailed || !strings.Contains(out, "policy rule source.repository-id") {
		t.Errorf("a policy input the bundle breaks: exit %d, want 1 naming the rule\n%s", code, out)
	}
	noExclude := base()
	noExclude["INPUT_REPO"] = "sigstore/sigstore-js"
	delete(noExclude, "INPUT_EXCLUDE")
	if code, _, _ := runVerifyIn(t, noExclude); code != exitFailed {
		t.Errorf("without the exclude input NOTES.txt (no attestation) must fail the run: exit %d", code)
	}
}

// TestVerifyPrintProvenance: slsa-verifier's --print-provenance prints the
// verified statement, predicate included, one JSON a line; a failed
// verification prints none.
func TestVerifyPrintProvenance(t *testing.T) {
	args := []string{"--provenance-path", npmBundle, "--source-uri", "github.com/sigstore/sigstore-js", "--trusted-root", pgRoot, "--print-provenance", npmTgz}
	code, out, errOut := runVerifyIn(t, nil, args...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var st struct {
		Type          string         `json:"_type"`
		PredicateType string         `json:"predicateType"`
		Subject       []any          `json:"subject"`
		Predicate     map[string]any `json:"predicate"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Type != "https://in-toto.io/Statement/v1" || len(st.Subject) != 1 || st.Predicate["buildDefinition"] == nil {
		t.Errorf("not the verified statement with its predicate (%v):\n%s", err, out)
	}
	wrongSource := []string{"--provenance-path", npmBundle, "--source-uri", "github.com/sigstore/cosign", "--trusted-root", pgRoot, "--print-provenance", npmTgz}
	code, out, errOut = runVerifyIn(t, nil, wrongSource...)
	if code != exitFailed || strings.TrimSpace(out) != "" || !strings.Contains(errOut, "FAILED") {
		t.Errorf("a failed verification: exit %d, printed %q, stderr %q (want the failure on stderr, nothing on stdout)", code, out, errOut)
	}
	if code, _, errOut := runVerifyIn(t, nil, append(args, "--format", "json")...); code != exitUsage || !strings.Contains(errOut, "--print-provenance") {
		t.Errorf("--print-provenance with --format: exit %d, %s", code, errOut)
	}
}

// TestVerifyGHJSONOnFailure: as gh, a failed verification under --format
// json prints no JSON (a script reading stdout sees nothing, not an empty
// array that looks like success) and says what failed on stderr.
func TestVerifyGHJSONOnFailure(t *testing.T) {
	code, out, errOut := runVerifyIn(t, nil, "--trusted-root", pgRoot, "--repo", "sigstore/cosign", "--bundle", npmBundle, "--format", "json", npmTgz)
	if code != exitFailed || out != "" || !strings.Contains(errOut, "FAILED") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runVerifyIn(t, nil, "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, "--format", "json", "-q", "length", npmTgz)
	if code != exitOK || out != "1\n" {
		t.Errorf("verified: exit %d, --jq length = %q, want 1", code, out)
	}
}
