package vsa

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provenant/provenant/verifier"
)

// TestSummaryGolden pins the VSA predicate of a passed and of a failed
// verification (fixed clock, fixed results).
func TestSummaryGolden(t *testing.T) {
	passed := verifier.ArtifactResult{
		Artifact: "dist/demo-linux-amd64", Digest: "sha256:" + strings.Repeat("ab", 32), Verified: true, Level: 3,
		Bundles: []verifier.BundleResult{
			{Source: "dist/demo-linux-amd64.sigstore.json", BundleSHA256: strings.Repeat("01", 32), Verified: true, Level: 3},
			{Source: "dist/multiple.intoto.jsonl:2", BundleSHA256: strings.Repeat("02", 32)},
		},
	}
	failed := passed
	failed.Verified, failed.Level = false, 0
	failed.Bundles = []verifier.BundleResult{{Source: "dist/demo-linux-amd64.sigstore.json", BundleSHA256: strings.Repeat("01", 32), Level: 2}}
	digestArt := verifier.ArtifactResult{Artifact: "sha256:" + strings.Repeat("cd", 32), Digest: "sha256:" + strings.Repeat("cd", 32), Verified: true, Level: 2,
		Bundles: []verifier.BundleResult{{Source: "GitHub attestation 1", BundleSHA256: strings.Repeat("03", 32), Verified: true, Level: 2}}}
	opts := SummaryOptions{VerifierVersion: "v1.4.0", Time: vsaClock, PolicyURI: "policy.yaml", PolicyDigest: map[string]string{"sha256": strings.Repeat("ef", 32)}}
	for name, a := range map[string]verifier.ArtifactResult{"vsa-passed": passed, "vsa-failed": failed, "vsa-digest": digestArt} {
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

// TestFlagsPolicy: the flags policy keeps only what is set, in a stable
// order, so equal flags give equal digests and different ones differ.
func TestFlagsPolicy(t *testing.T) {
	a, err := FlagsPolicy(verifier.Policy{Repo: "o/r", MinLevel: 3, WorkflowInputs: map[string]string{"b": "2", "a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"MinLevel":3,"Repo":"o/r","WorkflowInputs":{"a":"1","b":"2"}}`
	if string(a) != want {
		t.Errorf("FlagsPolicy = %s, want %s", a, want)
	}
	b, _ := FlagsPolicy(verifier.Policy{Repo: "o/r", MinLevel: 2})
	if bytes.Equal(a, b) {
		t.Error("two policies gave the same bytes")
	}
}

// update rewrites the golden files in testdata/golden.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// vsaClock is the fixed time of the VSAs these tests write.
var vsaClock = time.Date(2025, 6, 1, 12, 30, 0, 0, time.UTC)

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
