package verifier

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/provenant/provenant/trust"
)

// resultJSON renders a result with its first error, to compare two.
func resultJSON(t *testing.T, r BundleResult) string {
	t.Helper()
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s\nerr: %v", data, r.Err())
}

// sameAsFull checks that the run's cached verification of att for art is
// exactly the full path's, and returns it.
func sameAsFull(t *testing.T, v *Verifier, c *bundleCache, att Attestation, art Artifact) BundleResult {
	t.Helper()
	got := c.get(v, att).result(v, att, art)
	want := v.verifyBundleFull(att, art)
	if g, w := resultJSON(t, got), resultJSON(t, want); g != w {
		t.Errorf("%s for %s: cached result differs from the full path's\ncached: %s\nfull:   %s", att.Source, art.Name, g, w)
	}
	return got
}

// TestCachedResultIsVerifyBundles: for every fixture, verifying the
// attestation once per run and looking the artifact up in its subject
// index reports exactly what the full nine-check path reports.
func TestCachedResultIsVerifyBundles(t *testing.T) {
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
			v, err := New(roots, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			atts, err := LoadAttestations(fx(tc.bundle))
			if err != nil {
				t.Fatal(err)
			}
			var art Artifact
			if tc.artifact != "" {
				art, err = ArtifactFromFile(fx(tc.artifact))
			} else {
				art, err = ArtifactFromDigest(tc.digest)
			}
			if err != nil {
				t.Fatal(err)
			}
			c := newBundleCache()
			for _, att := range atts {
				if r := sameAsFull(t, v, c, att, art); r.Verified != tc.verified {
					t.Errorf("%s: verified %v, want %v", att.Source, r.Verified, tc.verified)
				}
			}
		})
	}
}

// multiSubject signs one statement for several artifacts: subjects lists
// each subject's digests by algorithm (hex as given, to forge odd ones).
func multiSubject(t *testing.T, s *testSigstore, subjects []map[string]string, o signOpts) Attestation {
	t.Helper()
	stmt := defaultRun().statement(nil)
	var subj []map[string]any
	for i, d := range subjects {
		subj = append(subj, map[string]any{"name": fmt.Sprintf("asset-%d", i), "digest": d})
	}
	stmt["subject"] = subj
	return ParseAttestations("multi.sigstore.json", s.sign(t, defaultRun(), stmt, o))[0]
}

func artifactOf(t *testing.T, content string) Artifact {
	t.Helper()
	art, err := ArtifactFromReader(content, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return art
}

func digestHex(a Artifact, alg string) string { return hex.EncodeToString(a.Digests[alg]) }

// TestSharedBundle: one bundle for many artifacts, each of its own
// kind of subject; every artifact gets the full path's result, and the
// failure of check 5 for one artifact does not touch the others'.
func TestSharedBundle(t *testing.T) {
	s := newTestSigstore(t)
	v, err := New(s.roots(), Policy{Repo: "provenant/demo"})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c, up, other := artifactOf(t, "a"), artifactOf(t, "b"), artifactOf(t, "c"), artifactOf(t, "upper"), artifactOf(t, "other")
	wrong512 := artifactOf(t, "not c")
	subjects := []map[string]string{
		{"sha256": digestHex(a, "sha256")},
		{"sha256": digestHex(b, "sha256"), "sha512": digestHex(b, "sha512")},
		// c's sha256 with another artifact's sha512: another artifact, and
		// then c itself below.
		{"sha256": digestHex(c, "sha256"), "sha512": digestHex(wrong512, "sha512")},
		{"sha512": digestHex(c, "sha512")},
		{"sha256": strings.ToUpper(digestHex(up, "sha256"))},
		{"sha256": digestHex(a, "sha256")}, // a second subject with a's digest
	}
	att := multiSubject(t, s, subjects, signOpts{})
	aSHA512, err := ArtifactFromDigest("sha512:" + digestHex(a, "sha512"))
	if err != nil {
		t.Fatal(err)
	}
	bSHA512, err := ArtifactFromDigest("sha512:" + digestHex(b, "sha512"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		art    Artifact
		ok     bool
		reason string // substring of check 5's reason
	}{
		{a, true, `subject "asset-0"`},
		{b, true, `subject "asset-1" has sha256:` + digestHex(b, "sha256") + " and sha512:"},
		{c, true, `subject "asset-3" has sha512:`},
		{up, true, `subject "asset-4"`},
		{other, false, "no subject of the statement has sha256:" + digestHex(other, "sha256")},
		{wrong512, false, `subject "asset-2" matches the artifact in some algorithms but not in sha256`},
		{aSHA512, false, "no subject of the statement has sha512:"},
		{bSHA512, true, `subject "asset-1" has sha512:`},
	}
	cache := newBundleCache()
	for _, tc := range tests {
		r := sameAsFull(t, v, cache, att, tc.art)
		if r.Verified != tc.ok || !strings.Contains(r.Check(CheckSubject).Reason, tc.reason) {
			t.Errorf("%s: verified %v, check 5 %q; want %v and %q", tc.art.Name, r.Verified, r.Check(CheckSubject).Reason, tc.ok, tc.reason)
		}
	}
}

// TestSharedBundle_SigstoreGoReadingPrevails: statements sigstore-go
// refuses to compare an artifact with (a subject digest that is not hex,
// more subjects than it accepts) fail check 5 for every artifact, as they
// did when sigstore-go checked each artifact, although this package's own
// index finds the subject; sigstore-go's reason is kept.
func TestSharedBundle_SigstoreGoReadingPrevails(t *testing.T) {
	s := newTestSigstore(t)
	v, err := New(s.roots(), Policy{Repo: "provenant/demo"})
	if err != nil {
		t.Fatal(err)
	}
	a := artifactOf(t, "a")
	tooMany := []map[string]string{{"sha256": digestHex(a, "sha256")}}
	for i := range sigstoreMaxSubjects {
		tooMany = append(tooMany, map[string]string{"sha256": digestHex(artifactOf(t, fmt.Sprint(i)), "sha256")})
	}
	atMost := tooMany[:sigstoreMaxSubjects]
	tests := []struct {
		name     string
		subjects []map[string]string
		ok       bool
		reason   string
	}{
		{"a subject digest that is not hex", []map[string]string{{"sha256": digestHex(a, "sha256")}, {"sha256": "not hex"}}, false, "unable to decode subject digest"},
		{"more subjects than sigstore-go accepts", tooMany, false, "too many subjects"},
		{"as many subjects as sigstore-go accepts", atMost, true, `subject "asset-0"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			att := multiSubject(t, s, tc.subjects, signOpts{})
			r := sameAsFull(t, v, newBundleCache(), att, a)
			if r.Verified != tc.ok || !strings.Contains(r.Check(CheckSubject).Reason, tc.reason) {
				t.Errorf("verified %v, check 5 %q; want %v and %q", r.Verified, r.Check(CheckSubject).Reason, tc.ok, tc.reason)
			}
		})
	}
}

// TestSharedBundle_BrokenBundleFailsForEveryArtifact: a bundle whose
// chain breaks (a forged Rekor promise, another CA, no timestamp) is not
// cached as verified: every artifact, in the index or not, gets the full
// path's named failure.
func TestSharedBundle_BrokenBundleFailsForEveryArtifact(t *testing.T) {
	s := newTestSigstore(t)
	v, err := New(s.roots(), Policy{Repo: "provenant/demo"})
	if err != nil {
		t.Fatal(err)
	}
	a, other := artifactOf(t, "a"), artifactOf(t, "other")
	subjects := []map[string]string{{"sha256": digestHex(a, "sha256")}}
	for _, o := range []signOpts{{breakSET: true}, {noTimestamp: true, noTlog: true}, {payloadType: "text/plain"}} {
		att := multiSubject(t, s, subjects, o)
		cache := newBundleCache()
		for _, art := range []Artifact{a, other} {
			if r := sameAsFull(t, v, cache, att, art); r.Verified {
				t.Errorf("%+v: %s verified", o, art.Name)
			}
		}
	}
}

// TestVerifyItems_SharedBundleConcurrently: many artifacts against one
// bundle, verified in parallel, each get their own result (race detector:
// the attestation is verified once, behind its sync.Once).
func TestVerifyItems_SharedBundleConcurrently(t *testing.T) {
	s := newTestSigstore(t)
	v, err := New(s.roots(), Policy{Repo: "provenant/demo"})
	if err != nil {
		t.Fatal(err)
	}
	var arts []Artifact
	var subjects []map[string]string
	for i := range 64 {
		arts = append(arts, artifactOf(t, fmt.Sprint("asset ", i)))
		if i%5 != 0 {
			subjects = append(subjects, map[string]string{"sha256": digestHex(arts[i], "sha256")})
		}
	}
	att := multiSubject(t, s, subjects, signOpts{})
	var items []Item
	for _, a := range arts {
		items = append(items, Item{Artifact: a, Attestations: []Attestation{att}})
	}
	got := v.VerifyItems(context.Background(), items, 8)
	for i, r := range got {
		want := v.verifyBundleFull(att, arts[i])
		if r.Verified != (i%5 != 0) || len(r.Bundles) != 1 || resultJSON(t, r.Bundles[0]) != resultJSON(t, want) {
			t.Errorf("artifact %d: verified %v, want %v; result differs from the full path's: %v", i, r.Verified, i%5 != 0, r.Bundles)
		}
	}
	cache := newBundleCache()
	var wg sync.WaitGroup
	entries := make([]*verifiedAttestation, 16)
	for i := range entries {
		wg.Go(func() { entries[i] = cache.get(v, att) })
	}
	wg.Wait()
	for _, e := range entries {
		if e != entries[0] || !e.ok {
			t.Fatal("one attestation gave several cache entries, or did not verify")
		}
	}
}
