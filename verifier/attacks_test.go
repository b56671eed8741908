package verifier

import (
	"context"
	"errors"
	"strings"
	"testing"
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
	roots, err := LoadTrustedRoots(fx("trusted-roots/public-good-cli.json"))
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
		{name: "cert-identity-regexp alone", bundle: npmBundleFile, artifact: npmArtifact,
			policy: Policy{CertIdentityRegexp: "https://github.com/sigstore/.*"}, refused: true},
		{name: "cert-identity of a public builder is its own source", bundle: genericPushBundle, digest: genericDigest,
			policy: with(sgg, func(p *Policy) { p.CertIdentity = genericBuilder + "@refs/tags/v2.1.0" }), failed: CheckIdentity},
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
