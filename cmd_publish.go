package main

// cmd_publish.go: attest uploads the signed bundle to GitHub's artifact
// attestations API (POST /repos/{owner}/{repo}/attestations), where gh
// attestation verify and provenant verify --repo find it by digest.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/remote"
)

// publishFlags are attest's flags for GitHub's attestations API.
type publishFlags struct {
	githubToken string
}

// definePublishFlags defines them on attest's flag set.
func definePublishFlags(fs *pflag.FlagSet, p *publishFlags) {
	fs.StringVar(&p.githubToken, "github-token", "", "`TOKEN` to upload the bundle to GitHub's attestations API with (attestations: write); default in Actions: GITHUB_TOKEN; false: do not upload")
}

// publishToGitHub uploads a signed bundle written at bundlePath as an
// attestation of the workflow's repository and sets the outputs
// attestation-id and attestation-url. Without a token (or with
// github-token false, or for an unsigned statement) it does nothing. A
// failed upload leaves the bundle where it is, says so and what to run,
// and exits 1.
func publishToGitHub(ctx context.Context, e *cmdutil.Factory, action *githubactions.Action, p publishFlags, bundlePath string, bundleJSON []byte, signed bool) int {
	token := strings.TrimSpace(p.githubToken)
	inActions := builder.InActions(e.Getenv)
	if token == "" && inActions {
		token = e.Getenv("GITHUB_TOKEN")
	}
	if !signed || token == "" || strings.EqualFold(token, "false") {
		return exitOK
	}
	if inActions {
		action.AddMask(token)
	}
	repo := e.Getenv("GITHUB_REPOSITORY")
	if repo == "" {
		fmt.Fprintf(e.Stderr, "provenant attest: github-token given but GITHUB_REPOSITORY is not set: not uploaded; the bundle is at %s\n", bundlePath)
		return exitFailed
	}
	apiURL := e.Getenv("GITHUB_API_URL")
	if apiURL == "" {
		apiURL = remote.APIURLForHost(strings.TrimPrefix(e.Getenv("GITHUB_SERVER_URL"), "https://"))
	}
	g, err := remote.NewGitHub(remote.GitHubOptions{
		HTTPClient: &http.Client{Timeout: 60 * time.Second},
		APIURL:     apiURL,
		ServerURL:  e.Getenv("GITHUB_SERVER_URL"),
		Token:      token,
	})
	if err == nil {
		var up remote.Uploaded
		if up, err = g.Upload(ctx, repo, bundleJSON); err == nil {
			fmt.Fprintf(e.Stderr, "uploaded to GitHub as attestation %d: %s\n", up.ID, builder.Printable(up.URL))
			if !inActions {
				return exitOK
			}
			// The same safe writer as every other output (a random
			// delimiter per value), never go-githubactions' SetOutput.
			files := &builder.FileCommands{Getenv: e.Getenv}
			err = files.SetOutputs(map[string]string{"attestation-id": strconv.FormatInt(up.ID, 10), "attestation-url": up.URL})
			if err == nil || errors.Is(err, builder.ErrNoCommandFile) {
				return exitOK
			}
			err = fmt.Errorf("uploaded as attestation %d, but writing the step outputs failed: %w", up.ID, err)
		}
	}
	msg := builder.Printable(fmt.Sprintf("provenant attest: %v; the signed bundle is kept at %s (output bundle-path); to publish it, re-run the job, or: jq '{bundle: .}' %s | gh api -X POST repos/%s/attestations --input -; or set github-token: false to sign without publishing",
		err, bundlePath, bundlePath, repo))
	if inActions {
		action.Errorf("%s", msg)
	} else {
		fmt.Fprintln(e.Stderr, msg)
	}
	return exitFailed
}
