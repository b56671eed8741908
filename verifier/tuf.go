package verifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/provenant/provenant/trust"
)

// TUFOptions says how to fetch trusted roots through TUF. The package does
// no network access of its own: the client is given.
type TUFOptions struct {
	// Instances names the public instances to trust (default
	// trust.PublicGood and trust.GitHub); package trust knows their TUF
	// repositories and embedded TUF roots.
	Instances []string
	// CacheDir holds TUF metadata and the last trusted roots fetched.
	CacheDir string
	// HTTPClient fetches TUF metadata; give it a timeout.
	HTTPClient *http.Client
	// Now is the clock used to state a cached root's age (default time.Now).
	Now func() time.Time
}

// cachedRootName is the file, per instance, that keeps the last trusted
// root TUF delivered, for offline use.
const cachedRootName = "trusted_root.json"

// LoadTUF fetches each instance's trusted root through TUF and caches it.
// When an instance cannot be updated (offline), its last cached trusted root
// is used and a warning gives the cache's age; an instance with neither is
// left out with a warning. It fails only when no instance yields a root.
func LoadTUF(ctx context.Context, o TUFOptions) ([]TrustedRoot, []string, error) {
	if o.CacheDir == "" || o.HTTPClient == nil {
		return nil, nil, errors.New("TUF needs a cache directory and an HTTP client")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	names := o.Instances
	if len(names) == 0 {
		names = []string{trust.PublicGood, trust.GitHub}
	}
	f := fetcher.NewDefaultFetcher()
	f.SetHTTPClient(o.HTTPClient)
	var roots []TrustedRoot
	var warnings []string
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, warnings, err
		}
		cache := filepath.Join(o.CacheDir, name, cachedRootName)
		in, err := trust.Load(name, trust.Options{CacheDir: filepath.Join(o.CacheDir, "tuf"), Fetcher: f})
		if err == nil {
			roots = append(roots, TrustedRoot{Name: name, Root: in.TrustedRoot})
			keep(cache, in.TrustedRoot)
			continue
		}
		data, rerr := os.ReadFile(cache)
		fi, serr := os.Stat(cache)
		if rerr != nil || serr != nil {
			warnings = append(warnings, fmt.Sprintf("%s: TUF update failed and no trusted root is cached: %v", name, err))
			continue
		}
		cached, perr := root.NewTrustedRootFromJSON(data)
		if perr != nil {
			warnings = append(warnings, fmt.Sprintf("%s: TUF update failed (%v) and the cached trusted root %s is unusable: %v", name, err, cache, perr))
			continue
		}
		age := now().Sub(fi.ModTime()).Round(time.Minute)
		warnings = append(warnings, fmt.Sprintf("%s: TUF update failed (%v); using the trusted root cached %s ago (%s)",
			name, err, age, fi.ModTime().UTC().Format(time.RFC3339)))
		roots = append(roots, TrustedRoot{Name: name, Root: cached})
	}
	if len(roots) == 0 {
		return nil, warnings, fmt.Errorf("no trusted root: TUF could not be reached and nothing is cached (offline? pass the instance's trusted_root.json with --trusted-root)")
	}
	return roots, warnings, nil
}

// keep writes a trusted root TUF delivered to the cache, for offline use;
// failing to cache is not an error.
func keep(path string, tr *root.TrustedRoot) {
	data, err := tr.MarshalJSON()
	if err != nil || os.MkdirAll(filepath.Dir(path), 0o755) != nil {
		return
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, data, 0o644) == nil {
		_ = os.Rename(tmp, path)
	}
}
