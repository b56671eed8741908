package trust

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// TUFRepository is a Sigstore instance's TUF repository: where it is and
// the root.json a client starts from.
type TUFRepository struct {
	// Instance names the Sigstore instance whose trusted root it serves.
	Instance string
	URL      string
	Root     []byte
	// Target is the trusted root's target name; empty: trusted_root.json.
	// A GitHub Enterprise Cloud tenant's is <trust domain>.trusted_root.json
	// (see GitHubTenantRepository).
	Target string
}

// target is the trusted root's target name.
func (r TUFRepository) target() string {
	if r.Target == "" {
		return defaultTarget
	}
	return r.Target
}

// defaultTarget is the target a Sigstore TUF repository serves its
// trusted root as.
const defaultTarget = "trusted_root.json"

// PublicTUFRepositories are the TUF repositories of the public-good
// instance and of GitHub's.
func PublicTUFRepositories() []TUFRepository {
	return []TUFRepository{
		{Instance: PublicGood, URL: tuf.DefaultMirror, Root: tuf.DefaultRoot()},
		{Instance: GitHub, URL: GitHubTUFURL, Root: append([]byte(nil), githubTUFRoot...)},
	}
}

// TUFOptions say how LoadTUFRoots reaches TUF repositories. The package
// does no network access of its own: the fetcher is given.
type TUFOptions struct {
	// Repositories to load (default PublicTUFRepositories).
	Repositories []TUFRepository
	// CacheDir is TUF's own cache of verified metadata (with its expiry and
	// rollback protection); it must belong to the user and not be writable
	// by others (see CheckCacheDir). Required.
	CacheDir string
	// Fetcher fetches TUF metadata and targets; give it a timeout.
	Fetcher fetcher.Fetcher
	// Offline uses the cache without contacting the repositories, even
	// past its expiry; the warnings say how old it is.
	Offline bool
	// Now is the clock for the cache's age (default time.Now).
	Now func() time.Time
}

// ErrNoCacheDir is returned when no TUF cache directory is given.
var ErrNoCacheDir = errors.New("no TUF cache directory: pass --tuf-cache DIR (or set HOME or XDG_CACHE_HOME), or give a trusted root with --trusted-root")

// LoadTUFRoots loads each repository's trusted_root.json through TUF.
//
// Online, the TUF metadata is refreshed; when that fails, the metadata
// cached by an earlier refresh is used while it is within its expiry, with
// a warning. Past its expiry the instance fails closed (an error naming
// --offline) unless Offline is set, which uses the cache whatever its age
// and says how old it is. An instance with nothing cached is left out with
// a warning; the error is for no root at all or an expired cache.
func LoadTUFRoots(o TUFOptions) ([]TrustedRoot, []string, error) {
	if o.CacheDir == "" {
		return nil, nil, ErrNoCacheDir
	}
	if o.Fetcher == nil && !o.Offline {
		return nil, nil, errors.New("TUF needs a fetcher unless offline")
	}
	if err := CheckCacheDir(o.CacheDir); err != nil {
		return nil, nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	repos := o.Repositories
	if len(repos) == 0 {
		repos = PublicTUFRepositories()
	}
	var roots []TrustedRoot
	var warnings []string
	for _, r := range repos {
		tr, warning, err := loadTUFRoot(r, o, now())
		err = tenantError(r, o, err)
		if warning != "" {
			warnings = append(warnings, r.Instance+": "+warning)
		}
		var ee *ExpiredCacheError
		if errors.As(err, &ee) {
			return nil, warnings, err
		}
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: %v", r.Instance, err))
			continue
		}
		roots = append(roots, TrustedRoot{Name: r.Instance, Root: tr})
	}
	if len(roots) == 0 {
		return nil, warnings, errors.New("no trusted root: TUF could not be reached and nothing is cached (offline? pass the instance's trusted_root.json with --trusted-root)")
	}
	return roots, warnings, nil
}

// ExpiredCacheError reports cached TUF metadata past its expiry when the
// repository cannot be reached: verification fails closed.
type ExpiredCacheError struct {
	Instance string
	// Fetched is when the cache was last refreshed (zero if unknown).
	Fetched time.Time
	// Expired is when the cached timestamp metadata expired (zero if unknown).
	Expired time.Time
	Err     error
}

// Error names the instance, the cache's age and the way out.
func (e *ExpiredCacheError) Error() string {
	return fmt.Sprintf("%s: TUF update failed (%v) and the cached TUF metadata is past its expiry (%s): refusing a stale trusted root; pass --offline to use it anyway, or --trusted-root FILE", e.Instance, e.Err, describeCache(e.Fetched, e.Expired, time.Time{}))
}

// Unwrap returns the update failure.
func (e *ExpiredCacheError) Unwrap() error { return e.Err }

// loadTUFRoot loads one repository's trusted root; the warning, when not
// empty, says the cache was used.
func loadTUFRoot(r TUFRepository, o TUFOptions, now time.Time) (*root.TrustedRoot, string, error) {
	fetched, expires := cacheTimes(r, o.CacheDir)
	if !o.Offline {
		tr, err := fetchTUFRoot(r, o.CacheDir, o.Fetcher, false)
		if err == nil {
			return tr, "", nil
		}
		updateErr := err
		tr, err = fetchTUFRoot(r, o.CacheDir, offlineFetcher{}, true)
		switch {
		case err == nil:
			return tr, fmt.Sprintf("TUF update failed (%v); using the TUF metadata cached %s", updateErr, describeCache(fetched, expires, now)), nil
		case !cached(r, o.CacheDir):
			return nil, "", fmt.Errorf("TUF update failed and no trusted root is cached: %w", updateErr)
		case !expires.IsZero() && now.After(expires):
			return nil, "", &ExpiredCacheError{Instance: r.Instance, Fetched: fetched, Expired: expires, Err: updateErr}
		}
		return nil, "", fmt.Errorf("TUF update failed (%w) and the cache cannot serve a trusted root: %v", updateErr, err)
	}
	if !cached(r, o.CacheDir) {
		return nil, "", errors.New("offline and no TUF metadata is cached")
	}
	tr, err := fetchTUFRoot(r, o.CacheDir, offlineFetcher{}, true)
	if err != nil {
		// Past its expiry: --offline asked for it; verify it as it was
		// when it was last refreshed.
		if tr, err = loadExpiredCache(r, o.CacheDir, fetched); err != nil {
			return nil, "", fmt.Errorf("offline: the cached TUF metadata is unusable: %w", err)
		}
	}
	return tr, "offline: using the TUF metadata cached " + describeCache(fetched, expires, now), nil
}

// describeCache says when the cache was refreshed and when it expires.
func describeCache(fetched, expires, now time.Time) string {
	s := "at an unknown time"
	if !fetched.IsZero() {
		s = fetched.UTC().Format(time.RFC3339)
		if !now.IsZero() {
			s = fmt.Sprintf("%s ago (%s)", now.Sub(fetched).Round(time.Minute), s)
		}
	}
	if !expires.IsZero() {
		verb := "valid until"
		if !now.IsZero() && now.After(expires) {
			verb = "expired"
		}
		if now.IsZero() {
			verb = "expired"
		}
		s += ", " + verb + " " + expires.UTC().Format(time.RFC3339)
	}
	return s
}

// repoCacheDir is where go-tuf keeps a repository's metadata (as
// sigstore-go's tuf client lays it out).
func repoCacheDir(r TUFRepository, cacheDir string) string {
	return filepath.Join(cacheDir, tuf.URLToPath(r.URL))
}

func cached(r TUFRepository, cacheDir string) bool {
	_, err := os.Stat(filepath.Join(repoCacheDir(r, cacheDir), metadata.TIMESTAMP+".json"))
	return err == nil
}

// cacheTimes reads when the cache was last refreshed (sigstore-go's
// record) and when its timestamp metadata expires, for messages only.
func cacheTimes(r TUFRepository, cacheDir string) (fetched, expires time.Time) {
	if c, err := tuf.LoadConfig(filepath.Join(cacheDir, tuf.URLToPath(r.URL)+".json")); err == nil {
		fetched = c.LastTimestamp
	}
	if ts, err := metadata.Timestamp().FromFile(filepath.Join(repoCacheDir(r, cacheDir), metadata.TIMESTAMP+".json")); err == nil {
		expires = ts.Signed.Expires
	}
	return fetched, expires
}

// trustAnchor is the root.json to start from: the newest one TUF verified
// into the cache, else the repository's embedded one.
func trustAnchor(r TUFRepository, cacheDir string) []byte {
	if data, err := os.ReadFile(filepath.Join(repoCacheDir(r, cacheDir), metadata.ROOT+".json")); err == nil {
		if _, err := metadata.Root().FromBytes(data); err == nil {
			return data
		}
	}
	return r.Root
}

// fetchTUFRoot runs sigstore-go's TUF client: a refresh, or with
// forceCache the cached metadata while it is within its expiry.
func fetchTUFRoot(r TUFRepository, cacheDir string, f fetcher.Fetcher, forceCache bool) (*root.TrustedRoot, error) {
	client, err := tufClient(r, cacheDir, f, forceCache)
	if err != nil {
		return nil, err
	}
	if r.Target == "" {
		return root.GetTrustedRoot(client)
	}
	data, err := client.GetTarget(r.Target)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", r.Target, err)
	}
	return root.NewTrustedRootFromJSON(data)
}

// tufClient is sigstore-go's TUF client for a repository, starting from
// trustAnchor; with forceCache it reads the cache while it is valid.
func tufClient(r TUFRepository, cacheDir string, f fetcher.Fetcher, forceCache bool) (*tuf.Client, error) {
	// Not tuf.DefaultOptions: it reads the home directory.
	opts := &tuf.Options{Root: trustAnchor(r, cacheDir), RepositoryBaseURL: r.URL, CachePath: cacheDir, Fetcher: f, ForceCache: forceCache}
	client, err := tuf.New(opts)
	if err != nil {
		return nil, fmt.Errorf("TUF repository %s: %w", r.URL, err)
	}
	return client, nil
}

// loadExpiredCache verifies the cached metadata with go-tuf (signatures,
// versions, target hashes) as of when it was last refreshed, and reads the
// cached trusted_root.json target. Only --offline gets here.
func loadExpiredCache(r TUFRepository, cacheDir string, fetched time.Time) (*root.TrustedRoot, error) {
	if fetched.IsZero() {
		return nil, errors.New("the cache does not record when it was refreshed")
	}
	cfg, err := config.New(r.URL, trustAnchor(r, cacheDir))
	if err != nil {
		return nil, err
	}
	dir := repoCacheDir(r, cacheDir)
	cfg.LocalMetadataDir, cfg.LocalTargetsDir = dir, filepath.Join(dir, "targets")
	cfg.UnsafeLocalMode, cfg.Fetcher = true, offlineFetcher{}
	up, err := updater.New(cfg)
	if err != nil {
		return nil, err
	}
	up.UnsafeSetRefTime(fetched)
	if err := up.Refresh(); err != nil {
		return nil, err
	}
	ti, err := up.GetTargetInfo(r.target())
	if err != nil {
		return nil, err
	}
	_, data, err := up.FindCachedTarget(ti, "")
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("%s is not cached", r.target())
	}
	return root.NewTrustedRootFromJSON(data)
}

// offlineFetcher refuses every download: the cache alone is read.
type offlineFetcher struct{}

// DownloadFile refuses.
func (offlineFetcher) DownloadFile(u string, _ int64, _ time.Duration) ([]byte, error) {
	return nil, fmt.Errorf("offline: not fetching %s", u)
}
