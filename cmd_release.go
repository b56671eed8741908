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
	"path/filepath"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote"
)

// bundleAssetSuffix is the name a bundle takes beside its asset.
const bundleAssetSuffix = ".sigstore.json"

// defineReleaseUploadFlag defines attest's --upload-to-release.
func defineReleaseUploadFlag(fs *pflag.FlagSet, tag *string) {
	fs.StringVar(tag, "upload-to-release", "", "after signing, upload the bundle as <asset>.sigstore.json beside each file subject of the GitHub release tagged `TAG` in GITHUB_REPOSITORY (token: github-token, contents: write; an existing asset is replaced only with --overwrite)")
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
