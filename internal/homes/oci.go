package homes

// oci.go: OCI registries as a home of attestations read by verify: an
// image's Sigstore bundle referrers, by the image's digest.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// OCIScheme marks an artifact argument that names an image in a registry.
const OCIScheme = "oci://"

// OCIAttestations are the attestations read from registries.
type OCIAttestations struct {
	// ByDigest are each image's attestations, by its digest.
	ByDigest map[string][]verifier.Attestation
	// Digests are the images' digests in the order they were named.
	Digests []string
	// Images are the images by digest (for --push-vsa).
	Images map[string]name.Digest
}

// SplitOCI takes the oci:// arguments out of artifacts: the image
// references (without the scheme) and the rest.
func SplitOCI(artifacts []string) (refs, rest []string) {
	for _, a := range artifacts {
		if strings.HasPrefix(a, OCIScheme) {
			refs = append(refs, strings.TrimPrefix(a, OCIScheme))
		} else {
			rest = append(rest, a)
		}
	}
	return refs, rest
}

// ReadOCI resolves each image reference (a tag to a digest, said in the
// log), fetches its bundle referrers one at a time (remote.OCI.Each,
// within its count and total limits) and returns them by digest. A bundle
// of a predicate type not in wanted (nil: every type) is kept only as a
// line saying so. A malformed reference is a *cmdutil.UsageError, a
// registry failure a *cmdutil.FailedError.
func ReadOCI(ctx context.Context, c *remote.OCI, log *cmdutil.Logger, refs, wanted []string) (*OCIAttestations, error) {
	out := &OCIAttestations{ByDigest: map[string][]verifier.Attestation{}, Images: map[string]name.Digest{}}
	for _, s := range refs {
		ref, err := remote.ParseImage(s)
		if err != nil {
			return nil, cmdutil.Usage(err)
		}
		img, err := c.Resolve(ctx, ref)
		if err != nil {
			return nil, cmdutil.Failed(err)
		}
		if _, isTag := ref.(name.Tag); isTag {
			log.Printf("%s%s is %s", OCIScheme, ref.String(), img.DigestStr())
		}
		d := img.DigestStr()
		read, dropped := 0, 0
		notes, err := c.Each(ctx, img, remote.FetchOptions{PredicateTypes: wanted}, func(b remote.OCIBundle) error {
			read++
			for _, a := range verifier.ParseAttestations(b.Source, b.Bundle) {
				if pt, ok := a.StatementPredicateType(); ok && len(wanted) > 0 && !slices.Contains(wanted, pt) {
					// Not held for a verification that would refuse it: a
					// flood of large referrers costs one at a time.
					a = verifier.Attestation{Source: a.Source, SHA256: a.SHA256,
						Err: fmt.Errorf("not verified: its statement's predicate type is %q, not one verify asks for (%s)", pt, strings.Join(wanted, ", "))}
					dropped++
				}
				out.ByDigest[d] = append(out.ByDigest[d], a)
			}
			return nil
		})
		if err != nil {
			return nil, cmdutil.Failed(err)
		}
		for _, n := range notes {
			log.Printf("%s", n)
		}
		out.Images[d] = img
		other := ""
		if dropped > 0 {
			other = fmt.Sprintf(" (%d of another predicate type, not kept)", dropped)
		}
		log.Printf("%d attestation(s) for %s%s from %s%s", read, OCIScheme, img.String(), img.RegistryStr(), other)
		out.Digests = append(out.Digests, d)
	}
	return out, nil
}
