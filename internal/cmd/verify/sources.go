package verify

// sources.go is where verify's attestations come from, picked in one
// place (gatherSources): bundle files and a bundle directory are read by
// the verifier itself; every other source is a home (internal/homes) that
// gathers attestations by digest, or a folder of named items, each named
// as the report names it.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/homes"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// sources are the verifier's options with every attestation gathered.
type sources struct {
	opts verifier.Options
	// images are the oci:// artifacts by digest.
	images map[string]name.Digest
	// release is --release's home; refused its assets refused before
	// verification.
	release *homes.Release
	refused []verifier.ArtifactResult
	cleanup []func()
}

// gatherSources picks the sources, in this order:
//
//  1. the artifacts, digests, bundle files and bundle directory given
//     (the verifier reads the files itself);
//  2. with --release, the release (validateRelease ruled out every other
//     source): its assets, downloaded into a folder that is the bundle
//     directory, named "release TAG";
//  3. oci:// images: their registries' referrers, by image digest;
//  4. without a bundle: GitHub's API, by the artifacts' digests, for every
//     predicate type verify needs; the images' attestations come after
//     those for the same digest.
func gatherSources(ctx context.Context, o *Options, log *cmdutil.Logger, p verifier.Policy, pf *policyFile, roots []verifier.TrustedRoot) (*sources, error) {
	refs, rest := homes.SplitOCI(o.Artifacts)
	s := &sources{opts: verifier.Options{
		Artifacts: rest, Digests: o.Digests, BundleFiles: o.Bundles, BundleDir: o.BundleDir,
		Exclude: o.Exclude, Parallelism: o.Parallelism, Policy: p, TrustedRoots: roots,
		KeepEvidence:    o.Format == "json" || o.PrintProvenance, // gh's shape and --print-provenance print what sigstore-go verified
		DigestAlgorithm: o.digestAlgorithm, RefuseBundleV01: o.refuseBundleV01,
	}}
	want := homes.Want{PredicateTypes: pf.types(p)}
	var hs []homes.Home
	switch {
	case o.Release != "":
		s.release = &homes.Release{F: o.f, Log: log, Repo: p.Repo, Tag: o.Release, Hostname: o.GitHub.Hostname, Exclude: o.Exclude}
		hs = append(hs, s.release)
	default:
		if gh := githubHome(o, log, s.opts); gh != nil {
			want.Digests = homes.ArtifactDigests(rest, o.Digests, o.DigestAlg)
			hs = append(hs, gh)
		}
		if len(refs) > 0 {
			// After GitHub's: an image's attestations come after those
			// GitHub holds for the same digest.
			hs = append(hs, &homes.Registries{F: o.f, Log: log, Refs: refs})
		}
	}
	for _, h := range hs {
		found, err := h.Gather(ctx, want)
		if err != nil {
			s.close()
			return nil, err
		}
		s.add(found)
	}
	return s, nil
}

// githubHome is GitHub's API when no bundle was given: asked by digest,
// from --repo or --owner (or a github.com --source-uri). It is nil when
// there is nothing to ask (the verifier then says there is no
// attestation source).
func githubHome(o *Options, log *cmdutil.Logger, opts verifier.Options) *homes.GitHubAPI {
	p := opts.Policy
	if len(opts.BundleFiles) > 0 || opts.BundleDir != "" {
		return nil
	}
	if len(homes.ArtifactDigests(opts.Artifacts, opts.Digests, o.DigestAlg)) == 0 {
		return nil
	}
	q := remote.Query{Repo: p.Repo, Owner: p.Owner, Limit: o.Fetch.Limit}
	if q.Repo == "" && q.Owner == "" {
		uri := strings.TrimPrefix(p.SourceURI, "https://")
		if !strings.HasPrefix(uri, "github.com/") {
			return nil
		}
		q.Repo = strings.TrimSuffix(strings.TrimPrefix(uri, "github.com/"), ".git")
	}
	return &homes.GitHubAPI{F: o.f, Log: log, Hostname: o.GitHub.Hostname, Query: q}
}

// add merges what a home found into the verifier's options: attestations
// by digest (an image named twice gets its bundles once), artifacts by
// digest, a bundle directory with the name the report gives it.
func (s *sources) add(f *homes.Found) {
	if f.Cleanup != nil {
		s.cleanup = append(s.cleanup, f.Cleanup)
	}
	if f.BundleDir != "" {
		s.opts.BundleDir, s.opts.BundleDirName = f.BundleDir, f.BundleDirName
	}
	s.refused = append(s.refused, f.Refused...)
	if f.Attestations == nil {
		return
	}
	if s.opts.Attestations == nil {
		s.opts.Attestations = map[string][]verifier.Attestation{}
	}
	for d, atts := range f.Attestations {
		if !slices.Contains(f.Digests, d) {
			s.opts.Attestations[d] = append(s.opts.Attestations[d], atts...)
		}
	}
	for _, d := range f.Digests {
		if !slices.Contains(s.opts.Digests, d) {
			s.opts.Digests = append(s.opts.Digests, d)
		}
		s.opts.Attestations[d] = append(s.opts.Attestations[d], f.Attestations[d]...)
		delete(f.Attestations, d) // an image named twice gets its bundles once
	}
	if len(f.Images) > 0 && s.images == nil {
		s.images = map[string]name.Digest{}
	}
	for d, img := range f.Images {
		s.images[d] = img
	}
}

// close removes what the homes left on disk (a release's folder).
func (s *sources) close() {
	if s == nil {
		return
	}
	for _, c := range s.cleanup {
		c()
	}
	s.cleanup = nil
}

// verify verifies the gathered attestations and judges them by the policy
// file and the pins (while a release's folder is still there: a policy's
// require: of other predicate types verifies the assets again). The
// entries a home refused are reported as not verified; a release with
// nothing downloadable is its refusals alone.
func (s *sources) verify(ctx context.Context, pf *policyFile, log *cmdutil.Logger) (*verifier.Report, error) {
	if r := s.release; r != nil && !hasEntries(s.opts.BundleDir) {
		if len(s.refused) > 0 {
			return &verifier.Report{MinLevel: s.opts.Policy.MinLevel, Artifacts: s.refused}, nil
		}
		return nil, &verifier.InputError{Err: fmt.Errorf("release %s of %s has no asset to verify", r.Tag, r.Repo)}
	}
	rep, err := pf.verifyAndJudge(ctx, s.opts, log)
	if err != nil {
		return nil, err
	}
	rep.Artifacts = append(rep.Artifacts, s.refused...)
	if len(s.refused) > 0 {
		rep.Verified = false
	}
	return rep, nil
}

func hasEntries(dir string) bool {
	entries, _ := os.ReadDir(dir)
	return len(entries) > 0
}
