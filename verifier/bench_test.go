package verifier

import (
	"context"
	"fmt"
	"testing"
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
