package homes

// release.go: GitHub release assets as a home of attestations read by
// verify --release: the assets are downloaded into a folder verified as a
// bundle directory.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// releaseDownloads bounds the assets downloaded at once.
const releaseDownloads = 4

// Release names a release and how to download it.
type Release struct {
	// GitHub is the API client.
	GitHub *remote.GitHub
	// Client downloads the assets.
	Client *http.Client
	// Repo is OWNER/NAME; Tag the release's tag.
	Repo, Tag string
	// Exclude are doublestar patterns of asset names not downloaded.
	Exclude []string
}

// Label is how the report names the release's assets: "release TAG".
func (r Release) Label() string { return "release " + r.Tag }

// Download lists the release's assets and downloads those not excluded
// into dir, a few at a time, each at most remote.MaxAssetSize. An asset
// whose name is not a plain file name is not written: it comes back as a
// failed result.
func (r Release) Download(ctx context.Context, log *cmdutil.Logger, dir string) ([]verifier.ArtifactResult, error) {
	rel, err := r.GitHub.ReleaseByTag(ctx, r.Repo, r.Tag)
	if err != nil {
		return nil, err
	}
	assets, err := r.GitHub.ReleaseAssets(ctx, rel)
	if err != nil {
		return nil, err
	}
	refused, todo, err := r.choose(assets)
	if err != nil {
		return nil, err
	}
	log.Printf("release %s of %s: %d asset(s), %d to download", r.Tag, r.Repo, len(assets), len(todo))
	if left := rel.RateRemaining; left >= 0 && left < len(todo) {
		return nil, fmt.Errorf("release %s of %s: %d asset(s) to download, one API request each, and the rate limit has %d left: set GH_TOKEN (a token raises the limit), or --exclude assets", r.Tag, r.Repo, len(todo), left)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, releaseDownloads)
	var wg sync.WaitGroup
	for _, a := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			if err := r.downloadAsset(ctx, rel, a, filepath.Join(dir, a.Name)); err != nil {
				mu.Lock()
				if first == nil {
					first = err // the first failure, not the cancellations it causes
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return refused, nil
}

// choose splits the assets into those refused (a name that is not a plain
// file name, or another asset's), those to download, and the excluded.
func (r Release) choose(assets []remote.Asset) (refused []verifier.ArtifactResult, todo []remote.Asset, err error) {
	seen := map[string]bool{}
	for _, a := range assets {
		excluded := false
		for _, p := range r.Exclude {
			if ok, err := doublestar.Match(p, a.Name); err != nil {
				return nil, nil, &verifier.InputError{Err: fmt.Errorf("exclude pattern %q: %w", p, err)}
			} else if ok {
				excluded = true
			}
		}
		switch {
		case excluded:
		case !PlainFileName(a.Name) || seen[strings.ToLower(a.Name)]:
			refused = append(refused, verifier.ArtifactResult{Artifact: r.Label() + "/" + verifier.DisplayName(a.Name),
				Error: "not verified: the asset's name is not a plain file name, or another asset has it (--exclude it)"})
		default:
			seen[strings.ToLower(a.Name)] = true
			todo = append(todo, a)
		}
	}
	return refused, todo, nil
}

// downloadAsset streams one asset into a new file (never over another).
func (r Release) downloadAsset(ctx context.Context, rel *remote.Release, a remote.Asset, path string) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--release: %w", err)
	}
	_, err = r.GitHub.DownloadReleaseAsset(ctx, rel, a, out, remote.DownloadOptions{Client: r.Client})
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("--release: writing %s: %w", path, cerr)
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// PlainFileName reports whether an asset name (remote, hostile) can be a
// file in one folder as it is: no separator, no "." or "..", no control
// characters, not too long.
func PlainFileName(name string) bool {
	if cmdutil.CheckFileName(name) != nil || name == "" || strings.ContainsAny(name, `/\`) || verifier.DisplayName(name) != name {
		return false
	}
	return true
}
