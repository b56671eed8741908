package verifier

import (
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// attackDir holds bundles signed by a test Sigstore instance for the
// command's regression tests (cmd_verify_attacks_test.go), which cannot
// sign their own: a trusted_root.json, one artifact and one bundle per
// attack. go test -run TestAttackFixtures -update rewrites them.
const attackDir = "../testdata/attacks"

// attackArtifact is the content of attackDir/demo-linux-amd64.
const attackArtifact = "the release asset"

// attackFixture is one stored bundle, how it is made, and what Verify must
// say of it with policy.
type attackFixture struct {
	file   string
	run    ghRun
	stmt   func(ghRun, Artifact) map[string]any // default: our own statement
	opts   signOpts
	policy Policy
	failed CheckName // "" when verified
	level  int
}

func attackFixtures() []attackFixture {
	run := defaultRun()
	dispatch := run
	dispatch.Event = "workflow_dispatch"
	src := Policy{Repo: "provenant/demo"}
	recreated := withSigner(run, "github/artifact-attestations-workflows/.github/workflows/attest.yml@refs/tags/v1.2.0")
	recreated.RepoID = "999999"
	return []attackFixture{
		// Hole 3: a same-repository workflow writes any inputs.
		{file: "inputs-same-repo.intoto.jsonl", run: dispatch,
			stmt: func(r ghRun, a Artifact) map[string]any {
				return genericV02Statement(r, a, map[string]any{"release": "true"})
			},
			policy: with(src, func(p *Policy) {
				p.PredicateType = SLSAProvenanceV02
				p.WorkflowInputs = map[string]string{"release": "true"}
			}),
			failed: CheckProvenance, level: 2},
		// Hole 7: a workflow named like the pinned one but for case.
		{file: "upper-case-workflow.sigstore.json", run: withSigner(run, "provenant/builders/.github/workflows/RELEASE.yml@refs/tags/v2.0.0"),
			policy: with(src, func(p *Policy) { p.SignerWorkflow = "provenant/builders/.github/workflows/release.yml" }),
			failed: CheckIdentity, level: 3},
		// Hole 8: the artifact is a subject in sha512 only, beside another
		// subject in sha256.
		{file: "mixed-digests.sigstore.json", run: run,
			stmt: func(r ghRun, a Artifact) map[string]any {
				st := r.statement(map[string][]byte{"other": make([]byte, 32)})
				st["subject"] = append(st["subject"].([]map[string]any), map[string]any{"name": a.Name, "digest": map[string]string{"sha512": hexOf(a, "sha512")}})
				return st
			},
			policy: src, level: 2},
		// Not a hole: a certificate without GitHub's extensions.
		{file: "no-github-extensions.sigstore.json", run: run,
			opts:   signOpts{san: "release@provenant.test", certExt: func(e *certificate.Extensions) { *e = certificate.Extensions{Issuer: e.Issuer} }},
			policy: Policy{CertIdentity: "release@provenant.test", MinLevel: 1}, level: 1},
		// Issue 20: two types from one run, for a policy's require: of both
		// (through --release too), and a bundle of the same name's
		// repository recreated (another id) at L3 beside the own one at L2.
		{file: "provenance-own.sigstore.json", run: run, policy: src, level: 2},
		{file: "sbom-same-run.sigstore.json", run: run,
			stmt: func(r ghRun, a Artifact) map[string]any {
				st := r.statement(map[string][]byte{a.Name: a.Digests["sha256"]})
				st["predicateType"] = "https://cyclonedx.org/bom"
				st["predicate"] = map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.5"}
				return st
			},
			policy: with(src, func(p *Policy) { p.PredicateType = "https://cyclonedx.org/bom"; p.MinLevel = 1 }), level: 1},
		{file: "recreated-repo-l3.sigstore.json", run: recreated,
			policy: with(src, func(p *Policy) { p.SignerRepo = "github/artifact-attestations-workflows" }), level: 3},
		{file: "deprecated-extensions.sigstore.json", run: run,
			opts: signOpts{
				certExt:  func(e *certificate.Extensions) { *e = certificate.Extensions{Issuer: e.Issuer} },
				extraExt: deprecatedExtensions(run),
			},
			policy: Policy{CertIdentity: "https://github.com/provenant/demo/.github/workflows/release.yml@refs/tags/v1.2.3", MinLevel: 1}, level: 1},
	}
}

// deprecatedExtensions are the Fulcio extensions .2–.6 of a run, as
// certificates had them before the .8–.22 ones (raw strings, not DER).
func deprecatedExtensions(r ghRun) []pkix.Extension {
	var out []pkix.Extension
	for _, e := range []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{
		{certificate.OIDGitHubWorkflowTrigger, r.Event},
		{certificate.OIDGitHubWorkflowSHA, r.SHA},
		{certificate.OIDGitHubWorkflowName, "release"},
		{certificate.OIDGitHubWorkflowRepository, r.Repo},
		{certificate.OIDGitHubWorkflowRef, r.Ref},
	} {
		out = append(out, pkix.Extension{Id: e.oid, Value: []byte(e.v)})
	}
	return out
}

// TestAttackFixtures checks that each stored attack bundle gives Verify's
// expected result with the stored trusted root; with -update it signs
// them anew.
func TestAttackFixtures(t *testing.T) {
	if *update {
		writeAttackFixtures(t)
	}
	roots, err := trust.LoadTrustedRoots(filepath.Join(attackDir, "trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range attackFixtures() {
		t.Run(fx.file, func(t *testing.T) {
			rep, err := Verify(context.Background(), Options{
				TrustedRoots: roots, Artifacts: []string{filepath.Join(attackDir, "demo-linux-amd64")},
				BundleFiles: []string{filepath.Join(attackDir, fx.file)}, Policy: fx.policy,
			})
			if err != nil {
				t.Fatal(err)
			}
			br := rep.Artifacts[0].Bundles[0]
			var ce *CheckError
			switch err := br.Err(); {
			case fx.failed == "" && err != nil:
				t.Fatalf("want verified, got %v\n%s", err, text(rep))
			case fx.failed != "" && (!errors.As(err, &ce) || ce.Check != fx.failed):
				t.Fatalf("first failure %v, want check %s\n%s", err, fx.failed, text(rep))
			}
			if br.Level != fx.level {
				t.Errorf("level %d, want %d\n%s", br.Level, fx.level, text(rep))
			}
		})
	}
}

func writeAttackFixtures(t *testing.T) {
	s := newTestSigstore(t)
	if err := os.MkdirAll(attackDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.writeTrustedRoot(t, attackDir)
	art, err := ArtifactFromReader("demo-linux-amd64", strings.NewReader(attackArtifact))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(attackDir, "demo-linux-amd64"), []byte(attackArtifact), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fx := range attackFixtures() {
		stmt := fx.run.statement(map[string][]byte{art.Name: art.Digests["sha256"]})
		if fx.stmt != nil {
			stmt = fx.stmt(fx.run, art)
		}
		if err := os.WriteFile(filepath.Join(attackDir, fx.file), s.sign(t, fx.run, stmt, fx.opts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
