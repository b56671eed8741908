package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runPolicyIn(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"policy"}, args...), env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }})
	return code, out.String(), errOut.String()
}

// TestPolicyInit: the policy written from the bundles at hand names what
// they show, and verify --policy accepts the artifacts with it.
func TestPolicyInit(t *testing.T) {
	const dir = "testdata/policy"
	demo := func(bundles ...string) []string {
		args := []string{"init", "--repo", "provenant/demo", "--signer-workflow", "provenant/builders/.github/workflows/provenance.yml", "--trusted-root", dir + "/trusted_root.json"}
		for _, b := range bundles {
			args = append(args, "--bundle", dir+"/"+b+".sigstore.json")
		}
		return append(args, dir+"/demo-linux-amd64")
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string // lines of the policy, or substrings of stderr when it fails
		miss []string // lines the policy must not have
	}{
		{"npm: the source's own workflow at L2", []string{"init", "--repo", "sigstore/sigstore-js", "--trusted-root", pgRoot, "--bundle", npmBundle, npmTgz}, exitOK,
			[]string{`  repo: "sigstore/sigstore-js"`, "  repository-id: 495574555", "  owner-id: 71096353", `  refs: ["refs/heads/main"]`,
				`  workflow: "sigstore/sigstore-js/.github/workflows/release.yml"`, "level: 2", `  - predicate-type: "https://slsa.dev/provenance/v1"`}, []string{"same-run"}},
		{"one run, three types, a reusable builder at L3", demo("provenance", "sbom", "test-passed"), exitOK,
			[]string{"  repository-id: 123456", `  refs: ["refs/tags/v*"]`, `  workflow: "provenant/builders/.github/workflows/provenance.yml"`, "level: 3",
				`  - predicate-type: "https://cyclonedx.org/bom"`, `  - predicate-type: "https://in-toto.io/attestation/test-result/v0.1"`, "same-run: true"}, nil},
		{"SBOM of another run: no same-run", demo("provenance", "sbom-other-run", "test-passed"), exitOK,
			[]string{`  - predicate-type: "https://cyclonedx.org/bom"`, "# same-run: not every artifact's attestations come from one run"}, []string{"same-run: true"}},
		{"two repositories of one name", demo("provenance", "provenance-recreated"), exitFailed, []string{"different ids (123456, 999999"}, nil},
		{"nothing verifies for the repository", []string{"init", "--repo", "sigstore/sigstore-go", "--trusted-root", pgRoot, "--bundle", npmBundle, npmTgz}, exitFailed,
			[]string{"no predicate type has a verified bundle"}, nil},
		{"no --repo", []string{"init", "--trusted-root", pgRoot, "--bundle", npmBundle, npmTgz}, exitUsage, []string{"--repo is required"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "policy.yaml")
			code, stdout, stderr := runPolicyIn(t, append(tc.args, "--output", out)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			text := stderr
			if code == exitOK {
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				text = string(data)
			}
			lines := strings.Split(text, "\n")
			for _, w := range tc.want {
				if (code == exitOK && !containsLine(lines, w)) || !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, m := range tc.miss {
				if strings.Contains(text, m) {
					t.Errorf("has %q:\n%s", m, text)
				}
			}
			if code != exitOK {
				return
			}
			// The policy verifies the artifacts it was written from.
			var vargs []string
			for i := 0; i < len(tc.args); i++ {
				switch tc.args[i] {
				case "init":
				case "--repo", "--signer-workflow":
					i++
				default:
					vargs = append(vargs, tc.args[i])
				}
			}
			if code, vout, verr := runVerifyIn(t, nil, append([]string{"--policy", out}, vargs...)...); code != exitOK {
				t.Errorf("verify --policy: exit %d\n%s\n%s", code, vout, verr)
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestPolicyKyvernoRefusesUnboundOptions: what the written policy could
// not bind to the signer's certificate is a usage error (exit 2) naming
// the flag, not a policy that enforces less than it says.
func TestPolicyKyvernoRefusesUnboundOptions(t *testing.T) {
	base := []string{"kyverno", "--repo", "octo-org/octo-repo", "--image", "ghcr.io/octo-org/*"}
	tests := []struct {
		name string
		args []string
		code int
		want string // in the policy, or in stderr when refused
	}{
		{"ref bound to the SAN of the source's workflows", []string{"--source-ref", "refs/tags/v*"}, exitOK,
			`subjectRegExp: ^(?i:https://github\.com/octo-org/octo-repo/)\.github/workflows/[^@/]+@(?:refs/tags/v[^@]*)$`},
		{"ref with a reusable builder of another repository", []string{"--source-ref", "refs/tags/v*", "--signer-workflow", "octo-org/builders/.github/workflows/build.yml"}, exitUsage,
			"Kyverno cannot bind --source-ref"},
		{"ref at L3", []string{"--source-ref", "refs/tags/v*", "--min-level", "3"}, exitUsage, "Kyverno cannot bind --source-ref"},
		{"L3 builder at a branch", []string{"--min-level", "3", "--signer-workflow", "octo-org/builders/.github/workflows/build.yml@refs/heads/main"}, exitUsage,
			"needs a released builder"},
		{"signer naming an owner only", []string{"--signer-workflow", "octo-org/.github/workflows/build.yml"}, exitUsage, "not [host/]owner/name"},
		{"VSA from a shared gate", []string{"--verifier-id", "https://provenant.dev/verifier", "--signer-workflow", "octo-org/gate/.github/workflows/verify.yml"}, exitUsage,
			"shared gate outside octo-org/octo-repo"},
		{"ref in VSA mode", []string{"--verifier-id", "https://provenant.dev/verifier", "--signer-workflow", "octo-org/octo-repo/.github/workflows/gate.yml", "--source-ref", "refs/tags/v*"}, exitUsage,
			"--source-ref does not apply with --verifier-id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runPolicyIn(t, append(append([]string{}, base...), tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			text := stdout
			if code != exitOK {
				text = stderr
			}
			if !strings.Contains(text, tc.want) {
				t.Errorf("missing %q in:\n%s", tc.want, text)
			}
		})
	}
}
