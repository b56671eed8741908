// Tests of package policy and package vsa on results of bundles signed by
// this package's test Sigstore (sigstore_test.go, exported to them by
// export_test.go): signing lives in package verifier's tests.
package verifier_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vsapb "github.com/in-toto/attestation/go/predicates/vsa/v1"
	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/policy"
	"github.com/provenant/provenant/verifier"
	"github.com/provenant/provenant/vsa"
	"google.golang.org/protobuf/encoding/protojson"
)

// signedAs signs a statement of the run with another predicate type and
// predicate (provenance when predicate is nil) over the demo artifact, and
// verifies it for that predicate type.
func signedAs(t *testing.T, s *verifier.TestSigstore, run verifier.GHRun, predicateType string, predicate map[string]any) verifier.BundleResult {
	t.Helper()
	data, art := verifier.OwnBundle(t, s, run, func(stmt map[string]any) {
		if predicate != nil {
			stmt["predicateType"], stmt["predicate"] = predicateType, predicate
		}
	}, verifier.SignOpts{})
	br := verifier.VerifyOne(t, s, data, art, verifier.Policy{Repo: run.Repo, PredicateType: predicateType})
	if !br.Verified {
		t.Fatalf("the %s bundle does not verify:\n%s", predicateType, verifier.BundleText(br))
	}
	return br
}

// TestPolicyFileEvaluate: one run attesting provenance, an SBOM and a test
// result passes the example policy; each attack fails naming its rule.
func TestPolicyFileEvaluate(t *testing.T) {
	s := verifier.NewTestSigstore(t)
	run := verifier.DefaultRun()
	pol := mustParsePolicy(t, strings.ReplaceAll(strings.NewReplacer("octo-org/octo-repo", "provenant/demo", "101", "123456", "202", "654321").
		Replace(string(verifier.MustRead(t, examplePolicy))), "level: 3\n", ""))
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

	prov := signedAs(t, s, run, verifier.SLSAProvenanceV1, nil)
	sbom := signedAs(t, s, run, cycloneDX, map[string]any{"bomFormat": "CycloneDX"})
	passed := signedAs(t, s, run, testResult, map[string]any{"result": "PASSED"})
	failed := signedAs(t, s, run, testResult, map[string]any{"result": "FAILED"})
	sbomOtherRun := signedAs(t, s, other, cycloneDX, map[string]any{"bomFormat": "CycloneDX"})
	sbomOtherCommit := signedAs(t, s, otherCommit, cycloneDX, map[string]any{"bomFormat": "CycloneDX"})
	provRecreated := signedAs(t, s, recreated, verifier.SLSAProvenanceV1, nil)
	provOtherOwner := signedAs(t, s, otherOwner, verifier.SLSAProvenanceV1, nil)
	provBranch := signedAs(t, s, branch, verifier.SLSAProvenanceV1, nil)
	unverified := sbom
	unverified.Verified = false

	tests := []struct {
		name    string
		bundles []verifier.BundleResult
		rule    string // "" passes
		msg     string
	}{
		{"provenance, SBOM and passed tests from one run", []verifier.BundleResult{prov, sbom, passed}, "", ""},
		{"a failed test beside a passed one of the same run", []verifier.BundleResult{prov, sbom, failed, passed}, "", ""},
		{"missing SBOM", []verifier.BundleResult{prov, passed}, "require[1] (https://cyclonedx.org/bom)", "no verified attestation"},
		{"SBOM bundle that did not verify", []verifier.BundleResult{prov, unverified, passed}, "require[1] (https://cyclonedx.org/bom)", "no verified attestation"},
		{"SBOM from another run", []verifier.BundleResult{prov, sbomOtherRun, passed}, "same-run", "/actions/runs/111111111/"},
		{"SBOM from another commit of the run", []verifier.BundleResult{prov, sbomOtherCommit, passed}, "same-run", "at commit fedcba98"},
		{"failed test result", []verifier.BundleResult{prov, sbom, failed}, "require[2] (https://in-toto.io/attestation/test-result/v0.1).where.result", `result is "FAILED", required eq "PASSED"`},
		{"recreated repository (same name, other id)", []verifier.BundleResult{provRecreated, sbom, passed}, "source.repository-id", "is 999999, required 123456"},
		{"other owner id", []verifier.BundleResult{provOtherOwner, sbom, passed}, "source.owner-id", "is 777, required 654321"},
		{"ref outside the globs", []verifier.BundleResult{provBranch, sbom, passed}, "source.refs", `"refs/heads/main" matches none of refs/tags/v*`},
		{"nothing at all", nil, "require[0] (https://slsa.dev/provenance/v1)", "no verified attestation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pol.Evaluate(tc.bundles, verifier.SLSAProvenanceV1)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("Evaluate: %v", err)
				}
				return
			}
			var pv *policy.Violation
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
	s := verifier.NewTestSigstore(t)
	run := verifier.DefaultRun()
	recreated := run
	recreated.RepoID = "1"
	pol := mustParsePolicy(t, "source: {repo: provenant/demo, repository-id: 123456}\n")
	if err := pol.Evaluate([]verifier.BundleResult{signedAs(t, s, run, verifier.SLSAProvenanceV1, nil)}, verifier.SLSAProvenanceV1); err != nil {
		t.Errorf("Evaluate: %v", err)
	}
	err := pol.Evaluate([]verifier.BundleResult{signedAs(t, s, recreated, verifier.SLSAProvenanceV1, nil)}, verifier.SLSAProvenanceV1)
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
	run           verifier.GHRun
	predicateType string
	predicate     map[string]any
}

func policyFixtures() []policyFixture {
	run := verifier.DefaultRun().Reusable()
	otherRun := run
	otherRun.RunID = "111111111"
	recreated := run
	recreated.RepoID = "999999"
	bom := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.5"}
	return []policyFixture{
		{"provenance.sigstore.json", run, verifier.SLSAProvenanceV1, nil},
		{"sbom.sigstore.json", run, cycloneDX, bom},
		{"test-passed.sigstore.json", run, testResult, map[string]any{"result": "PASSED", "passedTests": []any{"unit"}}},
		{"test-failed.sigstore.json", run, testResult, map[string]any{"result": "FAILED", "failedTests": []any{"unit"}}},
		{"sbom-other-run.sigstore.json", otherRun, cycloneDX, bom},
		{"provenance-recreated.sigstore.json", recreated, verifier.SLSAProvenanceV1, nil},
	}
}

// TestPolicyFixtures checks that each stored bundle verifies for its
// predicate type and meets demo.yaml's source rules, or, for the recreated
// repository, breaks source.repository-id; with -update it signs them anew.
func TestPolicyFixtures(t *testing.T) {
	if *verifier.Update {
		writePolicyFixtures(t)
	}
	roots := verifier.MustLoadRoots(t, filepath.Join(policyDir, "trusted_root.json"))
	pf, err := policy.ParseFile(verifier.MustRead(t, filepath.Join(policyDir, "demo.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range policyFixtures() {
		t.Run(fx.file, func(t *testing.T) {
			rep, err := verifier.Verify(context.Background(), verifier.Options{
				TrustedRoots: roots, Artifacts: []string{filepath.Join(policyDir, "demo-linux-amd64")},
				BundleFiles: []string{filepath.Join(policyDir, fx.file)},
				Policy:      verifier.Policy{Repo: pf.Source.Repo, SignerWorkflow: pf.SignerWorkflow, PredicateType: fx.predicateType},
			})
			if err != nil {
				t.Fatal(err)
			}
			br := rep.Artifacts[0].Bundles[0]
			if !br.Verified {
				t.Fatalf("does not verify:\n%s", verifier.Text(rep))
			}
			err = pf.Source.Check(br.Signer.Extensions)
			if want := fx.run.RepoID != verifier.DefaultRun().RepoID; (err != nil) != want {
				t.Errorf("source rules: %v, want failure %v", err, want)
			}
		})
	}
}

func writePolicyFixtures(t *testing.T) {
	s := verifier.NewTestSigstore(t)
	s.WriteTrustedRoot(t, policyDir)
	verifier.MustWrite(t, filepath.Join(policyDir, "demo-linux-amd64"), []byte("the release asset"))
	for _, fx := range policyFixtures() {
		data, _ := verifier.OwnBundle(t, s, fx.run, func(stmt map[string]any) {
			if fx.predicate != nil {
				stmt["predicateType"], stmt["predicate"] = fx.predicateType, fx.predicate
			}
		}, verifier.SignOpts{})
		verifier.MustWrite(t, filepath.Join(policyDir, fx.file), data)
	}
}

// TestPolicyFile_RefusedBundleDoesNotCount: two bundles for one artifact,
// one from the repository the policy pins by id (L2), one from the
// repository recreated under the same name (another id) at L3. The refused
// bundle counted: the report said L3, the VSA PASSED at L3 naming it among
// its inputAttestations, and the pins recorded its id. After Apply, level,
// VSA and pins come only from the bundle that meets the policy.
func TestPolicyFile_RefusedBundleDoesNotCount(t *testing.T) {
	s := verifier.NewTestSigstore(t)
	own := verifier.DefaultRun()
	recreated := verifier.DefaultRun().Reusable()
	recreated.RepoID = "999999"
	var bundles []verifier.BundleResult
	for i, r := range []verifier.GHRun{own, recreated} {
		data, art := verifier.OwnBundle(t, s, r, nil, verifier.SignOpts{})
		br := verifier.VerifyOne(t, s, data, art, verifier.Policy{Repo: r.Repo, SignerRepo: repoOfRef(r.JobWorkflowRef)})
		br.Source, br.BundleSHA256 = []string{"own.sigstore.json", "recreated.sigstore.json"}[i], strings.Repeat(string(rune('a'+i)), 64)
		bundles = append(bundles, br)
	}
	if bundles[0].Level != 2 || bundles[1].Level != 3 {
		t.Fatalf("setup: levels %d and %d, want 2 and 3", bundles[0].Level, bundles[1].Level)
	}
	pf, err := policy.ParseFile([]byte("source:\n  repo: provenant/demo\n  repository-id: 123456\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := verifier.ArtifactResult{Artifact: "demo", Digest: "sha256:" + strings.Repeat("0", 64), Verified: true, Level: 3, Bundles: bundles}
	if err := pf.Apply(&a, verifier.SLSAProvenanceV1); err != nil {
		t.Fatalf("Apply: %v (the own bundle meets the policy)", err)
	}
	if a.Level != 2 || a.Bundles[1].Verified || !strings.Contains(a.Bundles[1].Refused, "policy rule source.repository-id") {
		t.Fatalf("after Apply: level %d, recreated bundle verified %v refused %q; want L2 and the recreated bundle refused", a.Level, a.Bundles[1].Verified, a.Bundles[1].Refused)
	}
	vsaJSON, err := vsa.Summary(a, vsa.SummaryOptions{PolicyURI: "file:policy.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(vsaJSON), `"verifiedLevels":["SLSA_BUILD_LEVEL_2"]`) || strings.Contains(string(vsaJSON), "recreated.sigstore.json") {
		t.Errorf("VSA %s: want L2 and no input from the refused bundle", vsaJSON)
	}
	pins, _ := policy.ParsePins(nil)
	if _, err := pins.Check(a, false); err != nil {
		t.Fatal(err)
	}
	if got := pins.Sources["https://github.com/provenant/demo"]; got.RepositoryID != "123456" || got.Level != 2 {
		t.Errorf("pinned %+v, want repository id 123456 at L2", got)
	}

	// Only the recreated repository's bundle: the artifact fails.
	b := verifier.ArtifactResult{Artifact: "demo", Verified: true, Level: 3, Bundles: []verifier.BundleResult{bundles[1]}}
	b.Bundles[0].Verified, b.Bundles[0].Refused = true, ""
	var pv *policy.Violation
	if err := pf.Apply(&b, verifier.SLSAProvenanceV1); !errors.As(err, &pv) || b.Level != 0 {
		t.Errorf("Apply on the recreated repository's bundle alone = %v, level %d; want a violation and L0", err, b.Level)
	}
}

// TestPins: the first verification of a source records it; a later one
// fails naming what changed (ids, signer repository, a downgrade) unless
// the change is accepted, and records a higher level.
func TestPins(t *testing.T) {
	s := verifier.NewTestSigstore(t)
	run := verifier.DefaultRun()
	reusable := run.Reusable()
	recreated := reusable
	recreated.RepoID = "999999"
	otherOwner := reusable
	otherOwner.OwnerID = "1"
	movedSigner := reusable
	movedSigner.JobWorkflowRef = "evil/builders/.github/workflows/provenance.yml@refs/tags/v2.0.0"
	selfHosted := reusable
	selfHosted.Runner = "self-hosted"
	otherFile := reusable
	otherFile.JobWorkflowRef = "provenant/builders/.github/workflows/other.yml@refs/tags/v2.0.0"

	artifact := func(r verifier.GHRun, pinSigner bool) verifier.ArtifactResult {
		data, art := verifier.OwnBundle(t, s, r, nil, verifier.SignOpts{})
		p := verifier.Policy{Repo: r.Repo}
		if pinSigner {
			p.SignerRepo = repoOfRef(r.JobWorkflowRef)
		}
		br := verifier.VerifyOne(t, s, data, art, p)
		if !br.Verified {
			t.Fatalf("bundle does not verify:\n%s", verifier.BundleText(br))
		}
		return verifier.ArtifactResult{Artifact: "demo", Verified: true, Level: br.Level, Bundles: []verifier.BundleResult{br}}
	}
	l3 := artifact(reusable, true)
	if l3.Level != 3 {
		t.Fatalf("reusable workflow at L%d, want 3", l3.Level)
	}
	tests := []struct {
		name    string
		art     verifier.ArtifactResult
		update  bool
		changed bool
		fail    string // "" passes
		level   int    // the level pinned afterwards
	}{
		{"same again", l3, false, false, "", 3},
		{"recreated repository", artifact(recreated, true), false, false, `repository id of https://github.com/provenant/demo changed from "123456" to "999999"`, 3},
		{"other owner", artifact(otherOwner, true), false, false, `owner id of https://github.com/provenant/demo changed from "654321" to "1"`, 3},
		{"signer moved to another repository", artifact(movedSigner, true), false, false, "signer of https://github.com/provenant/demo moved from https://github.com/provenant/builders/.github/workflows/provenance.yml to https://github.com/evil/builders/", 3},
		{"downgrade to L2 (the source's own workflow)", artifact(run, false), false, false, "level of https://github.com/provenant/demo dropped from SLSA Build L3 to L2", 3},
		{"another workflow of the same builder repository", artifact(otherFile, true), false, false, "", 3},
		{"downgrade accepted", artifact(run, false), true, true, "", 2},
		{"back to the builder is a signer move", l3, false, false, "signer of https://github.com/provenant/demo moved from https://github.com/provenant/demo/.github/workflows/release.yml to https://github.com/provenant/builders/", 2},
		{"builder on a self-hosted runner accepted", artifact(selfHosted, true), true, true, "", 2},
		{"same builder on a GitHub-hosted runner: upgrade recorded", l3, false, true, "", 3},
	}
	pins, err := policy.ParsePins(nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := pins.Check(l3, false); err != nil || !changed {
		t.Fatalf("first use: changed %v, %v", changed, err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := pins.Check(tc.art, tc.update)
			var pv *policy.Violation
			switch {
			case tc.fail == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tc.fail != "" && (!errors.As(err, &pv) || pv.Rule != "pins" || !strings.Contains(err.Error(), tc.fail)):
				t.Fatalf("Check: %v, want rule pins and %q", err, tc.fail)
			}
			if changed != tc.changed {
				t.Errorf("changed %v, want %v", changed, tc.changed)
			}
			if got := pins.Sources["https://github.com/provenant/demo"]; got.Level != tc.level || got.RepositoryID != "123456" {
				t.Errorf("pin %+v, want level %d and repository id 123456", got, tc.level)
			}
		})
	}
}

func repoOfRef(jobWorkflowRef string) string {
	parts := strings.SplitN(jobWorkflowRef, "/", 3)
	return parts[0] + "/" + parts[1]
}

// TestPins_DowngradeThroughDeprecatedExtensionsIsCaught: a certificate
// with only the deprecated GitHub extensions (1.3.6.1.4.1.57264.1.2–.6)
// names its source in GitHub Workflow Repository; pins skipped it, so an
// old L1 bundle of a source pinned at L3 passed. It is held to the pin.
func TestPins_DowngradeThroughDeprecatedExtensionsIsCaught(t *testing.T) {
	s := verifier.NewTestSigstore(t)
	reusable := verifier.DefaultRun().Reusable()
	data, art := verifier.OwnBundle(t, s, reusable, nil, verifier.SignOpts{})
	l3 := verifier.VerifyOne(t, s, data, art, verifier.Policy{Repo: reusable.Repo, SignerRepo: "provenant/builders"})
	old := verifier.DefaultRun()
	data, art = verifier.OwnBundle(t, s, old, nil, verifier.OldCertificate(old))
	l1 := verifier.VerifyOne(t, s, data, art, verifier.Policy{Repo: old.Repo, MinLevel: 1})
	if !l3.Verified || l3.Level != 3 || !l1.Verified || l1.Level != 1 {
		t.Fatalf("setup: L3 bundle %v (L%d), deprecated-extensions bundle %v (L%d)\n%s", l3.Verified, l3.Level, l1.Verified, l1.Level, verifier.BundleText(l1))
	}
	pins, _ := policy.ParsePins(nil)
	if _, err := pins.Check(verifier.ArtifactResult{Verified: true, Level: 3, Bundles: []verifier.BundleResult{l3}}, false); err != nil {
		t.Fatal(err)
	}
	_, err := pins.Check(verifier.ArtifactResult{Verified: true, Level: 1, Bundles: []verifier.BundleResult{l1}}, false)
	var pv *policy.Violation
	if !errors.As(err, &pv) || !strings.Contains(err.Error(), "level of https://github.com/provenant/demo dropped from SLSA Build L3 to L1") ||
		!strings.Contains(err.Error(), `repository id of https://github.com/provenant/demo changed from "123456" to ""`) {
		t.Fatalf("Check = %v, want the downgrade and the missing repository id named", err)
	}
}

// vsaClock is the fixed time of the VSAs these tests write.
var vsaClock = time.Date(2025, 6, 1, 12, 30, 0, 0, time.UTC)

// TestSummaryMatchesItsVerification verifies real bundles, writes the VSA
// of each artifact and checks each field against the verification that
// produced it.
func TestSummaryMatchesItsVerification(t *testing.T) {
	s := verifier.NewTestSigstore(t)
	data, art := verifier.OwnBundle(t, s, verifier.DefaultRun(), nil, verifier.SignOpts{})
	tests := []struct {
		name       string
		policy     verifier.Policy
		wantResult string
		wantLevels []string
	}{
		{"passed at L2", verifier.Policy{Repo: "provenant/demo"}, verifier.VSAPassed, []string{"SLSA_BUILD_LEVEL_2"}},
		{"failed: L3 required", verifier.Policy{Repo: "provenant/demo", MinLevel: 3}, verifier.VSAFailed, []string{"FAILED"}},
		{"failed: another repository", verifier.Policy{Repo: "provenant/other"}, verifier.VSAFailed, []string{"FAILED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := verifier.New(s.Roots(), tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			atts := verifier.ParseAttestations("demo.sigstore.json", data)
			ar := v.VerifyItems(context.Background(), []verifier.Item{{Artifact: art, Attestations: atts}}, 1)[0]
			raw, err := vsa.Summary(ar, vsa.SummaryOptions{VerifierVersion: "v9.9.9", Time: vsaClock, PolicyURI: "data:x", PolicyDigest: map[string]string{"sha256": "00"}})
			if err != nil {
				t.Fatal(err)
			}
			var got vsapb.VerificationSummary
			if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			var loose struct {
				Verifier struct {
					Version map[string]string `json:"version"`
				} `json:"verifier"`
			}
			json.Unmarshal(raw, &loose)
			sum := sha256.Sum256(data)
			checks := []struct {
				field     string
				got, want any
			}{
				{"verifier.id", got.GetVerifier().GetId(), verifier.VerifierID},
				{"verifier.version", loose.Verifier.Version["provenant"], "v9.9.9"},
				{"timeVerified", got.GetTimeVerified().AsTime().Equal(vsaClock), true},
				{"resourceUri", got.GetResourceUri(), art.Name},
				{"policy.uri", got.GetPolicy().GetUri(), "data:x"},
				{"policy.digest", got.GetPolicy().GetDigest()["sha256"], "00"},
				{"inputAttestations", len(got.GetInputAttestations()), 1},
				{"inputAttestations[0].uri", got.GetInputAttestations()[0].GetUri(), "demo.sigstore.json"},
				{"inputAttestations[0].digest", got.GetInputAttestations()[0].GetDigest()["sha256"], hex.EncodeToString(sum[:])},
				{"verificationResult", got.GetVerificationResult(), tt.wantResult},
				{"verificationResult is the report's", got.GetVerificationResult() == verifier.VSAPassed, ar.Verified},
				{"verifiedLevels", strings.Join(got.GetVerifiedLevels(), ","), strings.Join(tt.wantLevels, ",")},
				{"slsaVersion", got.GetSlsaVersion(), "1.0"},
			}
			if ar.Verified {
				checks = append(checks, struct {
					field     string
					got, want any
				}{"verifiedLevels is the report's level", got.GetVerifiedLevels()[0], formats.BuildLevel(ar.Level)})
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
				}
			}
			name, digest, err := vsa.SummarySubject(ar)
			if err != nil || name != art.Name || digest["sha256"] != hex.EncodeToString(art.Digests["sha256"]) {
				t.Errorf("subject = %s %v (%v), want %s sha256 of the artifact", name, digest, err, art.Name)
			}
		})
	}
}

// vsaStatement is an in-toto statement of a VSA predicate over digest.
func vsaStatement(name string, digest []byte, pred []byte) map[string]any {
	return map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": name, "digest": map[string]string{"sha256": hex.EncodeToString(digest)}}},
		"predicateType": verifier.VSAPredicateType,
		"predicate":     json.RawMessage(pred),
	}
}

// TestVSAInput verifies signed VSAs: a VSA of a trusted verifier that
// passed the artifact at the level required verifies; every other one is
// refused by the check that names the broken rule.
func TestVSAInput(t *testing.T) {
	s := verifier.NewTestSigstore(t)
	art, err := verifier.ArtifactFromReader("demo-linux-amd64", strings.NewReader("the release asset"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := verifier.ArtifactFromReader("other", strings.NewReader("another asset"))
	result := func(verified bool, level int) verifier.ArtifactResult {
		return verifier.ArtifactResult{Artifact: "dist/demo-linux-amd64", Digest: art.String(), Verified: verified, Level: level,
			Bundles: []verifier.BundleResult{{Source: "demo.sigstore.json", BundleSHA256: strings.Repeat("01", 32), Verified: verified}}}
	}
	summary := func(a verifier.ArtifactResult, edit func(map[string]any)) []byte {
		raw, err := vsa.Summary(a, vsa.SummaryOptions{VerifierVersion: "v1", Time: vsaClock, PolicyURI: "policy.yaml", PolicyDigest: map[string]string{"sha256": "00"}})
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			var m map[string]any
			json.Unmarshal(raw, &m)
			edit(m)
			raw, _ = json.Marshal(m)
		}
		return raw
	}
	signed := func(run verifier.GHRun, subject []byte, pred []byte) []byte {
		return s.Sign(t, run, vsaStatement("demo-linux-amd64", subject, pred), verifier.SignOpts{})
	}
	vsaPolicy := verifier.Policy{Repo: "provenant/demo", PredicateType: verifier.VSAPredicateType, VerifierID: verifier.VerifierID}
	with := func(edit func(*verifier.Policy)) verifier.Policy {
		p := vsaPolicy
		edit(&p)
		return p
	}
	evil := verifier.DefaultRun()
	evil.Repo, evil.JobWorkflowRef = "evil/demo", "evil/demo/.github/workflows/release.yml@refs/tags/v1.2.3"
	provenanceBundle, _ := verifier.OwnBundle(t, s, verifier.DefaultRun(), nil, verifier.SignOpts{})
	unsigned, _ := json.Marshal(vsaStatement("demo-linux-amd64", art.Digests["sha256"], summary(result(true, 3), nil)))

	tests := []struct {
		name      string
		bundle    []byte
		policy    verifier.Policy
		wantLevel int
		failed    verifier.CheckName
		want      string // in the failed check's reason
	}{
		{"PASSED at L3, L3 required", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 3), nil)), with(func(p *verifier.Policy) { p.MinLevel = 3 }), 3, "", ""},
		{"PASSED at L2, default L2", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 2), nil)), vsaPolicy, 2, "", ""},
		{"resource URI required and named", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 2), nil)), with(func(p *verifier.Policy) { p.ResourceURI = "demo-linux-amd64" }), 2, "", ""},
		{"FAILED VSA", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(false, 0), nil)), vsaPolicy, 0, verifier.CheckPredicate,
			`VSA rule verificationResult: the verifier's verdict is "FAILED", required "PASSED"`},
		{"another verifier", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 3), func(m map[string]any) {
			m["verifier"] = map[string]any{"id": "https://evil.example/verifier"}
		})), vsaPolicy, 0, verifier.CheckPredicate, `VSA rule verifier.id: the VSA's verifier is "https://evil.example/verifier", required "https://provenant.dev/verifier"`},
		{"level too low", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 2), nil)), with(func(p *verifier.Policy) { p.MinLevel = 3 }), 2, verifier.CheckLevel,
			"VSA rule verifiedLevels: SLSA Build L2: the VSA's verifier vouches for SLSA_BUILD_LEVEL_2 (required: L3)"},
		{"only another track's level", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 3), func(m map[string]any) {
			m["verifiedLevels"] = []string{"SLSA_SOURCE_LEVEL_3"}
		})), vsaPolicy, 0, verifier.CheckLevel, "name no SLSA_BUILD_LEVEL_n"},
		{"malformed level", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 3), func(m map[string]any) {
			m["verifiedLevels"] = []string{"SLSA_BUILD_LEVEL_three"}
		})), vsaPolicy, 0, verifier.CheckPredicate, `VSA rule verifiedLevels: "SLSA_BUILD_LEVEL_three" is not a SLSA level`},
		{"VSA of another digest", signed(verifier.DefaultRun(), other.Digests["sha256"], summary(result(true, 3), nil)), vsaPolicy, 0, verifier.CheckSubject, "no subject of the statement has sha256:"},
		{"another resource", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 3), nil)), with(func(p *verifier.Policy) { p.ResourceURI = "demo-darwin-arm64" }), 0, verifier.CheckPredicate,
			`VSA rule resourceUri: the VSA is about "demo-linux-amd64", required "demo-darwin-arm64" (--resource-uri)`},
		{"no time verified", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 3), func(m map[string]any) { delete(m, "timeVerified") })), vsaPolicy, 0, verifier.CheckPredicate,
			"VSA rule timeVerified"},
		{"unsigned VSA", unsigned, vsaPolicy, 0, verifier.CheckBundle, "an unsigned VSA"},
		{"signed by another repository's workflow", signed(evil, art.Digests["sha256"], summary(result(true, 3), nil)), vsaPolicy, 0, verifier.CheckIdentity, "evil/demo"},
		{"provenance given where a VSA is required", provenanceBundle, vsaPolicy, 0, verifier.CheckProvenance,
			`predicate type is "https://slsa.dev/provenance/v1", expected "https://slsa.dev/verification_summary/v1"`},
		{"provenance expectations on a VSA", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 3), nil)), with(func(p *verifier.Policy) { p.SourceTag = "v1.2.3" }), 0, verifier.CheckProvenance,
			"provenance expectations (--source-tag) cannot be checked on a VSA"},
		{"a VSA where provenance is required", signed(verifier.DefaultRun(), art.Digests["sha256"], summary(result(true, 3), nil)), verifier.Policy{Repo: "provenant/demo"}, 0, verifier.CheckPredicate,
			"VSA rule verifier.id: no verifier is trusted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := verifier.VerifyOne(t, s, tt.bundle, art, tt.policy)
			txt := verifier.BundleText(res)
			if tt.failed == "" {
				if !res.Verified || res.Level != tt.wantLevel {
					t.Fatalf("verified %v at L%d, want verified at L%d\n%s", res.Verified, res.Level, tt.wantLevel, txt)
				}
				if c := res.Check(verifier.CheckProvenance); c.Status != verifier.StatusNotApplicable {
					t.Errorf("check 8 is %s, want %s for a VSA\n%s", c.Status, verifier.StatusNotApplicable, txt)
				}
				if c := res.Check(verifier.CheckPredicate); !strings.Contains(c.Reason, "SLSA VSA v1 of verifier "+verifier.VerifierID+": PASSED") {
					t.Errorf("check 7: %s", c.Reason)
				}
				return
			}
			if res.Verified {
				t.Fatalf("verified, want check %s to fail\n%s", tt.failed, txt)
			}
			var ce *verifier.CheckError
			if !errors.As(res.Err(), &ce) && tt.failed != verifier.CheckLevel {
				t.Fatalf("no failed check\n%s", txt)
			}
			c := res.Check(tt.failed)
			if c.Status != verifier.StatusFail || !strings.Contains(c.Reason, tt.want) {
				t.Errorf("check %s: %s %q, want fail with %q\n%s", tt.failed, c.Status, c.Reason, tt.want, txt)
			}
		})
	}
}

const (
	examplePolicy = "../testdata/policy/example.yaml"
	cycloneDX     = "https://cyclonedx.org/bom"
	testResult    = "https://in-toto.io/attestation/test-result/v0.1"
)

func mustParsePolicy(t *testing.T, text string) *policy.File {
	t.Helper()
	pf, err := policy.ParseFile([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return pf
}
