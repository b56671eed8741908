// Package homes is where attestations live away from the artifact: GitHub's
// attestations API (by subject digest), OCI registries (referrers of an
// image) and GitHub releases (assets beside assets). verify and download
// read them through here; attest writes to them.
package homes

import (
	"context"
	"encoding/hex"
	"net/url"
	"strings"

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
