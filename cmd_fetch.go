package main

// cmd_fetch.go: verify and download find attestations on GitHub by subject
// digest when no bundle is given: /repos/{o}/{r}/attestations/{digest}, or
// the owner's, and the owner's bulk-list endpoint for many artifacts.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/homes"
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
	digests := homes.ArtifactDigests(f.opts.Artifacts, f.opts.Digests, f.digestAlg)
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
		some, notes, err := homes.FetchByDigest(ctx, g, q, digests)
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
					a.Source = homes.WithPredicateFilter(a.Source, t)
				}
				got[d] = append(got[d], a)
			}
		}
	}
	f.opts.Attestations = map[string][]verifier.Attestation{}
	n := 0
	for d, atts := range got {
		for _, a := range atts {
			if a.Initiator == remote.InitiatorGitHub && !slices.Contains(types, homes.ReleasePredicate) {
				// GitHub's own release attestation is never a workflow's
				// provenance, whatever the server's filter let through.
				fmt.Fprintf(e.Stderr, "provenant verify: %s: skipped: GitHub's release attestation (initiator github), not build provenance; ask for it with --predicate-type %s\n", a.Source, homes.ReleasePredicate)
				continue
			}
			f.opts.Attestations[d] = append(f.opts.Attestations[d], homes.ToVerifierAttestations(a)...)
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
