package trust

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"github.com/provenant/provenant/trust/tuftest"
)

// newTUFRepo serves trustedRoot through TUF on loopback (tuftest.New).
func newTUFRepo(t *testing.T, trustedRoot []byte, tsExpires time.Time) *tuftest.Repo {
	// A GitHub Enterprise Cloud tenant's root too, as GitHub's repository
	// serves it: <trust domain>.trusted_root.json (tenant.go).
	return tuftest.New(t, trustedRoot, tsExpires, loopbackTrustDomain+".trusted_root.json")
}

// repositoryOf is r as a TUFRepository of instance "loopback".
func repositoryOf(r *tuftest.Repo) TUFRepository {
	return TUFRepository{Instance: "loopback", URL: r.URL(), Root: r.Root}
}

func httpFetcher() fetcher.Fetcher {
	f := fetcher.NewDefaultFetcher()
	f.SetHTTPClient(&http.Client{Timeout: 10 * time.Second})
	return f
}

func fixtureRoot(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../testdata/fixtures/trusted-roots/public-good-cli.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestLoadTUFRoots_OnlineThenCached: a loopback TUF repository delivers
// the trusted root and fills TUF's cache; with the repository gone, the
// cached metadata, still within its expiry, is used with a warning.
func TestLoadTUFRoots_OnlineThenCached(t *testing.T) {
	repo := newTUFRepo(t, fixtureRoot(t), time.Now().AddDate(0, 0, 7))
	cache := filepath.Join(t.TempDir(), "tuf")
	o := TUFOptions{Repositories: []TUFRepository{repositoryOf(repo)}, CacheDir: cache, Fetcher: httpFetcher()}
	roots, warnings, err := LoadTUFRoots(o)
	if err != nil || len(roots) != 1 || roots[0].Name != "loopback" || len(warnings) != 0 {
		t.Fatalf("online: roots %v, warnings %q, err %v", roots, warnings, err)
	}
	if len(roots[0].Root.FulcioCertificateAuthorities()) == 0 {
		t.Error("the trusted root has no Fulcio CA")
	}
	if _, err := os.Stat(filepath.Join(cache, tuf.URLToPath(repo.URL()), "timestamp.json")); err != nil {
		t.Errorf("TUF's own metadata is not cached: %v", err)
	}
	repo.Server.Close()
	roots, warnings, err = LoadTUFRoots(o)
	if err != nil || len(roots) != 1 {
		t.Fatalf("cached: roots %v, err %v", roots, err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "using the TUF metadata cached") || !strings.Contains(warnings[0], "valid until") {
		t.Errorf("warnings %q", warnings)
	}
}

// TestLoadTUFRoots_StaleCacheFailsClosed: a cache past TUF's expiry,
// with the repository unreachable, fails closed — unless --offline, which
// uses it and says how old it is.
func TestLoadTUFRoots_StaleCacheFailsClosed(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "tuf")
	repo := staleCache(t, cache)
	o := TUFOptions{Repositories: []TUFRepository{repo}, CacheDir: cache, Fetcher: httpFetcher()}
	_, _, err := LoadTUFRoots(o)
	var ee *ExpiredCacheError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "pass --offline") {
		t.Fatalf("stale cache online: %v, want an *ExpiredCacheError", err)
	}
	fetchedAt := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	cfg := &tuf.Config{LastTimestamp: fetchedAt}
	if err := cfg.Persist(filepath.Join(cache, tuf.URLToPath(repo.URL)+".json")); err != nil {
		t.Fatal(err)
	}
	o.Offline, o.Fetcher = true, nil
	o.Now = func() time.Time { return fetchedAt.Add(72 * time.Hour) }
	roots, warnings, err := LoadTUFRoots(o)
	if err != nil || len(roots) != 1 {
		t.Fatalf("--offline: roots %v, err %v", roots, err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "offline: using the TUF metadata cached 72h0m0s ago ("+fetchedAt.Format(time.RFC3339)+"), expired") {
		t.Errorf("warnings %q: want the cache's age and expiry", warnings)
	}
}

// staleCache fills cache, as sigstore-go's client lays it out, from a
// loopback repository whose timestamp expired an hour ago, and closes the
// repository. No wall-clock window: the metadata is fetched and verified
// with go-tuf's reference time set to three hours ago (when it was still
// valid), so however slow the machine, the cache is stale when the test
// reads it and was valid when it was written.
func staleCache(t *testing.T, cache string) TUFRepository {
	t.Helper()
	repo := newTUFRepo(t, fixtureRoot(t), time.Now().Add(-time.Hour))
	r := repositoryOf(repo)
	if err := CheckCacheDir(cache); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.New(r.URL, r.Root)
	if err != nil {
		t.Fatal(err)
	}
	dir := repoCacheDir(r, cache)
	cfg.LocalMetadataDir, cfg.LocalTargetsDir = dir, filepath.Join(dir, "targets")
	cfg.Fetcher = httpFetcher()
	for _, d := range []string{cfg.LocalMetadataDir, cfg.LocalTargetsDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	up, err := updater.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	up.UnsafeSetRefTime(time.Now().Add(-3 * time.Hour))
	if err := up.Refresh(); err != nil {
		t.Fatal(err)
	}
	ti, err := up.GetTargetInfo(r.target())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := up.DownloadTarget(ti, "", ""); err != nil {
		t.Fatal(err)
	}
	repo.Server.Close()
	if _, expires := cacheTimes(r, cache); expires.IsZero() || !time.Now().After(expires) {
		t.Fatalf("the cached timestamp expires %v: not stale", expires)
	}
	return r
}

// TestLoadTUFRoots_PlantedCacheRefused: a cache directory another user
// could write to (the old shared /tmp/provenant-tuf) is refused, and so is
// none at all.
func TestLoadTUFRoots_PlantedCacheRefused(t *testing.T) {
	// A folder of one's own passes the platform's real check (on Windows,
	// its owner SID and DACL: a fresh folder under %LocalAppData% is the
	// user's, though Go reports its mode as 0777).
	cases := map[string]string{filepath.Join(t.TempDir(), "ok"): ""}
	if runtime.GOOS != "windows" { // mode bits and symbolic links as Unix has them; Windows: cachedir_test.go
		shared := filepath.Join(t.TempDir(), "shared")
		if err := os.MkdirAll(shared, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(shared, 0o777); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(t.TempDir(), link); err != nil {
			t.Fatal(err)
		}
		open := filepath.Join(t.TempDir(), "open")
		if err := os.MkdirAll(open, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(open, 0o777); err != nil { // world-writable, no sticky bit
			t.Fatal(err)
		}
		cases[shared] = "writable by others"
		cases[link] = "symbolic link"
		cases[filepath.Join(open, "tuf")] = "anyone may write to"
	}
	for dir, want := range cases {
		err := CheckCacheDir(dir)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckCacheDir(%s) = %v, want %q", dir, err, want)
		}
	}
	if _, _, err := LoadTUFRoots(TUFOptions{Fetcher: httpFetcher()}); !errors.Is(err, ErrNoCacheDir) {
		t.Errorf("no cache dir: %v", err)
	}
	if _, err := LoadPublicGood(Options{}); !errors.Is(err, ErrNoCacheDir) {
		t.Errorf("signing without a cache dir: %v", err)
	}
}
