package main

// End-to-end tests of policy files, pins and VSAs on the local Sigstore
// stack (see e2e_test.go):
//
//	scripts/sigstore-stack run --rekor v1 -- go test -count=1 -run E2EPolicy .

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/provenant/provenant/builder/oidctest"
	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/verifier"
)

// The run every policy test starts from: a tag build whose provenance is
// signed by a reusable workflow of another repository (SLSA Build L3).
const (
	policyTag          = "refs/tags/v1.0.0"
	platformWorkflow   = "octo-org/build-platform/.github/workflows/slsa-build.yml"
	testResultType     = "https://in-toto.io/attestation/test-result/v0.1"
	cyclonedxType      = "https://cyclonedx.org/bom"
	policyArtifactName = "octo-1.0.tgz"
)

// releaseClaims are the token claims of the release run, with changes.
func releaseClaims(changes map[string]any) map[string]any {
	c := map[string]any{
		"ref":              policyTag,
		"job_workflow_ref": platformWorkflow + "@refs/tags/v1.0.0",
		"job_workflow_sha": "1111111111111111111111111111111111111111",
	}
	for k, v := range changes {
		c[k] = v
	}
	return c
}

// issuePolicy is the example policy of docs/policy.md, read from the doc
// (so the test runs what the doc shows), with the stack's ids in place of
// the example's 101 and 202: source ids, tag refs, the reusable signer, L3,
// provenance + SBOM + a passed test result from one run.
var issuePolicy = docPolicyExample()

func docPolicyExample() string {
	// By this file's own path: the package's test binary is also run from
	// other folders (the resource tests' child processes).
	_, self, _, _ := runtime.Caller(0)
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(self), "docs", "policy.md"))
	if err != nil {
		panic(err)
	}
	_, rest, ok := strings.Cut(string(doc), "\n```yaml\n")
	example, _, ok2 := strings.Cut(rest, "\n```")
	if !ok || !ok2 || !strings.Contains(example, "repository-id: 101, owner-id: 202") || !strings.Contains(example, platformWorkflow) {
		panic("docs/policy.md: the first yaml block is not the example policy this test runs (ids 101 and 202, signer " + platformWorkflow + ")")
	}
	return strings.NewReplacer("repository-id: 101", "repository-id: "+oidctest.DefaultRepositoryID,
		"owner-id: 202", "owner-id: "+oidctest.DefaultRepositoryOwnerID).Replace(example) + "\n"
}

const sbomJSON = `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[{"type":"library","name":"left-pad","version":"1.3.0"}]}`

func testResult(result string) string {
	return `{"result":"` + result + `","configuration":[{"uri":"https://github.com/octo-org/octo-repo/.github/workflows/test.yml"}],"passedTests":["TestA"],"failedTests":[]}`
}

// policyStack is one test's stack instance and the artifact.
type policyStack struct {
	s        *stack
	inst     string
	root     string // trusted_root.json
	artifact string
}

func newPolicyStack(t *testing.T) *policyStack {
	s := needStack(t)
	inst := s.instanceDir(t, "signing_config.json", nil)
	p := &policyStack{s: s, inst: inst, root: filepath.Join(inst, "trusted_root.json")}
	p.artifact = filepath.Join(t.TempDir(), policyArtifactName)
	if err := os.WriteFile(p.artifact, []byte("the release artifact"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// attest signs one attestation of the artifact as a job whose token has
// claims (nil: the default job); predicateType "" is SLSA provenance.
func (p *policyStack) attest(t *testing.T, claims map[string]any, predicateType, predicate string) string {
	t.Helper()
	st := p.s.signedStep(t, p.inst)
	if claims != nil {
		c, _ := json.Marshal(claims)
		st.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = p.s.tokenURL + "&claims=" + url.QueryEscape(string(c))
	}
	args := []string{"attest"}
	if predicateType != "" {
		st.file("predicate.json", predicate)
		args = append(args, "--predicate-type", predicateType, "--predicate-path", "predicate.json")
	}
	stdout, stderr, code := st.run(args...)
	if code != 0 {
		t.Fatalf("attest %s: exit %d\n%s\n%s", predicateType, code, stdout, stderr)
	}
	return st.outputs()["bundle-path"]
}

// verify runs provenant verify outside a job on the artifact.
func (p *policyStack) verify(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	st := newStep(t)
	delete(st.env, "GITHUB_ACTIONS")
	all := append([]string{"verify", "--verbose", "--trusted-root", p.root, "--cert-oidc-issuer", p.s.issuer}, args...)
	return st.run(append(all, p.artifact)...)
}

func bundles(paths ...string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, "--bundle", p)
	}
	return out
}

// TestE2EPolicy: a run attests provenance, a CycloneDX SBOM and a test
// result; the issue's example policy passes, and each way of breaking it
// fails with a message naming the rule.
func TestE2EPolicy(t *testing.T) {
	p := newPolicyStack(t)
	run := releaseClaims(nil)
	prov := p.attest(t, run, "", "")
	sbom := p.attest(t, run, cyclonedxType, sbomJSON)
	passed := p.attest(t, run, testResultType, testResult("PASSED"))
	failed := p.attest(t, run, testResultType, testResult("FAILED"))
	otherRun := releaseClaims(map[string]any{"run_id": "1111111111"})
	sbomOtherRun := p.attest(t, otherRun, cyclonedxType, sbomJSON)
	passedOtherRun := p.attest(t, otherRun, testResultType, testResult("PASSED"))
	recreated := releaseClaims(map[string]any{"repository_id": "999999999"})
	provRecreated := p.attest(t, recreated, "", "")
	sbomRecreated := p.attest(t, recreated, cyclonedxType, sbomJSON)
	passedRecreated := p.attest(t, recreated, testResultType, testResult("PASSED"))
	policy := writePolicy(t, issuePolicy)

	tests := []struct {
		name    string
		bundles []string
		code    int
		want    string
	}{
		{"provenance + SBOM + passed test result of one run", []string{prov, sbom, passed}, exitOK, "VERIFIED at SLSA Build L3"},
		{"missing SBOM", []string{prov, passed}, exitFailed, "policy rule require[1] (https://cyclonedx.org/bom): no verified attestation"},
		{"SBOM from another run", []string{prov, sbomOtherRun, passed}, exitFailed, "policy rule same-run:"},
		{"SBOM and test result from another run", []string{prov, sbomOtherRun, passedOtherRun}, exitFailed, "policy rule same-run:"},
		{"failed test result", []string{prov, sbom, failed}, exitFailed, `policy rule require[2] (https://in-toto.io/attestation/test-result/v0.1).where.result:`},
		{"recreated repository (same name, other id)", []string{provRecreated, sbomRecreated, passedRecreated}, exitFailed,
			"policy rule source.repository-id: the certificate's Source Repository Identifier (1.3.6.1.4.1.57264.1.15) is 999999999, required " + oidctest.DefaultRepositoryID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := p.verify(t, append([]string{"--policy", policy}, bundles(tt.bundles...)...)...)
			if code != tt.code || !strings.Contains(stdout, tt.want) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}

// TestE2EPolicyPins: pins recorded on first use catch a downgrade and a
// signer moved to another repository, naming what changed.
func TestE2EPolicyPins(t *testing.T) {
	p := newPolicyStack(t)
	l3 := p.attest(t, releaseClaims(nil), "", "")
	l2 := p.attest(t, releaseClaims(map[string]any{"runner_environment": "self-hosted"}), "", "")
	moved := p.attest(t, releaseClaims(map[string]any{"job_workflow_ref": "octo-org/other-platform/.github/workflows/slsa-build.yml@refs/tags/v1.0.0"}), "", "")

	t.Run("downgrade", func(t *testing.T) {
		pins := filepath.Join(t.TempDir(), "pins.json")
		args := []string{"--repo", "octo-org/octo-repo", "--signer-repo", "octo-org/build-platform", "--min-level", "2", "--pins", pins}
		if stdout, stderr, code := p.verify(t, append(args, bundles(l3)...)...); code != exitOK || !strings.Contains(stderr, "pins recorded") {
			t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
		}
		stdout, stderr, code := p.verify(t, append(args, bundles(l2)...)...)
		if want := "policy rule pins: level of https://github.com/octo-org/octo-repo dropped from SLSA Build L3 to L2 (a downgrade)"; code != exitFailed || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, want %d with %q\n%s\n%s", code, exitFailed, want, stdout, stderr)
		}
	})
	t.Run("signer moved to another repository", func(t *testing.T) {
		pins := filepath.Join(t.TempDir(), "pins.json")
		args := []string{"--repo", "octo-org/octo-repo", "--cert-identity-regexp", `https://github\.com/octo-org/.*`, "--min-level", "2", "--pins", pins}
		if stdout, stderr, code := p.verify(t, append(args, bundles(l3)...)...); code != exitOK {
			t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
		}
		stdout, stderr, code := p.verify(t, append(args, bundles(moved)...)...)
		if want := "policy rule pins: signer of https://github.com/octo-org/octo-repo moved from https://github.com/" + platformWorkflow + " to https://github.com/octo-org/other-platform/.github/workflows/slsa-build.yml"; code != exitFailed || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, want %d with %q\n%s\n%s", code, exitFailed, want, stdout, stderr)
		}
	})
}

// vsaOf reads a signed VSA bundle's statement.
func vsaOf(t *testing.T, path string) (raw []byte, st struct {
	Subject []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string `json:"predicateType"`
	Predicate     struct {
		Verifier struct {
			ID      string            `json:"id"`
			Version map[string]string `json:"version"`
		} `json:"verifier"`
		TimeVerified string `json:"timeVerified"`
		ResourceURI  string `json:"resourceUri"`
		Policy       struct {
			URI    string            `json:"uri"`
			Digest map[string]string `json:"digest"`
		} `json:"policy"`
		InputAttestations []struct {
			URI    string            `json:"uri"`
			Digest map[string]string `json:"digest"`
		} `json:"inputAttestations"`
		VerificationResult string   `json:"verificationResult"`
		VerifiedLevels     []string `json:"verifiedLevels"`
		SLSAVersion        string   `json:"slsaVersion"`
	} `json:"predicate"`
}) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DSSEEnvelope struct{ Payload string } `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatalf("VSA payload: %v", err)
	}
	return raw, st
}

// TestE2EPolicyVSA: verify --vsa-out in a simulated job signs a VSA of
// its verdict; each field is checked against that verification; the VSA
// verifies with provenant verify and with cosign, and a FAILED VSA is
// refused.
func TestE2EPolicyVSA(t *testing.T) {
	p := newPolicyStack(t)
	run := releaseClaims(nil)
	prov := p.attest(t, run, "", "")
	sbom := p.attest(t, run, cyclonedxType, sbomJSON)
	passed := p.attest(t, run, testResultType, testResult("PASSED"))

	// The verify step of the release job: its token is the default job's.
	job := p.s.signedStep(t, p.inst)
	policy := job.file("policy.yaml", issuePolicy)
	vsaDir := filepath.Join(job.temp, "vsa")
	reportPath := filepath.Join(job.temp, "report.json")
	args := append([]string{"verify", "--trusted-root", p.root, "--cert-oidc-issuer", p.s.issuer, "--policy", "policy.yaml",
		"--vsa-out", vsaDir, "--report", reportPath}, bundles(prov, sbom, passed)...)
	stdout, stderr, code := job.run(append(args, p.artifact)...)
	if code != exitOK {
		t.Fatalf("verify in the job: exit %d\n%s\n%s", code, stdout, stderr)
	}
	vsaPath := filepath.Join(vsaDir, policyArtifactName+".vsa.sigstore.json")
	if !strings.Contains(stderr, "wrote "+vsaPath+" (VSA PASSED for "+p.artifact+", signed on ") {
		t.Errorf("the log does not say the VSA was written and signed:\n%s", stderr)
	}
	if tokenHeader := strings.SplitN(job.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"], ".", 2)[0]; tokenHeader != "" && strings.Contains(stderr+stdout, tokenHeader) {
		t.Error("request token printed")
	}

	// Each field against the verification that produced it (its report).
	var rep verifier.Report
	reportJSON, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(reportJSON, &rep); err != nil || len(rep.Artifacts) != 1 {
		t.Fatalf("report: %v, %d artifacts", err, len(rep.Artifacts))
	}
	a := rep.Artifacts[0]
	raw, vsa := vsaOf(t, vsaPath)
	_ = raw
	alg, hexDigest, _ := strings.Cut(a.Digest, ":")
	pr := vsa.Predicate
	var inputURIs, inputDigests []string
	for _, in := range pr.InputAttestations {
		inputURIs = append(inputURIs, in.URI)
		inputDigests = append(inputDigests, in.Digest["sha256"])
	}
	verifiedTime, terr := time.Parse(time.RFC3339, pr.TimeVerified)
	checks := []struct {
		field     string
		got, want any
	}{
		{"predicateType", vsa.PredicateType, verifier.VSAPredicateType},
		{"subject count", len(vsa.Subject), 1},
		{"subject name", vsa.Subject[0].Name, policyArtifactName},
		{"subject digest", vsa.Subject[0].Digest[alg], hexDigest},
		{"verifier.id", pr.Verifier.ID, verifier.VerifierID},
		{"verifier.version", pr.Verifier.Version["provenant"] != "", true},
		{"timeVerified parses", terr == nil && !verifiedTime.IsZero(), true},
		{"resourceUri", pr.ResourceURI, policyArtifactName},
		{"policy.uri", pr.Policy.URI, "policy.yaml"},
		{"policy.digest", pr.Policy.Digest["sha256"], fileDigest(t, policy)},
		{"inputAttestations uris", strings.Join(inputURIs, " "), strings.Join([]string{prov, sbom, passed}, " ")},
		{"inputAttestations digests", strings.Join(inputDigests, " "), strings.Join([]string{fileDigest(t, prov), fileDigest(t, sbom), fileDigest(t, passed)}, " ")},
		{"verificationResult", pr.VerificationResult == verifier.VSAPassed, a.Verified},
		{"verifiedLevels", strings.Join(pr.VerifiedLevels, ","), formats.BuildLevel(a.Level)},
		{"the level is the policy's", a.Level, 3},
		{"slsaVersion", pr.SLSAVersion, "1.0"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("VSA %s = %v, want %v", c.field, c.got, c.want)
		}
	}

	san := "https://github.com/" + oidctest.DefaultWorkflowRef
	vsaArgs := []string{"--predicate-type", verifier.VSAPredicateType, "--verifier-id", verifier.VerifierID, "--repo", oidctest.DefaultRepository}
	t.Run("provenant verify accepts the VSA", func(t *testing.T) {
		for _, extra := range [][]string{
			{"--min-level", "3"},
			{"--min-level", "3", "--signer-workflow", "octo-org/octo-repo/.github/workflows/release.yml", "--resource-uri", policyArtifactName},
			{"--cert-identity", san},
		} {
			stdout, stderr, code := p.verify(t, append(append(vsaArgs, extra...), "--bundle", vsaPath)...)
			if code != exitOK || !strings.Contains(stdout, "VERIFIED at SLSA Build L3") || !strings.Contains(stdout, "N/A       8 provenance") {
				t.Errorf("%v: exit %d\n%s\n%s", extra, code, stdout, stderr)
			}
		}
	})
	t.Run("provenant verify refuses it for the wrong verifier, signer or artifact", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), policyArtifactName)
		os.WriteFile(other, []byte("another artifact"), 0o644)
		cases := []struct {
			args []string
			want string
		}{
			{[]string{"--predicate-type", verifier.VSAPredicateType, "--verifier-id", "https://other.example/verifier", "--repo", oidctest.DefaultRepository, "--bundle", vsaPath},
				`VSA rule verifier.id: the VSA's verifier is "https://provenant.dev/verifier", required "https://other.example/verifier"`},
			{append(vsaArgs, "--signer-workflow", "octo-org/octo-repo/.github/workflows/deploy.yml", "--bundle", vsaPath), "FAIL      6 identity"},
			{append(vsaArgs, "--min-level", "3", "--resource-uri", "octo-2.0.tgz", "--bundle", vsaPath), "VSA rule resourceUri"},
		}
		for _, c := range cases {
			stdout, stderr, code := p.verify(t, c.args...)
			if code != exitFailed || !strings.Contains(stdout, c.want) {
				t.Errorf("%v: exit %d, want %d with %q\n%s\n%s", c.args, code, exitFailed, c.want, stdout, stderr)
			}
		}
		st := newStep(t)
		delete(st.env, "GITHUB_ACTIONS")
		stdout, _, code := st.run(append([]string{"verify", "--verbose", "--trusted-root", p.root, "--cert-oidc-issuer", p.s.issuer, "--bundle", vsaPath}, append(vsaArgs, other)...)...)
		if code != exitFailed || !strings.Contains(stdout, "FAIL      5 subject") {
			t.Errorf("the VSA verified for another artifact: exit %d\n%s", code, stdout)
		}
	})
	t.Run("cosign verify-blob-attestation accepts the VSA", func(t *testing.T) {
		args := []string{"verify-blob-attestation", "--bundle", vsaPath, "--new-bundle-format",
			"--type", verifier.VSAPredicateType, "--trusted-root", p.root,
			"--certificate-identity", san, "--certificate-oidc-issuer", p.s.issuer}
		if strings.Contains(string(raw), `"rfc3161Timestamps"`) {
			args = append(args, "--use-signed-timestamps")
		}
		out, err := runCosign(t, append(args, p.artifact)...)
		if err != nil {
			t.Errorf("cosign rejects the VSA: %v\n%s", err, out)
		}
		t.Logf("cosign %s:\n%s", strings.Join(args, " "), out)
		other := filepath.Join(t.TempDir(), policyArtifactName)
		os.WriteFile(other, []byte("another artifact"), 0o644)
		if out, err := runCosign(t, append(args, other)...); err == nil {
			t.Errorf("cosign accepted the VSA for another artifact:\n%s", out)
		}
	})
	t.Run("a FAILED VSA is written and refused", func(t *testing.T) {
		job := p.s.signedStep(t, p.inst)
		job.file("policy.yaml", issuePolicy)
		dir := filepath.Join(job.temp, "vsa")
		stdout, stderr, code := job.run(append(append([]string{"verify", "--trusted-root", p.root, "--cert-oidc-issuer", p.s.issuer, "--policy", "policy.yaml",
			"--vsa-out", dir}, bundles(prov, passed)...), p.artifact)...)
		if code != exitFailed {
			t.Fatalf("verify without the SBOM: exit %d, want %d\n%s\n%s", code, exitFailed, stdout, stderr)
		}
		failedVSA := filepath.Join(dir, policyArtifactName+".vsa.sigstore.json")
		_, vsa := vsaOf(t, failedVSA)
		if vsa.Predicate.VerificationResult != verifier.VSAFailed || strings.Join(vsa.Predicate.VerifiedLevels, ",") != verifier.VSAFailed {
			t.Errorf("VSA of a failed verification says %s %v", vsa.Predicate.VerificationResult, vsa.Predicate.VerifiedLevels)
		}
		stdout, stderr, code = p.verify(t, append(vsaArgs, "--bundle", failedVSA)...)
		if want := `VSA rule verificationResult: the verifier's verdict is "FAILED", required "PASSED"`; code != exitFailed || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, want %d with %q\n%s\n%s", code, exitFailed, want, stdout, stderr)
		}
	})
	t.Run("an unsigned VSA is refused", func(t *testing.T) {
		st := newStep(t)
		delete(st.env, "GITHUB_ACTIONS")
		dir := filepath.Join(st.temp, "vsa")
		stdout, stderr, code := st.run(append(append([]string{"verify", "--trusted-root", p.root, "--cert-oidc-issuer", p.s.issuer, "--policy", policy, "--vsa-out", dir},
			bundles(prov, sbom, passed)...), p.artifact)...)
		unsigned := filepath.Join(dir, policyArtifactName+".vsa.intoto.json")
		if _, err := os.Stat(unsigned); code != exitOK || err != nil {
			t.Fatalf("verify outside a job: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
		}
		stdout, stderr, code = p.verify(t, append(vsaArgs, "--bundle", unsigned)...)
		if code != exitFailed || !strings.Contains(stdout, "an unsigned VSA") {
			t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
}

// runCosign runs the stack's cosign.
func runCosign(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(cosignPath(t), args...)
	cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}
