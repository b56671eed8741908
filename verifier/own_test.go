package verifier

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"

	"github.com/sigstore/sigstore-go/pkg/testing/ca"
)

// ownBundle signs our own statement for a run over one artifact and
// returns the bundle file's bytes and the artifact.
func ownBundle(t testing.TB, s *testSigstore, run ghRun, edit func(map[string]any), o signOpts) ([]byte, Artifact) {
	t.Helper()
	art, err := ArtifactFromReader("demo-linux-amd64", strings.NewReader("the release asset"))
	if err != nil {
		t.Fatal(err)
	}
	stmt := run.statement(map[string][]byte{"demo-linux-amd64": art.Digests["sha256"]})
	if edit != nil {
		edit(stmt)
	}
	return s.sign(t, run, stmt, o), art
}

func predicateOf(stmt map[string]any) map[string]any {
	return stmt["predicate"].(map[string]any)
}

func workflowOf(stmt map[string]any) map[string]any {
	bd := predicateOf(stmt)["buildDefinition"].(map[string]any)
	return bd["externalParameters"].(map[string]any)["workflow"].(map[string]any)
}

func verifyOne(t testing.TB, s *testSigstore, data []byte, art Artifact, p Policy) BundleResult {
	t.Helper()
	v, err := New(s.roots(), p)
	if err != nil {
		t.Fatal(err)
	}
	atts := ParseAttestations("own.sigstore.json", data)
	if len(atts) != 1 {
		t.Fatalf("%d attestations", len(atts))
	}
	return v.VerifyBundle(atts[0], art)
}

// TestOwnBundles: our own bundles (the predicate GitHub's attest action
// makes) verify at L2 from the source repository's workflow, at L3 from a
// reusable workflow in another repository, and fail check 7 when the
// predicate was edited before signing.
func TestOwnBundles(t *testing.T) {
	s := newTestSigstore(t)
	run := defaultRun()
	tests := []struct {
		name   string
		run    ghRun
		edit   func(map[string]any)
		policy Policy
		level  int
		failed CheckName
		reason string
	}{
		{name: "L2 from the source repository", run: run, policy: Policy{Repo: "provenant/demo"}, level: 2,
			reason: "not L3: the signing workflow lives in the source repository"},
		{name: "L2 does not meet min level 3", run: run, policy: Policy{Repo: "provenant/demo", MinLevel: 3}, level: 2,
			failed: CheckLevel, reason: "SLSA Build L2"},
		{name: "L3 from a reusable workflow in another repository", run: run.reusable(),
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders", MinLevel: 3}, level: 3,
			reason: "trusted builder in https://github.com/provenant/builders"},
		{name: "L3 with signer workflow, ref and digests", run: run.reusable(),
			policy: Policy{Repo: "provenant/demo", SignerWorkflow: "provenant/builders/.github/workflows/provenance.yml",
				SourceRef: "refs/tags/v1.2.3", SourceDigest: run.SHA, SignerDigest: "fedcba9876543210fedcba9876543210fedcba98",
				DenySelfHostedRunners: true, BuilderID: "https://github.com/provenant/builders/.github/workflows/provenance.yml@v2.0.0",
				SourceURI: "github.com/provenant/demo", SourceTag: "v1.2.3", SourceVersionedTag: "v1.2", MinLevel: 3}, level: 3},
		{name: "further extensions required by name", run: run,
			policy: Policy{Repo: "provenant/demo", Extensions: map[string]string{"buildTrigger": "push", "sourceRepositoryVisibilityAtSigning": "public"}}, level: 2},
		{name: "further extension mismatch", run: run,
			policy: Policy{Repo: "provenant/demo", Extensions: map[string]string{"buildTrigger": "workflow_dispatch"}}, level: 2,
			failed: CheckIdentity, reason: `expected BuildTrigger to be "workflow_dispatch", got "push"`},
		{name: "reusable workflow on a self-hosted runner is L2", run: func() ghRun { r := run.reusable(); r.Runner = "self-hosted"; return r }(),
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders"}, level: 2, reason: "runner environment is self-hosted"},
		{name: "self-hosted runner denied", run: func() ghRun { r := run.reusable(); r.Runner = "self-hosted"; return r }(),
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders", DenySelfHostedRunners: true}, level: 2,
			failed: CheckIdentity, reason: "RunnerEnvironment"},
		{name: "edited repository fails check 7", run: run, policy: Policy{Repo: "provenant/demo"}, level: 1,
			edit:   func(st map[string]any) { workflowOf(st)["repository"] = "https://github.com/provenant/other" },
			failed: CheckPredicate, reason: `externalParameters.workflow.repository is "https://github.com/provenant/other" but the certificate's Source Repository URI (1.3.6.1.4.1.57264.1.12) is "https://github.com/provenant/demo"`},
		{name: "edited commit fails check 7", run: run, policy: Policy{Repo: "provenant/demo"}, level: 1,
			edit: func(st map[string]any) {
				bd := predicateOf(st)["buildDefinition"].(map[string]any)
				bd["resolvedDependencies"].([]any)[0].(map[string]any)["digest"] = map[string]string{"gitCommit": "ffffffffffffffffffffffffffffffffffffffff"}
			},
			failed: CheckPredicate, reason: "resolvedDependencies[0].digest.gitCommit"},
		{name: "edited ref fails check 7", run: run, policy: Policy{Repo: "provenant/demo"}, level: 1,
			edit:   func(st map[string]any) { workflowOf(st)["ref"] = "refs/tags/v9.9.9" },
			failed: CheckPredicate, reason: "Source Repository Ref"},
		{name: "edited workflow path fails check 7", run: run, policy: Policy{Repo: "provenant/demo"}, level: 1,
			edit:   func(st map[string]any) { workflowOf(st)["path"] = ".github/workflows/trusted.yml" },
			failed: CheckPredicate, reason: "Build Config URI"},
		{name: "edited builder id fails check 7", run: run.reusable(), policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders"}, level: 1,
			edit: func(st map[string]any) {
				predicateOf(st)["runDetails"].(map[string]any)["builder"] = map[string]any{"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0"}
			},
			failed: CheckPredicate, reason: "Build Signer URI"},
		{name: "edited invocation id fails check 7", run: run, policy: Policy{Repo: "provenant/demo"}, level: 1,
			edit: func(st map[string]any) {
				predicateOf(st)["runDetails"].(map[string]any)["metadata"] = map[string]any{"invocationId": "https://github.com/provenant/demo/actions/runs/1/attempts/1"}
			},
			failed: CheckPredicate, reason: "Run Invocation URI"},
		{name: "edited runner environment fails check 7", run: func() ghRun { r := run.reusable(); r.Runner = "self-hosted"; return r }(),
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders"}, level: 1,
			edit: func(st map[string]any) {
				bd := predicateOf(st)["buildDefinition"].(map[string]any)
				bd["internalParameters"].(map[string]any)["github"].(map[string]any)["runner_environment"] = GitHubHosted
			},
			failed: CheckPredicate, reason: "runner_environment"},
		// The local Sigstore stack's token service is a GitHub-type issuer
		// at another URL: named by the policy, it is a build platform.
		{name: "GitHub-type issuer named by the policy", run: func() ghRun { r := run.reusable(); r.Issuer = "http://127.0.0.1:8081"; return r }(),
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders", CertOIDCIssuer: "http://127.0.0.1:8081", MinLevel: 3}, level: 3},
		{name: "unknown buildType is unchecked and L1", run: run, policy: Policy{Repo: "provenant/demo", MinLevel: 1}, level: 1,
			edit: func(st map[string]any) {
				predicateOf(st)["buildDefinition"].(map[string]any)["buildType"] = "https://example.com/custom@v1"
			},
			reason: "could not be checked"},
		{name: "unknown buildType fails the default min level", run: run, policy: Policy{Repo: "provenant/demo"}, level: 1,
			edit: func(st map[string]any) {
				predicateOf(st)["buildDefinition"].(map[string]any)["buildType"] = "https://example.com/custom@v1"
			},
			failed: CheckLevel, reason: "SLSA Build L1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, art := ownBundle(t, s, tc.run, tc.edit, signOpts{})
			res := verifyOne(t, s, data, art, tc.policy)
			if res.Level != tc.level {
				t.Errorf("level %d, want %d\n%s", res.Level, tc.level, bundleText(res))
			}
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
			if !strings.Contains(res.Check(where).Reason, tc.reason) {
				t.Errorf("check %s reason %q does not contain %q", where, res.Check(where).Reason, tc.reason)
			}
			if tc.failed == CheckPredicate {
				var me *MismatchError
				if !errors.As(res.Err(), &me) {
					t.Errorf("check 7 error %v is not a *MismatchError", res.Err())
				}
				if c := res.Check(CheckLevel); !strings.Contains(c.Reason, "disagrees with the certificate") {
					t.Errorf("level reason %q does not blame check 7", c.Reason)
				}
			}
		})
	}
}

// TestEachCheckFailsAlone: for each check, a bundle or policy that breaks
// only that link; the report names it and no other check fails.
func TestEachCheckFailsAlone(t *testing.T) {
	s := newTestSigstore(t)
	run := defaultRun()
	good := Policy{Repo: "provenant/demo"}
	// Another CA with the same names as the trusted one: the instance is
	// chosen, the chain does not verify.
	otherRoot, otherRootKey, _ := ca.GenerateRootCa()
	otherInter, otherInterKey, _ := ca.GenerateFulcioIntermediate(otherRoot, otherRootKey)

	tests := []struct {
		check  CheckName
		opts   signOpts
		edit   func(map[string]any)
		policy Policy
		art    string // another artifact content
		reason string
	}{
		{check: CheckBundle, opts: signOpts{mediaType: "application/vnd.dev.sigstore.bundle.v0.9+json"}, policy: good, reason: "not a usable Sigstore bundle"},
		{check: CheckCertificate, opts: signOpts{parent: otherInter, parentKey: otherInterKey}, policy: good, reason: "does not chain to the test Fulcio CA"},
		// A v0.1 bundle rests on the Rekor promise alone: break it.
		{check: CheckTimestamps, opts: signOpts{breakSET: true, noTimestamp: true, mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1"},
			policy: good, reason: "transparency log entry does not verify"},
		// A log would refuse a bad signature; a signed and logged envelope
		// whose payload is not in-toto fails check 4 alone.
		{check: CheckSignature, opts: signOpts{payloadType: "application/json"}, policy: good, reason: `DSSE payload type is "application/json"`},
		{check: CheckSignature, edit: func(st map[string]any) { st["_type"] = "https://example.com/not-in-toto" }, policy: good, reason: "not an in-toto statement"},
		{check: CheckSubject, policy: good, art: "another asset", reason: "no subject of the statement has sha256:"},
		{check: CheckIdentity, policy: Policy{Repo: "provenant/other"}, reason: "does not meet the policy"},
		{check: CheckPredicate, policy: Policy{Repo: "provenant/demo", MinLevel: 1},
			edit:   func(st map[string]any) { workflowOf(st)["repository"] = "https://github.com/provenant/other" },
			reason: "Source Repository URI"},
		{check: CheckProvenance, policy: Policy{Repo: "provenant/demo", SourceBranch: "main"}, reason: "the run was not on a branch"},
		{check: CheckLevel, policy: Policy{Repo: "provenant/demo", MinLevel: 3}, reason: "SLSA Build L2"},
	}
	for _, tc := range tests {
		t.Run(string(tc.check), func(t *testing.T) {
			data, art := ownBundle(t, s, run, tc.edit, tc.opts)
			if tc.art != "" {
				var err error
				if art, err = ArtifactFromReader("other", strings.NewReader(tc.art)); err != nil {
					t.Fatal(err)
				}
			}
			res := verifyOne(t, s, data, art, tc.policy)
			var ce *CheckError
			if err := res.Err(); !errors.As(err, &ce) || ce.Check != tc.check {
				t.Fatalf("failure %v, want check %s\n%s", err, tc.check, bundleText(res))
			}
			var failed []CheckName
			for _, c := range res.Checks {
				if c.Status == StatusFail {
					failed = append(failed, c.Name)
				}
			}
			// Check 7 failing also caps the level, which is reported in
			// check 9 but is not a failure at min level 1.
			if len(failed) != 1 {
				t.Errorf("failed checks %v, want only %s\n%s", failed, tc.check, bundleText(res))
			}
			if !strings.Contains(res.Check(tc.check).Reason, tc.reason) {
				t.Errorf("reason %q does not contain %q", res.Check(tc.check).Reason, tc.reason)
			}
			if res.Check(tc.check).Number != tc.check.Number() || len(res.Checks) != 9 {
				t.Errorf("checks %+v", res.Checks)
			}
		})
	}
}

// TestVerifyFilesWithTrustedRootFile is how an e2e test calls the library:
// a bundle file, the artifact, and a trusted_root.json.
func TestVerifyFilesWithTrustedRootFile(t *testing.T) {
	s := newTestSigstore(t)
	dir := t.TempDir()
	data, _ := ownBundle(t, s, defaultRun().reusable(), nil, signOpts{})
	asset := filepath.Join(dir, "demo-linux-amd64")
	if err := os.WriteFile(asset, []byte("the release asset"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(asset+".sigstore.json", data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), Options{
		Artifacts:    []string{asset},
		BundleFiles:  []string{asset + ".sigstore.json"},
		TrustedRoots: mustLoadRoots(t, s.writeTrustedRoot(t, t.TempDir())),
		Policy:       Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders", MinLevel: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified || rep.Artifacts[0].Level != 3 {
		t.Fatalf("not verified at L3:\n%s", text(rep))
	}
	// The same through --bundle-dir discovery: every asset of the
	// directory, each with its attestations.
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("no attestation"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = Verify(context.Background(), Options{BundleDir: dir, TrustedRoots: s.roots(), Policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified || len(rep.Artifacts) != 2 {
		t.Fatalf("bundle dir: want 2 artifacts, one without attestation:\n%s", text(rep))
	}
	if a := rep.Artifacts[0]; filepath.Base(a.Artifact) != "README.txt" || a.Verified || !strings.Contains(a.Error, "no attestation found") {
		t.Errorf("asset without attestation: %+v", a)
	}
	if a := rep.Artifacts[1]; filepath.Base(a.Artifact) != "demo-linux-amd64" || !a.Verified || a.Level != 3 {
		t.Errorf("asset with attestation: %s", text(rep))
	}
}

// TestRekorV2WithTSA: a bundle whose log entry is a Rekor v2 entry
// (inclusion proof and checkpoint, no integrated time) and whose signature
// time comes from an RFC 3161 timestamp.
func TestRekorV2WithTSA(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	art, err := ArtifactFromReader("asset", strings.NewReader("rekor v2 asset"))
	if err != nil {
		t.Fatal(err)
	}
	const predicateType = "https://provenant.dev/test-result/v1"
	stmt := map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "asset", "digest": map[string]string{"sha256": hex.EncodeToString(art.Digests["sha256"])}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{"passed": true},
	}
	payload, err := json.Marshal(stmt)
	if err != nil {
		t.Fatal(err)
	}
	e, err := vs.AttestHashedRekordV2("release@provenant.test", "https://issuer.test", payload)
	if err != nil {
		t.Fatal(err)
	}
	data := entityBundle(t, e)
	v, err := New([]TrustedRoot{{Name: "virtual", Root: noCT{vs}}}, Policy{CertIdentity: "release@provenant.test", CertOIDCIssuer: "https://issuer.test", PredicateType: predicateType})
	if err != nil {
		t.Fatal(err)
	}
	res := v.VerifyBundle(ParseAttestations("v2.sigstore.json", data)[0], art)
	if res.Err() != nil {
		t.Fatalf("Rekor v2 + TSA: %v\n%s", res.Err(), bundleText(res))
	}
	reason := res.Check(CheckTimestamps).Reason
	if !strings.Contains(reason, "Rekor v2 entry") || !strings.Contains(reason, "RFC 3161 timestamp") {
		t.Errorf("check 3 reason %q does not name the Rekor v2 entry and the timestamp", reason)
	}
	// Not SLSA provenance: nothing to compare with the certificate, L1,
	// which is the default minimum for other predicate types.
	if res.Level != 1 || res.Check(CheckPredicate).Status != StatusUnchecked {
		t.Errorf("level %d, check 7 %s\n%s", res.Level, res.Check(CheckPredicate).Status, bundleText(res))
	}
}

// TestSeveralInstances: with several trusted roots, each bundle is verified
// by the instance that issued its certificate, even when two instances'
// CAs carry the same names (the test CA is named like public-good's).
func TestSeveralInstances(t *testing.T) {
	s := newTestSigstore(t)
	dir := t.TempDir()
	pg := mustRead(t, fx("trusted-roots/public-good-cli.json"))
	own, err := s.trusted.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	jsonl := filepath.Join(dir, "roots.jsonl")
	if err := os.WriteFile(jsonl, append(append(bytes.ReplaceAll(pg, []byte("\n"), nil), '\n'), own...), 0o644); err != nil {
		t.Fatal(err)
	}
	roots, err := trust.LoadTrustedRoots(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 2 || roots[0].Name != "public-good" || roots[1].Name != "roots.jsonl:2" {
		t.Fatalf("roots %v", roots)
	}
	data, art := ownBundle(t, s, defaultRun(), nil, signOpts{})
	v, err := New(roots, Policy{Owner: "provenant"})
	if err != nil {
		t.Fatal(err)
	}
	if res := v.VerifyBundle(ParseAttestations("own", data)[0], art); res.Err() != nil || res.Instance != "roots.jsonl:2" {
		t.Errorf("own bundle: instance %q, err %v", res.Instance, res.Err())
	}
	v, att, npm := setupFixture(t, roots, Policy{Repo: "sigstore/sigstore-js"}, "npm/sigstore-js-2.1.0-bundle.json", "npm/sigstore-js-2.1.0.tgz")
	if res := v.VerifyBundle(att, npm); res.Err() != nil || res.Instance != "public-good" {
		t.Errorf("npm bundle: instance %q, err %v", res.Instance, res.Err())
	}
}

// TestVerifyItemsKeepsOrder: many artifacts verified in parallel come back
// in input order, each with its own result.
func TestVerifyItemsKeepsOrder(t *testing.T) {
	s := newTestSigstore(t)
	v, err := New(s.roots(), Policy{Repo: "provenant/demo"})
	if err != nil {
		t.Fatal(err)
	}
	data, art := ownBundle(t, s, defaultRun(), nil, signOpts{})
	att := ParseAttestations("own", data)[0]
	other, _ := ArtifactFromReader("other", strings.NewReader("not in the bundle"))
	var items []Item
	for i := 0; i < 40; i++ {
		it := Item{Artifact: art, Attestations: []Attestation{att}}
		if i%3 == 0 {
			it.Artifact = other
		}
		if i%7 == 0 {
			it.Attestations = nil
			it.Missing = "no attestation"
		}
		items = append(items, it)
	}
	got := v.VerifyItems(context.Background(), items, 3)
	for i, r := range got {
		want := i%3 != 0 && i%7 != 0
		if r.Verified != want || r.Artifact != items[i].Artifact.Name {
			t.Errorf("item %d: verified %v (%s), want %v", i, r.Verified, r.Artifact, want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range v.VerifyItems(ctx, items[:5], 1) {
		if r.Verified || !strings.Contains(r.Error, "canceled") {
			t.Errorf("canceled run: %+v", r)
		}
	}
}

// TestTimestampAuthorityOnly: an instance without a transparency log (as
// GitHub's) requires an RFC 3161 timestamp; a bundle without one fails
// check 3.
func TestTimestampAuthorityOnly(t *testing.T) {
	s := newTestSigstore(t)
	v, err := New(s.tsaOnlyRoots(t), Policy{Repo: "provenant/demo"})
	if err != nil {
		t.Fatal(err)
	}
	data, art := ownBundle(t, s, defaultRun(), nil, signOpts{noTlog: true})
	res := v.VerifyBundle(ParseAttestations("tsa.sigstore.json", data)[0], art)
	if res.Err() != nil || res.Level != 2 {
		t.Fatalf("TSA-only bundle: level %d, %v\n%s", res.Level, res.Err(), bundleText(res))
	}
	if r := res.Check(CheckTimestamps).Reason; !strings.Contains(r, "RFC 3161 timestamp") || strings.Contains(r, "Rekor") {
		t.Errorf("check 3 reason %q", r)
	}
	data, art = ownBundle(t, s, defaultRun(), nil, signOpts{noTlog: true, noTimestamp: true})
	res = v.VerifyBundle(ParseAttestations("none.sigstore.json", data)[0], art)
	var ce *CheckError
	if !errors.As(res.Err(), &ce) || ce.Check != CheckTimestamps {
		t.Fatalf("no timestamp at all: %v, want check 3\n%s", res.Err(), bundleText(res))
	}
}

func TestPolicyErrors(t *testing.T) {
	s := newTestSigstore(t)
	for _, p := range []Policy{
		{},
		{Repo: "no-slash"},
		{Owner: "a", Repo: "b/c"},
		{Repo: "a/b", CertIdentity: "x", CertIdentityRegexp: "y"},
		{CertIdentityRegexp: "("},
		{Repo: "a/b", Extensions: map[string]string{"noSuchExtension": "x"}},
		{Repo: "a/b", Extensions: map[string]string{"issuer": "x"}},
		{Repo: "a/b", SourceRef: "refs/heads/main", Extensions: map[string]string{"sourceRepositoryRef": "refs/heads/dev"}},
		{Repo: "a/b", MinLevel: 4},
	} {
		if _, err := New(s.roots(), p); err == nil {
			t.Errorf("New(%+v) accepted the policy", p)
		}
	}
	if _, err := New(nil, Policy{Repo: "a/b"}); err == nil {
		t.Error("New without trusted roots accepted")
	}
}
