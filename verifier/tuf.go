package verifier

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
)

// githubTUFRoot is the TUF root of GitHub's Sigstore TUF repository, as
// cli/cli embeds it; a TUF client walks from it to the current root online.
//
//go:embed github-tuf-root.json
var githubTUFRoot []byte

// TUFSource is a Sigstore TUF repository whose trusted_root.json target
// holds an instance's trust material.
type TUFSource struct {
	// Name names the instance in reports and in the cache.
	Name string
	// URL is the TUF repository.
	URL string
	// Root is the initial TUF root.json the client trusts.
	Root []byte
}

// PublicGoodTUF is the Sigstore public-good instance, with sigstore-go's
// embedded TUF root.
func PublicGoodTUF() TUFSource {
	return TUFSource{Name: "public-good", URL: tuf.DefaultMirror, Root: tuf.DefaultRoot()}
}

// GitHubTUF is GitHub's Sigstore instance (private repositories), with the
// embedded TUF root of https://tuf-repo.github.com.
func GitHubTUF() TUFSource {
	return TUFSource{Name: "github", URL: "https://tuf-repo.github.com", Root: githubTUFRoot}
}

// TUFOptions says how to fetch trusted roots through TUF. The package does
// no network access of its own: the client is given.
type TUFOptions struct {
	// Sources are the repositories to read (default: public-good and GitHub).
	Sources []TUFSource
	// CacheDir holds TUF metadata and the last trusted roots fetched.
	CacheDir string
	// HTTPClient fetches TUF metadata; give it a timeout.
	HTTPClient *http.Client
	// Now is the clock used to state a cached root's age (default time.Now).
	Now func() time.Time
}

// cachedRootName is the file, per source, that keeps the last trusted root
// TUF delivered, for offline use.
const cachedRootName = "trusted_root.json"

// LoadTUF fetches each source's trusted root through TUF and caches it. When
// a source cannot be updated (offline), its last cached trusted root is used
// and a warning gives the cache's age; a source with neither is left out
// with a warning. It fails only when no source yields a trusted root.
func LoadTUF(ctx context.Context, o TUFOptions) ([]TrustedRoot, []string, error) {
	if o.CacheDir == "" || o.HTTPClient == nil {
		return nil, nil, errors.New("TUF needs a cache directory and an HTTP client")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	sources := o.Sources
	if len(sources) == 0 {
		sources = []TUFSource{PublicGoodTUF(), GitHubTUF()}
	}
	var roots []TrustedRoot
	var warnings []string
	for _, s := range sources {
		cache := filepath.Join(o.CacheDir, s.Name, cachedRootName)
		tr, err := fetchTUF(ctx, s, o)
		if err == nil {
			roots = append(roots, TrustedRoot{Name: s.Name, Root: tr})
			continue
		}
		data, rerr := os.ReadFile(cache)
		fi, serr := os.Stat(cache)
		if rerr != nil || serr != nil {
			warnings = append(warnings, fmt.Sprintf("%s: TUF update from %s failed and no trusted root is cached: %v", s.Name, s.URL, err))
			continue
		}
		cached, perr := root.NewTrustedRootFromJSON(data)
		if perr != nil {
			warnings = append(warnings, fmt.Sprintf("%s: TUF update from %s failed (%v) and the cached trusted root %s is unusable: %v", s.Name, s.URL, err, cache, perr))
			continue
		}
		age := now().Sub(fi.ModTime()).Round(time.Minute)
		warnings = append(warnings, fmt.Sprintf("%s: TUF update from %s failed (%v); using the trusted root cached %s ago (%s)",
			s.Name, s.URL, err, age, fi.ModTime().UTC().Format(time.RFC3339)))
		roots = append(roots, TrustedRoot{Name: s.Name, Root: cached})
	}
	if len(roots) == 0 {
		return nil, warnings, fmt.Errorf("no trusted root from TUF: %v", warnings)
	}
	return roots, warnings, nil
}

// fetchTUF updates one source through TUF and keeps a copy of its trusted
// root for offline use.
func fetchTUF(ctx context.Context, s TUFSource, o TUFOptions) (*root.TrustedRoot, error) {
	f := fetcher.NewDefaultFetcher()
	f.SetHTTPClient(o.HTTPClient)
	client, err := tuf.New(&tuf.Options{
		Root:              s.Root,
		RepositoryBaseURL: s.URL,
		CachePath:         filepath.Join(o.CacheDir, "tuf"),
		Fetcher:           f,
		Context:           ctx,
	})
	if err != nil {
		return nil, err
	}
	data, err := client.GetTarget(cachedRootName)
	if err != nil {
		return nil, err
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s target of %s: %w", cachedRootName, s.URL, err)
	}
	dir := filepath.Join(o.CacheDir, s.Name)
	if err := os.MkdirAll(dir, 0o755); err == nil {
		tmp := filepath.Join(dir, cachedRootName+".tmp")
		if os.WriteFile(tmp, data, 0o644) == nil {
			_ = os.Rename(tmp, filepath.Join(dir, cachedRootName))
		}
	}
	return tr, nil
}
