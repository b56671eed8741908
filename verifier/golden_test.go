package verifier

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/provenant/provenant/trust"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenReports pins the text and JSON reports of two real bundles: one
// verified, one forged (the predicate claims another repository's builder).
func TestGoldenReports(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"npm-verified", Options{
			Artifacts: []string{fx("npm/sigstore-js-2.1.0.tgz")}, BundleFiles: []string{fx("npm/sigstore-js-2.1.0-bundle.json")},
			Policy: Policy{Repo: "sigstore/sigstore-js"},
		}},
		{"bcr-forged", Options{
			Artifacts: []string{fx("slsa-github-generator/bcr/MODULE-wrong-signer.bazel")}, BundleFiles: []string{fx("slsa-github-generator/bcr/MODULE-wrong-signer.bazel.intoto.jsonl")},
			Policy: Policy{Repo: "aspect-build/rules_lint", SignerRepo: "bazel-contrib/publish-to-bcr", BuilderID: bcrBuilder},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			roots, err := trust.LoadTrustedRoots(fx("trusted-roots/public-good-cli.json"))
			if err != nil {
				t.Fatal(err)
			}
			tc.opts.TrustedRoots = roots
			rep, err := Verify(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var txt, js, md bytes.Buffer
			if err := rep.WriteText(&txt, true); err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			for ext, got := range map[string][]byte{".txt": txt.Bytes(), ".json": js.Bytes(), ".md": md.Bytes()} {
				p := filepath.Join("testdata", "golden", tc.name+ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v (run go test -run TestGoldenReports -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the golden file; got:\n%s", p, got)
				}
			}
		})
	}
}
