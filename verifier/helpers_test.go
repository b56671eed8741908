package verifier

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"
)

// Helpers shared by the package's tests.

func mustRead(tb testing.TB, p string) []byte {
	tb.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustLoadRoots(t *testing.T, path string) []TrustedRoot {
	t.Helper()
	roots, err := trust.LoadTrustedRoots(path)
	if err != nil {
		t.Fatal(err)
	}
	return roots
}

func bundleText(r BundleResult) string {
	var b bytes.Buffer
	rep := &Report{Artifacts: []ArtifactResult{{Artifact: "artifact", Bundles: []BundleResult{r}}}}
	_ = rep.WriteText(&b, true)
	return b.String()
}

func text(r *Report) string {
	var b strings.Builder
	_ = r.WriteText(&b, true)
	return b.String()
}
