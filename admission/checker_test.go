package admission

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/remote/registrytest"
	"github.com/provenant/provenant/verifier"
)

// recordingVerify stands in for verifier.Verify: it records the
// predicate type asked for and the attestations given, and answers by
// predicate type.
type recordingVerify struct {
	mu      sync.Mutex
	asked   []string
	atts    []int
	reports map[string]verifier.ArtifactResult
}

func (r *recordingVerify) verify(_ context.Context, o verifier.Options) (*verifier.Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pt := o.Policy.PredicateType
	r.asked = append(r.asked, pt)
	r.atts = append(r.atts, len(o.Attestations[o.Digests[0]]))
	a, ok := r.reports[pt]
	if !ok {
		a = verifier.ArtifactResult{Error: "no attestation verified"}
	}
	a.Digest = o.Digests[0]
	return &verifier.Report{Verified: a.Verified, Artifacts: []verifier.ArtifactResult{a}}, nil
}

// verified is a verified bundle of predicate type pt signed in repository
// id 42.
func verified(pt string) verifier.ArtifactResult {
	b := verifier.BundleResult{Source: "oci://x", PredicateType: pt, Verified: true, Level: 3,
		Signer: &certificate.Summary{SubjectAlternativeName: "https://github.com/o/app/.github/workflows/release.yml@refs/tags/v1",
			Extensions: certificate.Extensions{SourceRepositoryIdentifier: "42", SourceRepositoryURI: "https://github.com/o/app"}}}
	return verifier.ArtifactResult{Verified: true, Level: 3, Bundles: []verifier.BundleResult{b}}
}

// failedCheck is a bundle of predicate type pt that failed check c.
func failedCheck(pt string, c verifier.CheckName, reason string) verifier.ArtifactResult {
	b := verifier.BundleResult{Source: "oci://x", PredicateType: pt,
		Checks: []verifier.CheckResult{{Name: verifier.CheckBundle, Status: verifier.StatusPass}, {Name: c, Status: verifier.StatusFail, Reason: reason}}}
	return verifier.ArtifactResult{Bundles: []verifier.BundleResult{b}}
}

// TestChecker: the image's referrers are read from the registry and
// verified by the verify function with the policy; a VSA from the trusted
// verifier is tried first and admits without the provenance, else the
// provenance is verified and held to the policy file.
func TestChecker(t *testing.T) {
	reg := registrytest.WithReferrersAPI(t)
	oci := remote.NewOCI(remote.OCIOptions{Timeout: time.Minute})
	img := registrytest.PushRandomImage(t, reg.Host, "o/app", nil)
	bare := registrytest.PushRandomImage(t, reg.Host, "o/bare", nil)
	ctx := context.Background()
	for _, pt := range []string{verifier.VSAPredicateType, verifier.SLSAProvenanceV1} {
		if _, err := oci.Push(ctx, img, []byte(`{"mediaType":"not a real bundle"}`), pt, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	vsaPolicy := &verifier.Policy{VerifierID: "https://provenant.dev/verifier", SignerWorkflow: "o/app/.github/workflows/verify.yml"}
	prov := verifier.SLSAProvenanceV1
	tests := []struct {
		name        string
		img         name.Digest
		vsa         *verifier.Policy
		policyFile  string
		reports     map[string]verifier.ArtifactResult
		registry    Fetcher
		wantAllowed bool
		wantReason  Reason
		wantCheck   string
		wantAsked   []string
	}{
		// The referrers read are those of the predicate types wanted:
		// both with a VSA trusted, the provenance alone without.
		{"VSA admits without the provenance", img, vsaPolicy, "",
			map[string]verifier.ArtifactResult{verifier.VSAPredicateType: verified(verifier.VSAPredicateType), prov: verified(prov)},
			nil, true, ReasonVSA, "", []string{verifier.VSAPredicateType}},
		{"a VSA that fails falls back to the provenance", img, vsaPolicy, "",
			map[string]verifier.ArtifactResult{verifier.VSAPredicateType: failedCheck(verifier.VSAPredicateType, verifier.CheckIdentity, "another verifier"), prov: verified(prov)},
			nil, true, ReasonProvenance, "", []string{verifier.VSAPredicateType, prov}},
		{"no VSA trusted: the provenance only", img, nil, "",
			map[string]verifier.ArtifactResult{verifier.VSAPredicateType: verified(verifier.VSAPredicateType), prov: verified(prov)},
			nil, true, ReasonProvenance, "", []string{prov}},
		{"the provenance fails a check", img, nil, "",
			map[string]verifier.ArtifactResult{prov: failedCheck(prov, verifier.CheckIdentity, "SAN of another repository")},
			nil, false, ReasonFailed, "identity", []string{prov}},
		{"the policy file refuses the source", img, nil, "source:\n  repo: o/app\n  repository-id: \"7\"\n",
			map[string]verifier.ArtifactResult{prov: verified(prov)},
			nil, false, ReasonFailed, "policy rule source.repository-id", []string{prov}},
		{"no attestation in the registry", bare, vsaPolicy, "", nil, nil, false, ReasonFailed, "attestation", nil},
		{"registry unreachable", img, nil, "", nil,
			remote.NewOCI(remote.OCIOptions{Timeout: 5 * time.Second, Transport: unreachable{}}), false, ReasonUnreachable, "registry", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := &recordingVerify{reports: tt.reports}
			registry := tt.registry
			if registry == nil {
				registry = oci
			}
			c, err := NewChecker(CheckerOptions{Registry: registry, TrustedRoots: []verifier.TrustedRoot{{Name: "test"}},
				Policy: verifier.Policy{Repo: "o/app"}, PolicyFile: []byte(tt.policyFile), VSA: tt.vsa, Verify: rv.verify})
			if err != nil {
				t.Fatal(err)
			}
			var stages []string
			v := c.Verify(ctx, tt.img, func(s string) { stages = append(stages, s) })
			if v.Allowed != tt.wantAllowed || v.Reason != tt.wantReason || v.Check != tt.wantCheck {
				t.Errorf("verdict %+v, want allowed %v, reason %s, check %q", v, tt.wantAllowed, tt.wantReason, tt.wantCheck)
			}
			// The denial reads "failed CHECK: MESSAGE": the message must
			// not say the check again.
			if v.Check != "" && strings.HasPrefix(v.Message, v.Check) {
				t.Errorf("message %q repeats the check %q", v.Message, v.Check)
			}
			if !slices.Equal(rv.asked, tt.wantAsked) {
				t.Errorf("verified for %q, want %q", rv.asked, tt.wantAsked)
			}
			want := 1
			if tt.vsa != nil {
				want = 2
			}
			for i, n := range rv.atts {
				if n != want {
					t.Errorf("verification %d got %d attestations, want %d referrers", i, n, want)
				}
			}
			if v.Allowed && (!slices.Contains(v.SourceRepositoryIDs, "42") || len(v.Signers) != 1) {
				t.Errorf("verdict lacks the signer and source for the revocation list: %+v", v)
			}
			if len(stages) == 0 || !strings.Contains(stages[0], "fetching the attestations") {
				t.Errorf("stages %q: want the fetch named first", stages)
			}
		})
	}
}

// unreachable is a transport to a registry that cannot be reached.
type unreachable struct{}

func (unreachable) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: connection refused")
}

// TestCheckerPolicyDigest: the policy digest changes with the policy,
// the policy file, the pins and the VSA trust, and only with them.
func TestCheckerPolicyDigest(t *testing.T) {
	base := CheckerOptions{Registry: remote.NewOCI(remote.OCIOptions{}), TrustedRoots: []verifier.TrustedRoot{{Name: "test"}}, Policy: verifier.Policy{Repo: "o/app"}}
	digest := func(o CheckerOptions) string {
		c, err := NewChecker(o)
		if err != nil {
			t.Fatal(err)
		}
		return c.State().PolicyDigest
	}
	first := digest(base)
	tests := []struct {
		name   string
		change func(o *CheckerOptions)
		same   bool
	}{
		{"same policy", func(*CheckerOptions) {}, true},
		{"another repository", func(o *CheckerOptions) { o.Policy.Repo = "o/other" }, false},
		{"a policy file", func(o *CheckerOptions) { o.PolicyFile = []byte("level: 3\n") }, false},
		{"pins", func(o *CheckerOptions) { o.Pins = []byte(`{"version":1,"sources":{}}`) }, false},
		{"VSA trust", func(o *CheckerOptions) {
			o.VSA = &verifier.Policy{VerifierID: "v", SignerWorkflow: "o/app/.github/workflows/verify.yml"}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			if got := digest(o); (got == first) != tt.same {
				t.Errorf("digest %s vs %s: same = %v, want %v", got, first, got == first, tt.same)
			}
		})
	}
}

// TestCheckerReferrersTag: with distribution's registry, which has no
// referrers API, the attestations are found through the referrers tag
// schema, as verify oci:// finds them.
func TestCheckerReferrersTag(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	oci := remote.NewOCI(remote.OCIOptions{Timeout: time.Minute})
	img := registrytest.PushRandomImage(t, reg.Host, "o/app", nil)
	if _, err := oci.Push(context.Background(), img, []byte(`{"mediaType":"not a real bundle"}`), verifier.SLSAProvenanceV1, time.Now()); err != nil {
		t.Fatal(err)
	}
	rv := &recordingVerify{reports: map[string]verifier.ArtifactResult{verifier.SLSAProvenanceV1: verified(verifier.SLSAProvenanceV1)}}
	c, err := NewChecker(CheckerOptions{Registry: oci, TrustedRoots: []verifier.TrustedRoot{{Name: "test"}}, Policy: verifier.Policy{Repo: "o/app"}, Verify: rv.verify})
	if err != nil {
		t.Fatal(err)
	}
	v := c.Verify(context.Background(), img, func(string) {})
	if !v.Allowed || v.Reason != ReasonProvenance || !slices.Equal(rv.atts, []int{1}) {
		t.Errorf("verdict %+v after verifications with %v attestations, want admitted by the one provenance referrer", v, rv.atts)
	}
}
