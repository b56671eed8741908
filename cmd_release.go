package main

// cmd_release.go: GitHub release assets as a home of attestations.
// attest --upload-to-release TAG puts <asset>.sigstore.json beside each
// file subject of the release; verify --release TAG --repo O/R downloads a
// release's assets into a temporary folder and verifies it as --bundle-dir
// does.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// bundleAssetSuffix is the name a bundle takes beside its asset.
const bundleAssetSuffix = ".sigstore.json"

// releaseDownloads bounds the assets downloaded at once.
const releaseDownloads = 4

// defineReleaseUploadFlag defines attest's --upload-to-release.
func defineReleaseUploadFlag(fs *pflag.FlagSet, tag *string) {
	fs.StringVar(tag, "upload-to-release", "", "after signing, upload the bundle as <asset>.sigstore.json beside each file subject of the GitHub release tagged `TAG` in GITHUB_REPOSITORY (token: github-token, contents: write; an existing asset is replaced only with --overwrite)")
}

// defineReleaseVerifyFlag defines verify's --release.
func defineReleaseVerifyFlag(fs *pflag.FlagSet, tag *string) {
	fs.StringVar(tag, "release", "", "verify every asset of the GitHub release tagged `TAG` of --repo, with the attestations beside them (<asset>.sigstore.json, *.intoto.jsonl), as --bundle-dir does")
}

// releaseAssetNames are the assets a bundle goes beside: the base names of
// the subjects that name files (subject-path, subject-checksums), not a
// subject given by subject-name (an image, a package).
func releaseAssetNames(subjects []provenance.Subject) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range subjects {
		if s.Source == "subject-name" {
			continue
		}
		name := filepath.Base(filepath.FromSlash(s.Name)) + bundleAssetSuffix
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// checkReleaseUpload checks before signing what upload-to-release needs:
// a repository, a token, file subjects whose names can be asset names.
func checkReleaseUpload(f *attestFlags, e *cmdutil.Factory, subjects []provenance.Subject) error {
	tag := strings.TrimSpace(f.uploadToRelease)
	if tag == "" {
		return nil
	}
	switch {
	case f.noSign:
		return errors.New("upload-to-release: an unsigned statement is not uploaded (no-sign is set)")
	case e.Getenv("GITHUB_REPOSITORY") == "":
		return errors.New("upload-to-release: GITHUB_REPOSITORY is not set: which repository's release?")
	case releaseToken(f, e) == "":
		return errors.New("upload-to-release needs a token that may write the release (permissions: contents: write): give github-token (it is empty or false)")
	}
	names := releaseAssetNames(subjects)
	if len(names) == 0 {
		return errors.New("upload-to-release: no subject names a file (subject-path or subject-checksums) to put the bundle beside")
	}
	for _, n := range names {
		if err := cmdutil.CheckFileName(n); err != nil {
			return fmt.Errorf("upload-to-release: asset name %q: %w", n, err)
		}
	}
	return nil
}

// releaseToken is the token releases are written with: github-token, or
// in Actions GITHUB_TOKEN; "" when none or false.
func releaseToken(f *attestFlags, e *cmdutil.Factory) string {
	token := strings.TrimSpace(f.publish.githubToken)
	if token == "" && builder.InActions(e.Getenv) {
		token = e.Getenv("GITHUB_TOKEN")
	}
	if strings.EqualFold(token, "false") {
		return ""
	}
	return token
}

// uploadToRelease attaches the signed bundle at bundlePath to the release
// f.uploadToRelease of GITHUB_REPOSITORY, as <asset>.sigstore.json for
// each file subject. A failure leaves the bundle where it is, says so and
// what to re-run, and exits 1.
func uploadToRelease(ctx context.Context, e *cmdutil.Factory, action *githubactions.Action, f *attestFlags, bundlePath string, subjects []provenance.Subject) int {
	tag := strings.TrimSpace(f.uploadToRelease)
	if tag == "" || f.noSign {
		return exitOK
	}
	inActions := builder.InActions(e.Getenv)
	token := releaseToken(f, e)
	if inActions && token != "" {
		action.AddMask(token)
	}
	repo := e.Getenv("GITHUB_REPOSITORY")
	names := releaseAssetNames(subjects)
	err := checkReleaseUpload(f, e, subjects)
	if err == nil {
		var g *remote.GitHub
		g, err = remote.NewGitHub(remote.GitHubOptions{
			HTTPClient: &http.Client{Timeout: 60 * time.Second},
			APIURL:     actionsAPIURL(e),
			Token:      token,
		})
		if err == nil {
			var up []remote.Asset
			up, err = g.AttachToRelease(ctx, remote.AttachOptions{Repo: repo, Tag: tag, Names: names, Path: bundlePath,
				MediaType: "application/json", Overwrite: f.overwrite})
			if err == nil {
				fmt.Fprintf(e.Stderr, "%s\n", builder.Printable(fmt.Sprintf("uploaded %d asset(s) to release %s of %s: %s", len(up), tag, repo, listSome(names, 5))))
				return exitOK
			}
			if len(up) > 0 {
				err = fmt.Errorf("%w (%d of %d uploaded before it failed)", err, len(up), len(names))
			}
		}
	}
	first := bundleAssetSuffix
	if len(names) > 0 {
		first = names[0]
	}
	msg := builder.Printable(fmt.Sprintf("provenant attest: upload-to-release: %v; the signed bundle is kept at %s (output bundle-path); to attach it, re-run the job, or for each of %s: cp %s NAME && gh release upload %s NAME --repo %s --clobber (e.g. NAME=%s)",
		err, bundlePath, listSome(names, 3), bundlePath, tag, repo, first))
	if inActions {
		action.Errorf("%s", msg)
	} else {
		fmt.Fprintln(e.Stderr, msg)
	}
	return exitFailed
}

// actionsAPIURL is the API of the workflow's GitHub: GITHUB_API_URL, else
// from GITHUB_SERVER_URL.
func actionsAPIURL(e *cmdutil.Factory) string {
	if u := e.Getenv("GITHUB_API_URL"); u != "" {
		return u
	}
	return remote.APIURLForHost(strings.TrimPrefix(e.Getenv("GITHUB_SERVER_URL"), "https://"))
}

// listSome joins at most n names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// checkReleaseVerify refuses what --release cannot be combined with.
func checkReleaseVerify(f *verifyFlags) error {
	if f.release == "" {
		return nil
	}
	switch {
	case f.opts.Policy.Repo == "":
		return errors.New("--release needs --repo OWNER/NAME: the repository whose release it is")
	case len(f.opts.Artifacts) > 0 || len(f.opts.Digests) > 0:
		return errors.New("--release verifies the release's own assets: give no ARTIFACT or --digest")
	case len(f.opts.BundleFiles) > 0 || f.opts.BundleDir != "":
		return errors.New("--release reads the attestations beside the assets: give no --bundle or --bundle-dir")
	}
	return nil
}

// verifyMaybeRelease is verifier.Verify, with --release first downloading
// the release's assets into a temporary folder verified as a bundle
// directory; the report names them "release TAG/ASSET". An asset whose
// name cannot be a file name is reported as not verified.
func verifyMaybeRelease(ctx context.Context, f *verifyFlags, e *cmdutil.Factory) (*verifier.Report, error) {
	if f.release == "" {
		return verifyAndJudge(ctx, f, f.opts, e)
	}
	g, err := e.GitHub(f.hostname)
	if err != nil {
		return nil, &verifier.InputError{Err: err}
	}
	dir, err := os.MkdirTemp("", "provenant-release-")
	if err != nil {
		return nil, fmt.Errorf("--release: a temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)
	refused, err := downloadRelease(ctx, g, f, dir, e)
	if err != nil {
		return nil, err
	}
	if len(refused) > 0 && !hasEntries(dir) {
		// Nothing was downloadable: report the refusals alone.
		rep := &verifier.Report{MinLevel: f.opts.Policy.MinLevel, Artifacts: refused}
		return rep, nil
	}
	opts := f.opts
	opts.BundleDir = dir
	// Judged by the policy file and pins here, while the downloaded folder
	// is still there: a policy's require: of other predicate types verifies
	// the assets again with these options.
	rep, err := verifyAndJudge(ctx, f, opts, e)
	if err != nil {
		var ie *verifier.InputError
		if errors.As(err, &ie) && !hasEntries(dir) && len(refused) == 0 {
			return nil, &verifier.InputError{Err: fmt.Errorf("release %s of %s has no asset to verify", f.release, f.opts.Policy.Repo)}
		}
		relabelled := errors.New(relabel(err.Error(), dir, "release "+f.release))
		if errors.As(err, &ie) {
			return nil, &verifier.InputError{Err: relabelled}
		}
		return nil, relabelled
	}
	relabelReport(rep, dir, "release "+f.release)
	rep.Artifacts = append(rep.Artifacts, refused...)
	if len(refused) > 0 {
		rep.Verified = false
	}
	return rep, nil
}

func hasEntries(dir string) bool {
	entries, _ := os.ReadDir(dir)
	return len(entries) > 0
}

// downloadRelease lists the release's assets and downloads those not
// excluded into dir, a few at a time, each at most remote.MaxAssetSize. An
// asset whose name is not a plain file name is not written: it comes back
// as a failed result.
func downloadRelease(ctx context.Context, g *remote.GitHub, f *verifyFlags, dir string, e *cmdutil.Factory) ([]verifier.ArtifactResult, error) {
	repo := f.opts.Policy.Repo
	rel, err := g.ReleaseByTag(ctx, repo, f.release)
	if err != nil {
		return nil, err
	}
	assets, err := g.ReleaseAssets(ctx, rel)
	if err != nil {
		return nil, err
	}
	var refused []verifier.ArtifactResult
	var todo []remote.Asset
	seen := map[string]bool{}
	for _, a := range assets {
		excluded := false
		for _, p := range f.exclude {
			if ok, err := doublestar.Match(p, a.Name); err != nil {
				return nil, &verifier.InputError{Err: fmt.Errorf("exclude pattern %q: %w", p, err)}
			} else if ok {
				excluded = true
			}
		}
		switch {
		case excluded:
		case !plainFileName(a.Name) || seen[strings.ToLower(a.Name)]:
			refused = append(refused, verifier.ArtifactResult{Artifact: "release " + f.release + "/" + verifier.DisplayName(a.Name),
				Error: "not verified: the asset's name is not a plain file name, or another asset has it (--exclude it)"})
		default:
			seen[strings.ToLower(a.Name)] = true
			todo = append(todo, a)
		}
	}
	fmt.Fprintf(e.Stderr, "provenant verify: release %s of %s: %d asset(s), %d to download\n", f.release, repo, len(assets), len(todo))
	if left := rel.RateRemaining; left >= 0 && left < len(todo) {
		return nil, fmt.Errorf("release %s of %s: %d asset(s) to download, one API request each, and the rate limit has %d left: set GH_TOKEN (a token raises the limit), or --exclude assets", f.release, repo, len(todo), left)
	}
	client := &http.Client{Timeout: 10 * time.Minute}
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
			if err := downloadAsset(ctx, g, rel, a, filepath.Join(dir, a.Name), client); err != nil {
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

// downloadAsset streams one asset into a new file (never over another).
func downloadAsset(ctx context.Context, g *remote.GitHub, rel *remote.Release, a remote.Asset, path string, client *http.Client) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--release: %w", err)
	}
	_, err = g.DownloadReleaseAsset(ctx, rel, a, out, remote.DownloadOptions{Client: client})
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("--release: writing %s: %w", path, cerr)
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// plainFileName reports whether an asset name (remote, hostile) can be a
// file in one folder as it is: no separator, no "." or "..", no control
// characters, not too long.
func plainFileName(name string) bool {
	if cmdutil.CheckFileName(name) != nil || name == "" || strings.ContainsAny(name, `/\`) || verifier.DisplayName(name) != name {
		return false
	}
	return true
}

// relabelReport names the temporary folder's entries as the release's.
func relabelReport(rep *verifier.Report, dir, label string) {
	for i := range rep.Artifacts {
		a := &rep.Artifacts[i]
		a.Artifact, a.Error = relabel(a.Artifact, dir, label), relabel(a.Error, dir, label)
		for j := range a.Bundles {
			b := &a.Bundles[j]
			b.Source = relabel(b.Source, dir, label)
			for k := range b.Checks {
				b.Checks[k].Reason = relabel(b.Checks[k].Reason, dir, label)
			}
		}
	}
	for i, w := range rep.Warnings {
		rep.Warnings[i] = relabel(w, dir, label)
	}
}

// relabel replaces the temporary folder in a text by the label.
func relabel(s, dir, label string) string {
	s = strings.ReplaceAll(s, dir+string(filepath.Separator), label+"/")
	return strings.ReplaceAll(s, dir, label)
}
