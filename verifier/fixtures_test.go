package verifier

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"
)

// fixtures is where the real-world bundles of ../shared/fixtures were copied.
const fixtures = "../testdata/fixtures"

func fx(p string) string { return filepath.Join(fixtures, filepath.FromSlash(p)) }

// setupFixture builds a verifier over roots (the public-good fixture root
// when nil) with policy, and loads the first attestation of a bundle
// fixture and an artifact fixture.
func setupFixture(tb testing.TB, roots []TrustedRoot, policy Policy, bundle, artifact string) (*Verifier, Attestation, Artifact) {
	tb.Helper()
	if roots == nil {
		var err error
		if roots, err = trust.LoadTrustedRoots(fx("trusted-roots/public-good-cli.json")); err != nil {
			tb.Fatal(err)
		}
	}
	v, err := New(roots, policy)
	if err != nil {
		tb.Fatal(err)
	}
	atts, err := LoadAttestations(fx(bundle))
	if err != nil {
		tb.Fatal(err)
	}
	art, err := ArtifactFromFile(fx(artifact))
	if err != nil {
		tb.Fatal(err)
	}
	return v, atts[0], art
}

const (
	examplePackage = "slsa-framework/example-package"
	generator      = "slsa-framework/slsa-github-generator"
	genericBuilder = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"
	trwBuilder     = "https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml"
	mavenBuilder   = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_maven_slsa3.yml"
	bcrBuilder     = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml"
	genericDigest  = "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa"
)

// fixtureCase is one fixture with a policy and the result it must give
// offline, with the public-good trusted root from a file.
type fixtureCase struct {
	name     string
	bundle   string // under testdata/fixtures
	artifact string // under testdata/fixtures; or
	digest   string
	policy   Policy
	root     string // trusted root file; default public-good-cli.json

	verified bool
	level    int       // for verified bundles
	failed   CheckName // first failing check, when not verified
	also     []CheckName
	reason   string // substring of the failing check's reason (or of check 9's when verified)
}

// generic, delegator, maven: slsa-verifier's regression expectations (see
// testdata/fixtures/README.md).
func generatorPolicy(builderID string) Policy {
	return Policy{Repo: examplePackage, SignerRepo: generator, SourceURI: "github.com/" + examplePackage, BuilderID: builderID}
}

func withV02(p Policy) Policy { p.PredicateType = SLSAProvenanceV02; return p }

func with(p Policy, f func(*Policy)) Policy { f(&p); return p }

func fixtureCases() []fixtureCase {
	const (
		genericWD   = "slsa-github-generator/gha_generic-v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl"
		genericPush = "slsa-github-generator/gha_generic-v2.1.0/binary-linux-amd64-push-v14.2.intoto.jsonl"
		delegWD     = "slsa-github-generator/gha_delegator-v2.1.0/binary-linux-amd64-workflow_dispatch"
		delegPush   = "slsa-github-generator/gha_delegator-v2.1.0/binary-linux-amd64-push-v13.0.30"
		maven       = "slsa-github-generator/gha_maven-v2.1.0/binary-linux-amd64-push-v14"
	)
	generic := withV02(generatorPolicy(genericBuilder))
	deleg := generatorPolicy(trwBuilder)
	mav := generatorPolicy(mavenBuilder)
	cases := []fixtureCase{
		// GitHub's attest action, public-good.
		{name: "github custom issuer", bundle: "github-attest/custom-issuer.sigstore.json", artifact: "github-attest/custom-issuer-artifact",
			policy: Policy{Owner: "too-legit", CertOIDCIssuer: "https://token.actions.githubusercontent.com/hammer-time"}, verified: true, level: 2, reason: "not L3: the signing workflow lives in the source repository"},
		{name: "github custom issuer, default issuer", bundle: "github-attest/custom-issuer.sigstore.json", artifact: "github-attest/custom-issuer-artifact",
			policy: Policy{Owner: "too-legit"}, failed: CheckIdentity, reason: "issuer"},
		{name: "github reusable workflow", bundle: "github-attest/reusable-workflow-attestation.sigstore.json", artifact: "github-attest/reusable-workflow-artifact",
			policy: Policy{Repo: "malancas/attest-demo", SignerRepo: "github/artifact-attestations-workflows", SignerDigest: "09b495c3f12c7881b3cc17209a327792065c1a1d", MinLevel: 3}, verified: true, level: 3, reason: "trusted builder in https://github.com/github/artifact-attestations-workflows"},
		// The same builder at a bare commit, its digest not pinned: a commit
		// may exist only in a fork (an imposter commit), so not L3.
		{name: "github reusable workflow at a bare commit is not L3", bundle: "github-attest/reusable-workflow-attestation.sigstore.json", artifact: "github-attest/reusable-workflow-artifact",
			policy: Policy{Repo: "malancas/attest-demo", SignerRepo: "github/artifact-attestations-workflows", MinLevel: 3}, failed: CheckLevel, reason: `SLSA Build L2: signed by the hosted build platform identity https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d and the predicate agrees with the certificate; not L3: the builder https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d ran at "09b495c3f12c7881b3cc17209a327792065c1a1d", not at a release tag`},
		{name: "github reusable workflow, another signer digest", bundle: "github-attest/reusable-workflow-attestation.sigstore.json", artifact: "github-attest/reusable-workflow-artifact",
			policy: Policy{Repo: "malancas/attest-demo", SignerRepo: "github/artifact-attestations-workflows", SignerDigest: "19b495c3f12c7881b3cc17209a327792065c1a1d", MinLevel: 3}, failed: CheckIdentity, reason: "BuildSignerDigest"},
		{name: "github reusable workflow, wrong signer repo", bundle: "github-attest/reusable-workflow-attestation.sigstore.json", artifact: "github-attest/reusable-workflow-artifact",
			policy: Policy{Repo: "malancas/attest-demo"}, failed: CheckIdentity, reason: "SAN"},
		{name: "github instance (TSA only) offline", bundle: "github-attest/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl", artifact: "github-attest/github_provenance_demo-0.0.12-py3-none-any.whl",
			policy: Policy{Repo: "actions/attest-demo"}, failed: CheckCertificate, reason: "https://tuf-repo.github.com"},
		{name: "github instance with public-good-2023 root", bundle: "github-attest/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl", artifact: "github-attest/github_provenance_demo-0.0.12-py3-none-any.whl",
			root: "trusted-roots/public-good-2023.json", policy: Policy{Repo: "actions/attest-demo"}, failed: CheckCertificate, reason: "GitHub's Sigstore instance"},

		// npm provenance.
		{name: "npm v0.3", bundle: "npm/sigstore-js-2.1.0-bundle.json", artifact: "npm/sigstore-js-2.1.0.tgz",
			policy: Policy{Repo: "sigstore/sigstore-js"}, verified: true, level: 2},
		{name: "npm v0.1", bundle: "npm/sigstore-js-2.1.0-bundle-v0.1.json", artifact: "npm/sigstore-js-2.1.0.tgz",
			policy: Policy{Repo: "sigstore/sigstore-js"}, verified: true, level: 2},
		{name: "npm v0.1 with public-good-2023 root", bundle: "npm/sigstore-js-2.1.0-bundle-v0.1.json", artifact: "npm/sigstore-js-2.1.0.tgz",
			root: "trusted-roots/public-good-2023.json", policy: Policy{Repo: "sigstore/sigstore-js"}, verified: true, level: 2},
		{name: "npm tampered", bundle: "npm/sigstoreBundle-invalid-signature.json", artifact: "npm/sigstore-js-2.1.0.tgz",
			policy: Policy{Repo: "sigstore/sigstore-js"}, failed: CheckTimestamps, reason: "transparency log signature does not match"},
		{name: "npm wrong artifact", bundle: "npm/sigstore-js-2.1.0-bundle.json", artifact: "github-attest/custom-issuer-artifact",
			policy: Policy{Repo: "sigstore/sigstore-js"}, failed: CheckSubject, reason: "sha512"},
		{name: "sigstore-go npm SLSA v1 old buildType", bundle: "sigstore-go/sigstore.js@2.0.0-provenance.sigstore.json",
			digest: "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
			policy: Policy{Repo: "sigstore/sigstore-js", SourceRef: "refs/heads/main", DenySelfHostedRunners: true}, verified: true, level: 2},
		{name: "sigstore-go npm SLSA v0.2", bundle: "sigstore-go/bundle-provenance.json",
			digest: "sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751",
			policy: Policy{Repo: "sigstore/sigstore-js", PredicateType: SLSAProvenanceV02}, verified: true, level: 2},
		{name: "sigstore-go npm SLSA v0.2 wants v1", bundle: "sigstore-go/bundle-provenance.json",
			digest: "sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751",
			policy: Policy{Repo: "sigstore/sigstore-js"}, failed: CheckProvenance, reason: "predicate type"},
		{name: "sigstore-go e-mail identity, min level 1", bundle: "sigstore-go/dsse.sigstore.json",
			digest:   "sha512:bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f",
			policy:   Policy{CertIdentity: "brian@dehamer.com", CertOIDCIssuer: "https://github.com/login/oauth", PredicateType: SLSAProvenanceV02, MinLevel: 1},
			verified: true, level: 1, reason: "could not be checked"},
		{name: "sigstore-go e-mail identity, default level", bundle: "sigstore-go/dsse.sigstore.json",
			digest:   "sha512:bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f",
			policy:   Policy{CertIdentity: "brian@dehamer.com", CertOIDCIssuer: "https://github.com/login/oauth", PredicateType: SLSAProvenanceV02},
			verified: true, level: 1, reason: "(required: L1)"}, // cosign's policy asks no level
		{name: "sigstore-go e-mail identity, L2 asked", bundle: "sigstore-go/dsse.sigstore.json",
			digest: "sha512:bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f",
			policy: Policy{CertIdentity: "brian@dehamer.com", CertOIDCIssuer: "https://github.com/login/oauth", PredicateType: SLSAProvenanceV02, MinLevel: 2},
			failed: CheckLevel, reason: "SLSA Build L1"},

		// slsa-github-generator: generic (SLSA v0.2), workflow_dispatch.
		{name: "generic wd", bundle: genericWD, digest: genericDigest, policy: generic, verified: true, level: 3},
		{name: "generic wd, no expectation", bundle: genericWD, digest: genericDigest, policy: withV02(Policy{Repo: examplePackage, SignerRepo: generator}), verified: true, level: 3},
		{name: "generic wd, branch main", bundle: genericWD, digest: genericDigest, policy: with(generic, func(p *Policy) { p.SourceBranch = "main" }), verified: true, level: 3},
		{name: "generic wd, branch master", bundle: genericWD, digest: genericDigest, policy: with(generic, func(p *Policy) { p.SourceBranch = "master" }), failed: CheckProvenance, reason: `branch is "main", expected "master"`},
		{name: "generic wd, tag v1.2.3", bundle: genericWD, digest: genericDigest, policy: with(generic, func(p *Policy) { p.SourceTag = "v1.2.3" }), failed: CheckProvenance, reason: "not on a tag"},
		{name: "generic wd, versioned tag v1", bundle: genericWD, digest: genericDigest, policy: with(generic, func(p *Policy) { p.SourceVersionedTag = "v1" }), failed: CheckProvenance, reason: "not on a tag"},
		{name: "generic wd, untrusted builder", bundle: genericWD, digest: genericDigest, policy: with(generic, func(p *Policy) {
			p.BuilderID = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml"
		}), failed: CheckProvenance, reason: "builder is"},
		{name: "generic wd, builder at v2.1.0", bundle: genericWD, digest: genericDigest, policy: with(generic, func(p *Policy) { p.BuilderID = genericBuilder + "@v2.1.0" }), verified: true, level: 3},
		{name: "generic wd, builder at v2.0.0", bundle: genericWD, digest: genericDigest, policy: with(generic, func(p *Policy) { p.BuilderID = genericBuilder + "@refs/tags/v2.0.0" }), failed: CheckProvenance, reason: "builder is"},
		{name: "generic wd, other source", bundle: genericWD, digest: genericDigest, policy: with(generic, func(p *Policy) { p.SourceURI = "github.com/laurentsimon/slsa-verifier-test-gen" }), failed: CheckProvenance, reason: "source is"},
		{name: "generic wd, wrong digest", bundle: genericWD, digest: "sha256:2892146b063a94cb4a4318c0e98d38af12dcf2b1e29237486b58463b59607bbd", policy: generic, failed: CheckSubject},
	}
	// generic, push of tag v14.2.
	for _, tc := range []struct {
		tag string
		ok  bool
	}{{"v14.2", true}, {"v14", true}, {"v14.2.1", false}, {"v14.1", false}, {"v13", false}, {"v15", false}} {
		c := fixtureCase{name: "generic push v14.2, versioned tag " + tc.tag, bundle: genericPush, digest: genericDigest,
			policy: with(generic, func(p *Policy) { p.SourceVersionedTag = tc.tag }), verified: tc.ok, level: 3}
		if !tc.ok {
			c.failed, c.reason = CheckProvenance, "does not match versioned tag"
		}
		cases = append(cases, c)
	}
	// delegator (BYOB), workflow_dispatch: as generic.
	cases = append(cases,
		fixtureCase{name: "delegator wd", bundle: delegWD + ".build.slsa", artifact: delegWD, policy: deleg, verified: true, level: 3},
		fixtureCase{name: "delegator wd, branch main", bundle: delegWD + ".build.slsa", artifact: delegWD, policy: with(deleg, func(p *Policy) { p.SourceBranch = "main" }), verified: true, level: 3},
		fixtureCase{name: "delegator wd, branch master", bundle: delegWD + ".build.slsa", artifact: delegWD, policy: with(deleg, func(p *Policy) { p.SourceBranch = "master" }), failed: CheckProvenance, reason: "expected \"master\""},
		fixtureCase{name: "delegator wd, tag", bundle: delegWD + ".build.slsa", artifact: delegWD, policy: with(deleg, func(p *Policy) { p.SourceTag = "v1.2.3" }), failed: CheckProvenance, reason: "not on a tag"},
		fixtureCase{name: "delegator wd, generator builder", bundle: delegWD + ".build.slsa", artifact: delegWD, policy: with(deleg, func(p *Policy) { p.BuilderID = genericBuilder }), failed: CheckProvenance, reason: "builder is"},
		fixtureCase{name: "delegator wd, inputs", bundle: delegWD + ".build.slsa", artifact: delegWD, policy: with(deleg, func(p *Policy) { p.WorkflowInputs = map[string]string{"content": "hello"} }), verified: true, level: 3},
		fixtureCase{name: "delegator wd, wrong input", bundle: delegWD + ".build.slsa", artifact: delegWD, policy: with(deleg, func(p *Policy) { p.WorkflowInputs = map[string]string{"content": "bye"} }), failed: CheckProvenance, reason: "workflow input content"},
		fixtureCase{name: "delegator push v13.0.30, exact tag v13.0.29", bundle: delegPush + ".build.slsa", artifact: delegPush, policy: with(deleg, func(p *Policy) { p.SourceTag = "v13.0.29" }), failed: CheckProvenance, reason: "expected \"v13.0.29\""},
		fixtureCase{name: "delegator push v13.0.30, exact tag", bundle: delegPush + ".build.slsa", artifact: delegPush, policy: with(deleg, func(p *Policy) { p.SourceTag = "v13.0.30" }), verified: true, level: 3},
	)
	for _, tc := range []struct {
		tag string
		ok  bool
	}{{"v13.0.30", true}, {"v13.0", true}, {"v13", true}, {"v13.1", false}, {"v12.9", false}, {"v13.0.31", false}} {
		c := fixtureCase{name: "delegator push v13.0.30, versioned tag " + tc.tag, bundle: delegPush + ".build.slsa", artifact: delegPush,
			policy: with(deleg, func(p *Policy) { p.SourceVersionedTag = tc.tag }), verified: tc.ok, level: 3}
		if !tc.ok {
			c.failed, c.reason = CheckProvenance, "does not match versioned tag"
		}
		cases = append(cases, c)
	}
	// maven through the low-perms delegator, push of tag v14.
	for _, tc := range []struct {
		tag string
		ok  bool
	}{{"v14", true}, {"v14.0", true}, {"v14.1", false}, {"v13", false}, {"v15", false}} {
		c := fixtureCase{name: "maven push v14, versioned tag " + tc.tag, bundle: maven + ".build.slsa", artifact: maven,
			policy: with(mav, func(p *Policy) { p.SourceVersionedTag = tc.tag }), verified: tc.ok, level: 3}
		if !tc.ok {
			c.failed, c.reason = CheckProvenance, "does not match versioned tag"
		}
		cases = append(cases, c)
	}
	cases = append(cases,
		fixtureCase{name: "container-based wd", bundle: "slsa-github-generator/gha_container-based-v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.build.slsa",
			artifact: "slsa-github-generator/gha_container-based-v2.1.0/binary-linux-amd64-workflow_dispatch",
			policy:   generatorPolicy("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml"), verified: true, level: 3},
		// publish-to-bcr: actions/attest format from a reusable workflow.
		fixtureCase{name: "bcr", bundle: "slsa-github-generator/bcr/MODULE.bazel.intoto.jsonl", artifact: "slsa-github-generator/bcr/MODULE.bazel",
			policy: Policy{Repo: "aspect-build/rules_lint", SignerRepo: "bazel-contrib/publish-to-bcr", SourceURI: "github.com/aspect-build/rules_lint", BuilderID: bcrBuilder}, verified: true, level: 3},
		fixtureCase{name: "bcr wrong signer, as a consumer would ask", bundle: "slsa-github-generator/bcr/MODULE-wrong-signer.bazel.intoto.jsonl", artifact: "slsa-github-generator/bcr/MODULE-wrong-signer.bazel",
			policy: Policy{Repo: "aspect-build/rules_lint", SignerRepo: "bazel-contrib/publish-to-bcr", SourceURI: "github.com/aspect-build/rules_lint", BuilderID: bcrBuilder},
			failed: CheckIdentity, also: []CheckName{CheckPredicate, CheckLevel}},
		// Even a policy that trusts the forger's repository rejects the
		// forged predicate: check 7 compares it with the certificate.
		fixtureCase{name: "bcr wrong signer, forger's identity accepted", bundle: "slsa-github-generator/bcr/MODULE-wrong-signer.bazel.intoto.jsonl", artifact: "slsa-github-generator/bcr/MODULE-wrong-signer.bazel",
			policy: Policy{Owner: "loosebazooka", MinLevel: 1},
			failed: CheckPredicate, reason: `predicate runDetails.builder.id is "` + bcrBuilder + `@refs/tags/v0.0.1" but the certificate's Build Signer URI`},
		// bundle-unit: generator at main, and two tampered bundles.
		fixtureCase{name: "bundle-unit valid v0.3", bundle: "slsa-github-generator/bundle-unit/valid-v0.3.intoto.sigstore",
			digest: "sha256:2892146b063a94cb4a4318c0e98d38af12dcf2b1e29237486b58463b59607bbd", policy: withV02(Policy{Repo: examplePackage, SignerRepo: generator}), verified: true, level: 2,
			reason: `not L3: the builder https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/heads/main ran at "refs/heads/main", not at a release tag`},
		// slsa-verifier refuses a builder at a branch even when the builder id
		// is given (verifyTrustedBuilderRef): so does --builder-id.
		fixtureCase{name: "bundle-unit valid v0.3, builder id at a branch", bundle: "slsa-github-generator/bundle-unit/valid-v0.3.intoto.sigstore",
			digest: "sha256:2892146b063a94cb4a4318c0e98d38af12dcf2b1e29237486b58463b59607bbd",
			policy: withV02(Policy{SourceURI: "github.com/" + examplePackage, BuilderID: genericBuilder}), failed: CheckIdentity, reason: `"refs/heads/main" is not one`},
		fixtureCase{name: "bundle-unit mismatch tlog", bundle: "slsa-github-generator/bundle-unit/mismatch-tlog.intoto.sigstore",
			digest: "sha256:2e38b952523576057f5ca8cf6d179ad6b66f6d0221b9a0eb621caf3507773c71", policy: Policy{Owner: "asraa"}, failed: CheckTimestamps, reason: "transparency log signature does not match"},
		fixtureCase{name: "bundle-unit invalid SET", bundle: "slsa-github-generator/bundle-unit/invalid-set.intoto.sigstore",
			digest: "sha256:092b220688ee737c66882a74ae8bfe3e2b35df60b92404b552ebe905a2d633ce", policy: Policy{Owner: "asraa"}, failed: CheckTimestamps, reason: "transparency log"},
		// Legacy bare DSSE: needs Rekor online.
		fixtureCase{name: "legacy bare DSSE", bundle: "slsa-github-generator/legacy-dsse/workflow-inputs.intoto.jsonl", artifact: "slsa-github-generator/legacy-dsse/workflow-inputs",
			policy: withV02(Policy{Repo: "laurentsimon/slsa-on-github-test", WorkflowInputs: map[string]string{"some_integer": "123"}}), failed: CheckBundle, reason: "looked up online"},
	)
	return cases
}

func TestFixtures(t *testing.T) {
	for _, tc := range fixtureCases() {
		t.Run(tc.name, func(t *testing.T) {
			root := tc.root
			if root == "" {
				root = "trusted-roots/public-good-cli.json"
			}
			roots, err := trust.LoadTrustedRoots(fx(root))
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{TrustedRoots: roots, BundleFiles: []string{fx(tc.bundle)}, Policy: tc.policy}
			if tc.artifact != "" {
				opts.Artifacts = []string{fx(tc.artifact)}
			} else {
				opts.Digests = []string{tc.digest}
			}
			rep, err := Verify(context.Background(), opts)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(rep.Artifacts) != 1 || len(rep.Artifacts[0].Bundles) == 0 {
				t.Fatalf("want one artifact with bundles, got %+v", rep.Artifacts)
			}
			a := rep.Artifacts[0]
			if rep.Verified != tc.verified || a.Verified != tc.verified {
				t.Fatalf("verified = %v, want %v\n%s", rep.Verified, tc.verified, text(rep))
			}
			for _, br := range a.Bundles {
				if tc.verified {
					if !br.Verified || br.Level != tc.level || br.Err() != nil {
						t.Errorf("bundle %s: verified %v level %d err %v, want level %d\n%s", br.Source, br.Verified, br.Level, br.Err(), tc.level, text(rep))
					}
					if tc.reason != "" && !strings.Contains(br.Check(CheckLevel).Reason, tc.reason) {
						t.Errorf("level reason %q does not contain %q", br.Check(CheckLevel).Reason, tc.reason)
					}
					continue
				}
				var ce *CheckError
				if err := br.Err(); !errors.As(err, &ce) || ce.Check != tc.failed {
					t.Fatalf("first failure = %v, want check %s\n%s", br.Err(), tc.failed, text(rep))
				}
				if tc.reason != "" && !strings.Contains(br.Check(tc.failed).Reason, tc.reason) {
					t.Errorf("check %s reason %q does not contain %q", tc.failed, br.Check(tc.failed).Reason, tc.reason)
				}
				for _, also := range tc.also {
					if br.Check(also).Status != StatusFail {
						t.Errorf("check %s = %s, want fail", also, br.Check(also).Status)
					}
				}
			}
			if a.Level != tc.level && tc.verified {
				t.Errorf("artifact level %d, want %d", a.Level, tc.level)
			}
		})
	}
}

// TestFixturesNamedErrors: the two fixtures that cannot be verified offline
// say exactly why, with typed errors, not a cryptographic failure.
func TestFixturesNamedErrors(t *testing.T) {
	v, att, art := setupFixture(t, nil, Policy{Owner: "actions"},
		"github-attest/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
		"github-attest/github_provenance_demo-0.0.12-py3-none-any.whl")
	res := v.VerifyBundle(att, art)
	var uie *UnknownInstanceError
	if !errors.As(res.Err(), &uie) {
		t.Fatalf("GitHub-instance bundle: err = %v, want *UnknownInstanceError", res.Err())
	}
	if !strings.Contains(uie.Issuer, "GitHub") || len(uie.Known) != 1 || uie.Known[0] != "public-good" {
		t.Errorf("UnknownInstanceError = %+v", uie)
	}

	legacy, err := LoadAttestations(fx("slsa-github-generator/legacy-dsse/workflow-inputs.intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	res = v.VerifyBundle(legacy[0], art)
	if !errors.Is(res.Err(), ErrOnlineLookupRequired) {
		t.Fatalf("legacy DSSE: err = %v, want ErrOnlineLookupRequired", res.Err())
	}
}
