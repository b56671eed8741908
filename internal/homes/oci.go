package homes

// oci.go: OCI registries as a home of attestations read by verify: an
// image's Sigstore bundle referrers, by the image's digest.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// OCIScheme marks an artifact argument that names an image in a registry.
const OCIScheme = "oci://"

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

// Registries are OCI registries as a home: attest pushes the bundle as an
// OCI 1.1 referrer of each image subject (as actions/attest and cosign
// attest --new-bundle-format push it); verify reads each named image's
// Sigstore bundle referrers.
type Registries struct {
	// F is the factory (the OCI client, the clock); Log the command's log.
	F   *cmdutil.Factory
	Log *cmdutil.Logger
	// Subjects are attest's subjects, each an image to push to; Allowed
	// the prefixes they must be under (nil: any).
	Subjects []provenance.Subject
	Allowed  []string
	// Refs are the images verify reads (references without oci://).
	Refs []string
}

// Name names the home.
func (h *Registries) Name() string { return "OCI registries" }

// Check refuses, before signing, a subject that is not an image to push
// to (see images).
func (h *Registries) Check() error {
	_, err := h.images()
	return err
}

// images are the images to push to: every subject must be an image,
// registry/repository with a sha256 digest. The images must be under
// Allowed (when not nil), and a registry that go-containerregistry would
// reach over plain http (a private address, a .local name) is refused
// unless it is on this machine: the credentials and the bundle would
// cross the network unencrypted.
func (h *Registries) images() ([]name.Digest, error) {
	var out []name.Digest
	for _, s := range h.Subjects {
		repo, err := remote.ParseRepository(s.Name)
		if err != nil {
			return nil, fmt.Errorf("push-to-registry: subject %q is not an image: %w (give images as subject-name + subject-digest, or subject-checksums lines naming registry/repository)", s.Name, err)
		}
		if h.Allowed != nil && !underPrefix(repo.Name(), h.Allowed) {
			return nil, fmt.Errorf("push-to-registry: image %q is not under the allowed registries %s: the workflow names where its registry credentials may go (input allowed-registries), not the subjects", s.Name, strings.Join(h.Allowed, ", "))
		}
		if repo.Scheme() != "https" && !isLoopbackRegistry(repo.RegistryStr()) {
			return nil, fmt.Errorf("push-to-registry: image %q: registry %s would be reached over plain http (credentials and bundle unencrypted); only a registry on this machine (localhost, 127.0.0.1, ::1) may be", s.Name, repo.RegistryStr())
		}
		hex, ok := s.Digest["sha256"]
		if !ok {
			return nil, fmt.Errorf("push-to-registry: image %q has no sha256 digest, which registries name images by", s.Name)
		}
		out = append(out, repo.Digest("sha256:"+hex))
	}
	return out, nil
}

// underPrefix reports whether the image repository "registry/path" is
// under one of the prefixes, on a path boundary (ghcr.io/octo matches
// ghcr.io/octo/app, not ghcr.io/octo-evil/app), ignoring case.
func underPrefix(repo string, prefixes []string) bool {
	repo = strings.ToLower(repo)
	for _, p := range prefixes {
		p = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(p)), "/")
		if p != "" && (repo == p || strings.HasPrefix(repo, p+"/")) {
			return true
		}
	}
	return false
}

// isLoopbackRegistry reports whether a registry host[:port] is on this
// machine: localhost, 127.0.0.0/8 or ::1.
func isLoopbackRegistry(host string) bool {
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Publish pushes the bundle as a referrer of each image, the same bundle
// for each (it names every subject), trying every image; the error joins
// one per image that failed.
func (h *Registries) Publish(ctx context.Context, s Signed) error {
	images, err := h.images()
	if err != nil || len(images) == 0 {
		return cmdutil.Failed(err)
	}
	c := h.F.OCI()
	var errs []error
	for _, img := range images {
		pushed, err := c.Push(ctx, img, s.JSON, s.PredicateType, h.F.Time())
		if err == nil {
			h.Log.Plainf("pushed the attestation of %s to %s", img.String(), pushed.Referrer.String())
			continue
		}
		errs = append(errs, fmt.Errorf("%w; the signed bundle is kept at %s (output bundle-path); log in to %s (docker login, or docker/login-action in a workflow, with packages: write for ghcr.io) and re-run the job, or set push-to-registry: false to sign without pushing",
			err, s.Path, img.RegistryStr()))
	}
	return cmdutil.Failed(errors.Join(errs...))
}

// Gather resolves each image reference (a tag to a digest, said in the
// log), fetches its bundle referrers one at a time (remote.OCI.Each,
// within its count and total limits) and returns them by digest. A bundle
// of a predicate type not in wanted (nil: every type) is kept only as a
// line saying so. A malformed reference is a *cmdutil.UsageError, a
// registry failure a *cmdutil.FailedError.
func (h *Registries) Gather(ctx context.Context, w Want) (*Found, error) {
	c, log, wanted := h.F.OCI(), h.Log, w.wanted()
	out := &Found{Attestations: map[string][]verifier.Attestation{}, Images: map[string]name.Digest{}}
	for _, s := range h.Refs {
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
				out.Attestations[d] = append(out.Attestations[d], a)
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
