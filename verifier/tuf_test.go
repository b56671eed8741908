package verifier

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// offline is a transport that refuses every request and counts them: the
// tests never reach the network.
type offline struct{ calls atomic.Int32 }

func (o *offline) RoundTrip(*http.Request) (*http.Response, error) {
	o.calls.Add(1)
	return nil, errors.New("network disabled in tests")
}

func TestLoadTUFOfflineUsesCacheWithAge(t *testing.T) {
	cache := t.TempDir()
	data, err := os.ReadFile(fx("trusted-roots/public-good-cli.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(cache, "public-good", cachedRootName)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cachedAt := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	if err := os.Chtimes(p, cachedAt, cachedAt); err != nil {
		t.Fatal(err)
	}
	tr := &offline{}
	roots, warnings, err := LoadTUF(context.Background(), TUFOptions{
		CacheDir:   cache,
		HTTPClient: &http.Client{Transport: tr},
		Now:        func() time.Time { return cachedAt.Add(72 * time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if tr.calls.Load() == 0 {
		t.Error("TUF was not tried before falling back to the cache")
	}
	if len(roots) != 1 || roots[0].Name != "public-good" {
		t.Fatalf("roots %+v, want the cached public-good root", roots)
	}
	if len(warnings) != 2 {
		t.Fatalf("warnings %q, want one per source", warnings)
	}
	if !strings.Contains(warnings[0], "cached 72h0m0s ago (2026-01-02T03:04:00Z)") {
		t.Errorf("warning %q does not give the cache's age", warnings[0])
	}
	if !strings.Contains(warnings[1], "github: TUF update failed and no trusted root is cached") {
		t.Errorf("warning %q", warnings[1])
	}
	// The cached root verifies a public-good bundle.
	v, att, art := setupFixture(t, roots, Policy{Repo: "sigstore/sigstore-js"}, "npm/sigstore-js-2.1.0-bundle.json", "npm/sigstore-js-2.1.0.tgz")
	if res := v.VerifyBundle(att, art); res.Err() != nil {
		t.Errorf("cached root: %v", res.Err())
	}
}

func TestLoadTUFNothingCached(t *testing.T) {
	_, warnings, err := LoadTUF(context.Background(), TUFOptions{CacheDir: t.TempDir(), HTTPClient: &http.Client{Transport: &offline{}}})
	if err == nil || len(warnings) != 2 {
		t.Fatalf("err %v, warnings %q: want an error and a warning per source", err, warnings)
	}
	if _, _, err := LoadTUF(context.Background(), TUFOptions{}); err == nil {
		t.Error("no cache dir and no client: want an error")
	}
}
