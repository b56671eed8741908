package verifier

import (
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"
)

// FuzzParseAndVerifyBundle: any bundle file parses into attestations and
// verifies to a result, never a panic; a result that is verified has
// passed every check. Seeded with the fixtures.
func FuzzParseAndVerifyBundle(f *testing.F) {
	for _, p := range []string{
		"npm/sigstore-js-2.1.0-bundle.json", "npm/sigstore-js-2.1.0-bundle-v0.1.json",
		"github-attest/custom-issuer.sigstore.json", "sigstore-go/dsse.sigstore.json",
		"slsa-github-generator/gha_delegator-v2.1.0/binary-linux-amd64-workflow_dispatch.build.slsa",
		"slsa-github-generator/legacy-dsse/workflow-inputs.intoto.jsonl",
	} {
		f.Add(mustRead(f, fx(p)))
	}
	roots, err := trust.LoadTrustedRoots(fx("trusted-roots/public-good-cli.json"))
	if err != nil {
		f.Fatal(err)
	}
	v, err := New(roots, Policy{Repo: "sigstore/sigstore-js"})
	if err != nil {
		f.Fatal(err)
	}
	art, err := ArtifactFromFile(fx("npm/sigstore-js-2.1.0.tgz"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, att := range ParseAttestations("fuzz.jsonl", data) {
			if att.Bundle == nil && att.Err == nil {
				t.Fatal("an attestation with neither bundle nor error")
			}
			res := v.VerifyBundle(att, art)
			if len(res.Checks) != len(Checks) {
				t.Fatalf("%d checks", len(res.Checks))
			}
			for _, c := range res.Checks {
				if res.Verified && c.Status == StatusFail {
					t.Fatalf("verified with check %s failed", c.Name)
				}
				if c.Status == StatusFail && strings.TrimSpace(c.Reason) == "" {
					t.Fatalf("check %s failed without a reason", c.Name)
				}
			}
		}
	})
}
