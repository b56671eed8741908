package verifier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provenant/provenant/trust"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// benchSetup builds the verifier once, as the command does, and parses the
// npm fixture bundle.
func benchSetup(b *testing.B) (*Verifier, Attestation, Artifact) {
	b.Helper()
	return setupFixture(b, nil, Policy{Repo: "sigstore/sigstore-js"}, "npm/sigstore-js-2.1.0-bundle.json", "npm/sigstore-js-2.1.0.tgz")
}

// BenchmarkVerifyBundle verifies one real bundle (all nine checks) again
// and again with a verifier built once.
func BenchmarkVerifyBundle(b *testing.B) {
	v, att, art := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if res := v.VerifyBundle(att, art); !res.Verified {
			b.Fatal(res.Err())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bundles/s")
}

// BenchmarkParseAndVerifyBundle includes parsing the bundle JSON.
func BenchmarkParseAndVerifyBundle(b *testing.B) {
	v, _, art := benchSetup(b)
	data := mustRead(b, fx("npm/sigstore-js-2.1.0-bundle.json"))
	b.ReportAllocs()
	for b.Loop() {
		att := ParseAttestations("bundle.json", data)[0]
		if res := v.VerifyBundle(att, art); !res.Verified {
			b.Fatal(res.Err())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bundles/s")
}

// BenchmarkVerifyItems verifies a release of 64 artifacts at several
// parallelisms (the machine's cores bound the gain).
func BenchmarkVerifyItems(b *testing.B) {
	v, att, art := benchSetup(b)
	items := make([]Item, 64)
	for i := range items {
		items[i] = Item{Artifact: art, Attestations: []Attestation{att}}
	}
	for _, par := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("parallel=%d", par), func(b *testing.B) {
			for b.Loop() {
				for _, r := range v.VerifyItems(context.Background(), items, par) {
					if !r.Verified {
						b.Fatal(r.Bundles[0].Err())
					}
				}
			}
			b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "artifacts/s")
		})
	}
}

// sharedBundleSetup writes n artifacts and one bundle whose statement has
// a subject for each, as `attest` writes for a release.
func sharedBundleSetup(b *testing.B, n int) (s *testSigstore, bundlePath string, paths []string) {
	b.Helper()
	s = newTestSigstore(b)
	dir := b.TempDir()
	subjects := map[string][]byte{}
	for i := range n {
		name := fmt.Sprintf("asset-%04d", i)
		p := filepath.Join(dir, name)
		content := bytes.Repeat([]byte(name), 1024)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			b.Fatal(err)
		}
		sum := sha256.Sum256(content)
		subjects[name] = sum[:]
		paths = append(paths, p)
	}
	data := s.sign(b, defaultRun(), defaultRun().statement(subjects), signOpts{})
	bundlePath = filepath.Join(dir, "release.sigstore.json")
	if err := os.WriteFile(bundlePath, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return s, bundlePath, paths
}

// BenchmarkSharedBundle is issue 12's first row: 1,000 artifacts against
// one bundle with 1,000 subjects, against the floor of verifying that
// bundle once and hashing the 1,000 files. Target: ratio ≤ 2.
func BenchmarkSharedBundle(b *testing.B) {
	const n = 1000
	s, bundlePath, paths := sharedBundleSetup(b, n)
	policy := Policy{Repo: "provenant/demo"}
	opts := Options{TrustedRoots: s.roots(), Artifacts: paths, BundleFiles: []string{bundlePath}, Policy: policy}
	var floor, prov time.Duration
	for b.Loop() {
		t0 := time.Now()
		v, err := New(s.roots(), policy)
		if err != nil {
			b.Fatal(err)
		}
		atts, err := LoadAttestations(bundlePath)
		if err != nil {
			b.Fatal(err)
		}
		var arts []Artifact
		for _, p := range paths {
			a, err := ArtifactFromFile(p)
			if err != nil {
				b.Fatal(err)
			}
			arts = append(arts, a)
		}
		if r := v.verifyBundleFull(atts[0], arts[0]); !r.Verified {
			b.Fatal(r.Err())
		}
		t1 := time.Now()
		rep, err := Verify(context.Background(), opts)
		if err != nil || !rep.Verified || len(rep.Artifacts) != n {
			b.Fatalf("Verify: %v, %d artifacts", err, len(rep.Artifacts))
		}
		floor, prov = floor+t1.Sub(t0), prov+time.Since(t1)
	}
	reportRatio(b, n, floor, prov)
}

// reportRatio reports the floor's and provenant's time per run and their
// ratio (not asserted: the figures are for BENCHMARKS.md).
func reportRatio(b *testing.B, n int, floor, prov time.Duration) {
	b.ReportMetric(float64(floor.Milliseconds())/float64(b.N), "floor-ms/run")
	b.ReportMetric(float64(prov.Milliseconds())/float64(b.N), "provenant-ms/run")
	b.ReportMetric(float64(prov)/float64(floor), "ratio")
	b.ReportMetric(float64(n*b.N)/prov.Seconds(), "artifacts/s")
}

// bundleDirSetup writes n assets, each with its own bundle
// (<asset>.sigstore.json), as a release directory.
func bundleDirSetup(b *testing.B, n int) (s *testSigstore, dir string) {
	b.Helper()
	s = newTestSigstore(b)
	dir = b.TempDir()
	data, art := ownBundle(b, s, defaultRun(), nil, signOpts{})
	_ = art
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("asset-%04d", i))
		if err := os.WriteFile(p, []byte("the release asset"), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p+".sigstore.json", data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return s, dir
}

// bareFloor is what a bare sigstore-go program does for a release
// directory (scripts/internal/barefloor): one verifier, one worker per
// core, each bundle parsed and verified against its asset's digest and
// the signer's identity.
func bareFloor(b *testing.B, tr TrustedRoot, dir string, n int, san, issuer string) {
	b.Helper()
	sv, err := trust.NewVerifier(tr.Root, trust.RequirementsOf(tr.Root))
	if err != nil {
		b.Fatal(err)
	}
	id, err := verify.NewShortCertificateIdentity(issuer, "", san, "")
	if err != nil {
		b.Fatal(err)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range jobs {
				p := filepath.Join(dir, fmt.Sprintf("asset-%04d", i))
				var bu bundle.Bundle
				data, err := os.ReadFile(p + ".sigstore.json")
				if err == nil {
					err = bu.UnmarshalJSON(data)
				}
				content, rerr := os.ReadFile(p)
				sum := sha256.Sum256(content)
				if err == nil && rerr == nil {
					_, err = sv.Verify(&bu, verify.NewPolicy(verify.WithArtifactDigest("sha256", sum[:]), verify.WithCertificateIdentity(id)))
				}
				if err != nil || rerr != nil {
					failed.Add(1)
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if failed.Load() != 0 {
		b.Fatalf("bare floor: %d bundles did not verify", failed.Load())
	}
}

// BenchmarkBundleDir is issue 12's second row: 1,000 assets with a bundle
// each (--bundle-dir), against the bare sigstore-go floor. Target: ≤ 1.1.
func BenchmarkBundleDir(b *testing.B) {
	const n = 1000
	s, dir := bundleDirSetup(b, n)
	ext := defaultRun().extensions()
	policy := Policy{Repo: "provenant/demo"}
	opts := Options{TrustedRoots: s.roots(), BundleDir: dir, Policy: policy, Parallelism: runtime.GOMAXPROCS(0)}
	var floor, prov time.Duration
	for b.Loop() {
		t0 := time.Now()
		bareFloor(b, s.roots()[0], dir, n, ext.BuildSignerURI, ext.Issuer)
		t1 := time.Now()
		rep, err := Verify(context.Background(), opts)
		if err != nil || !rep.Verified || len(rep.Artifacts) != n {
			b.Fatalf("Verify: %v", err)
		}
		floor, prov = floor+t1.Sub(t0), prov+time.Since(t1)
	}
	reportRatio(b, n, floor, prov)
}
