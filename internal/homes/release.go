package homes

// release.go: a GitHub release as a home of attestations: attest attaches
// the bundle as <asset>.sigstore.json beside each file subject; verify
// --release downloads the assets into a folder verified as a bundle
// directory whose entries the report names "release TAG/ASSET".

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// releaseDownloads bounds the assets downloaded at once.
const releaseDownloads = 4

// Release is a release of a repository.
type Release struct {
	// F is the factory (clients, environment); Log the command's log.
	F   *cmdutil.Factory
	Log *cmdutil.Logger
	// Repo is OWNER/NAME; Tag the release's tag.
	Repo, Tag string

	// Token is what attest attaches with (masked in the log); Subjects
	// name the files whose bundles attest attaches (subject-path,
	// subject-checksums); Overwrite replaces an asset of the same name.
	Token     string
	Subjects  []provenance.Subject
	Overwrite bool

	// Hostname is the GitHub host verify downloads from; Exclude are
	// doublestar patterns of asset names not downloaded.
	Hostname string
	Exclude  []string
}

// Label is how the report names the release's assets: "release TAG".
func (r *Release) Label() string { return "release " + r.Tag }

// Name names the home.
func (r *Release) Name() string { return "release " + r.Tag + " of " + r.Repo }

// Gather downloads the release's assets into a temporary folder (see
// download), which the report names "release TAG".
func (r *Release) Gather(ctx context.Context, _ Want) (*Found, error) {
	g, err := r.F.GitHub(r.Hostname)
	if err != nil {
		return nil, &verifier.InputError{Err: err}
	}
	dir, err := os.MkdirTemp("", "provenant-release-")
	if err != nil {
		return nil, fmt.Errorf("--release: a temporary folder: %w", err)
	}
	found := &Found{BundleDir: dir, BundleDirName: r.Label(), Cleanup: func() { os.RemoveAll(dir) }}
	if found.Refused, err = r.download(ctx, g, dir); err != nil {
		found.Cleanup()
		return nil, err
	}
	return found, nil
}

// download lists the release's assets and downloads those not excluded
// into dir, a few at a time, each at most remote.MaxAssetSize. An asset
// whose name is not a plain file name is not written: it comes back as a
// failed result.
func (r *Release) download(ctx context.Context, g *remote.GitHub, dir string) ([]verifier.ArtifactResult, error) {
	log := r.Log
	rel, err := g.ReleaseByTag(ctx, r.Repo, r.Tag)
	if err != nil {
		return nil, err
	}
	assets, err := g.ReleaseAssets(ctx, rel)
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
			if err := r.downloadAsset(ctx, g, rel, a, filepath.Join(dir, a.Name)); err != nil {
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
func (r *Release) choose(assets []remote.Asset) (refused []verifier.ArtifactResult, todo []remote.Asset, err error) {
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
func (r *Release) downloadAsset(ctx context.Context, g *remote.GitHub, rel *remote.Release, a remote.Asset, path string) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--release: %w", err)
	}
	_, err = g.DownloadReleaseAsset(ctx, rel, a, out, remote.DownloadOptions{Client: r.F.HTTPClient(cmdutil.TimeoutDownload)})
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

// BundleAssetSuffix is the name a bundle takes beside its asset.
const BundleAssetSuffix = ".sigstore.json"

// Check checks what attaching needs: a repository, a token, file subjects
// whose names can be asset names. Without a tag it checks nothing.
func (r *Release) Check() error {
	if r.Tag == "" {
		return nil
	}
	names := r.assetNames()
	switch {
	case r.Repo == "":
		return errors.New("upload-to-release: GITHUB_REPOSITORY is not set: which repository's release?")
	case r.Token == "":
		return errors.New("upload-to-release needs a token that may write the release (permissions: contents: write): give github-token (it is empty or false)")
	case len(names) == 0:
		return errors.New("upload-to-release: no subject names a file (subject-path or subject-checksums) to put the bundle beside")
	}
	for _, n := range names {
		if err := cmdutil.CheckFileName(n); err != nil {
			return fmt.Errorf("upload-to-release: asset name %q: %w", n, err)
		}
	}
	return nil
}

// Publish attaches the bundle to the release as <asset>.sigstore.json
// for each file subject. Without a tag it does nothing.
func (r *Release) Publish(ctx context.Context, s Signed) error {
	if r.Tag == "" {
		return nil
	}
	names := r.assetNames()
	err := r.Check()
	if err == nil {
		err = r.attach(ctx, names, s.Path)
	}
	if err == nil {
		return nil
	}
	first := BundleAssetSuffix
	if len(names) > 0 {
		first = names[0]
	}
	return cmdutil.Failedf("upload-to-release: %w; the signed bundle is kept at %s (output bundle-path); to attach it, re-run the job, or for each of %s: cp %s NAME && gh release upload %s NAME --repo %s --clobber (e.g. NAME=%s)",
		err, s.Path, listSome(names, 3), s.Path, r.Tag, r.Repo, first)
}

// attach is Publish's upload.
func (r *Release) attach(ctx context.Context, names []string, bundlePath string) error {
	r.Log.Mask(r.Token)
	g, err := r.F.WorkflowGitHub(r.Token)
	if err != nil {
		return err
	}
	up, err := g.AttachToRelease(ctx, remote.AttachOptions{Repo: r.Repo, Tag: r.Tag, Names: names, Path: bundlePath,
		MediaType: "application/json", Overwrite: r.Overwrite})
	if err == nil {
		r.Log.Plainf("uploaded %d asset(s) to release %s of %s: %s", len(up), r.Tag, r.Repo, listSome(names, 5))
		return nil
	}
	if len(up) > 0 {
		err = fmt.Errorf("%w (%d of %d uploaded before it failed)", err, len(up), len(names))
	}
	return err
}

// assetNames are the assets a bundle goes beside: the base names of the
// subjects that name files (subject-path, subject-checksums), not a
// subject given by subject-name (an image, a package).
func (r *Release) assetNames() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range r.Subjects {
		if s.Source == "subject-name" {
			continue
		}
		name := filepath.Base(filepath.FromSlash(s.Name)) + BundleAssetSuffix
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// listSome joins at most n names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
