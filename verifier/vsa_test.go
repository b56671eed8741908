package verifier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vsapb "github.com/in-toto/attestation/go/predicates/vsa/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// vsaClock is the fixed time of the VSAs these tests write.
var vsaClock = time.Date(2025, 6, 1, 12, 30, 0, 0, time.UTC)

// TestSummaryGolden pins the VSA predicate of a passed and of a failed
// verification (fixed clock, fixed results).
func TestSummaryGolden(t *testing.T) {
	passed := ArtifactResult{
		Artifact: "dist/demo-linux-amd64", Digest: "sha256:" + strings.Repeat("ab", 32), Verified: true, Level: 3,
		Bundles: []BundleResult{
			{Source: "dist/demo-linux-amd64.sigstore.json", BundleSHA256: strings.Repeat("01", 32), Verified: true, Level: 3},
			{Source: "dist/multiple.intoto.jsonl:2", BundleSHA256: strings.Repeat("02", 32)},
		},
	}
	failed := passed
	failed.Verified, failed.Level = false, 0
	failed.Bundles = []BundleResult{{Source: "dist/demo-linux-amd64.sigstore.json", BundleSHA256: strings.Repeat("01", 32), Level: 2}}
	digestArt := ArtifactResult{Artifact: "sha256:" + strings.Repeat("cd", 32), Digest: "sha256:" + strings.Repeat("cd", 32), Verified: true, Level: 2,
		Bundles: []BundleResult{{Source: "GitHub attestation 1", BundleSHA256: strings.Repeat("03", 32), Verified: true, Level: 2}}}
	opts := SummaryOptions{VerifierVersion: "v1.4.0", Time: vsaClock, PolicyURI: "policy.yaml", PolicyDigest: map[string]string{"sha256": strings.Repeat("ef", 32)}}
	for name, a := range map[string]ArtifactResult{"vsa-passed": passed, "vsa-failed": failed, "vsa-digest": digestArt} {
		t.Run(name, func(t *testing.T) {
			got, err := Summary(a, opts)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			p := filepath.Join("testdata", "golden", name+".json")
			if *update {
				mustWrite(t, p, got)
				return
			}
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("%v (run go test -run TestSummaryGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file; got:\n%s", p, got)
			}
		})
	}
	if _, err := Summary(passed, SummaryOptions{Time: vsaClock}); err == nil {
		t.Error("a VSA without a policy URI was written")
	}
}

// TestSummaryMatchesItsVerification verifies real bundles, writes the VSA
// of each artifact and checks each field against the verification that
// produced it.
func TestSummaryMatchesItsVerification(t *testing.T) {
	s := newTestSigstore(t)
	data, art := ownBundle(t, s, defaultRun(), nil, signOpts{})
	tests := []struct {
		name       string
		policy     Policy
		wantResult string
		wantLevels []string
	}{
		{"passed at L2", Policy{Repo: "provenant/demo"}, VSAPassed, []string{"SLSA_BUILD_LEVEL_2"}},
		{"failed: L3 required", Policy{Repo: "provenant/demo", MinLevel: 3}, VSAFailed, []string{"FAILED"}},
		{"failed: another repository", Policy{Repo: "provenant/other"}, VSAFailed, []string{"FAILED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(s.roots(), tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			atts := ParseAttestations("demo.sigstore.json", data)
			ar := v.VerifyItems(context.Background(), []Item{{Artifact: art, Attestations: atts}}, 1)[0]
			raw, err := Summary(ar, SummaryOptions{VerifierVersion: "v9.9.9", Time: vsaClock, PolicyURI: "data:x", PolicyDigest: map[string]string{"sha256": "00"}})
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
				{"verifier.id", got.GetVerifier().GetId(), VerifierID},
				{"verifier.version", loose.Verifier.Version["provenant"], "v9.9.9"},
				{"timeVerified", got.GetTimeVerified().AsTime().Equal(vsaClock), true},
				{"resourceUri", got.GetResourceUri(), art.Name},
				{"policy.uri", got.GetPolicy().GetUri(), "data:x"},
				{"policy.digest", got.GetPolicy().GetDigest()["sha256"], "00"},
				{"inputAttestations", len(got.GetInputAttestations()), 1},
				{"inputAttestations[0].uri", got.GetInputAttestations()[0].GetUri(), "demo.sigstore.json"},
				{"inputAttestations[0].digest", got.GetInputAttestations()[0].GetDigest()["sha256"], hex.EncodeToString(sum[:])},
				{"verificationResult", got.GetVerificationResult(), tt.wantResult},
				{"verificationResult is the report's", got.GetVerificationResult() == VSAPassed, ar.Verified},
				{"verifiedLevels", strings.Join(got.GetVerifiedLevels(), ","), strings.Join(tt.wantLevels, ",")},
				{"slsaVersion", got.GetSlsaVersion(), "1.0"},
			}
			if ar.Verified {
				checks = append(checks, struct {
					field     string
					got, want any
				}{"verifiedLevels is the report's level", got.GetVerifiedLevels()[0], BuildLevel(ar.Level)})
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
				}
			}
			name, digest, err := SummarySubject(ar)
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
		"predicateType": VSAPredicateType,
		"predicate":     json.RawMessage(pred),
	}
}

// TestVSAInput verifies signed VSAs: a VSA of a trusted verifier that
// passed the artifact at the level required verifies; every other one is
// refused by the check that names the broken rule.
func TestVSAInput(t *testing.T) {
	s := newTestSigstore(t)
	art, err := ArtifactFromReader("demo-linux-amd64", strings.NewReader("the release asset"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ArtifactFromReader("other", strings.NewReader("another asset"))
	result := func(verified bool, level int) ArtifactResult {
		return ArtifactResult{Artifact: "dist/demo-linux-amd64", Digest: art.String(), Verified: verified, Level: level,
			Bundles: []BundleResult{{Source: "demo.sigstore.json", BundleSHA256: strings.Repeat("01", 32), Verified: verified}}}
	}
	summary := func(a ArtifactResult, edit func(map[string]any)) []byte {
		raw, err := Summary(a, SummaryOptions{VerifierVersion: "v1", Time: vsaClock, PolicyURI: "policy.yaml", PolicyDigest: map[string]string{"sha256": "00"}})
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
	signed := func(run ghRun, subject []byte, pred []byte) []byte {
		return s.sign(t, run, vsaStatement("demo-linux-amd64", subject, pred), signOpts{})
	}
	vsaPolicy := Policy{Repo: "provenant/demo", PredicateType: VSAPredicateType, VerifierID: VerifierID}
	with := func(edit func(*Policy)) Policy {
		p := vsaPolicy
		edit(&p)
		return p
	}
	evil := defaultRun()
	evil.Repo, evil.JobWorkflowRef = "evil/demo", "evil/demo/.github/workflows/release.yml@refs/tags/v1.2.3"
	provenanceBundle, _ := ownBundle(t, s, defaultRun(), nil, signOpts{})
	unsigned, _ := json.Marshal(vsaStatement("demo-linux-amd64", art.Digests["sha256"], summary(result(true, 3), nil)))

	tests := []struct {
		name      string
		bundle    []byte
		policy    Policy
		wantLevel int
		failed    CheckName
		want      string // in the failed check's reason
	}{
		{"PASSED at L3, L3 required", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 3), nil)), with(func(p *Policy) { p.MinLevel = 3 }), 3, "", ""},
		{"PASSED at L2, default L2", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 2), nil)), vsaPolicy, 2, "", ""},
		{"resource URI required and named", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 2), nil)), with(func(p *Policy) { p.ResourceURI = "demo-linux-amd64" }), 2, "", ""},
		{"FAILED VSA", signed(defaultRun(), art.Digests["sha256"], summary(result(false, 0), nil)), vsaPolicy, 0, CheckPredicate,
			`VSA rule verificationResult: the verifier's verdict is "FAILED", required "PASSED"`},
		{"another verifier", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 3), func(m map[string]any) {
			m["verifier"] = map[string]any{"id": "https://evil.example/verifier"}
		})), vsaPolicy, 0, CheckPredicate, `VSA rule verifier.id: the VSA's verifier is "https://evil.example/verifier", required "https://provenant.dev/verifier"`},
		{"level too low", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 2), nil)), with(func(p *Policy) { p.MinLevel = 3 }), 2, CheckLevel,
			"VSA rule verifiedLevels: SLSA Build L2: the VSA's verifier vouches for SLSA_BUILD_LEVEL_2 (required: L3)"},
		{"only another track's level", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 3), func(m map[string]any) {
			m["verifiedLevels"] = []string{"SLSA_SOURCE_LEVEL_3"}
		})), vsaPolicy, 0, CheckLevel, "name no SLSA_BUILD_LEVEL_n"},
		{"malformed level", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 3), func(m map[string]any) {
			m["verifiedLevels"] = []string{"SLSA_BUILD_LEVEL_three"}
		})), vsaPolicy, 0, CheckPredicate, `VSA rule verifiedLevels: "SLSA_BUILD_LEVEL_three" is not a SLSA level`},
		{"VSA of another digest", signed(defaultRun(), other.Digests["sha256"], summary(result(true, 3), nil)), vsaPolicy, 0, CheckSubject, "no subject of the statement has sha256:"},
		{"another resource", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 3), nil)), with(func(p *Policy) { p.ResourceURI = "demo-darwin-arm64" }), 0, CheckPredicate,
			`VSA rule resourceUri: the VSA is about "demo-linux-amd64", required "demo-darwin-arm64" (--resource-uri)`},
		{"no time verified", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 3), func(m map[string]any) { delete(m, "timeVerified") })), vsaPolicy, 0, CheckPredicate,
			"VSA rule timeVerified"},
		{"unsigned VSA", unsigned, vsaPolicy, 0, CheckBundle, "an unsigned VSA"},
		{"signed by another repository's workflow", signed(evil, art.Digests["sha256"], summary(result(true, 3), nil)), vsaPolicy, 0, CheckIdentity, "evil/demo"},
		{"provenance given where a VSA is required", provenanceBundle, vsaPolicy, 0, CheckProvenance,
			`predicate type is "https://slsa.dev/provenance/v1", expected "https://slsa.dev/verification_summary/v1"`},
		{"provenance expectations on a VSA", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 3), nil)), with(func(p *Policy) { p.SourceTag = "v1.2.3" }), 0, CheckProvenance,
			"provenance expectations (--source-tag) cannot be checked on a VSA"},
		{"a VSA where provenance is required", signed(defaultRun(), art.Digests["sha256"], summary(result(true, 3), nil)), Policy{Repo: "provenant/demo"}, 0, CheckPredicate,
			"VSA rule verifier.id: no verifier is trusted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := verifyOne(t, s, tt.bundle, art, tt.policy)
			txt := bundleText(res)
			if tt.failed == "" {
				if !res.Verified || res.Level != tt.wantLevel {
					t.Fatalf("verified %v at L%d, want verified at L%d\n%s", res.Verified, res.Level, tt.wantLevel, txt)
				}
				if c := res.Check(CheckProvenance); c.Status != StatusNotApplicable {
					t.Errorf("check 8 is %s, want %s for a VSA\n%s", c.Status, StatusNotApplicable, txt)
				}
				if c := res.Check(CheckPredicate); !strings.Contains(c.Reason, "SLSA VSA v1 of verifier "+VerifierID+": PASSED") {
					t.Errorf("check 7: %s", c.Reason)
				}
				return
			}
			if res.Verified {
				t.Fatalf("verified, want check %s to fail\n%s", tt.failed, txt)
			}
			var ce *CheckError
			if !errors.As(res.Err(), &ce) && tt.failed != CheckLevel {
				t.Fatalf("no failed check\n%s", txt)
			}
			c := res.Check(tt.failed)
			if c.Status != StatusFail || !strings.Contains(c.Reason, tt.want) {
				t.Errorf("check %s: %s %q, want fail with %q\n%s", tt.failed, c.Status, c.Reason, tt.want, txt)
			}
		})
	}
}

// TestVSAPolicyErrors: a VSA predicate type needs a verifier id, and the
// VSA flags need the VSA predicate type.
func TestVSAPolicyErrors(t *testing.T) {
	s := newTestSigstore(t)
	tests := []struct {
		name   string
		policy Policy
		want   string
	}{
		{"VSA without verifier", Policy{Repo: "o/r", PredicateType: VSAPredicateType}, "needs --verifier-id"},
		{"verifier without VSA", Policy{Repo: "o/r", VerifierID: VerifierID}, "--verifier-id applies to VSAs only"},
		{"resource without VSA", Policy{Repo: "o/r", ResourceURI: "x"}, "--resource-uri applies to VSAs only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(s.roots(), tt.policy)
			var pe *PolicyError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want a PolicyError with %q", err, tt.want)
			}
			if err := tt.policy.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
}

// TestFlagsPolicy: the flags policy keeps only what is set, in a stable
// order, so equal flags give equal digests and different ones differ.
func TestFlagsPolicy(t *testing.T) {
	a, err := FlagsPolicy(Policy{Repo: "o/r", MinLevel: 3, WorkflowInputs: map[string]string{"b": "2", "a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"MinLevel":3,"Repo":"o/r","WorkflowInputs":{"a":"1","b":"2"}}`
	if string(a) != want {
		t.Errorf("FlagsPolicy = %s, want %s", a, want)
	}
	b, _ := FlagsPolicy(Policy{Repo: "o/r", MinLevel: 2})
	if bytes.Equal(a, b) {
		t.Error("two policies gave the same bytes")
	}
}
