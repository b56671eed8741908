package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra/doc"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/cli from the commands")

// runIn runs the whole command line in-process with the given environment.
func runIn(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return vars[k] }
	code = run(context.Background(), args, env{stdout: &out, stderr: &errOut, getenv: getenv})
	return code, out.String(), errOut.String()
}

const (
	ghAttestBundle   = fixturesDir + "/github-attest/reusable-workflow-attestation.sigstore.json"
	ghAttestArtifact = fixturesDir + "/github-attest/reusable-workflow-artifact"
	delegatorDir     = fixturesDir + "/slsa-github-generator/gha_delegator-v2.1.0"
	delegatorTRW     = "https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml"
	npmSAN           = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
)

// TestCommandLinesOfOtherVerifiers: the command lines gh attestation
// verify, slsa-verifier verify-artifact and cosign document run unchanged
// with provenant verify in their place (plus a trusted root: the tests are
// offline).
func TestCommandLinesOfOtherVerifiers(t *testing.T) {
	tests := []struct {
		name string
		line string // after "provenant verify"
		code int
		out  string
	}{
		// gh attestation verify FILE --bundle B --repo O/R [--signer-workflow W] [--format json]
		{"gh: file first, then flags", "NPMTGZ --bundle NPMBUNDLE --repo sigstore/sigstore-js --custom-trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		{"gh: -R", "NPMTGZ -b NPMBUNDLE -R sigstore/sigstore-js --custom-trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		{"gh: --owner -o", "NPMTGZ --bundle NPMBUNDLE -o sigstore --custom-trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		{"gh: reusable workflow without --signer-workflow fails, as in gh", "ARTIFACT --bundle BUNDLE --repo malancas/attest-demo --custom-trusted-root ROOT", exitFailed, "0 of 1 artifacts verified"},
		{"gh: signer workflow, json", "ARTIFACT --bundle BUNDLE --repo malancas/attest-demo --signer-workflow github/artifact-attestations-workflows/.github/workflows/attest.yml --format json --custom-trusted-root ROOT", exitOK, `"verificationResult":`},
		{"gh: cert-identity-regex", "ARTIFACT --bundle BUNDLE --repo malancas/attest-demo --cert-identity-regex ^https://github.com/github/artifact-attestations-workflows/.* --custom-trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		{"gh: wrong repo fails", "ARTIFACT --bundle BUNDLE --repo malancas/other --signer-workflow github/artifact-attestations-workflows/.github/workflows/attest.yml --custom-trusted-root ROOT", exitFailed, "0 of 1 artifacts verified"},
		{"gh: flags first", "--bundle NPMBUNDLE --repo sigstore/sigstore-js --custom-trusted-root ROOT NPMTGZ", exitOK, "1 of 1 artifacts verified"},
		{"gh: --digest-alg", "NPMTGZ --bundle NPMBUNDLE --repo sigstore/sigstore-js -d sha512 --custom-trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		// slsa-verifier verify-artifact FILE --provenance-path P --source-uri github.com/O/R [--source-tag T] [--builder-id B]
		{"slsa-verifier: source-uri and tag", "DELEGATED --provenance-path DELEGATED.build.slsa --source-uri github.com/slsa-framework/example-package --source-tag v13.0.30 --trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		{"slsa-verifier: builder-id", "DELEGATED --provenance-path DELEGATED.build.slsa --source-uri github.com/slsa-framework/example-package --builder-id " + delegatorTRW + " --trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		{"slsa-verifier: a builder it does not trust fails without --builder-id", "BCR --provenance-path BCR.intoto.jsonl --source-uri github.com/aspect-build/rules_lint --trusted-root ROOT", exitFailed, "neither a workflow of the source https://github.com/aspect-build/rules_lint nor a built-in trusted builder"},
		{"slsa-verifier: that builder pinned with --builder-id", "BCR --provenance-path BCR.intoto.jsonl --source-uri github.com/aspect-build/rules_lint --builder-id https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml --trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		{"slsa-verifier: another source fails", "DELEGATED --provenance-path DELEGATED.build.slsa --source-uri github.com/slsa-framework/example-package-evil --trusted-root ROOT", exitFailed, "0 of 1 artifacts verified"},
		{"slsa-verifier: wrong tag fails", "DELEGATED --provenance-path DELEGATED.build.slsa --source-uri github.com/slsa-framework/example-package --source-tag v13.0.29 --trusted-root ROOT", exitFailed, "0 of 1 artifacts verified"},
		{"slsa-verifier: build-workflow-input", "DELEGATED --provenance-path DELEGATED.build.slsa --source-uri github.com/slsa-framework/example-package --build-workflow-input rekor-log-public=false --trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		{"slsa-verifier: versioned tag", "DELEGATED --provenance-path DELEGATED.build.slsa --source-uri github.com/slsa-framework/example-package --source-versioned-tag v13 --trusted-root ROOT", exitOK, "1 of 1 artifacts verified"},
		// cosign verify-blob-attestation --bundle B --certificate-identity SAN --certificate-oidc-issuer I --type T FILE
		{"cosign: certificate identity", "--bundle NPMBUNDLE --certificate-identity " + npmSAN + " --certificate-oidc-issuer https://token.actions.githubusercontent.com --type slsaprovenance1 --trusted-root ROOT NPMTGZ", exitOK, "1 of 1 artifacts verified"},
		{"cosign: identity regexp", "--bundle NPMBUNDLE --repo sigstore/sigstore-js --certificate-identity-regexp ^https://github.com/sigstore/sigstore-js/.* --certificate-oidc-issuer https://token.actions.githubusercontent.com --trusted-root ROOT NPMTGZ", exitOK, "1 of 1 artifacts verified"},
		{"cosign: wrong issuer fails", "--bundle NPMBUNDLE --certificate-identity " + npmSAN + " --certificate-oidc-issuer https://token.actions.githubusercontent.com.evil --trusted-root ROOT NPMTGZ", exitFailed, "0 of 1 artifacts verified"},
	}
	repl := strings.NewReplacer(
		"DELEGATED", delegatorDir+"/binary-linux-amd64-push-v13.0.30",
		"BCR", fixturesDir+"/slsa-github-generator/bcr/MODULE.bazel",
		"ARTIFACT", ghAttestArtifact, "NPMBUNDLE", npmBundle, "NPMTGZ", npmTgz,
		"BUNDLE", ghAttestBundle, "ROOT", pgRoot)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"verify"}, strings.Fields(repl.Replace(tc.line))...)
			code, out, errOut := runIn(t, nil, args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Errorf("provenant %s\nexit %d, want %d; want %q in stdout\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, tc.code, tc.out, out, errOut)
			}
		})
	}
}

// TestFlagErrorsAreOneLine: a bad flag, a bad value and an unknown command
// each give one line on stderr naming the command, and exit 2.
func TestFlagErrorsAreOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"verify", "--nope"},
		{"verify", "--format", "yaml", "--repo", "a/b"},
		{"verify", "--type", "nonsense", "--repo", "a/b"},
		{"verify", "--digest-alg", "md5", "--repo", "a/b"},
		{"attest", "--no-sign", "stray-argument"},
		{"attest", "--subject-path"},
		{"frobnicate"},
	} {
		code, out, errOut := runIn(t, nil, args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != exitUsage || out != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "provenant") || !strings.Contains(lines[0], "--help") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line", args, code, out, errOut)
		}
	}
}

// TestHelpAndCompletion: --help of every command goes to stdout with exit
// 0; completion scripts come for each shell cobra knows; no command prints
// help to stdout when none was asked for.
func TestHelpAndCompletion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"verify", "--help"}, {"attest", "-h"}, {"help", "verify"}, {"version", "--help"}} {
		code, out, errOut := runIn(t, nil, args...)
		if code != exitOK || !strings.Contains(out, "Usage:") || errOut != "" {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, out, errOut)
		}
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, _ := runIn(t, nil, "completion", sh)
		if code != exitOK || !strings.Contains(out, "provenant") || len(out) < 500 {
			t.Errorf("completion %s: exit %d, %d bytes", sh, code, len(out))
		}
	}
	// Flag names complete.
	code, out, _ := runIn(t, nil, "__complete", "verify", "--signer-")
	if code != exitOK || !strings.Contains(out, "--signer-workflow") || !strings.Contains(out, "--signer-repo") {
		t.Errorf("completion of --signer-: exit %d %q", code, out)
	}
	code, _, errOut := runIn(t, nil)
	if code != exitUsage || !strings.Contains(errOut, "Available Commands") {
		t.Errorf("no command: exit %d, stderr %q", code, errOut)
	}
}

// TestInputsOnlyInActions: INPUT_* variables change nothing outside a GitHub
// Actions step (a shell with INPUT_CERT-IDENTITY-REGEXP=.* left in it must
// not loosen the policy), and inside one the applied inputs are named.
func TestInputsOnlyInActions(t *testing.T) {
	loose := map[string]string{
		"INPUT_CERT-IDENTITY-REGEXP": ".*", "INPUT_REPO": "sigstore/sigstore-js",
		"INPUT_TRUSTED-ROOT": pgRoot, "INPUT_BUNDLE": npmBundle,
	}
	code, _, errOut := runIn(t, loose, "verify", "--trusted-root", pgRoot, "--bundle", npmBundle, npmTgz)
	if code != exitUsage || strings.Contains(errOut, "inputs applied") {
		t.Errorf("outside Actions: exit %d (want 2: no source given, the inputs must be ignored); stderr %q", code, errOut)
	}
	inActions := map[string]string{"GITHUB_ACTIONS": "true"}
	for k, v := range loose {
		inActions[k] = v
	}
	code, out, errOut := runIn(t, inActions, "verify", npmTgz)
	if code != exitOK || !strings.Contains(errOut, "action inputs applied: bundle, cert-identity-regexp, repo, trusted-root") {
		t.Errorf("in Actions: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}

// TestCLIDocsAreCurrent: docs/cli/*.md are what the commands generate
// (go test -run TestCLIDocsAreCurrent -update-docs rewrites them).
func TestCLIDocsAreCurrent(t *testing.T) {
	root := newRootCmd(env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }})
	root.Version = "" // the docs do not depend on the build
	gen := t.TempDir()
	if err := doc.GenMarkdownTree(root, gen); err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Glob(filepath.Join(gen, "*.md"))
	if *updateDocs {
		if err := os.RemoveAll("docs/cli"); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("docs/cli", 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range want {
			data, _ := os.ReadFile(p)
			if err := os.WriteFile(filepath.Join("docs/cli", filepath.Base(p)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	have, _ := filepath.Glob("docs/cli/*.md")
	if len(have) != len(want) {
		t.Errorf("docs/cli has %d files, the commands make %d: run go test -run TestCLIDocsAreCurrent -update-docs .", len(have), len(want))
	}
	for _, p := range want {
		gen, _ := os.ReadFile(p)
		cur, err := os.ReadFile(filepath.Join("docs/cli", filepath.Base(p)))
		if err != nil || !bytes.Equal(gen, cur) {
			t.Errorf("docs/cli/%s is stale: run go test -run TestCLIDocsAreCurrent -update-docs .", filepath.Base(p))
		}
	}
}

// TestTextOutputOneLinePerArtifact: many verified artifacts print one line
// each and a summary; the nine-check detail comes only for a failure or
// with --verbose.
func TestTextOutputOneLinePerArtifact(t *testing.T) {
	args := []string{"verify", "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle}
	for range 200 {
		args = append(args, npmTgz)
	}
	code, out, _ := runIn(t, nil, args...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 201 || lines[200] != "200 of 200 artifacts verified, SLSA Build L2" {
		t.Fatalf("exit %d, %d lines, last %q", code, len(lines), lines[len(lines)-1])
	}
	want := npmTgz + " (sha256:f0c641fce0310cb43208f4272dc1423153630e44ba8cdc0b5ce8466f724e0eed): VERIFIED at SLSA Build L2, signer " + npmSAN
	if lines[0] != want {
		t.Errorf("line 1:\n%s\nwant\n%s", lines[0], want)
	}

	// One failure among them: its detail, and the others stay one line.
	args = append(args, ghAttestArtifact)
	code, out, _ = runIn(t, nil, args...)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != exitFailed || len(lines) < 203 || len(lines) > 215 || !strings.Contains(out, "FAIL      5 subject") || lines[len(lines)-1] != "200 of 201 artifacts verified" {
		t.Errorf("with one failure: exit %d, %d lines:\n%s", code, len(lines), strings.Join(lines[195:], "\n"))
	}

	code, out, _ = runIn(t, nil, "verify", "-v", "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, npmTgz)
	if code != exitOK || strings.Count(out, "\n") < 11 || !strings.Contains(out, "PASS      9 level") {
		t.Errorf("--verbose: exit %d\n%s", code, out)
	}
}
