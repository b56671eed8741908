package verifier

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// Regression tests for the holes of issue 7, each named after the attack.

const (
	genericPushBundle = "slsa-github-generator/gha_generic-v2.1.0/binary-linux-amd64-push-v14.2.intoto.jsonl"
	reusableBundle    = "github-attest/reusable-workflow-attestation.sigstore.json"
	reusableArtifact  = "github-attest/reusable-workflow-artifact"
	npmBundleFile     = "npm/sigstore-js-2.1.0-bundle.json"
	npmArtifact       = "npm/sigstore-js-2.1.0.tgz"
	npmSigner         = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
)

// verifyFixture runs Verify on one fixture bundle with the public-good root.
func verifyFixture(t *testing.T, bundle, artifact, digest string, p Policy) (*Report, error) {
	t.Helper()
	roots, err := trust.LoadTrustedRoots(fx("trusted-roots/public-good-cli.json"))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{TrustedRoots: roots, BundleFiles: []string{fx(bundle)}, Policy: p}
	if artifact != "" {
		opts.Artifacts = []string{fx(artifact)}
	} else {
		opts.Digests = []string{digest}
	}
	return Verify(context.Background(), opts)
}

// TestVerify_PublicBuilderAloneIsNotAPolicy: a public builder (a reusable
// workflow anyone may call) named without a source repository would accept
// an artifact built from any repository: such a policy is refused with a
// *PolicyError; a source constraint, or an exact workflow identity (whose
// repository is then the source), makes it complete.
func TestVerify_PublicBuilderAloneIsNotAPolicy(t *testing.T) {
	sgg := withV02(Policy{MinLevel: 3})
	tests := []struct {
		name     string
		bundle   string
		artifact string
		digest   string
		policy   Policy
		refused  bool      // a *PolicyError
		verified bool      // else: verified, or the first failed check
		failed   CheckName // when neither
	}{
		{name: "signer-repo alone", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.SignerRepo = generator }), refused: true},
		{name: "signer-workflow alone", bundle: reusableBundle, artifact: reusableArtifact,
			policy: Policy{SignerWorkflow: "github/artifact-attestations-workflows/.github/workflows/attest.yml", MinLevel: 3}, refused: true},
		{name: "builder-id alone", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.BuilderID = genericBuilder }), refused: true},
		// cosign's policy is the identity and the issuer: its verdict is
		// given (issue 21), and check 6 says the source was not constrained.
		{name: "cert-identity-regexp alone, as cosign", bundle: npmBundleFile, artifact: npmArtifact,
			policy: Policy{CertIdentityRegexp: "^https://github.com/sigstore/sigstore-js/"}, verified: true},
		{name: "cert-identity of a public builder alone, as cosign", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.CertIdentity = genericBuilder + "@refs/tags/v2.1.0" }), verified: true},
		{name: "cert-identity of a public builder with another source", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.CertIdentity = genericBuilder + "@refs/tags/v2.1.0"; p.Repo = "octo-org/other" }), failed: CheckIdentity},
		{name: "source-uri and builder-id, as slsa-verifier", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.SourceURI = "github.com/" + examplePackage; p.BuilderID = genericBuilder }), verified: true},
		{name: "source-uri counts as repo", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.SourceURI = "github.com/" + examplePackage; p.SignerRepo = generator }), verified: true},
		{name: "source-uri of another repository", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.SourceURI = "github.com/octo-org/other"; p.SignerRepo = generator }), failed: CheckIdentity},
		{name: "signer-repo with owner", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.Owner = "slsa-framework"; p.SignerRepo = generator }), verified: true},
		{name: "exact workflow identity in the source repository", bundle: npmBundleFile, artifact: npmArtifact,
			policy: Policy{CertIdentity: npmSigner}, verified: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := verifyFixture(t, tc.bundle, tc.artifact, tc.digest, tc.policy)
			var pe *PolicyError
			if tc.refused {
				if !errors.As(err, &pe) || !errors.Is(err, ErrNoSource) {
					t.Fatalf("Verify = %v, want a *PolicyError for ErrNoSource", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verified != tc.verified {
				t.Fatalf("verified %v, want %v\n%s", rep.Verified, tc.verified, text(rep))
			}
			if id := rep.Artifacts[0].Bundles[0].Check(CheckIdentity).Reason; tc.verified && tc.policy.Repo == "" && tc.policy.Owner == "" && tc.policy.SourceURI == "" &&
				!strings.Contains(id, "source repository not constrained") {
				t.Errorf("check 6 does not say the source was not constrained: %s", id)
			}
			if !tc.verified {
				var ce *CheckError
				if err := rep.Artifacts[0].Bundles[0].Err(); !errors.As(err, &ce) || ce.Check != tc.failed {
					t.Fatalf("first failure %v, want check %s\n%s", err, tc.failed, text(rep))
				}
			}
		})
	}
	if err := (&Policy{SignerRepo: generator}).Validate(); !errors.Is(err, ErrNoSource) || !strings.Contains(err.Error(), "--source-uri") {
		t.Errorf("Validate = %v", err)
	}
}

// byobStatement is a statement in slsa-github-generator's BYOB delegator
// format for a run: the predicate names the builder trw, the certificate
// the delegator that signed for it.
func byobStatement(run ghRun, art Artifact, trw string, inputs map[string]any) map[string]any {
	invocation := run.Server + "/" + run.Repo + "/actions/runs/" + run.RunID + "/attempts/" + run.Attempt
	return map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": art.Name, "digest": map[string]string{"sha256": hexOf(art, "sha256")}}},
		"predicateType": SLSAProvenanceV1,
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType":          BuildTypeGeneratorDelegator,
				"externalParameters": map[string]any{"inputs": inputs},
				"internalParameters": map[string]any{"GITHUB_REF": run.Ref, "GITHUB_SHA": run.SHA, "GITHUB_EVENT_NAME": run.Event},
				"resolvedDependencies": []any{map[string]any{
					"uri": "git+" + run.Server + "/" + run.Repo + "@" + run.Ref, "digest": map[string]string{"sha1": run.SHA},
				}},
			},
			"runDetails": map[string]any{
				"builder":  map[string]any{"id": trw},
				"metadata": map[string]any{"invocationId": invocation},
			},
		},
	}
}

func hexOf(a Artifact, alg string) string { return hex.EncodeToString(a.Digests[alg]) }

// levelCase is a run signed by some workflow, a policy, and the level and
// reason the verifier must give.
type levelCase struct {
	name   string
	run    ghRun
	stmt   func(ghRun, Artifact) map[string]any // default: our own statement
	opts   signOpts
	policy Policy
	level  int
	failed CheckName // "" when verified
	reason string    // substring of the failed check's reason, else of check 9's
}

func runLevelCases(t *testing.T, tests []levelCase) {
	t.Helper()
	s := newTestSigstore(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			art, err := ArtifactFromReader("demo-linux-amd64", strings.NewReader("the release asset"))
			if err != nil {
				t.Fatal(err)
			}
			stmt := tc.run.statement(map[string][]byte{art.Name: art.Digests["sha256"]})
			if tc.stmt != nil {
				stmt = tc.stmt(tc.run, art)
			}
			res := verifyOne(t, s, s.sign(t, tc.run, stmt, tc.opts), art, tc.policy)
			var ce *CheckError
			switch err := res.Err(); {
			case tc.failed == "" && err != nil:
				t.Fatalf("want verified, got %v\n%s", err, bundleText(res))
			case tc.failed != "" && (!errors.As(err, &ce) || ce.Check != tc.failed):
				t.Fatalf("first failure %v, want check %s\n%s", err, tc.failed, bundleText(res))
			}
			where := CheckLevel
			if tc.failed != "" {
				where = tc.failed
			}
			if res.Level != tc.level || !strings.Contains(res.Check(where).Reason, tc.reason) {
				t.Errorf("level %d, want %d; check %s reason %q does not contain %q", res.Level, tc.level, where, res.Check(where).Reason, tc.reason)
			}
		})
	}
}

// withSigner makes the run sign from the workflow job (owner/repo/path@ref).
func withSigner(r ghRun, job string) ghRun {
	r.JobWorkflowRef = job
	r.JobWorkflowSHA = "fedcba9876543210fedcba9876543210fedcba98"
	return r
}

// TestVerify_AnyReusableWorkflowIsNotL3: a member of the owner's
// organisation creates a fresh repository with a reusable workflow; it is
// apart from the source, on a GitHub-hosted runner, but nobody trusts it:
// L2, not L3, unless the policy pins it or it is a built-in trusted
// builder at a release tag.
func TestVerify_AnyReusableWorkflowIsNotL3(t *testing.T) {
	run := defaultRun()
	fresh := withSigner(run, "provenant/fresh-repo/.github/workflows/l3.yml@refs/heads/main")
	freshTag := withSigner(run, "provenant/fresh-repo/.github/workflows/l3.yml@refs/tags/v1.0.0")
	sggAt := func(ref string) ghRun {
		return withSigner(run, "slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@"+ref)
	}
	anySigner := Policy{Repo: "provenant/demo", CertIdentityRegexp: ".*", MinLevel: 3}
	const notTrusted = "the signer https://github.com/provenant/fresh-repo/.github/workflows/l3.yml@refs/heads/main is not a trusted builder (pin it with --signer-workflow)"
	runLevelCases(t, []levelCase{
		{name: "fresh repository under the owner", run: fresh, policy: Policy{Owner: "provenant", MinLevel: 3}, level: 2, failed: CheckLevel, reason: notTrusted},
		{name: "fresh repository, L2 reported", run: fresh, policy: Policy{Owner: "provenant"}, level: 2, reason: "L2: signed by the hosted build platform identity"},
		{name: "pinned with signer-workflow", run: freshTag, policy: Policy{Owner: "provenant", SignerWorkflow: "provenant/fresh-repo/.github/workflows/l3.yml", MinLevel: 3}, level: 3},
		{name: "pinned with signer-repo", run: freshTag, policy: Policy{Owner: "provenant", SignerRepo: "provenant/fresh-repo", MinLevel: 3}, level: 3},
		{name: "pinned with builder-id", run: freshTag, policy: Policy{Repo: "provenant/demo", BuilderID: "https://github.com/provenant/fresh-repo/.github/workflows/l3.yml", MinLevel: 3}, level: 3},
		{name: "pinned, at a branch", run: fresh, policy: Policy{Owner: "provenant", SignerWorkflow: "provenant/fresh-repo/.github/workflows/l3.yml", MinLevel: 3},
			level: 2, failed: CheckLevel, reason: `ran at "refs/heads/main", not at a release tag refs/tags/vX.Y.Z`},
		{name: "pinned, at a branch, its commit pinned", run: fresh, policy: Policy{Owner: "provenant", SignerWorkflow: "provenant/fresh-repo/.github/workflows/l3.yml", SignerDigest: fresh.JobWorkflowSHA, MinLevel: 3}, level: 3},
		{name: "built-in generator at a release tag", run: sggAt("refs/tags/v2.1.0"), policy: anySigner, level: 3},
		{name: "built-in generator at a branch", run: sggAt("refs/heads/main"), policy: anySigner, level: 2, failed: CheckLevel, reason: "is not a trusted builder"},
		{name: "built-in generator at a bare commit", run: sggAt("0123456789abcdef0123456789abcdef01234567"), policy: anySigner, level: 2, failed: CheckLevel, reason: "is not a trusted builder"},
		{name: "built-in generator at a pre-release tag", run: sggAt("refs/tags/v2.1.0-rc.1"), policy: anySigner, level: 2, failed: CheckLevel, reason: "is not a trusted builder"},
		{name: "GitHub's attestation workflows at a release tag", run: withSigner(run, "github/artifact-attestations-workflows/.github/workflows/attest.yml@refs/tags/v1.2.0"), policy: anySigner, level: 3},
		{name: "GitHub's attestation workflows at a bare commit", run: withSigner(run, "github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d"), policy: anySigner,
			level: 2, failed: CheckLevel, reason: "not at a release tag"},
		{name: "GitHub's attestation workflows at a branch", run: withSigner(run, "github/artifact-attestations-workflows/.github/workflows/attest.yml@refs/heads/main"), policy: anySigner,
			level: 2, failed: CheckLevel, reason: "not at a release tag"},
	})
}

// TestVerify_DelegatorAtAnyRefIsNotTrusted: slsa-github-generator's BYOB
// delegator signs for the builder the predicate names; only at a release
// tag vX.Y.Z, as slsa-verifier requires: a branch or a bare commit of the
// delegator (code anyone with a fork's pull request may get onto a branch)
// is not trusted to sign for another builder.
func TestVerify_DelegatorAtAnyRefIsNotTrusted(t *testing.T) {
	run := defaultRun()
	const trw = "https://github.com/provenant/trw/.github/workflows/builder.yml@refs/tags/v1.0.0"
	byob := func(r ghRun, art Artifact) map[string]any { return byobStatement(r, art, trw, nil) }
	deleg := func(ref string) ghRun {
		return withSigner(run, "slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@"+ref)
	}
	p := Policy{Repo: "provenant/demo", SignerRepo: generator, MinLevel: 3}
	runLevelCases(t, []levelCase{
		{name: "delegator at a release tag", run: deleg("refs/tags/v2.1.0"), stmt: byob, policy: p, level: 3},
		{name: "delegator at a branch", run: deleg("refs/heads/main"), stmt: byob, policy: p, level: 1, failed: CheckPredicate, reason: "not a slsa-github-generator delegator at a release tag"},
		{name: "delegator at a bare commit", run: deleg("0123456789abcdef0123456789abcdef01234567"), stmt: byob, policy: p, level: 1, failed: CheckPredicate, reason: "not a slsa-github-generator delegator"},
		{name: "another workflow as delegator", run: withSigner(run, "provenant/fake/.github/workflows/delegator_generic_slsa3.yml@refs/tags/v2.1.0"), stmt: byob,
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/fake", MinLevel: 1}, level: 1, failed: CheckPredicate, reason: "not a slsa-github-generator delegator"},
	})
}

// genericV02Statement is a statement in slsa-github-generator's generic
// SLSA v0.2 format for a run, as any workflow can write it, with the given
// workflow_dispatch inputs.
func genericV02Statement(run ghRun, art Artifact, inputs map[string]any) map[string]any {
	source := map[string]any{"uri": "git+" + run.Server + "/" + run.Repo + "@" + run.Ref, "digest": map[string]string{"sha1": run.SHA}}
	return map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"subject":       []any{map[string]any{"name": art.Name, "digest": map[string]string{"sha256": hexOf(art, "sha256")}}},
		"predicateType": SLSAProvenanceV02,
		"predicate": map[string]any{
			"builder":   map[string]any{"id": run.Server + "/" + run.JobWorkflowRef},
			"buildType": BuildTypeGeneratorGeneric,
			"invocation": map[string]any{
				"configSource": map[string]any{"uri": source["uri"], "digest": source["digest"], "entryPoint": run.WorkflowPath},
				"environment":  map[string]any{"github_event_name": run.Event, "github_event_payload": map[string]any{"inputs": inputs}},
			},
			"metadata":  map[string]any{"buildInvocationID": run.RunID + "-" + run.Attempt},
			"materials": []any{source},
		},
	}
}

// TestVerify_WorkflowInputsFromAnySignerAreNotTrusted: the inputs of a
// run are the predicate's word (no certificate extension carries them); a
// workflow of the source repository, or any unpinned one, can write any
// inputs into a v0.2 predicate. --workflow-input is honoured only for a
// trusted builder, and check 8 says why otherwise.
func TestVerify_WorkflowInputsFromAnySignerAreNotTrusted(t *testing.T) {
	run := defaultRun()
	run.Event = "workflow_dispatch"
	lying := func(r ghRun, art Artifact) map[string]any {
		return genericV02Statement(r, art, map[string]any{"release": "true"})
	}
	fresh := withSigner(run, "provenant/fresh-repo/.github/workflows/gen.yml@refs/tags/v1.0.0")
	want := map[string]string{"release": "true"}
	runLevelCases(t, []levelCase{
		{name: "same-repository workflow writes the inputs", run: run, stmt: lying,
			policy: Policy{Repo: "provenant/demo", PredicateType: SLSAProvenanceV02, WorkflowInputs: want}, level: 2,
			failed: CheckProvenance, reason: "workflow inputs not checked: they are recorded only in the predicate, which the signer writes, and the signing workflow lives in the source repository"},
		{name: "unpinned reusable workflow writes the inputs", run: fresh, stmt: lying,
			policy: Policy{Repo: "provenant/demo", CertIdentityRegexp: ".*", PredicateType: SLSAProvenanceV02, WorkflowInputs: want}, level: 2,
			failed: CheckProvenance, reason: "is not a trusted builder (pin it with --signer-workflow)"},
		{name: "pinned builder's inputs are honoured", run: fresh, stmt: lying,
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/fresh-repo", PredicateType: SLSAProvenanceV02, WorkflowInputs: want}, level: 3},
		{name: "pinned builder's inputs are compared", run: fresh, stmt: lying,
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/fresh-repo", PredicateType: SLSAProvenanceV02, WorkflowInputs: map[string]string{"release": "false"}}, level: 3,
			failed: CheckProvenance, reason: `workflow input release="true", expected "false"`},
	})
}

// TestVerify_CaseChangedWorkflowPathIsAnotherWorkflow: GitHub's host and
// owner/repo names ignore case, file paths do not: a workflow
// …/RELEASE.yml is not the pinned …/release.yml, while the repository may
// be given in any case.
func TestVerify_CaseChangedWorkflowPathIsAnotherWorkflow(t *testing.T) {
	run := defaultRun()
	upper := withSigner(run, "provenant/builders/.github/workflows/RELEASE.yml@refs/tags/v2.0.0")
	lower := withSigner(run, "provenant/builders/.github/workflows/release.yml@refs/tags/v2.0.0")
	pin := func(wf string) Policy { return Policy{Repo: "provenant/demo", SignerWorkflow: wf} }
	runLevelCases(t, []levelCase{
		{name: "upper-case path, lower-case pin", run: upper, policy: pin("provenant/builders/.github/workflows/release.yml"), level: 3,
			failed: CheckIdentity, reason: "does not meet the policy"},
		{name: "lower-case path, upper-case pin", run: lower, policy: pin("provenant/builders/.github/workflows/RELEASE.yml"), level: 3,
			failed: CheckIdentity, reason: "does not meet the policy"},
		{name: "owner/repo in another case", run: lower, policy: pin("Provenant/Builders/.github/workflows/release.yml"), level: 3},
		{name: "host in another case", run: lower, policy: pin("GitHub.com/provenant/builders/.github/workflows/release.yml"), level: 3},
		{name: "source repository in another case", run: lower, policy: Policy{Repo: "PROVENANT/Demo", SignerRepo: "Provenant/BUILDERS"}, level: 3},
		{name: "source owner in another case", run: run, policy: Policy{Owner: "ProveNant"}, level: 2},
		{name: "source-uri in another case", run: lower, policy: Policy{SourceURI: "GitHub.com/Provenant/Demo", SignerRepo: "provenant/builders"}, level: 3},
	})
}

// TestVerify_MixedDigestAlgorithmsAreAllCompared: the artifact is a
// subject in sha512 only, beside another subject in sha256 — it is found;
// and a subject whose sha256 is the artifact's but whose sha512 is not is
// another artifact, not a match.
func TestVerify_MixedDigestAlgorithmsAreAllCompared(t *testing.T) {
	run := defaultRun()
	subjects := func(subj ...map[string]any) func(ghRun, Artifact) map[string]any {
		return func(r ghRun, a Artifact) map[string]any {
			st := r.statement(nil)
			st["subject"] = subj
			return st
		}
	}
	art, err := ArtifactFromReader("demo-linux-amd64", strings.NewReader("the release asset"))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("00", 32)
	p := Policy{Repo: "provenant/demo"}
	runLevelCases(t, []levelCase{
		{name: "sha512 subject beside a sha256 one", run: run, policy: p, level: 2, stmt: subjects(
			map[string]any{"name": "other", "digest": map[string]string{"sha256": other}},
			map[string]any{"name": art.Name, "digest": map[string]string{"sha512": hexOf(art, "sha512")}})},
		{name: "both algorithms on one subject", run: run, policy: p, level: 2, stmt: subjects(
			map[string]any{"name": art.Name, "digest": map[string]string{"sha256": hexOf(art, "sha256"), "sha512": hexOf(art, "sha512")}})},
		{name: "sha256 matches, sha512 does not", run: run, policy: p, level: 0, failed: CheckSubject, reason: `subject "demo-linux-amd64" matches the artifact in some algorithms but not in sha512`, stmt: subjects(
			map[string]any{"name": art.Name, "digest": map[string]string{"sha256": hexOf(art, "sha256"), "sha512": strings.Repeat("00", 64)}})},
		{name: "no subject in a known algorithm", run: run, policy: p, level: 0, failed: CheckSubject, reason: "has no digest in an algorithm the statement's subjects use (md5)", stmt: subjects(
			map[string]any{"name": art.Name, "digest": map[string]string{"md5": strings.Repeat("00", 16)}})},
	})
}

// TestVerify_CertificateWithoutGitHubExtensions: not a hole, but wrong: a
// certificate without GitHub's Fulcio extensions (old certificates, a mock
// CA) failed check 7 ("the certificate's … is empty"). Nothing can be
// cross-checked: check 7 is unchecked and L1 is reached. A certificate
// with only the deprecated extensions .2–.6 is cross-checked against those.
func TestVerify_CertificateWithoutGitHubExtensions(t *testing.T) {
	run := defaultRun()
	bare := func(e *certificate.Extensions) { *e = certificate.Extensions{Issuer: e.Issuer} }
	const san = "https://github.com/provenant/demo/.github/workflows/release.yml@refs/tags/v1.2.3"
	deprecated := signOpts{certExt: bare, extraExt: deprecatedExtensions(run)}
	otherRef := run
	otherRef.Ref = "refs/heads/main"
	runLevelCases(t, []levelCase{
		{name: "no extensions, min level 1", run: run, opts: signOpts{san: "release@provenant.test", certExt: bare},
			policy: Policy{CertIdentity: "release@provenant.test", MinLevel: 1}, level: 1, reason: "could not be checked against the certificate"},
		{name: "no extensions, default level", run: run, opts: signOpts{san: "release@provenant.test", certExt: bare},
			policy: Policy{CertIdentity: "release@provenant.test"}, level: 1, reason: "(required: L1)"}, // cosign's policy asks no level
		{name: "no extensions, L2 asked", run: run, opts: signOpts{san: "release@provenant.test", certExt: bare},
			policy: Policy{CertIdentity: "release@provenant.test", MinLevel: 2}, level: 1, failed: CheckLevel, reason: "SLSA Build L1"},
		{name: "no extensions, a source required", run: run, opts: signOpts{certExt: bare},
			policy: Policy{Repo: "provenant/demo", MinLevel: 1}, level: 1, failed: CheckIdentity, reason: "Source Repository URI"},
		{name: "no extensions, builder expected", run: run, opts: signOpts{san: "release@provenant.test", certExt: bare},
			policy: Policy{CertIdentity: "release@provenant.test", BuilderID: san, MinLevel: 1}, level: 1, failed: CheckIdentity, reason: "must run at a release tag"},
		{name: "deprecated extensions agree", run: run, opts: deprecated,
			policy: Policy{CertIdentity: san, MinLevel: 1}, level: 1, reason: "only the deprecated GitHub extensions"},
		{name: "deprecated extensions, source by repo", run: run, opts: deprecated,
			policy: Policy{Repo: "provenant/demo", MinLevel: 1}, level: 1},
		{name: "deprecated extensions disagree", run: run, opts: signOpts{certExt: bare, extraExt: deprecatedExtensions(otherRef)},
			policy: Policy{CertIdentity: san, MinLevel: 1}, level: 1, failed: CheckPredicate, reason: `predicate source ref is "refs/tags/v1.2.3" but the certificate's GitHub Workflow Ref (1.3.6.1.4.1.57264.1.6) is "refs/heads/main"`},
		{name: "deprecated extensions, builder not bound", run: run, opts: deprecated,
			policy: Policy{CertIdentity: san, BuilderID: "https://github.com/provenant/demo/.github/workflows/release.yml", MinLevel: 1}, level: 1, failed: CheckProvenance, reason: "do not name the signing workflow"},
	})
}

// TestVerify_SilentSkipsInABundleDir: a release directory whose symbolic
// links, subfolders and attestation-named files were skipped reported
// "1 of 1 verified". Every entry is now verified or named as not verified
// (the report fails), unless excluded on purpose.
func TestVerify_SilentSkipsInABundleDir(t *testing.T) {
	s := newTestSigstore(t)
	dir := t.TempDir()
	data, _ := ownBundle(t, s, defaultRun(), nil, signOpts{})
	asset := filepath.Join(dir, "demo-linux-amd64")
	mustWrite(t, asset, []byte("the release asset"))
	mustWrite(t, asset+".sigstore.json", data)
	if err := os.Symlink("demo-linux-amd64", filepath.Join(dir, "demo-latest")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "extra", "payload.bin"), []byte("unverified"))
	mustWrite(t, filepath.Join(dir, "gone.intoto.jsonl"), data)
	policy := Policy{Repo: "provenant/demo"}

	rep, err := Verify(context.Background(), Options{BundleDir: dir, TrustedRoots: s.roots(), Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified || len(rep.Artifacts) != 4 {
		t.Fatalf("want 4 entries, not verified:\n%s", text(rep))
	}
	want := map[string]string{
		"demo-linux-amd64":  "",
		"demo-latest":       "a symbolic link",
		"extra":             "a folder",
		"gone.intoto.jsonl": "named like an attestation of gone",
	}
	for _, a := range rep.Artifacts {
		reason, ok := want[filepath.Base(a.Artifact)]
		switch {
		case !ok:
			t.Errorf("unexpected entry %s", a.Artifact)
		case reason == "" && !a.Verified:
			t.Errorf("%s not verified: %s", a.Artifact, a.Error)
		case reason != "" && (a.Verified || !strings.Contains(a.Error, reason)):
			t.Errorf("%s: verified %v, error %q, want %q", a.Artifact, a.Verified, a.Error, reason)
		}
	}
	rep, err = Verify(context.Background(), Options{BundleDir: dir, TrustedRoots: s.roots(), Policy: policy,
		Exclude: []string{"demo-latest", "extra", "gone.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified || len(rep.Artifacts) != 1 {
		t.Errorf("with --exclude: want the one asset verified:\n%s", text(rep))
	}
	if _, err := Verify(context.Background(), Options{BundleDir: dir, TrustedRoots: s.roots(), Policy: policy, Exclude: []string{"["}}); err == nil {
		t.Error("a malformed exclude pattern was accepted")
	}
}
