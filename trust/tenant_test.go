package trust

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provenant/provenant/trust/tuftest"
)

// loopbackTrustDomain is the tenant trust domain the loopback TUF
// repository serves a root for.
const loopbackTrustDomain = "acme-tenant"

func tenantRepo(t *testing.T, r *tuftest.Repo, td string) TUFRepository {
	t.Helper()
	gh, err := GitHubTenantRepository(td)
	if err != nil {
		t.Fatal(err)
	}
	if gh.URL != GitHubTUFURL || gh.Target != td+".trusted_root.json" || gh.Instance != "github:"+td {
		t.Fatalf("tenant repository %+v", gh)
	}
	gh.URL, gh.Root = r.URL(), r.Root // the loopback stand-in for tuf-repo.github.com
	return gh
}

// TestLoadTUFRoots_TenantTrustDomain: a tenant's root is the target
// <trust domain>.trusted_root.json; fetched once, it serves offline; a
// trust domain never fetched fails offline with an error that names it.
func TestLoadTUFRoots_TenantTrustDomain(t *testing.T) {
	repo := newTUFRepo(t, fixtureRoot(t), time.Now().AddDate(0, 0, 7))
	cache := filepath.Join(t.TempDir(), "tuf")
	o := TUFOptions{Repositories: []TUFRepository{tenantRepo(t, repo, loopbackTrustDomain)}, CacheDir: cache, Fetcher: httpFetcher()}
	roots, warnings, err := LoadTUFRoots(o)
	if err != nil || len(roots) != 1 || roots[0].Name != "github:"+loopbackTrustDomain || len(warnings) != 0 {
		t.Fatalf("online: roots %v, warnings %q, err %v", roots, warnings, err)
	}
	repo.Server.Close()
	o.Offline, o.Fetcher = true, nil
	if roots, _, err = LoadTUFRoots(o); err != nil || len(roots) != 1 {
		t.Fatalf("offline from the cache: roots %v, err %v", roots, err)
	}
	o.Repositories = []TUFRepository{tenantRepo(t, repo, "other-tenant")}
	_, warnings, err = LoadTUFRoots(o)
	if err == nil || len(warnings) != 1 || !strings.Contains(warnings[0], "GitHub trust domain other-tenant: offline, and its trusted root (TUF target other-tenant.trusted_root.json) is not usable from the cache") {
		t.Fatalf("a trust domain never fetched, offline: warnings %q, err %v", warnings, err)
	}
}

func TestCheckTrustDomain(t *testing.T) {
	for _, td := range []string{"", "../x", "Acme", "a.b", "a/b", "-x", strings.Repeat("a", 64), "a b"} {
		if CheckTrustDomain(td) == nil {
			t.Errorf("trust domain %q accepted", td)
		}
	}
	for _, td := range []string{"acme", "acme-tenant", "t0"} {
		if err := CheckTrustDomain(td); err != nil {
			t.Errorf("%q: %v", td, err)
		}
	}
}
