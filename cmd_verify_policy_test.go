package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/policy"
	"github.com/provenant/provenant/verifier"
)

// npmPolicy is a policy file the npm fixture (sigstore-js 2.1.0, signed by
// its release workflow at refs/heads/main) meets.
const npmPolicy = `source:
  repo: sigstore/sigstore-js
  repository-id: 495574555
  owner-id: 71096353
  refs: ["refs/heads/main", "refs/tags/v*"]
signer: {workflow: sigstore/sigstore-js/.github/workflows/release.yml}
level: 2
`

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVerifyCmd_Policy: the policy file through the command; each broken
// rule fails the artifact with a message naming it, a bad file is a usage
// error naming its line, and flags override the file.
func TestVerifyCmd_Policy(t *testing.T) {
	npm := []string{"--trusted-root", pgRoot, "--bundle", npmBundle, npmTgz}
	tests := []attackCase{
		{"the policy holds", append([]string{"--policy", writePolicy(t, npmPolicy)}, npm...), exitOK, "VERIFIED at SLSA Build L2", ""},
		{"recreated repository (same name, other id)", append([]string{"--policy", writePolicy(t, strings.Replace(npmPolicy, "495574555", "495574556", 1))}, npm...),
			exitFailed, "policy rule source.repository-id: the certificate's Source Repository Identifier (1.3.6.1.4.1.57264.1.15) is 495574555, required 495574556", ""},
		{"other owner id", append([]string{"--policy", writePolicy(t, strings.Replace(npmPolicy, "71096353", "1", 1))}, npm...),
			exitFailed, "policy rule source.owner-id:", ""},
		{"ref outside the globs", append([]string{"--policy", writePolicy(t, strings.Replace(npmPolicy, `"refs/heads/main", `, "", 1))}, npm...),
			exitFailed, `policy rule source.refs: the certificate's Source Repository Ref "refs/heads/main" matches none of refs/tags/v*`, ""},
		{"missing SBOM", append([]string{"--policy", writePolicy(t, npmPolicy+"require:\n  - predicate-type: https://slsa.dev/provenance/v1\n  - predicate-type: https://cyclonedx.org/bom\n")}, npm...),
			exitFailed, "policy rule require[1] (https://cyclonedx.org/bom): no verified attestation", ""},
		{"where holds", append([]string{"--policy", writePolicy(t, npmPolicy+"require:\n  - predicate-type: https://slsa.dev/provenance/v1\n    where: {buildDefinition.externalParameters.workflow.path: .github/workflows/release.yml}\n")}, npm...),
			exitOK, "VERIFIED", ""},
		{"where fails", append([]string{"--policy", writePolicy(t, npmPolicy+"require:\n  - predicate-type: https://slsa.dev/provenance/v1\n    where: {buildDefinition.externalParameters.workflow.path: .github/workflows/other.yml}\n")}, npm...),
			exitFailed, `policy rule require[0] (https://slsa.dev/provenance/v1).where.buildDefinition.externalParameters.workflow.path: bundle`, ""},
		{"level 3 from the file", append([]string{"--policy", writePolicy(t, strings.Replace(npmPolicy, "level: 2", "level: 3", 1))}, npm...),
			exitFailed, "FAIL      9 level       SLSA Build L2", ""},
		// Two rules that disagree: the stricter wins, nothing is dropped.
		{"--min-level below the file's level: the file's holds", append([]string{"--min-level", "2", "--policy", writePolicy(t, strings.Replace(npmPolicy, "level: 2", "level: 3", 1))}, npm...),
			exitFailed, "(required: L3)", ""},
		{"--min-level above the file's level holds", append([]string{"--min-level", "3", "--policy", writePolicy(t, npmPolicy)}, npm...),
			exitFailed, "(required: L3)", ""},
		{"the file's repo is enforced", append([]string{"--policy", writePolicy(t, strings.Replace(npmPolicy, "repo: sigstore/sigstore-js", "repo: sigstore/sigstore-go", 1))}, npm...),
			exitFailed, "FAIL      6 identity", ""},
		{"--repo and the file's repo disagree", append([]string{"--repo", "sigstore/sigstore-js", "--policy", writePolicy(t, strings.Replace(npmPolicy, "repo: sigstore/sigstore-js", "repo: sigstore/sigstore-go", 1))}, npm...),
			exitUsage, "", "source.repo sigstore/sigstore-go and --repo sigstore/sigstore-js name two repositories"},
		{"--repo and the file's repo agree", append([]string{"--repo", "Sigstore/Sigstore-JS", "--policy", writePolicy(t, npmPolicy)}, npm...),
			exitOK, "VERIFIED", ""},
		{"--source-uri and the file's repo disagree", append([]string{"--source-uri", "github.com/sigstore/sigstore-go", "--policy", writePolicy(t, npmPolicy)}, npm...),
			exitUsage, "", "name two repositories"},
		{"--owner and the file's repo disagree", append([]string{"--owner", "evil", "--policy", writePolicy(t, npmPolicy)}, npm...),
			exitUsage, "", "is not owned by --owner evil"},
		{"the file's signer workflow is enforced", append([]string{"--policy", writePolicy(t, strings.Replace(npmPolicy, "workflows/release.yml", "workflows/publish.yml", 1))}, npm...),
			exitFailed, "FAIL      6 identity", ""},
		{"--signer-workflow and the file's disagree", append([]string{"--signer-workflow", "sigstore/sigstore-js/.github/workflows/release.yml", "--policy", writePolicy(t, strings.Replace(npmPolicy, "workflows/release.yml", "workflows/publish.yml", 1))}, npm...),
			exitUsage, "", "name two signers"},
		{"--signer-workflow and the file's agree", append([]string{"--signer-workflow", "sigstore/sigstore-js/.github/workflows/release.yml", "--policy", writePolicy(t, npmPolicy)}, npm...),
			exitOK, "VERIFIED", ""},
		{"unknown key names its line", append([]string{"--policy", writePolicy(t, npmPolicy+"requires: []\n")}, npm...),
			exitUsage, "", `line 8: the policy: unknown key "requires"`},
		{"unreadable policy file", append([]string{"--policy", "testdata/policy/none.yaml"}, npm...), exitUsage, "", "none.yaml"},
		{"--update-pins alone", append([]string{"--update-pins", "--repo", "sigstore/sigstore-js"}, npm...), exitUsage, "", "--update-pins needs --pins"},
	}
	runAttackCases(t, tests)
}

// TestVerifyCmd_Pins: the first run records the source; later runs pass,
// or fail naming what changed until --update-pins accepts it.
func TestVerifyCmd_Pins(t *testing.T) {
	pins := filepath.Join(t.TempDir(), "pins.json")
	args := []string{"--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--pins", pins, "--bundle", npmBundle, npmTgz}
	const src = "https://github.com/sigstore/sigstore-js"
	edit := func(f func(*policy.Pin)) {
		data, err := os.ReadFile(pins)
		if err != nil {
			t.Fatal(err)
		}
		p, err := policy.ParsePins(data)
		if err != nil {
			t.Fatal(err)
		}
		pin := p.Sources[src]
		f(&pin)
		p.Sources[src] = pin
		if data, err = p.Marshal(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pins, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name  string
		edit  func(*policy.Pin)
		extra []string
		code  int
		out   string
	}{
		{"first use records", nil, nil, exitOK, "VERIFIED"},
		{"same again", nil, nil, exitOK, "VERIFIED"},
		{"repository id changed", func(p *policy.Pin) { p.RepositoryID = "1" }, nil, exitFailed, `policy rule pins: repository id of https://github.com/sigstore/sigstore-js changed from "1" to "495574555"`},
		{"change accepted", nil, []string{"--update-pins"}, exitOK, "VERIFIED"},
		{"after the change", nil, nil, exitOK, "VERIFIED"},
		{"signer moved to another repository", func(p *policy.Pin) {
			p.SignerWorkflow = "https://github.com/sigstore/builders/.github/workflows/release.yml"
		}, nil, exitFailed, "signer of https://github.com/sigstore/sigstore-js moved"},
		{"downgrade", func(p *policy.Pin) { p.SignerWorkflow, p.Level = src+"/.github/workflows/release.yml", 3 }, nil, exitFailed, "dropped from SLSA Build L3 to L2 (a downgrade)"},
	}
	for _, st := range steps {
		if st.edit != nil {
			edit(st.edit)
		}
		code, out, errOut := runVerifyIn(t, nil, append(st.extra, args...)...)
		if code != st.code || !strings.Contains(out, st.out) {
			t.Fatalf("%s: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", st.name, code, st.code, st.out, out, errOut)
		}
		var p policy.Pins
		if data, err := os.ReadFile(pins); err != nil || json.Unmarshal(data, &p) != nil {
			t.Fatalf("%s: pins file: %v", st.name, err)
		}
		if got := p.Sources[src]; st.code == exitOK && (got.RepositoryID != "495574555" || got.OwnerID != "71096353" || got.Level != 2 ||
			got.SignerWorkflow != src+"/.github/workflows/release.yml") {
			t.Errorf("%s: pin %+v", st.name, got)
		}
	}
}

// TestVerifyCmd_PolicyAcrossAttestations: testdata/policy's bundles (one
// run attesting provenance, an SBOM and a test result) meet demo.yaml;
// each attack fails with a message naming the rule.
func TestVerifyCmd_PolicyAcrossAttestations(t *testing.T) {
	const dir = "testdata/policy"
	cmd := func(bundles ...string) []string {
		args := []string{"--trusted-root", dir + "/trusted_root.json", "--policy", dir + "/demo.yaml"}
		for _, b := range bundles {
			args = append(args, "--bundle", dir+"/"+b+".sigstore.json")
		}
		return append(args, dir+"/demo-linux-amd64")
	}
	runAttackCases(t, []attackCase{
		{"provenance, SBOM and passed tests of one run", cmd("provenance", "sbom", "test-passed"), exitOK, "VERIFIED at SLSA Build L3", ""},
		{"a failed test beside the passed one", cmd("provenance", "sbom", "test-failed", "test-passed"), exitOK, "VERIFIED at SLSA Build L3", ""},
		{"missing SBOM", cmd("provenance", "test-passed"), exitFailed, "policy rule require[1] (https://cyclonedx.org/bom): no verified attestation", ""},
		{"SBOM from another run", cmd("provenance", "sbom-other-run", "test-passed"), exitFailed, "policy rule same-run: no one run", ""},
		{"failed test result", cmd("provenance", "sbom", "test-failed"), exitFailed,
			`policy rule require[2] (https://in-toto.io/attestation/test-result/v0.1).where.result: bundle testdata/policy/test-failed.sigstore.json: result is "FAILED", required eq "PASSED"`, ""},
		{"recreated repository (same name, other id)", cmd("provenance-recreated", "sbom", "test-passed"), exitFailed, "policy rule source.repository-id: the certificate's Source Repository Identifier (1.3.6.1.4.1.57264.1.15) is 999999, required 123456", ""},
		{"no provenance at all", cmd("sbom", "test-passed"), exitFailed, "policy rule require[0] (https://slsa.dev/provenance/v1): no verified attestation", ""},
	})
	// The report says which bundle verified for which type, and why the
	// artifact failed.
	code, out, _ := runVerifyIn(t, nil, append([]string{"--format", "report"}, cmd("provenance", "sbom-other-run", "test-passed")...)...)
	var rep verifier.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFailed || len(rep.Artifacts) != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	a := rep.Artifacts[0]
	if rep.Verified || a.Verified || !strings.HasPrefix(a.Error, "policy rule same-run: ") {
		t.Errorf("report verified %v, artifact %v, error %q", rep.Verified, a.Verified, a.Error)
	}
	for _, b := range a.Bundles {
		if !b.Verified {
			t.Errorf("bundle %s (%s) not verified for its own type:\n%s", b.Source, b.PredicateType, out)
		}
	}
}

// TestVerifyCmd_PinsAcrossRuns: pins recorded from a verification at L3
// fail a later one whose signer moved, and one that is a downgrade.
func TestVerifyCmd_PinsAcrossRuns(t *testing.T) {
	const dir = "testdata/policy"
	pins := filepath.Join(t.TempDir(), "pins.json")
	base := []string{"--trusted-root", dir + "/trusted_root.json", "--repo", "provenant/demo", "--pins", pins, "--bundle", dir + "/provenance.sigstore.json", dir + "/demo-linux-amd64"}
	steps := []attackCase{
		{"first use at L3", append([]string{"--signer-workflow", "provenant/builders/.github/workflows/provenance.yml"}, base...), exitOK, "VERIFIED at SLSA Build L3", "pins recorded"},
		{"downgrade: the builder not pinned, so L2", append([]string{"--cert-identity-regexp", "https://github.com/provenant/builders/.*"}, base...), exitFailed, "policy rule pins: level of https://github.com/provenant/demo dropped from SLSA Build L3 to L2 (a downgrade)", ""},
		{"downgrade accepted", append([]string{"--update-pins", "--cert-identity-regexp", "https://github.com/provenant/builders/.*"}, base...), exitOK, "VERIFIED at SLSA Build L2", "pins recorded"},
	}
	for _, st := range steps {
		code, out, errOut := runVerifyIn(t, nil, st.args...)
		if code != st.code || !strings.Contains(out, st.out) || !strings.Contains(errOut, st.err) {
			t.Fatalf("%s: exit %d, want %d, %q and %q\nstdout:\n%s\nstderr:\n%s", st.name, code, st.code, st.out, st.err, out, errOut)
		}
	}
}

// TestVerifyCmd_BundleThePolicyRefusesDoesNotCount: one artifact, two
// bundles: the source repository's own (id 123456, L2) and one from the
// repository recreated under the same name (id 999999) at L3. The policy
// pins id 123456. The refused bundle set the report's level, the VSA's
// level and inputAttestations, and the pinned repository id.
func TestVerifyCmd_BundleThePolicyRefusesDoesNotCount(t *testing.T) {
	dir := t.TempDir()
	pins, vsaDir := filepath.Join(dir, "pins.json"), filepath.Join(dir, "vsa")
	policy := writePolicy(t, "source:\n  repo: provenant/demo\n  repository-id: 123456\n")
	code, out, errOut := runVerifyIn(t, nil, "--trusted-root", attackRoot, "--policy", policy,
		"--cert-identity-regexp", "https://github.com/(provenant/demo|github/artifact-attestations-workflows)/.*",
		"--pins", pins, "--vsa-out", vsaDir, "--format", "report",
		"--bundle", attackDir+"/recreated-repo-l3.sigstore.json", "--bundle", attackDir+"/provenance-own.sigstore.json", attackArtifact)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var rep verifier.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Level() != 2 || !strings.Contains(out, `"refusedByPolicy": "policy rule source.repository-id`) {
		t.Errorf("report at L%d, want L2 with the recreated repository's bundle refused\n%s", rep.Level(), out)
	}
	vsa, err := os.ReadFile(filepath.Join(vsaDir, "demo-linux-amd64.vsa.intoto.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(vsa), "SLSA_BUILD_LEVEL_2") || strings.Contains(string(vsa), "SLSA_BUILD_LEVEL_3") || strings.Contains(string(vsa), "recreated-repo-l3") {
		t.Errorf("VSA names the refused bundle or its level:\n%s", vsa)
	}
	data, err := os.ReadFile(pins)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"repositoryId": "123456"`) || strings.Contains(string(data), "999999") || !strings.Contains(string(data), `"level": 2`) {
		t.Errorf("pins record the refused bundle:\n%s", data)
	}
}
