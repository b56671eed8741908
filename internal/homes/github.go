// Package homes is where attestations live away from the artifact: GitHub's
// attestations API (by subject digest), OCI registries (referrers of an
// image) and GitHub releases (assets beside assets). verify and download
// read them through here; attest writes to them.
package homes

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// ReleasePredicate is the predicate of GitHub's release attestations.
const ReleasePredicate = "https://in-toto.io/attestation/release/v0.2"

// ArtifactDigests are the digests to ask GitHub about: each file's, in
// alg (sha256 or sha512), and the --digest values. Unreadable files are
// left for the verifier to report.
func ArtifactDigests(paths, digests []string, alg string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(d string) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	for _, p := range paths {
		if a, err := verifier.ArtifactFromFile(p); err == nil {
			add(alg + ":" + hex.EncodeToString(a.Digests[alg]))
		}
	}
	for _, d := range digests {
		if a, err := verifier.ArtifactFromDigest(d); err == nil {
			add(a.String())
		}
	}
	return out
}

// FetchByDigest asks GitHub for the attestations of every digest: the
// bulk endpoint when there are several and the owner is known, else one
// query each. A digest GitHub has nothing for maps to nil; notes say why.
func FetchByDigest(ctx context.Context, g *remote.GitHub, q remote.Query, digests []string) (map[string][]remote.Attestation, []string, error) {
	if len(digests) > 1 {
		got, err := g.Bulk(ctx, q, digests)
		if err == nil {
			return got, nil, nil
		}
		if !remote.IsNotFound(err) || q.Repo == "" {
			return nil, nil, err
		}
		// The repository's owner has no bulk endpoint we can see: ask the
		// repository, one digest at a time.
	}
	out := map[string][]remote.Attestation{}
	var notes []string
	for _, d := range digests {
		atts, err := g.ByDigest(ctx, q, d)
		switch {
		case remote.IsNotFound(err):
			notes = append(notes, err.Error())
		case err != nil:
			return nil, nil, err
		}
		out[d] = atts
	}
	return out, notes, nil
}

// WithPredicateFilter names the predicate_type filter in a fetched
// attestation's source, as the query the request had: before its "#N".
func WithPredicateFilter(source, predicateType string) string {
	q := "?predicate_type=" + url.QueryEscape(predicateType)
	if i := strings.LastIndex(source, "#"); i >= 0 {
		return source[:i] + q + source[i:]
	}
	return source + q
}

// ToVerifierAttestations parses a fetched bundle for the verifier.
func ToVerifierAttestations(a remote.Attestation) []verifier.Attestation {
	source := a.Source
	if a.Initiator == remote.InitiatorGitHub {
		source += " (GitHub's release attestation)"
	}
	out := verifier.ParseAttestations(source, a.Bundle)
	for i := range out {
		out[i].Source = source
	}
	return out
}

// GitHubAPI is GitHub's attestations API: attest uploads a bundle as an
// attestation of the workflow's repository (POST
// /repos/{owner}/{repo}/attestations), where gh attestation verify and
// provenant verify --repo find it by digest; verify asks it by digest.
type GitHubAPI struct {
	// F is the factory (clients, environment); Log the command's log.
	F   *cmdutil.Factory
	Log *cmdutil.Logger
	// Token is what attest uploads with (masked in the log); "" uploads
	// nothing.
	Token string
	// Repo is OWNER/NAME, the repository attest uploads to
	// (GITHUB_REPOSITORY).
	Repo string
	// Hostname and Query are what verify reads: the GitHub host
	// (--hostname) and the repository or owner and limit to ask.
	Hostname string
	Query    remote.Query
}

// Name names the home.
func (h *GitHubAPI) Name() string { return "GitHub's attestations API" }

// Check refuses a token without a repository to upload to.
func (h *GitHubAPI) Check() error {
	if h.Token != "" && h.Repo == "" {
		return errors.New("github-token given but GITHUB_REPOSITORY is not set: which repository's attestations? (set github-token: false to sign without publishing)")
	}
	return nil
}

// Publish uploads the bundle and sets the step outputs attestation-id and
// attestation-url. Without a token it does nothing.
func (h *GitHubAPI) Publish(ctx context.Context, s Signed) error {
	if h.Token == "" {
		return nil
	}
	h.Log.Mask(h.Token)
	if err := h.Check(); err != nil {
		return cmdutil.Failedf("%w: not uploaded; the bundle is at %s", err, s.Path)
	}
	err := h.upload(ctx, s.JSON)
	if err == nil {
		return nil
	}
	return cmdutil.Failedf("%w; the signed bundle is kept at %s (output bundle-path); to publish it, re-run the job, or: jq '{bundle: .}' %s | gh api -X POST repos/%s/attestations --input -; or set github-token: false to sign without publishing",
		err, s.Path, s.Path, h.Repo)
}

// upload is Publish's upload and step outputs.
func (h *GitHubAPI) upload(ctx context.Context, bundleJSON []byte) error {
	g, err := h.F.WorkflowGitHub(h.Token)
	if err != nil {
		return err
	}
	up, err := g.Upload(ctx, h.Repo, bundleJSON)
	if err != nil {
		return err
	}
	h.Log.Plainf("uploaded to GitHub as attestation %d: %s", up.ID, up.URL)
	if !h.F.InActions() {
		return nil
	}
	// The same safe writer as every other output (a random delimiter per
	// value), never go-githubactions' SetOutput.
	files := &builder.FileCommands{Getenv: h.F.Getenv}
	err = files.SetOutputs(map[string]string{"attestation-id": strconv.FormatInt(up.ID, 10), "attestation-url": up.URL})
	if err == nil || errors.Is(err, builder.ErrNoCommandFile) {
		return nil
	}
	return fmt.Errorf("uploaded as attestation %d, but writing the step outputs failed: %w", up.ID, err)
}

// Gather asks GitHub for the attestations of w's digests, for every
// predicate type of w. GitHub's own release attestation is left out
// unless asked for: it is never a workflow's provenance.
func (h *GitHubAPI) Gather(ctx context.Context, w Want) (*Found, error) {
	found := &Found{Attestations: map[string][]verifier.Attestation{}}
	if len(w.Digests) == 0 {
		return found, nil
	}
	g, err := h.F.GitHub(h.Hostname)
	if err != nil {
		return nil, cmdutil.Usage(err)
	}
	types := w.PredicateTypes
	if len(types) == 0 {
		types = []string{""}
	}
	q := h.Query
	got := map[string][]remote.Attestation{}
	for _, t := range types {
		q.PredicateType = t
		some, notes, err := FetchByDigest(ctx, g, q, w.Digests)
		if err != nil {
			return nil, cmdutil.Failed(err)
		}
		for _, n := range notes {
			h.Log.Printf("%s", n)
		}
		for d, atts := range some {
			for _, a := range atts {
				if len(types) > 1 {
					// The answers of two queries must not share a name
					// (judge matches bundles by it).
					a.Source = WithPredicateFilter(a.Source, t)
				}
				got[d] = append(got[d], a)
			}
		}
	}
	n := 0
	for d, atts := range got {
		for _, a := range atts {
			if a.Initiator == remote.InitiatorGitHub && !slices.Contains(types, ReleasePredicate) {
				h.Log.Printf("%s: skipped: GitHub's release attestation (initiator github), not build provenance; ask for it with --predicate-type %s", a.Source, ReleasePredicate)
				continue
			}
			found.Attestations[d] = append(found.Attestations[d], ToVerifierAttestations(a)...)
			n++
		}
	}
	h.Log.Printf("%d attestation(s) for %d digest(s) from GitHub", n, len(w.Digests))
	return found, nil
}
