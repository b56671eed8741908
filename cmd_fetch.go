package main

// cmd_fetch.go: verify and download find attestations on GitHub by subject
// digest when no bundle is given: /repos/{o}/{r}/attestations/{digest}, or
// the owner's, and the owner's bulk-list endpoint for many artifacts.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// fetchFlags are the flags that say how to ask GitHub.
type fetchFlags struct {
	limit int
}

// defineFetchFlags defines them on verify's (or download's) flag set.
func defineFetchFlags(fs *pflag.FlagSet, f *fetchFlags) {
	fs.IntVarP(&f.limit, "limit", "L", remote.DefaultLimit, "without --bundle: at most `N` attestations fetched from GitHub per artifact")
}

// artifactDigests are the digests to ask GitHub about: each file's, in
// alg (sha256 or sha512), and the --digest values. Unreadable files are
// left for the verifier to report.
func artifactDigests(paths, digests []string, alg string) []string {
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

// fetchByDigest asks GitHub for the attestations of every digest: the
// bulk endpoint when there are several and the owner is known, else one
// query each. A digest GitHub has nothing for maps to nil; notes say why.
func fetchByDigest(ctx context.Context, g *remote.GitHub, q remote.Query, digests []string) (map[string][]remote.Attestation, []string, error) {
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

// fetchForVerify fills f.opts.Attestations from GitHub when verify was
// given no bundle: by the artifacts' digests, from --repo or --owner, for
// every predicate type verify needs (see fetchTypes). It returns exitOK
// when there is nothing to fetch or the fetch worked.
func fetchForVerify(ctx context.Context, f *verifyFlags, e *cmdutil.Factory) int {
	p := f.opts.Policy
	if len(f.opts.BundleFiles) > 0 || f.opts.BundleDir != "" {
		return exitOK
	}
	q := remote.Query{Repo: p.Repo, Owner: p.Owner, Limit: f.fetch.limit}
	if q.Repo == "" && q.Owner == "" {
		if uri := strings.TrimPrefix(p.SourceURI, "https://"); strings.HasPrefix(uri, "github.com/") {
			q.Repo = strings.TrimSuffix(strings.TrimPrefix(uri, "github.com/"), ".git")
		} else {
			return exitOK // the verifier says there is no attestation source
		}
	}
	digests := artifactDigests(f.opts.Artifacts, f.opts.Digests, f.digestAlg)
	if len(digests) == 0 {
		return exitOK
	}
	g, err := e.GitHub(f.hostname)
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: %v\n", err)
		return exitUsage
	}
	types := fetchTypes(f)
	got := map[string][]remote.Attestation{}
	for _, t := range types {
		q.PredicateType = t
		some, notes, err := fetchByDigest(ctx, g, q, digests)
		if err != nil {
			fmt.Fprintf(e.Stderr, "provenant verify: %v\n", err)
			return exitFailed
		}
		for _, n := range notes {
			fmt.Fprintf(e.Stderr, "provenant verify: %s\n", n)
		}
		for d, atts := range some {
			for _, a := range atts {
				if len(types) > 1 {
					// The answers of two queries must not share a name
					// (judgePolicy matches bundles by it).
					a.Source = withPredicateFilter(a.Source, t)
				}
				got[d] = append(got[d], a)
			}
		}
	}
	f.opts.Attestations = map[string][]verifier.Attestation{}
	n := 0
	for d, atts := range got {
		for _, a := range atts {
			if a.Initiator == remote.InitiatorGitHub && !slices.Contains(types, releasePredicate) {
				// GitHub's own release attestation is never a workflow's
				// provenance, whatever the server's filter let through.
				fmt.Fprintf(e.Stderr, "provenant verify: %s: skipped: GitHub's release attestation (initiator github), not build provenance; ask for it with --predicate-type %s\n", a.Source, releasePredicate)
				continue
			}
			f.opts.Attestations[d] = append(f.opts.Attestations[d], toVerifierAttestations(a)...)
			n++
		}
	}
	fmt.Fprintf(e.Stderr, "provenant verify: %d attestation(s) for %d digest(s) from GitHub\n", n, len(digests))
	return exitOK
}

// fetchTypes are the predicate types to ask GitHub for, one query each:
// verify's own (--predicate-type, or the policy file's primary type),
// then every other type the policy file's require: lists, which judgePolicy
// verifies too: GitHub's filter would otherwise hide them. An empty type
// asks for every type in one query.
func fetchTypes(f *verifyFlags) []string {
	types := []string{f.opts.Policy.PredicateType}
	if types[0] == "" {
		return types // no filter: every type in one query
	}
	if pf := f.policy.file; pf != nil {
		for _, r := range pf.Require {
			if !slices.Contains(types, r.PredicateType) {
				types = append(types, r.PredicateType)
			}
		}
	}
	return types
}

// withPredicateFilter names the predicate_type filter in a fetched
// attestation's source, as the query the request had: before its "#N".
func withPredicateFilter(source, predicateType string) string {
	q := "?predicate_type=" + url.QueryEscape(predicateType)
	if i := strings.LastIndex(source, "#"); i >= 0 {
		return source[:i] + q + source[i:]
	}
	return source + q
}

// releasePredicate is the predicate of GitHub's release attestations.
const releasePredicate = "https://in-toto.io/attestation/release/v0.2"

// toVerifierAttestations parses a fetched bundle for the verifier.
func toVerifierAttestations(a remote.Attestation) []verifier.Attestation {
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

// errNoDigest is download's complaint when given nothing to look up.
var errNoDigest = errors.New("nothing to look up: give artifacts or --digest")
