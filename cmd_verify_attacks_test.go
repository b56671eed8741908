package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Regression tests for the holes of issue 7 through the command, checking
// the exit code; each is named after the attack.

const (
	sggDir         = fixturesDir + "/slsa-github-generator/gha_generic-v2.1.0"
	sggPushBundle  = sggDir + "/binary-linux-amd64-push-v14.2.intoto.jsonl"
	sggDigest      = "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa"
	reusableBundle = fixturesDir + "/github-attest/reusable-workflow-attestation.sigstore.json"
	reusableAsset  = fixturesDir + "/github-attest/reusable-workflow-artifact"
	sggBuilder     = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"
	provV02        = "https://slsa.dev/provenance/v0.2"
)

// attackCase is one command line and the exit code and output it must give.
type attackCase struct {
	name string
	args []string
	code int
	out  string // substring of stdout
	err  string // substring of stderr
}

// attackDir holds bundles the verifier's tests signed with a test Sigstore
// instance (see verifier/attackfixtures_test.go), its trusted root and the
// artifact they cover.
const (
	attackDir      = "testdata/attacks"
	attackRoot     = attackDir + "/trusted_root.json"
	attackArtifact = attackDir + "/demo-linux-amd64"
)

// runAttackCases runs each case with the public-good trusted root, unless
// the case gives --trusted-root itself.
func runAttackCases(t *testing.T, tests []attackCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if !slices.Contains(args, "--trusted-root") {
				args = append([]string{"--trusted-root", pgRoot}, args...)
			}
			// --verbose: the cases name the check that decided.
			code, out, errOut := runVerifyIn(t, nil, append([]string{"--verbose"}, args...)...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.out, tc.err, out, errOut)
			}
			if tc.code == exitUsage && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("usage error is not one line:\n%s", errOut)
			}
		})
	}
}

func TestVerifyCmd_PublicBuilderAloneIsNotAPolicy(t *testing.T) {
	runAttackCases(t, []attackCase{
		{"signer-repo alone (issue 7, hole 1)", []string{"--signer-repo", "slsa-framework/slsa-github-generator", "--predicate-type", provV02,
			"--bundle", sggPushBundle, "--digest", sggDigest, "--min-level", "3"}, exitUsage, "", "names no source repository"},
		{"signer-workflow alone", []string{"--signer-workflow", "github/artifact-attestations-workflows/.github/workflows/attest.yml",
			"--bundle", reusableBundle, reusableAsset}, exitUsage, "", "names no source repository"},
		{"builder-id alone", []string{"--builder-id", sggBuilder, "--predicate-type", provV02, "--bundle", sggPushBundle, "--digest", sggDigest}, exitUsage, "", "--source-uri"},
		{"slsa-verifier's source-uri and builder-id", []string{"--source-uri", "github.com/slsa-framework/example-package", "--builder-id", sggBuilder,
			"--predicate-type", provV02, "--bundle", sggPushBundle, "--digest", sggDigest, "--min-level", "3"}, exitOK, "VERIFIED at SLSA Build L3", ""},
		{"exact workflow identity in the source repository", []string{"--cert-identity", "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
			"--bundle", npmBundle, npmTgz}, exitOK, "VERIFIED", ""},
	})
}

// bundle-unit's valid bundle is signed by slsa-github-generator's generic
// generator at refs/heads/main: not a release, so not a trusted builder
// unless the policy pins it.
const (
	generatorAtMain       = fixturesDir + "/slsa-github-generator/bundle-unit/valid-v0.3.intoto.sigstore"
	generatorAtMainDigest = "sha256:2892146b063a94cb4a4318c0e98d38af12dcf2b1e29237486b58463b59607bbd"
)

func TestVerifyCmd_AnyReusableWorkflowIsNotL3(t *testing.T) {
	runAttackCases(t, []attackCase{
		{"builder at a branch, unpinned", []string{"--repo", "slsa-framework/example-package", "--cert-identity-regexp", ".*", "--predicate-type", provV02,
			"--bundle", generatorAtMain, "--digest", generatorAtMainDigest, "--min-level", "3"}, exitFailed, "is not a trusted builder (pin it with --signer-workflow)", ""},
		// Pinned, but at a branch: a branch moves (issue 19), so L2 and why.
		{"builder at a branch, pinned", []string{"--repo", "slsa-framework/example-package", "--signer-repo", "slsa-framework/slsa-github-generator", "--predicate-type", provV02,
			"--bundle", generatorAtMain, "--digest", generatorAtMainDigest, "--min-level", "3"}, exitFailed, `ran at "refs/heads/main", not at a release tag refs/tags/vX.Y.Z`, ""},
		{"builder at a branch, pinned with its commit", []string{"--repo", "slsa-framework/example-package", "--signer-repo", "slsa-framework/slsa-github-generator",
			"--signer-digest", "2333f37e183e7e0b0d75d5266b55c60c55310824", "--predicate-type", provV02,
			"--bundle", generatorAtMain, "--digest", generatorAtMainDigest, "--min-level", "3"}, exitOK, "VERIFIED at SLSA Build L3", ""},
		{"builder at a branch, another commit pinned", []string{"--repo", "slsa-framework/example-package", "--signer-repo", "slsa-framework/slsa-github-generator",
			"--signer-digest", "1333f37e183e7e0b0d75d5266b55c60c55310824", "--predicate-type", provV02,
			"--bundle", generatorAtMain, "--digest", generatorAtMainDigest, "--min-level", "3"}, exitFailed, "FAIL      6 identity", ""},
		// GitHub's attestation workflows at a bare commit (a commit may live
		// only in a fork: an imposter commit) under slsa-verifier's line.
		{"GitHub's attestation workflow at a bare commit, slsa-verifier's line", []string{"--source-uri", "github.com/malancas/attest-demo",
			"--bundle", reusableBundle, reusableAsset, "--min-level", "3"}, exitFailed, "not at a release tag", ""},
		{"built-in builder at a release tag, unpinned", []string{"--repo", "slsa-framework/example-package", "--cert-identity-regexp", ".*", "--predicate-type", provV02,
			"--bundle", sggPushBundle, "--digest", sggDigest, "--min-level", "3"}, exitOK, "VERIFIED at SLSA Build L3", ""},
	})
}

func TestVerifyCmd_WorkflowInputsFromAnySignerAreNotTrusted(t *testing.T) {
	bundle := attackDir + "/inputs-same-repo.intoto.jsonl"
	runAttackCases(t, []attackCase{
		{"same-repository workflow's inputs", []string{"--trusted-root", attackRoot, "--repo", "provenant/demo", "--predicate-type", provV02,
			"--workflow-input", "release=true", "--bundle", bundle, attackArtifact}, exitFailed, "workflow inputs not checked", ""},
		{"without --workflow-input", []string{"--trusted-root", attackRoot, "--repo", "provenant/demo", "--predicate-type", provV02,
			"--bundle", bundle, attackArtifact}, exitOK, "VERIFIED at SLSA Build L2", ""},
	})
}

func TestVerifyCmd_CaseChangedWorkflowPathIsAnotherWorkflow(t *testing.T) {
	bundle := attackDir + "/upper-case-workflow.sigstore.json"
	runAttackCases(t, []attackCase{
		{"RELEASE.yml for release.yml", []string{"--trusted-root", attackRoot, "--repo", "provenant/demo",
			"--signer-workflow", "provenant/builders/.github/workflows/release.yml", "--bundle", bundle, attackArtifact}, exitFailed, "FAIL      6 identity", ""},
		{"RELEASE.yml, owner/repo in another case", []string{"--trusted-root", attackRoot, "--repo", "Provenant/DEMO",
			"--signer-workflow", "PROVENANT/builders/.github/workflows/RELEASE.yml", "--bundle", bundle, attackArtifact}, exitOK, "VERIFIED at SLSA Build L3", ""},
		{"npm, repository in another case", []string{"--repo", "Sigstore/Sigstore-JS", "--bundle", npmBundle, npmTgz}, exitOK, "VERIFIED", ""},
	})
}

func TestVerifyCmd_MixedDigestAlgorithmsAreAllCompared(t *testing.T) {
	runAttackCases(t, []attackCase{
		{"sha512 subject beside a sha256 one", []string{"--trusted-root", attackRoot, "--repo", "provenant/demo",
			"--bundle", attackDir + "/mixed-digests.sigstore.json", attackArtifact}, exitOK, "VERIFIED at SLSA Build L2", ""},
	})
}

func TestVerifyCmd_CertificateWithoutGitHubExtensions(t *testing.T) {
	const san = "https://github.com/provenant/demo/.github/workflows/release.yml@refs/tags/v1.2.3"
	runAttackCases(t, []attackCase{
		{"no extensions, min level 1", []string{"--trusted-root", attackRoot, "--cert-identity", "release@provenant.test", "--min-level", "1",
			"--bundle", attackDir + "/no-github-extensions.sigstore.json", attackArtifact}, exitOK, "UNCHECKED 7 predicate   the certificate carries no GitHub Fulcio extensions", ""},
		{"deprecated extensions only", []string{"--trusted-root", attackRoot, "--cert-identity", san, "--min-level", "1",
			"--bundle", attackDir + "/deprecated-extensions.sigstore.json", attackArtifact}, exitOK, "(deprecated extensions only) predicate agrees with the certificate on 4 fields", ""},
	})
}

// releaseDir is a bundle directory with one asset and its bundle (from
// testdata/attacks) and, when messy, a symbolic link, a subfolder and an
// attestation for no asset.
func releaseDir(t *testing.T, messy bool) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, attackArtifact, filepath.Join(dir, "demo-linux-amd64"))
	copyFile(t, attackDir+"/mixed-digests.sigstore.json", filepath.Join(dir, "demo-linux-amd64.sigstore.json"))
	if messy {
		if err := os.Symlink("demo-linux-amd64", filepath.Join(dir, "demo-latest")); err != nil {
			t.Fatal(err)
		}
		copyFile(t, attackArtifact, filepath.Join(dir, "extra", "demo-linux-arm64"))
		copyFile(t, attackDir+"/mixed-digests.sigstore.json", filepath.Join(dir, "gone.intoto.jsonl"))
	}
	return dir
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCmd_SilentSkipsInABundleDir(t *testing.T) {
	messy, clean := releaseDir(t, true), releaseDir(t, false)
	base := []string{"--trusted-root", attackRoot, "--repo", "provenant/demo", "--bundle-dir"}
	runAttackCases(t, []attackCase{
		{"symlink, subfolder and orphan attestation", append(base, messy), exitFailed, "1 of 4 artifacts verified", ""},
		{"symlink named", append(base, messy), exitFailed, "not verified: a symbolic link", ""},
		{"excluded on purpose", append(base, messy, "--exclude", "demo-latest", "--exclude", "extra", "--exclude", "*.intoto.jsonl"), exitOK, "1 of 1 artifacts verified", ""},
		{"clean directory", append(base, clean), exitOK, "1 of 1 artifacts verified", ""},
	})
}

// TestVerifyCmd_ArtifactsInputGlobsLikeAttest: the action's artifacts
// input expands ** as attest's subject-path does (filepath.Glob did not).
func TestVerifyCmd_ArtifactsInputGlobsLikeAttest(t *testing.T) {
	dir := releaseDir(t, false)
	copyFile(t, attackArtifact, filepath.Join(dir, "nested", "deeper", "demo-linux-amd64"))
	code, out, errOut := runVerifyIn(t, map[string]string{
		"GITHUB_ACTIONS":     "true",
		"INPUT_ARTIFACTS":    dir + "/**/demo-linux-amd64",
		"INPUT_TRUSTED-ROOT": attackRoot,
		"INPUT_REPO":         "provenant/demo",
		"INPUT_BUNDLE":       dir + "/demo-linux-amd64.sigstore.json",
	})
	if code != exitOK || !strings.Contains(out, "2 of 2 artifacts verified") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestVerifyCmd_StaleOrPlantedTrust: with no HOME there is no shared
// /tmp/provenant-tuf any more (another user could plant a root there):
// verify asks for --tuf-cache; a cache directory others can write to is
// refused. Neither contacts TUF.
func TestVerifyCmd_StaleOrPlantedTrust(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "provenant-tuf")
	if err := os.MkdirAll(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"no HOME, no --tuf-cache", nil, "pass --tuf-cache"},
		{"world-writable --tuf-cache", []string{"--tuf-cache", shared}, "writable by others"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.args...), "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, npmTgz)
			code, _, errOut := runVerifyIn(t, map[string]string{}, args...)
			if code != exitUsage || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d, want %d with %q\n%s", code, exitUsage, tc.err, errOut)
			}
		})
	}
}

// TestVerifyCmd_ConflictingSignerFlagsAreRefused: a regexp matched every
// signer while an ignored --signer-workflow still counted as a pinned
// builder: VERIFIED at L3 for an attacker's workflow. The signer flags are
// mutually exclusive (as gh's), through the policy file too.
func TestVerifyCmd_ConflictingSignerFlagsAreRefused(t *testing.T) {
	bcr := []string{"--bundle", fixturesDir + "/slsa-github-generator/bcr/MODULE.bazel.intoto.jsonl", fixturesDir + "/slsa-github-generator/bcr/MODULE.bazel"}
	const evil = "evil-org/evil/.github/workflows/x.yml"
	policy := writePolicy(t, "signer: {workflow: "+evil+"}\n")
	runAttackCases(t, []attackCase{
		{"regexp and signer workflow", append([]string{"--repo", "aspect-build/rules_lint", "-i", ".*", "--signer-workflow", evil, "--min-level", "3"}, bcr...),
			exitUsage, "", "cert-identity-regexp and signer-workflow are given together"},
		{"regexp and signer repo", append([]string{"--repo", "aspect-build/rules_lint", "--cert-identity-regex", ".*", "--signer-repo", "evil-org/evil", "--min-level", "3"}, bcr...),
			exitUsage, "", "cert-identity-regexp and signer-repo are given together"},
		{"cosign's identity and signer workflow", append([]string{"--repo", "aspect-build/rules_lint", "--certificate-identity", "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1", "--signer-workflow", evil}, bcr...),
			exitUsage, "", "cert-identity and signer-workflow are given together"},
		{"policy file's signer workflow and a regexp", append([]string{"--repo", "aspect-build/rules_lint", "-i", ".*", "--policy", policy, "--min-level", "3"}, bcr...),
			exitUsage, "", "cert-identity-regexp and signer-workflow are given together"},
		{"signer repo names a whole owner", append([]string{"--repo", "aspect-build/rules_lint", "--signer-repo", "bazel-contrib", "--min-level", "3"}, bcr...),
			exitUsage, "", `signer-repo "bazel-contrib": want OWNER/NAME`},
		{"the one signer flag is applied", append([]string{"--repo", "aspect-build/rules_lint", "--signer-workflow", "bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml", "--min-level", "3"}, bcr...),
			exitOK, "VERIFIED at SLSA Build L3", ""},
		{"signer workflow at its release tag", append([]string{"--repo", "aspect-build/rules_lint", "--signer-workflow", "bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1", "--min-level", "3"}, bcr...),
			exitOK, "VERIFIED at SLSA Build L3", ""},
		{"signer workflow at another tag", append([]string{"--repo", "aspect-build/rules_lint", "--signer-workflow", "bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.2"}, bcr...),
			exitFailed, "FAIL      6 identity", ""},
		{"signer workflow at a short ref", append([]string{"--repo", "aspect-build/rules_lint", "--signer-workflow", "bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@v0.0.1"}, bcr...),
			exitUsage, "", `the ref "v0.0.1" is not one a certificate names`},
	})
}

// TestVerifyCmd_BuilderIDDoesNotLoosenTheTagRule: slsa-verifier's line with
// --builder-id of the generic generator accepted the generator at
// refs/heads/main (L3); slsa-verifier requires a release tag either way.
func TestVerifyCmd_BuilderIDDoesNotLoosenTheTagRule(t *testing.T) {
	runAttackCases(t, []attackCase{
		{"builder id, generator at a branch", []string{"--source-uri", "github.com/slsa-framework/example-package", "--builder-id", sggBuilder,
			"--provenance-path", generatorAtMain, "--digest", generatorAtMainDigest}, exitFailed, `"refs/heads/main" is not one`, ""},
		{"no builder id, generator at a branch", []string{"--source-uri", "github.com/slsa-framework/example-package",
			"--provenance-path", generatorAtMain, "--digest", generatorAtMainDigest}, exitFailed, "FAIL      6 identity", ""},
		{"builder id, generator at its release tag", []string{"--source-uri", "github.com/slsa-framework/example-package", "--builder-id", sggBuilder,
			"--predicate-type", provV02, "--provenance-path", sggPushBundle, "--digest", sggDigest}, exitOK, "VERIFIED at SLSA Build L3", ""},
	})
}

// TestVerifyCmd_UsageErrorsBeforeTrust: a command line verify cannot run is
// exit 2 with one line naming what is wrong, before the trusted roots are
// loaded: offline, with an empty TUF cache, no TUF warning comes first.
func TestVerifyCmd_UsageErrorsBeforeTrust(t *testing.T) {
	cache := t.TempDir()
	vars := map[string]string{"XDG_CACHE_HOME": cache, "HOME": cache}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no arguments", []string{"--repo", "o/r", "--offline"}, "nothing to verify"},
		{"malformed digest", []string{"--repo", "o/r", "--offline", "--bundle", npmBundle, "--digest", "sha256:xyz"}, "sha256:xyz"},
		{"repository of three parts", []string{"-R", "o/r/x", "--offline", "--bundle", npmBundle, npmTgz}, `repo "o/r/x": want owner/name`},
		{"bad regexp", []string{"--repo", "o/r", "-i", "(", "--offline", "--bundle", npmBundle, npmTgz}, "cert-identity-regexp"},
		{"two signer flags", []string{"--repo", "o/r", "-i", ".*", "--signer-repo", "a/b", "--offline", "--bundle", npmBundle, npmTgz}, "given together"},
		{"--exclude that would not be applied", []string{"--repo", "o/r", "--offline", "--exclude", "*.txt", "--bundle", npmBundle, npmTgz}, "--exclude applies to the entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runVerifyIn(t, vars, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(strings.ToLower(errOut), "tuf") ||
				strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want exit 2 with one line containing %q and nothing of TUF", code, errOut, tc.want)
			}
			if entries, _ := os.ReadDir(cache); len(entries) != 0 {
				t.Errorf("the TUF cache was touched: %v", entries)
			}
		})
	}
}

// TestVerifyCmd_CustomProvenanceNameSaysHowToNameIt: a release whose
// provenance file has a name of its own (myproject.intoto.jsonl) fails
// --bundle-dir with a line saying how to name it or give it.
func TestVerifyCmd_CustomProvenanceNameSaysHowToNameIt(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, npmTgz, filepath.Join(dir, "sigstore-js-2.1.0.tgz"))
	copyFile(t, npmBundle, filepath.Join(dir, "myproject.intoto.jsonl"))
	code, out, errOut := runVerifyIn(t, nil, "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle-dir", dir)
	if code != exitFailed || !strings.Contains(out, "myproject.intoto.jsonl") || !strings.Contains(out, "read under the name multiple.intoto.jsonl") ||
		!strings.Contains(out, "give it with --bundle") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}
