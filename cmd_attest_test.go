package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/builder/oidctest"
	"github.com/provenant/provenant/internal/cmd/attest"
	"github.com/provenant/provenant/internal/otheruser"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/provenance/provenancetest"
)

// binary is the provenant binary built once for the tests that run it as a
// workflow step would.
var binary string

func TestMain(m *testing.M) {
	if name := otheruser.Case(); name != "" { // a child of otheruser.Run
		os.Exit(runOtherUserCase(name))
	}
	if os.Getenv(rssLauncherEnv) != "" {
		os.Exit(launchForRSS(os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "provenant-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "provenant")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building provenant: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// step is a simulated GitHub Actions step: its environment and workspace.
type step struct {
	t         *testing.T
	env       map[string]string
	workspace string
	temp      string
}

func newStep(t *testing.T) *step {
	t.Helper()
	root := t.TempDir()
	s := &step{t: t, workspace: filepath.Join(root, "work"), temp: filepath.Join(root, "runner-temp")}
	os.MkdirAll(s.workspace, 0o755)
	os.MkdirAll(s.temp, 0o755)
	s.env = map[string]string{
		"PATH":                       os.Getenv("PATH"),
		"HOME":                       root,
		"GITHUB_ACTIONS":             "true",
		"GITHUB_SERVER_URL":          "https://github.com",
		"GITHUB_REPOSITORY":          oidctest.DefaultRepository,
		"GITHUB_REPOSITORY_ID":       oidctest.DefaultRepositoryID,
		"GITHUB_REPOSITORY_OWNER":    oidctest.DefaultRepositoryOwner,
		"GITHUB_REPOSITORY_OWNER_ID": oidctest.DefaultRepositoryOwnerID,
		"GITHUB_REF":                 oidctest.DefaultRef,
		"GITHUB_SHA":                 oidctest.DefaultSHA,
		"GITHUB_EVENT_NAME":          "push",
		"GITHUB_WORKFLOW_REF":        oidctest.DefaultWorkflowRef,
		"GITHUB_RUN_ID":              oidctest.DefaultRunID,
		"GITHUB_RUN_ATTEMPT":         oidctest.DefaultRunAttempt,
		"RUNNER_ENVIRONMENT":         "github-hosted",
		"RUNNER_TEMP":                s.temp,
		"GITHUB_WORKSPACE":           s.workspace,
		"GITHUB_OUTPUT":              filepath.Join(root, "output"),
		"GITHUB_STEP_SUMMARY":        filepath.Join(root, "summary"),
	}
	return s
}

// withTokenService gives the step an id-token permission backed by the
// local token service.
func (s *step) withTokenService() *oidctest.Server {
	srv, stop, err := oidctest.Start("127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(stop)
	for k, v := range srv.Env() {
		s.env[k] = v
	}
	s.env["INPUT_OIDC-ISSUER"] = srv.Issuer
	return srv
}

func (s *step) file(name, content string) string {
	p := filepath.Join(s.workspace, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// run runs the binary in the workspace and returns stdout, stderr, exit code.
func (s *step) run(args ...string) (string, string, int) {
	cmd := exec.Command(binary, args...)
	cmd.Dir = s.workspace
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func (s *step) outputs() map[string]string {
	data, err := os.ReadFile(s.env["GITHUB_OUTPUT"])
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{} // the step wrote no output
	}
	out, err := builder.ParseFileCommands(string(data))
	if err != nil {
		s.t.Fatalf("GITHUB_OUTPUT: %v", err)
	}
	return out
}

// checkPredicate compares every predicate field with the claims that must
// have produced it, on github.com.
func checkPredicate(t *testing.T, raw []byte, claims map[string]string) {
	t.Helper()
	provenancetest.CheckGitHubPredicate(t, raw, "https://github.com", claims)
}

func defaultClaimStrings() map[string]string {
	out := map[string]string{}
	for k, v := range oidctest.DefaultClaims() {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func TestAttestAsWorkflowStepFromToken(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]any
	}{
		{"default push to main", nil},
		{"tag from a reusable workflow in another repository", map[string]any{
			"ref": "refs/tags/v2.0.1", "ref_type": "tag", "event_name": "release",
			"sha":              "0123456789abcdef0123456789abcdef01234567",
			"workflow_ref":     "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v2.0.1",
			"job_workflow_ref": "octo-org/build-platform/.github/workflows/slsa-build.yml@refs/tags/v1",
			"run_id":           "42", "run_attempt": "3", "repository_id": "1001", "repository_owner_id": "2002",
		}},
		{"self-hosted runner, other repository", map[string]any{
			"repository": "acme/widgets", "repository_owner": "acme",
			"workflow_ref":       "acme/widgets/.github/workflows/ci/build.yaml@refs/heads/dev",
			"job_workflow_ref":   "acme/widgets/.github/workflows/ci/build.yaml@refs/heads/dev",
			"ref":                "refs/heads/dev",
			"runner_environment": "self-hosted", "event_name": "workflow_dispatch",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStep(t)
			srv := s.withTokenService()
			srv.SetClaims(tt.claims)
			claims := defaultClaimStrings()
			for k, v := range tt.claims {
				claims[k] = v.(string)
			}
			s.file("dist/app-linux", "linux binary")
			s.file("dist/app-darwin", "darwin binary")
			s.env["INPUT_SUBJECT-PATH"] = "dist/*"
			stdout, stderr, code := s.run("attest", "--dry-run")
			if code != 0 {
				t.Fatalf("exit %d\nstdout:%s\nstderr:%s", code, stdout, stderr)
			}
			// The statement is the last line; the token must never appear.
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			raw := []byte(lines[len(lines)-1])
			checkPredicate(t, raw, claims)
			st := provenancetest.Decode(t, raw)
			if len(st.Subject) != 2 || st.Subject[0].Name != "app-darwin" || st.Subject[1].Name != "app-linux" {
				t.Errorf("subjects = %+v", st.Subject)
			}
			tok, _ := srv.Token("sigstore", nil)
			header := tok[:strings.Index(tok, ".")]
			if strings.Contains(stdout+stderr, header+".") && !strings.Contains(stdout, "::add-mask::") {
				t.Error("token printed without a mask")
			}
		})
	}
}

func TestAttestNoSignAsWorkflowStep(t *testing.T) {
	s := newStep(t)
	s.file("out/pkg.tgz", "package")
	ev := s.file("event.json", `{"inputs":{"version":"3.1.4","publish":true}}`)
	s.env["GITHUB_EVENT_PATH"] = ev
	s.env["GITHUB_EVENT_NAME"] = "workflow_dispatch"
	s.env["INPUT_SUBJECT-PATH"] = "out/pkg.tgz"
	s.env["INPUT_INCLUDE-WORKFLOW-INPUTS"] = "true"
	s.env["INPUT_SHOW-SUMMARY"] = "true"
	stdout, stderr, code := s.run("attest", "--no-sign")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "SLSA Build L1") {
		t.Errorf("the log does not say the provenance is unsigned L1:\n%s", stdout)
	}
	out := s.outputs()
	want := out["bundle-path"]
	if filepath.Base(want) != "pkg.tgz.intoto.json" || !strings.HasPrefix(want, filepath.Join(s.temp, "provenant", "run-")) || out["subject-count"] != "1" {
		t.Errorf("outputs = %v, want bundle-path $RUNNER_TEMP/provenant/run-*/pkg.tgz.intoto.json", out)
	}
	raw, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	claims := defaultClaimStrings()
	claims["event_name"] = "workflow_dispatch"
	checkPredicate(t, raw, claims)
	st := provenancetest.Decode(t, raw)
	if st.Predicate.BuildDefinition.ExternalParameters.Workflow.Inputs["version"] != "3.1.4" ||
		st.Predicate.BuildDefinition.ExternalParameters.Workflow.Inputs["publish"] != true {
		t.Errorf("workflow inputs = %v", st.Predicate.BuildDefinition.ExternalParameters.Workflow.Inputs)
	}
	summary, _ := os.ReadFile(s.env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(summary), "| pkg\\.tgz | `sha256:") {
		t.Errorf("step summary lacks the subject row:\n%s", summary)
	}
}

func TestAttestFailures(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(s *step)
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no id-token permission", func(s *step) { s.file("a", "a") }, []string{"attest", "--subject-path", "a"}, 1, "permissions: id-token: write"},
		{"glob matches nothing", func(s *step) {}, []string{"attest", "--no-sign", "--subject-path", "dist/*.zip"}, 2, `subject-path "dist/*.zip": matches no file`},
		{"directory as file", func(s *step) { s.file("d/x", "x") }, []string{"attest", "--no-sign", "--subject-path", "d"}, 2, "is a directory"},
		{"malformed digest input", func(s *step) {
			s.env["INPUT_SUBJECT-NAME"] = "img"
			s.env["INPUT_SUBJECT-DIGEST"] = "sha256:123"
		}, []string{"attest", "--no-sign"}, 2, "subject-digest"},
		{"predicate not JSON", func(s *step) { s.file("a", "a"); s.file("p.json", "{nope") },
			[]string{"attest", "--no-sign", "--subject-path", "a", "--predicate-type", "https://spdx.dev/Document", "--predicate-path", "p.json"}, 2, "not valid JSON"},
		{"predicate without type", func(s *step) { s.file("a", "a") },
			[]string{"attest", "--no-sign", "--subject-path", "a", "--predicate", "{}"}, 2, "need a predicate-type"},
		{"missing checksums file", func(s *step) {}, []string{"attest", "--no-sign", "--subject-checksums", "SUMS"}, 2, `subject-checksums "SUMS"`},
		{"stray argument", func(s *step) {}, []string{"attest", "file.bin"}, 2, "unexpected argument"},
		{"bad bool input", func(s *step) { s.env["INPUT_NO-SIGN"] = "maybe" }, []string{"attest"}, 2, "input no-sign"},
		{"environment incomplete", func(s *step) { s.file("a", "a"); delete(s.env, "GITHUB_RUN_ID") },
			[]string{"attest", "--no-sign", "--subject-path", "a"}, 1, "GITHUB_RUN_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStep(t)
			tt.setup(s)
			stdout, stderr, code := s.run(tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stdout+stderr, tt.wantErr) {
				t.Errorf("output lacks %q:\nstdout:%s\nstderr:%s", tt.wantErr, stdout, stderr)
			}
			// Nothing written: no bundle, no outputs.
			entries, _ := os.ReadDir(filepath.Join(s.temp, "provenant"))
			if len(entries) != 0 {
				t.Errorf("files left behind: %v", entries)
			}
			if out := s.outputs(); len(out) != 0 {
				t.Errorf("outputs set on failure: %v", out)
			}
		})
	}
}

func TestAttestLocalAndCustomPredicate(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.bin"), []byte("app"), 0o644)
	os.WriteFile(filepath.Join(dir, "sbom.json"), []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","n":18446744073709551615}`), 0o644)
	cmd := exec.Command(binary, "attest", "--no-sign", "--subject-path", "app.bin", "--predicate-type", "https://cyclonedx.org/bom", "--predicate-path", "sbom.json", "--out", "sbom.intoto.json")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "sbom.intoto.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"predicateType":"https://cyclonedx.org/bom","predicate":{"bomFormat":"CycloneDX","specVersion":"1.6","n":18446744073709551615}`)) {
		t.Errorf("custom predicate not kept exactly:\n%s", raw)
	}
}

func TestAttestHelpAndVersion(t *testing.T) {
	s := newStep(t)
	help, _, code := s.run("attest", "--help")
	if code != 0 {
		t.Errorf("--help exit %d", code)
	}
	for _, f := range []string{"subject-path", "subject-name", "subject-digest", "subject-checksums", "predicate-type", "predicate-path", "predicate", "include-workflow-inputs", "no-sign", "dry-run", "sigstore", "oidc-issuer", "out", "show-summary", "bundle-path"} {
		if !strings.Contains(help, "--"+f) && !strings.Contains(help, f) {
			t.Errorf("help does not document %s", f)
		}
	}
	stdout, _, code := s.run("version")
	if code != 0 || !strings.HasPrefix(stdout, "provenant ") {
		t.Errorf("version: %d %q", code, stdout)
	}
	if _, _, code := s.run("frobnicate"); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
}

// TestAttest_TooManySubjectsToSign: more subjects than a signed bundle may
// hold (provenance.MaxSignedSubjects) is a usage error before the token is
// asked for, so no certificate or log entry is spent on a bundle no
// verifier accepts; --no-sign writes them.
func TestAttest_TooManySubjectsToSign(t *testing.T) {
	s := newStep(t)
	srv := s.withTokenService()
	for i := range provenance.MaxSignedSubjects + 1 {
		s.file(fmt.Sprintf("dist/f%04d.bin", i), fmt.Sprint(i))
	}
	s.env["INPUT_SUBJECT-PATH"] = "dist/*.bin"
	stdout, stderr, code := s.run("attest")
	if code != exitUsage || !strings.Contains(stdout+stderr, "1025 subjects: a signed attestation holds at most 1024 subjects") {
		t.Fatalf("exit %d, want %d naming 1025 and 1024:\n%s\n%s", code, exitUsage, stdout, stderr)
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("the token service was asked %d times", n)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.temp, "provenant")); len(entries) != 0 || len(s.outputs()) != 0 {
		t.Errorf("files or outputs left behind: %v, %v", entries, s.outputs())
	}
	if _, stderr, code := s.run("attest", "--no-sign"); code != 0 || !strings.Contains(stderr, "1025 subject(s)") {
		t.Errorf("--no-sign: exit %d\n%s", code, stderr)
	}
}

func TestAttestTenThousandFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 files")
	}
	s := newStep(t)
	const n = 10000
	for i := 0; i < n; i++ {
		dir := filepath.Join(s.workspace, "release", fmt.Sprintf("part-%02d", i%40))
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("asset-%05d.bin", i)), []byte(fmt.Sprint("asset ", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.env["INPUT_SUBJECT-PATH"] = "release/**/*.bin"
	stdout, stderr, code := s.run("attest", "--no-sign")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	out := s.outputs()
	if out["subject-count"] != fmt.Sprint(n) {
		t.Errorf("subject-count = %q, want %d", out["subject-count"], n)
	}
	raw, err := os.ReadFile(out["bundle-path"])
	if err != nil {
		t.Fatal(err)
	}
	st := provenancetest.Decode(t, raw)
	if len(st.Subject) != n {
		t.Fatalf("%d subjects in the statement, want %d", len(st.Subject), n)
	}
	seen := map[string]bool{}
	for _, sub := range st.Subject {
		seen[sub.Name] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct subject names, want %d", len(seen), n)
	}
	summary, _ := os.ReadFile(s.env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(summary), fmt.Sprintf("and %d more", n-attest.MaxSummaryRows)) {
		t.Error("the step summary of 10,000 subjects is not capped")
	}
}

// TestAttestActionInputsAreFlags: every input of action.yml is a flag of
// "provenant attest" and is passed to the step.
func TestAttestActionInputsAreFlags(t *testing.T) {
	fs := attestFlagSet()
	checkActionInputs(t, "action.yml", "attest", fs, attest.InputNames)
}

func TestAttestOutToFolder(t *testing.T) {
	s := newStep(t)
	s.file("bin/tool", "tool")
	out := filepath.Join(s.workspace, "attestations")
	os.MkdirAll(out, 0o755)
	if stdout, stderr, code := s.run("attest", "--no-sign", "--subject-path", "bin/tool", "--out", out); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "tool.intoto.json")); err != nil {
		t.Errorf("--out FOLDER: %v", err)
	}
	if got := s.outputs()["bundle-path"]; got != filepath.Join(out, "tool.intoto.json") {
		t.Errorf("bundle-path = %q", got)
	}
}

// TestAttestWithoutOutputFile: a runner-like environment without
// GITHUB_OUTPUT or GITHUB_STEP_SUMMARY still works (no panic).
func TestAttestWithoutOutputFile(t *testing.T) {
	s := newStep(t)
	delete(s.env, "GITHUB_OUTPUT")
	delete(s.env, "GITHUB_STEP_SUMMARY")
	s.file("a.bin", "a")
	if stdout, stderr, code := s.run("attest", "--no-sign", "--subject-path", "a.bin"); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(s.temp, "provenant", "run-*", "a.bin.intoto.json")); len(m) != 1 {
		t.Errorf("statement not written under $RUNNER_TEMP/provenant/run-*: %v", m)
	}
}

// checkNoForeignCommands fails when a line of the step log starts a
// workflow command other than the ones provenant means to issue.
func checkNoForeignCommands(t *testing.T, log string) {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "::") && !strings.HasPrefix(line, "::error::provenant ") && !strings.HasPrefix(line, "::add-mask::") {
			t.Errorf("a line of the log starts a workflow command: %q", line)
		}
	}
}

const fixedDelimiterInjection = "x\n::warning title=INJECTED::owned\n_GitHubActionsFileCommandDelimeter_\nlog-index=31337\nextra<<EOF\nhi\nEOF\n"

func TestAttest_FileNameInjectsOutputsAndCommands(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(s *step)
		args    []string
		wantErr string
	}{
		{"newline in a globbed file name", func(s *step) { s.file("dist/"+fixedDelimiterInjection+"a.tgz", "x") },
			[]string{"--subject-path", "dist/*"}, "control character U+000A"},
		{"ESC in a checksums name", func(s *step) {
			s.file("SUMS", strings.Repeat("a", 64)+"  app\x1b[2J.tgz\n")
		}, []string{"--subject-checksums", "SUMS"}, "control character U+001B"},
		{"NUL in subject-name", func(s *step) {}, []string{"--subject-name", "img\x01::warning::x", "--subject-digest", "sha256:" + strings.Repeat("a", 64)}, "control character U+0001"},
		{"C1 in a checksums name", func(s *step) { s.file("SUMS", strings.Repeat("b", 64)+"  a\u0085b\n") },
			[]string{"--subject-checksums", "SUMS"}, "control character U+0085"},
		{"invalid UTF-8 file name", func(s *step) { s.file("dist/bad\xff.tgz", "x") },
			[]string{"--subject-path", "dist/*"}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStep(t)
			tt.setup(s)
			stdout, stderr, code := s.run(append([]string{"attest", "--no-sign"}, tt.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stdout+stderr, tt.wantErr) {
				t.Errorf("output lacks %q:\n%s\n%s", tt.wantErr, stdout, stderr)
			}
			checkNoForeignCommands(t, stdout)
			checkNoForeignCommands(t, stderr)
			if out := s.outputs(); len(out) != 0 {
				t.Errorf("outputs set: %q", out)
			}
		})
	}
}

func TestAttest_BundlePathInjectsOutputs(t *testing.T) {
	s := newStep(t)
	s.file("a.bin", "a")
	dir := filepath.Join(s.workspace, fixedDelimiterInjection)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "a.intoto.json")
	s.env["INPUT_BUNDLE-PATH"] = out
	stdout, stderr, code := s.run("attest", "--no-sign", "--subject-path", "a.bin")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	checkNoForeignCommands(t, stdout)
	checkNoForeignCommands(t, stderr)
	got := s.outputs()
	if got["bundle-path"] != out || len(got) != 2 || got["subject-count"] != "1" {
		t.Errorf("outputs = %q, want bundle-path %q and subject-count only", got, out)
	}
	if strings.Contains(stderr, "\n::warning") {
		t.Errorf("the wrote line prints the name raw:\n%s", stderr)
	}
}

func TestAttest_PrivateRepositorySignedOnPublicGood(t *testing.T) {
	tests := []struct {
		name       string
		visibility any
		server     string
		sigstore   string
		wantErr    string
	}{
		{"private, public-good asked", "private", "https://github.com", "public-good", "sigstore public-good: refused"},
		{"internal, public-good asked", "internal", "https://github.com", "public-good", "sigstore public-good: refused"},
		{"no visibility claim, public-good asked", nil, "https://github.com", "public-good", "sigstore public-good: refused"},
		{"GHES public, auto", "public", "https://ghes.example.com", "auto", "GitHub Enterprise Server"},
		{"GHES public, public-good asked", "public", "https://ghes.example.com", "public-good", "sigstore public-good: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStep(t)
			srv := s.withTokenService()
			srv.SetClaims(map[string]any{"repository_visibility": tt.visibility})
			s.env["GITHUB_SERVER_URL"] = tt.server
			// Any Sigstore or TUF request would go to this dead proxy.
			s.env["HTTPS_PROXY"], s.env["HTTP_PROXY"] = "http://127.0.0.1:1", "http://127.0.0.1:1"
			s.env["NO_PROXY"] = "127.0.0.1"
			s.file("a.bin", "a")
			stdout, stderr, code := s.run("attest", "--subject-path", "a.bin", "--sigstore", tt.sigstore)
			if code != exitFailed {
				t.Errorf("exit %d, want %d", code, exitFailed)
			}
			if !strings.Contains(stdout+stderr, tt.wantErr) {
				t.Errorf("output lacks %q:\n%s\n%s", tt.wantErr, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "signed with") {
				t.Error("signed anyway")
			}
		})
	}
}

func TestAttest_TwoStepsOverwriteEachOthersBundle(t *testing.T) {
	s := newStep(t)
	s.file("dist/app.tgz", "app")
	s.file("sbom.json", `{"bomFormat":"CycloneDX"}`)
	s.env["INPUT_SUBJECT-PATH"] = "dist/app.tgz"
	runStep := func(args ...string) map[string]string {
		t.Helper()
		s.env["GITHUB_OUTPUT"] = filepath.Join(t.TempDir(), "output")
		stdout, stderr, code := s.run(append([]string{"attest", "--no-sign"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		return s.outputs()
	}
	first := runStep()
	second := runStep("--predicate-type", "https://cyclonedx.org/bom", "--predicate-path", "sbom.json")
	if first["bundle-path"] == second["bundle-path"] {
		t.Fatalf("both steps wrote %s", first["bundle-path"])
	}
	for path, want := range map[string]string{first["bundle-path"]: "https://slsa.dev/provenance/v1", second["bundle-path"]: "https://cyclonedx.org/bom"} {
		if got := provenancetest.Decode(t, mustRead(t, path)).PredicateType; got != want {
			t.Errorf("%s holds %s, want %s", path, got, want)
		}
	}
}

func TestAttest_ExplicitBundlePathIsNotOverwritten(t *testing.T) {
	s := newStep(t)
	s.file("a.bin", "a")
	existing := s.file("a.intoto.json", "step 1's attestation")
	s.env["INPUT_BUNDLE-PATH"] = existing
	stdout, stderr, code := s.run("attest", "--no-sign", "--subject-path", "a.bin")
	if code != exitUsage || !strings.Contains(stdout+stderr, "exists") || !strings.Contains(stdout+stderr, "overwrite") {
		t.Errorf("exit %d, want %d and a refusal naming overwrite:\n%s\n%s", code, exitUsage, stdout, stderr)
	}
	if string(mustRead(t, existing)) != "step 1's attestation" {
		t.Error("the existing file was replaced")
	}
	s.env["INPUT_OVERWRITE"] = "true"
	if stdout, stderr, code := s.run("attest", "--no-sign", "--subject-path", "a.bin"); code != 0 {
		t.Fatalf("with overwrite: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if provenancetest.Decode(t, mustRead(t, existing)).PredicateType != "https://slsa.dev/provenance/v1" {
		t.Error("overwrite: true did not replace the file")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestAttest_ForgedWorkflowInputsOnAPushRun(t *testing.T) {
	tests := []struct {
		name      string
		tokenEv   string // event_name claim of the token; "" means --no-sign
		envEv     string // GITHUB_EVENT_NAME
		wantCode  int
		wantInput bool
		wantErr   string
	}{
		{"push token, environment says workflow_dispatch", "push", "workflow_dispatch", exitUsage, false, `triggered by "push" (the verified token's event_name)`},
		{"workflow_dispatch token", "workflow_dispatch", "workflow_dispatch", exitOK, true, ""},
		{"no-sign on a push run", "", "push", exitUsage, false, `"push" (GITHUB_EVENT_NAME)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStep(t)
			args := []string{"attest", "--subject-path", "a.bin", "--include-workflow-inputs"}
			if tt.tokenEv != "" {
				srv := s.withTokenService()
				srv.SetClaims(map[string]any{"event_name": tt.tokenEv})
				args = append(args, "--dry-run")
			} else {
				args = append(args, "--no-sign", "--out", filepath.Join(s.workspace, "st.json"))
			}
			s.file("a.bin", "a")
			// An earlier step rewrote the event file.
			s.env["GITHUB_EVENT_PATH"] = s.file("event.json", `{"inputs":{"approved_by":"security-team"}}`)
			s.env["GITHUB_EVENT_NAME"] = tt.envEv
			stdout, stderr, code := s.run(args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.wantErr) {
				t.Errorf("output lacks %q:\n%s\n%s", tt.wantErr, stdout, stderr)
			}
			if got := strings.Contains(stdout, `"approved_by":"security-team"`); got != tt.wantInput {
				t.Errorf("inputs recorded = %v, want %v", got, tt.wantInput)
			}
		})
	}
}

func TestAttest_SymlinkLoopInGlobExhaustsMemory(t *testing.T) {
	s := newStep(t)
	s.file("dist/app.tgz", "app")
	for _, l := range []string{"l1", "l2"} {
		if err := os.Symlink(".", filepath.Join(s.workspace, "dist", l)); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code := s.run("attest", "--no-sign", "--subject-path", "dist/**")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := s.outputs()["subject-count"]; got != "1" {
		t.Errorf("subject-count = %q, want 1", got)
	}
	for _, l := range []string{"l1", "l2"} {
		if !strings.Contains(stdout, "::warning::subject-path: skipping the symbolic link") || !strings.Contains(stdout, filepath.Join("dist", l)) {
			t.Errorf("no warning names the loop %s:\n%s", l, stdout)
		}
	}
}

// runGuarded runs the step with a deadline far beyond any honest run: a
// command still running then is killed and reported as hanging.
func (s *step) runGuarded(args ...string) (string, string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = s.workspace
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		s.t.Fatalf("%v did not end: killed\n%s\n%s", args, stdout.String(), stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestAttest_EndlessAndBlockingInputFiles(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(s *step) []string
		wantErr string
	}{
		{"predicate-path /dev/zero", func(s *step) []string {
			return []string{"--predicate-type", "https://example.com/p", "--predicate-path", "/dev/zero"}
		}, `predicate-path "/dev/zero": is not a regular file (a device)`},
		{"subject-checksums /dev/zero", func(s *step) []string {
			return []string{"--subject-checksums", "/dev/zero"}
		}, `subject-checksums "/dev/zero": is not a regular file (a device)`},
		{"predicate-path a FIFO", func(s *step) []string {
			p := filepath.Join(s.workspace, "fifo")
			makeFIFO(s.t, p)
			return []string{"--predicate-type", "https://example.com/p", "--predicate-path", p}
		}, "a named pipe"},
		{"subject-checksums a FIFO", func(s *step) []string {
			p := filepath.Join(s.workspace, "fifo")
			makeFIFO(s.t, p)
			return []string{"--subject-checksums", p}
		}, "a named pipe"},
		{"event file /dev/zero", func(s *step) []string {
			s.env["GITHUB_EVENT_PATH"] = "/dev/zero"
			s.env["GITHUB_EVENT_NAME"] = "workflow_dispatch"
			return []string{"--include-workflow-inputs"}
		}, "event file /dev/zero: is not a regular file (a device)"},
		{"predicate file over 16 MiB", func(s *step) []string {
			p := filepath.Join(s.workspace, "big.json")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				s.t.Fatal(err)
			}
			if err := os.Truncate(p, 16<<20+1); err != nil {
				s.t.Fatal(err)
			}
			return []string{"--predicate-type", "https://example.com/p", "--predicate-path", p}
		}, "larger than the 16 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStep(t)
			s.file("a.bin", "a")
			args := append([]string{"attest", "--no-sign", "--subject-path", "a.bin"}, tt.setup(s)...)
			stdout, stderr, code := s.runGuarded(args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stdout+stderr, tt.wantErr) {
				t.Errorf("output lacks %q:\n%s\n%s", tt.wantErr, stdout, stderr)
			}
		})
	}
}

// runRefusedBeforeSigning runs attest with args and a Sigstore instance
// that never answers (hangingSigstore): the step must exit with a usage
// error saying want before Fulcio is called.
func (s *step) runRefusedBeforeSigning(want string, args ...string) (stdout, stderr string) {
	s.t.Helper()
	inst, fulcioCalled := hangingSigstore(s.t)
	stdout, stderr, code := s.runGuarded(append([]string{"attest", "--sigstore", inst}, args...)...)
	select {
	case <-fulcioCalled:
		s.t.Fatal("Fulcio was called before the refusal")
	default:
	}
	if code != exitUsage || !strings.Contains(stdout+stderr, want) {
		s.t.Errorf("exit %d, want %d and %q:\n%s\n%s", code, exitUsage, want, stdout, stderr)
	}
	return stdout, stderr
}

// hangingSigstore is a Sigstore instance folder whose services accept a
// connection and never answer; arrived is closed at the first request.
func hangingSigstore(t *testing.T) (dir string, arrived <-chan struct{}) {
	t.Helper()
	ch, stop := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(ch) })
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	svc := fmt.Sprintf(`[{"url":%q,"majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"},"operator":"test"}]`, srv.URL)
	sc := `{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","caUrls":` + svc +
		`,"rekorTlogUrls":` + svc + `,"rekorTlogConfig":{"selector":"ANY"},"tsaConfig":{"selector":"ANY"}}`
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "signing_config.json"), []byte(sc), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := os.ReadFile("testdata/fixtures/trusted-roots/public-good-2023.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "trusted_root.json"), tr, 0o644)
	return dir, ch
}

func TestAttest_SignalIsSwallowed(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			s := newStep(t)
			s.withTokenService()
			inst, arrived := hangingSigstore(t)
			s.file("a.bin", "a")
			cmd := exec.Command(binary, "attest", "--subject-path", "a.bin", "--sigstore", inst)
			cmd.Dir = s.workspace
			for k, v := range s.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case <-arrived: // attest is now waiting on Fulcio
			case err := <-exited:
				t.Fatalf("ended before calling Fulcio: %v\n%s\n%s", err, stdout.String(), stderr.String())
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatal("never called Fulcio")
			}
			cmd.Process.Signal(sig)
			var err error
			select {
			case err = <-exited:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("%s did not end the run", sig)
			}
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != exitFailed {
				t.Errorf("exit %v, want code %d", err, exitFailed)
			}
			if !strings.Contains(stdout.String(), "interrupted") {
				t.Errorf("the log does not say the run was interrupted:\n%s\n%s", stdout.String(), stderr.String())
			}
			if entries, _ := os.ReadDir(filepath.Join(s.temp, "provenant")); len(entries) != 0 {
				t.Errorf("left behind in RUNNER_TEMP/provenant: %v", entries)
			}
		})
	}
}

func TestAttest_FailuresAfterTheLogEntry(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(s *step) []string
		wantErr string
	}{
		{"unwritable out folder", func(s *step) []string {
			parent := s.file("not-a-folder", "x")
			return []string{"--out", filepath.Join(parent, "a.sigstore.json")}
		}, "the folder is not writable"},
		{"subject name too long for a file name", func(s *step) []string {
			return []string{"--out", filepath.Join(s.workspace, strings.Repeat("n", 300)+".sigstore.json")}
		}, "longer than the 255"},
		{"unwritable GITHUB_OUTPUT", func(s *step) []string {
			s.env["GITHUB_OUTPUT"] = s.workspace // a folder
			return nil
		}, "GITHUB_OUTPUT"},
		{"unwritable GITHUB_STEP_SUMMARY", func(s *step) []string {
			s.env["GITHUB_STEP_SUMMARY"] = filepath.Join(s.file("f", "x"), "summary")
			return nil
		}, "GITHUB_STEP_SUMMARY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStep(t)
			s.withTokenService()
			s.file("a.bin", "a")
			stdout, stderr := s.runRefusedBeforeSigning(tt.wantErr, append([]string{"--subject-path", "a.bin"}, tt.setup(s)...)...)
			if strings.Contains(stdout+stderr, "panic") {
				t.Errorf("panicked:\n%s", stderr)
			}
			if entries, _ := os.ReadDir(filepath.Join(s.temp, "provenant")); len(entries) != 0 {
				t.Errorf("left behind in RUNNER_TEMP/provenant: %v", entries)
			}
		})
	}
}

func TestAttest_StepSummaryPassesNamesUnescaped(t *testing.T) {
	names := []string{
		`<img src=https://evil.example/x.png onerror=alert(1)>`,
		`[Download here](https://evil.example/payload)`,
		`a | b | c`,
		`www.evil.example`,
		"`code`<script>",
	}
	var sums strings.Builder
	for i, n := range names {
		fmt.Fprintf(&sums, "%064x  %s\n", i+1, n)
	}
	s := newStep(t)
	s.file("SUMS", sums.String())
	if stdout, stderr, code := s.run("attest", "--no-sign", "--subject-checksums", "SUMS"); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	summary := string(mustRead(t, s.env["GITHUB_STEP_SUMMARY"]))
	for _, bad := range []string{"<img", "<script", "](https", "www.evil", "| b |", "`code`"} {
		if strings.Contains(summary, bad) {
			t.Errorf("the summary holds %q unescaped:\n%s", bad, summary)
		}
	}
	// Each name is one row of two cells.
	rows := 0
	for _, line := range strings.Split(summary, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Contains(line, "sha256:") {
			rows++
			if c := strings.Count(line, "|"); c != 3 {
				t.Errorf("row %q has %d cell separators, want 3", line, c)
			}
		}
	}
	if rows != len(names) {
		t.Errorf("%d rows, want %d:\n%s", rows, len(names), summary)
	}
}

func TestAttest_PredicateTypeNotAURIAndAmbiguousPredicates(t *testing.T) {
	tests := []struct{ predicateType, predicate, want string }{
		{"spdx", `{}`, "not an absolute URI"},
		{"https://example.com/p", `{"approved":false,"approved":true}`, `the key "approved" appears twice`},
		{"https://example.com/p", `{"n":-1e999}`, "the number -1e999 at $.n is out of range"},
	}
	for _, tt := range tests {
		s := newStep(t)
		s.file("a.bin", "a")
		stdout, stderr, code := s.run("attest", "--no-sign", "--subject-path", "a.bin", "--predicate-type", tt.predicateType, "--predicate", tt.predicate)
		if code != exitUsage || !strings.Contains(stdout+stderr, tt.want) {
			t.Errorf("%s %s: exit %d, want %d and %q:\n%s\n%s", tt.predicateType, tt.predicate, code, exitUsage, tt.want, stdout, stderr)
		}
	}
}

// TestAttest_LocalNoSignOutsideACheckout: a local build in a folder that
// is no git checkout names that folder as its source (it was refused with
// "buildDefinition.externalParameters required") and no commit.
func TestAttest_LocalNoSignOutsideACheckout(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.bin"), []byte("app"), 0o644)
	cmd := exec.Command(binary, "attest", "--no-sign", "--subject-path", "app.bin", "--out", "st.json")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GIT_CEILING_DIRECTORIES=" + filepath.Dir(dir)}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var st struct {
		Predicate struct {
			BuildDefinition struct {
				ExternalParameters struct {
					Source map[string]string `json:"source"`
				} `json:"externalParameters"`
				Resolved []any `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "st.json")), &st); err != nil {
		t.Fatal(err)
	}
	bd := st.Predicate.BuildDefinition
	if got := bd.ExternalParameters.Source["repository"]; got != "file://"+dir || len(bd.Resolved) != 0 {
		t.Errorf("source %q, resolved %v; want file://%s and no commit", got, bd.Resolved, dir)
	}
}

func TestAttest_LocalNoSignRecordsTheRealRemote(t *testing.T) {
	tests := []struct {
		name, remote, wantRepo string
	}{
		{"local path remote", "/srv/git/app.git", "/srv/git/app.git"},
		{"gitlab remote", "https://gitlab.com/a/b.git", "https://gitlab.com/a/b.git"},
		{"remote with credentials", "https://ci:s3cret@gitlab.com/a/b.git", "https://gitlab.com/a/b.git"},
		{"scp-like remote", "git@github.com:o/r.git", "git@github.com:o/r.git"},
		{"no remote", "", "file://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			git := func(args ...string) string {
				cmd := exec.Command("git", args...)
				cmd.Dir = dir
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1",
					"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
				return strings.TrimSpace(string(out))
			}
			git("init", "-q", "-b", "trunk")
			os.WriteFile(filepath.Join(dir, "app.bin"), []byte("app"), 0o644)
			git("add", "app.bin")
			git("commit", "-q", "-m", "c")
			if tt.remote != "" {
				git("remote", "add", "origin", tt.remote)
			}
			commit := git("rev-parse", "HEAD")
			cmd := exec.Command(binary, "attest", "--no-sign", "--subject-path", "app.bin", "--out", "st.json")
			cmd.Dir = dir
			// A developer's shell may hold stray GITHUB_* variables.
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GITHUB_REPOSITORY=octo-org/octo-repo", "GITHUB_SERVER_URL=https://github.com"}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			raw := string(mustRead(t, filepath.Join(dir, "st.json")))
			var st struct {
				Predicate struct {
					BuildDefinition struct {
						BuildType          string         `json:"buildType"`
						ExternalParameters map[string]any `json:"externalParameters"`
						InternalParameters map[string]any `json:"internalParameters"`
						Resolved           []struct {
							URI    string            `json:"uri"`
							Digest map[string]string `json:"digest"`
						} `json:"resolvedDependencies"`
					} `json:"buildDefinition"`
					RunDetails struct {
						Builder  struct{ ID string } `json:"builder"`
						Metadata any                 `json:"metadata"`
					} `json:"runDetails"`
				} `json:"predicate"`
			}
			if err := json.Unmarshal([]byte(raw), &st); err != nil {
				t.Fatal(err)
			}
			bd := st.Predicate.BuildDefinition
			if bd.BuildType != "https://provenant.dev/buildtypes/local/v1" {
				t.Errorf("buildType = %s", bd.BuildType)
			}
			if strings.Contains(raw, "github.com/octo-org") || strings.Contains(raw, "actions.github.io") || bd.InternalParameters != nil || st.Predicate.RunDetails.Metadata != nil {
				t.Errorf("GitHub facts in a local build's provenance:\n%s", raw)
			}
			if strings.Contains(raw, "s3cret") {
				t.Error("the remote's password is recorded")
			}
			wantURI := "git+" + tt.wantRepo
			if len(bd.Resolved) != 1 || !strings.HasPrefix(bd.Resolved[0].URI, wantURI) || !strings.HasSuffix(bd.Resolved[0].URI, "@refs/heads/trunk") || bd.Resolved[0].Digest["gitCommit"] != commit {
				t.Errorf("resolvedDependencies = %+v, want %s…@refs/heads/trunk with commit %s", bd.Resolved, wantURI, commit)
			}
			src, _ := bd.ExternalParameters["source"].(map[string]any)
			if repo, _ := src["repository"].(string); !strings.HasPrefix(repo, tt.wantRepo) || src["ref"] != "refs/heads/trunk" {
				t.Errorf("externalParameters = %v", bd.ExternalParameters)
			}
			if !strings.HasPrefix(st.Predicate.RunDetails.Builder.ID, "local:") {
				t.Errorf("builder.id = %s", st.Predicate.RunDetails.Builder.ID)
			}
		})
	}
}

// TestAttest_OutsideActions: a folder the user names in --out is not made
// (a typo would hide the attestation), exit 2; signing outside Actions says
// how to go on here, not to add a workflow permission; --dry-run needs no
// token.
func TestAttest_OutsideActions(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("app", []byte("the artifact"), 0o644); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	tests := []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"--out in a missing folder", []string{"attest", "--no-sign", "--subject-path", "app", "--out", filepath.Join(dir, "typo", "app.intoto.json")}, exitUsage, "",
			"does not exist (provenant makes no folder you name: create it first)"},
		{"--out in a folder that exists", []string{"attest", "--no-sign", "--subject-path", "app", "--out", filepath.Join(dir, "app.intoto.json")}, exitOK, "", "wrote"},
		{"signing outside Actions", []string{"attest", "--subject-path", "app"}, exitFailed, "",
			"not in a GitHub Actions job (GITHUB_ACTIONS is not true), so there is no job OIDC token to sign with: sign in a workflow step with permissions id-token: write, or attest here with --no-sign"},
		{"--dry-run outside Actions", []string{"attest", "--dry-run", "--subject-path", "app"}, exitOK, `"predicateType":"https://slsa.dev/provenance/v1"`, "--dry-run without a job token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(context.Background(), tc.args, env{stdout: &out, stderr: &errOut, getenv: noEnv})
			if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errOut.String(), tc.err) {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)\n%s\n%s", code, tc.code, tc.out, tc.err, out.String(), errOut.String())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); err == nil {
		t.Error("the missing folder was made")
	}
}
