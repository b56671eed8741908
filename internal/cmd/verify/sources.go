package verify

// sources.go is where verify's attestations come from, gathered in one
// place (gatherSources) in a stated order: bundle files and a bundle
// directory are read by the verifier itself; a release's assets are
// downloaded into a folder read as a bundle directory; images' bundles are
// read from their registries; without a bundle, GitHub's API is asked by
// digest.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	// release is --release's, with the folder its assets are in and the
	// assets refused; nil without --release.
	release *releaseSource
}

// releaseSource is a release downloaded into a temporary folder.
type releaseSource struct {
	homes.Release
	dir     string
	refused []verifier.ArtifactResult
}

// gatherSources gathers the attestations, in this order:
//
//  1. the artifacts, digests, bundle files and bundle directory given
//     (the verifier reads the files itself);
//  2. with --release, the release's assets, downloaded into a temporary
//     folder that is the bundle directory (validateRelease ruled out
//     every other source);
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
	if o.Release != "" {
		return s, s.downloadRelease(ctx, o, log)
	}
	types := pf.types(p)
	wanted := types
	if wanted[0] == "" {
		wanted = nil
	}
	var images *homes.OCIAttestations
	if len(refs) > 0 {
		var err error
		if images, err = homes.ReadOCI(ctx, o.f.OCI(), log, refs, wanted); err != nil {
			return nil, err
		}
		s.images = images.Images
	}
	fetched, err := fetchGitHub(ctx, o, log, s.opts, types)
	if err != nil {
		return nil, err
	}
	s.opts.Attestations = fetched
	if images != nil {
		s.addImages(images)
	}
	return s, nil
}

// addImages makes the images artifacts by digest, each with the bundles
// read for it (and only those: a bundle the registry lists for another
// image is never tried against this one).
func (s *sources) addImages(images *homes.OCIAttestations) {
	if s.opts.Attestations == nil {
		s.opts.Attestations = map[string][]verifier.Attestation{}
	}
	got := images.ByDigest
	for _, d := range images.Digests {
		if !slices.Contains(s.opts.Digests, d) {
			s.opts.Digests = append(s.opts.Digests, d)
		}
		s.opts.Attestations[d] = append(s.opts.Attestations[d], got[d]...)
		delete(got, d) // an image named twice gets its bundles once
	}
}

// fetchGitHub asks GitHub for the attestations of the artifacts when no
// bundle was given: by their digests, from --repo or --owner (or a
// github.com --source-uri), for every predicate type of types. It returns
// nil when there is nothing to ask (the verifier then says there is no
// attestation source).
func fetchGitHub(ctx context.Context, o *Options, log *cmdutil.Logger, opts verifier.Options, types []string) (map[string][]verifier.Attestation, error) {
	p := opts.Policy
	if len(opts.BundleFiles) > 0 || opts.BundleDir != "" {
		return nil, nil
	}
	q := remote.Query{Repo: p.Repo, Owner: p.Owner, Limit: o.Fetch.Limit}
	if q.Repo == "" && q.Owner == "" {
		uri := strings.TrimPrefix(p.SourceURI, "https://")
		if !strings.HasPrefix(uri, "github.com/") {
			return nil, nil
		}
		q.Repo = strings.TrimSuffix(strings.TrimPrefix(uri, "github.com/"), ".git")
	}
	digests := homes.ArtifactDigests(opts.Artifacts, opts.Digests, o.DigestAlg)
	if len(digests) == 0 {
		return nil, nil
	}
	g, err := o.f.GitHub(o.GitHub.Hostname)
	if err != nil {
		return nil, cmdutil.Usage(err)
	}
	got := map[string][]remote.Attestation{}
	for _, t := range types {
		q.PredicateType = t
		some, notes, err := homes.FetchByDigest(ctx, g, q, digests)
		if err != nil {
			return nil, cmdutil.Failed(err)
		}
		for _, n := range notes {
			log.Printf("%s", n)
		}
		for d, atts := range some {
			for _, a := range atts {
				if len(types) > 1 {
					// The answers of two queries must not share a name
					// (judge matches bundles by it).
					a.Source = homes.WithPredicateFilter(a.Source, t)
				}
				got[d] = append(got[d], a)
			}
		}
	}
	out := map[string][]verifier.Attestation{}
	n := 0
	for d, atts := range got {
		for _, a := range atts {
			if a.Initiator == remote.InitiatorGitHub && !slices.Contains(types, homes.ReleasePredicate) {
				// GitHub's own release attestation is never a workflow's
				// provenance, whatever the server's filter let through.
				log.Printf("%s: skipped: GitHub's release attestation (initiator github), not build provenance; ask for it with --predicate-type %s", a.Source, homes.ReleasePredicate)
				continue
			}
			out[d] = append(out[d], homes.ToVerifierAttestations(a)...)
			n++
		}
	}
	log.Printf("%d attestation(s) for %d digest(s) from GitHub", n, len(digests))
	return out, nil
}

// downloadRelease downloads --release's assets into a temporary folder,
// which becomes the bundle directory.
func (s *sources) downloadRelease(ctx context.Context, o *Options, log *cmdutil.Logger) error {
	g, err := o.f.GitHub(o.GitHub.Hostname)
	if err != nil {
		return &verifier.InputError{Err: err}
	}
	dir, err := os.MkdirTemp("", "provenant-release-")
	if err != nil {
		return fmt.Errorf("--release: a temporary folder: %w", err)
	}
	r := &releaseSource{Release: homes.Release{GitHub: g, Client: o.f.HTTPClient(cmdutil.TimeoutDownload),
		Repo: s.opts.Policy.Repo, Tag: o.Release, Exclude: o.Exclude}, dir: dir}
	s.release = r
	if r.refused, err = r.Download(ctx, log, dir); err != nil {
		return err
	}
	s.opts.BundleDir = dir
	return nil
}

// close removes a release's temporary folder.
func (s *sources) close() {
	if s != nil && s.release != nil {
		os.RemoveAll(s.release.dir)
	}
}

// verify verifies the gathered attestations and judges them by the policy
// file and the pins (while a release's folder is still there: a policy's
// require: of other predicate types verifies the assets again). A
// release's report names its assets "release TAG/ASSET" and lists those
// refused; with nothing downloadable it is the refusals alone.
func (s *sources) verify(ctx context.Context, pf *policyFile, log *cmdutil.Logger) (*verifier.Report, error) {
	r := s.release
	if r == nil {
		return pf.verifyAndJudge(ctx, s.opts, log)
	}
	if len(r.refused) > 0 && !hasEntries(r.dir) {
		return &verifier.Report{MinLevel: s.opts.Policy.MinLevel, Artifacts: r.refused}, nil
	}
	rep, err := pf.verifyAndJudge(ctx, s.opts, log)
	if err != nil {
		var ie *verifier.InputError
		if errors.As(err, &ie) && !hasEntries(r.dir) && len(r.refused) == 0 {
			return nil, &verifier.InputError{Err: fmt.Errorf("release %s of %s has no asset to verify", r.Tag, r.Repo)}
		}
		relabelled := errors.New(relabel(err.Error(), r.dir, r.Label()))
		if errors.As(err, &ie) {
			return nil, &verifier.InputError{Err: relabelled}
		}
		return nil, relabelled
	}
	relabelReport(rep, r.dir, r.Label())
	rep.Artifacts = append(rep.Artifacts, r.refused...)
	if len(r.refused) > 0 {
		rep.Verified = false
	}
	return rep, nil
}

func hasEntries(dir string) bool {
	entries, _ := os.ReadDir(dir)
	return len(entries) > 0
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
