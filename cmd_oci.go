package main

// cmd_oci.go: OCI registries as a home for attestations. attest
// --push-to-registry pushes the signed bundle as an OCI 1.1 referrer of
// each image subject (as GitHub's actions/attest and cosign attest
// --new-bundle-format do); verify oci://registry/repo@sha256:… (or :tag)
// fetches an image's bundle referrers and verifies each against the
// image's digest.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote"
)

// ociFlags are attest's flags for OCI registries.
type ociFlags struct {
	push    bool
	allowed cmdutil.ListFlag
}

// defineOCIFlags defines them on attest's flag set.
func defineOCIFlags(fs *pflag.FlagSet, o *ociFlags) {
	fs.BoolVar(&o.push, "push-to-registry", false, "push the signed bundle to each image subject's registry as an OCI 1.1 referrer (subjects named registry/repository, by sha256 digest)")
	fs.Var(&o.allowed, "allowed-registries", "with push-to-registry, the `REGISTRY/PATH` prefixes images may be pushed to (repeatable, or one a line; default in GitHub Actions: ghcr.io/<owner>/ of the repository)")
}

// allowedRegistries are the prefixes image subjects must start with to be
// pushed to: the ones given, else in GitHub Actions ghcr.io/<owner>/ of the
// repository running. The subjects may come from a checksums file the
// build wrote, and the job's registry credentials go wherever they name:
// the workflow, not the build, says where that may be. Outside Actions,
// with none given, the person at the terminal named the subjects: nil.
func allowedRegistries(o ociFlags, getenv func(string) string) []string {
	if len(o.allowed) > 0 {
		return o.allowed
	}
	if owner := getenv("GITHUB_REPOSITORY_OWNER"); builder.InActions(getenv) && owner != "" {
		return []string{"ghcr.io/" + strings.ToLower(owner) + "/"}
	}
	return nil
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

// ociImages are the images to push to: with push-to-registry, every
// subject must be an image, registry/repository with a sha256 digest, and
// the bundle must be signed. Checked before anything is signed.
//
// The images must be under allowed (when not nil), and a registry that
// go-containerregistry would reach over plain http (a private address, a
// .local name) is refused unless it is on this machine: the credentials
// and the bundle would cross the network unencrypted.
func ociImages(o ociFlags, noSign bool, subjects []provenance.Subject, allowed []string) ([]name.Digest, error) {
	if !o.push {
		if len(o.allowed) > 0 {
			return nil, errors.New("allowed-registries is given without push-to-registry: it would not be applied")
		}
		return nil, nil
	}
	if noSign {
		return nil, fmt.Errorf("push-to-registry needs a signed bundle, and no-sign writes an unsigned statement that cosign, Kyverno and provenant verify oci:// all refuse: drop no-sign, or push-to-registry")
	}
	var out []name.Digest
	for _, s := range subjects {
		repo, err := remote.ParseRepository(s.Name)
		if err != nil {
			return nil, fmt.Errorf("push-to-registry: subject %q is not an image: %w (give images as subject-name + subject-digest, or subject-checksums lines naming registry/repository)", s.Name, err)
		}
		if allowed != nil && !underPrefix(repo.Name(), allowed) {
			return nil, fmt.Errorf("push-to-registry: image %q is not under the allowed registries %s: the workflow names where its registry credentials may go (input allowed-registries), not the subjects", s.Name, strings.Join(allowed, ", "))
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

// pushToRegistries pushes the signed bundle as a referrer of each image,
// the same bundle for each (it names every subject). A failed push keeps
// the bundle where it is, names the registry and what to do, and exits 1
// after trying the other images.
func pushToRegistries(ctx context.Context, e *cmdutil.Factory, action *githubactions.Action, images []name.Digest, bundlePath string, bundleJSON []byte, predicateType string) int {
	if len(images) == 0 {
		return exitOK
	}
	c := e.OCI()
	code := exitOK
	for _, img := range images {
		p, err := c.Push(ctx, img, bundleJSON, predicateType, time.Now())
		if err == nil {
			fmt.Fprintf(e.Stderr, "pushed the attestation of %s to %s\n", builder.Printable(img.String()), builder.Printable(p.Referrer.String()))
			continue
		}
		code = exitFailed
		msg := builder.Printable(fmt.Sprintf("provenant attest: %v; the signed bundle is kept at %s (output bundle-path); log in to %s (docker login, or docker/login-action in a workflow, with packages: write for ghcr.io) and re-run the job, or set push-to-registry: false to sign without pushing",
			err, bundlePath, img.RegistryStr()))
		if builder.InActions(e.Getenv) {
			action.Errorf("%s", msg)
		} else {
			fmt.Fprintln(e.Stderr, msg)
		}
	}
	return code
}
