package homes

// home.go: the one abstraction of where attestations live, used both
// ways. attest checks every home it will publish to before anything is
// signed (Check) and publishes after (Publish); verify picks its homes in
// one place and gathers from each (Gather). The homes are GitHubAPI
// (github.go), Registries (oci.go) and Release (release.go).

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/verifier"
)

// A Home is a place attestations live away from the artifact.
type Home interface {
	// Name says which home, in messages.
	Name() string
	// Check refuses, before anything is signed, what would make Publish
	// fail for certain (a missing repository, token or asset name). Its
	// error is the user's to fix (exit 2).
	Check() error
	// Publish puts a signed bundle here; it does nothing when the home
	// was not asked for. On failure the error says where the bundle is
	// kept and how to publish it.
	Publish(ctx context.Context, s Signed) error
	// Gather returns what the home holds for verify.
	Gather(ctx context.Context, w Want) (*Found, error)
}

// Signed is a signed bundle as attest wrote it.
type Signed struct {
	// Path is the bundle's file, kept there when a publication fails.
	Path string
	// JSON is the bundle.
	JSON []byte
	// PredicateType is its statement's predicate type.
	PredicateType string
}

// Want is what verify asks a home for.
type Want struct {
	// Digests are the artifacts' digests ("alg:hex").
	Digests []string
	// PredicateTypes are the predicate types verify needs; "" alone
	// means any.
	PredicateTypes []string
}

// wanted is w's predicate types as a filter: nil for any.
func (w Want) wanted() []string {
	if len(w.PredicateTypes) == 0 || w.PredicateTypes[0] == "" {
		return nil
	}
	return w.PredicateTypes
}

// Found is what a home holds for verify, each piece named as the report
// will name it (a release's assets "release TAG/ASSET").
type Found struct {
	// Attestations are attestations by subject digest ("alg:hex").
	Attestations map[string][]verifier.Attestation
	// Digests are artifacts by digest the home adds (images named by
	// reference), in the order named.
	Digests []string
	// Images are those images by digest (for --push-vsa).
	Images map[string]name.Digest
	// BundleDir is a folder of assets and their attestations (a release
	// downloaded), which reports name BundleDirName.
	BundleDir, BundleDirName string
	// Refused are entries refused before verification (a release asset
	// whose name is not a plain file name): not verified.
	Refused []verifier.ArtifactResult
	// Cleanup removes what Gather left on disk; nil when nothing.
	Cleanup func()
}
