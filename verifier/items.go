package verifier

import (
	"context"
	"sync"
)

// items.go: many artifacts at once, each attestation verified once per run
// (cache.go).

// Item is one artifact with the attestations that may cover it.
type Item struct {
	Artifact     Artifact
	Attestations []Attestation
	// Missing, when set, explains why no attestation was found.
	Missing string
	// files are bundle files whose attestations are the item's too,
	// loaded when it is verified (a bundle directory's, see collectItems).
	files []string
}

// ArtifactResult is the verification of one artifact: it is verified when
// at least one of its bundles is.
type ArtifactResult struct {
	Artifact string `json:"artifact"`
	Digest   string `json:"digest"`
	Verified bool   `json:"verified"`
	// Level is the highest SLSA Build level among verified bundles.
	Level   int            `json:"level"`
	Error   string         `json:"error,omitempty"`
	Bundles []BundleResult `json:"bundles"`
}

// VerifyItems verifies many artifacts in parallel, at most parallelism at a
// time (parallelism < 1 means 4). Results keep the order of items.
func (v *Verifier) VerifyItems(ctx context.Context, items []Item, parallelism int) []ArtifactResult {
	out, _ := v.verifyItems(ctx, items, parallelism, newAttestationFiles(nil), false)
	return out
}

// verifyItems is VerifyItems; with release (for a caller that is done with
// items, as Verify is) each item is cleared once verified (its artifact's
// digests, its attestations and its files),
// so that memory follows the items in flight, not the whole release.
//
// A bundle file of an item's files that cannot be read stops the run: the
// error (an *InputError) of the first such item is returned, and the
// results are then incomplete.
func (v *Verifier) verifyItems(ctx context.Context, items []Item, parallelism int, files *attestationFiles, release bool) ([]ArtifactResult, error) {
	if parallelism < 1 {
		parallelism = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]ArtifactResult, len(items))
	errs := make([]error, len(items))
	cache := newBundleCache()
	cache.expect(items)
	files.expect(items)
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for i, it := range items {
		out[i] = ArtifactResult{Artifact: it.Artifact.Name, Digest: it.Artifact.String()}
		if ctx.Err() != nil {
			out[i].Error = "not verified: " + ctx.Err().Error()
			continue
		}
		select {
		case <-ctx.Done():
			out[i].Error = "not verified: " + ctx.Err().Error()
			continue
		case sem <- struct{}{}:
		}
		wg.Add(1)
		go func(i int, it Item) {
			defer wg.Done()
			defer func() { <-sem }()
			if out[i], errs[i] = v.verifyItem(cache, files, it); errs[i] != nil {
				cancel()
			}
			if release {
				items[i] = Item{}
			}
		}(i, it)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// verifyItem verifies one artifact against each of its attestations, each
// attestation verified once per run (cache) and each of its files loaded
// once while items use it (files). The error is a file that cannot be read.
func (v *Verifier) verifyItem(cache *bundleCache, files *attestationFiles, it Item) (ArtifactResult, error) {
	ar := ArtifactResult{Artifact: it.Artifact.Name, Digest: it.Artifact.String()}
	defer func() {
		for _, p := range it.files {
			cache.forget(files.done(p))
		}
	}()
	atts := it.Attestations
	for _, p := range it.files {
		a, err := files.load(p)
		if err != nil {
			return ar, err
		}
		atts = append(atts[:len(atts):len(atts)], a...)
	}
	if len(atts) == 0 {
		ar.Error = it.Missing
		if ar.Error == "" {
			ar.Error = "no attestation found for this artifact"
		}
		return ar, nil
	}
	for _, att := range atts {
		br := cache.get(v, att).result(v, att, it.Artifact)
		cache.done(att)
		br.BundleSHA256 = cache.values.canonicalString(att.SHA256)
		if br.Verified {
			ar.Verified = true
			ar.Level = max(ar.Level, br.Level)
		}
		ar.Bundles = append(ar.Bundles, br)
	}
	return ar, nil
}
