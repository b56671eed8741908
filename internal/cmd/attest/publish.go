package attest

// publish.go: after the bundle is written, attest publishes it to every
// home asked for: GitHub's attestations API (POST
// /repos/{owner}/{repo}/attestations, where gh attestation verify and
// provenant verify --repo find it by digest), each image subject's
// registry (an OCI 1.1 referrer, as actions/attest and cosign attest
// --new-bundle-format push it) and a GitHub release (<asset>.sigstore.json
// beside each file subject). What can be checked is checked before
// signing (ociImages, checkReleaseUpload); a failed publication keeps the
// bundle where it is and says what to run.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote"
)

// bundleAssetSuffix is the name a bundle takes beside its asset.
const bundleAssetSuffix = ".sigstore.json"

// publish publishes the signed bundle to every home asked for, each tried
// even when another failed; each failure is logged as it happens, and the
// run then fails (exit 1).
func (r *run) publish(bundlePath string, content []byte, st *provenance.Statement, images []name.Digest, subjects []provenance.Subject) error {
	p := &Publisher{F: r.o.f, Log: r.log, GitHubToken: r.o.GitHubToken, Overwrite: r.o.Overwrite}
	failed := false
	for _, err := range []error{
		p.ToGitHub(r.ctx, bundlePath, content),
		p.ToRegistries(r.ctx, images, bundlePath, content, st.PredicateType),
		p.ToRelease(r.ctx, r.o.UploadToRelease, bundlePath, subjects),
	} {
		for _, e := range each(err) {
			failed = true
			r.log.Error(e.Error())
		}
	}
	if failed {
		return cmdutil.ErrSilentFailure
	}
	return nil
}

// each is the errors err joins (one per image of ToRegistries), or err.
func each(err error) []error {
	if err == nil {
		return nil
	}
	var fe *cmdutil.FailedError
	if errors.As(err, &fe) {
		if j, ok := fe.Err.(interface{ Unwrap() []error }); ok {
			return j.Unwrap()
		}
	}
	return []error{err}
}

// Publisher puts a signed bundle, written at a path, where attestations
// live. Each method does nothing when its home was not asked for, and
// returns a *cmdutil.FailedError (possibly joined, one per home that
// failed) that says where the bundle is kept and how to publish it.
type Publisher struct {
	// F is the factory; Log the command's log.
	F   *cmdutil.Factory
	Log *cmdutil.Logger
	// GitHubToken is --github-token (default in Actions: GITHUB_TOKEN;
	// false: none).
	GitHubToken string
	// Overwrite replaces a release asset of the same name.
	Overwrite bool
}

// token is the token GitHub is written with: --github-token, or in
// Actions GITHUB_TOKEN; "" when none or false. It is masked in the log.
func (p *Publisher) token() string {
	token := p.tokenValue()
	p.Log.Mask(token)
	return token
}

// tokenValue is token, not masked (checks before signing print nothing).
func (p *Publisher) tokenValue() string {
	token := strings.TrimSpace(p.GitHubToken)
	if token == "" && p.F.InActions() {
		token = p.F.Getenv("GITHUB_TOKEN")
	}
	if strings.EqualFold(token, "false") {
		return ""
	}
	return token
}

// ToGitHub uploads the bundle as an attestation of the workflow's
// repository and sets the outputs attestation-id and attestation-url.
// Without a token (or with github-token false) it does nothing.
func (p *Publisher) ToGitHub(ctx context.Context, bundlePath string, bundleJSON []byte) error {
	token := p.token()
	if token == "" {
		return nil
	}
	repo := p.F.Getenv("GITHUB_REPOSITORY")
	if repo == "" {
		return cmdutil.Failedf("github-token given but GITHUB_REPOSITORY is not set: not uploaded; the bundle is at %s", bundlePath)
	}
	err := p.uploadToGitHub(ctx, token, repo, bundleJSON)
	if err == nil {
		return nil
	}
	return cmdutil.Failedf("%w; the signed bundle is kept at %s (output bundle-path); to publish it, re-run the job, or: jq '{bundle: .}' %s | gh api -X POST repos/%s/attestations --input -; or set github-token: false to sign without publishing",
		err, bundlePath, bundlePath, repo)
}

// uploadToGitHub is ToGitHub's upload and step outputs.
func (p *Publisher) uploadToGitHub(ctx context.Context, token, repo string, bundleJSON []byte) error {
	g, err := p.F.WorkflowGitHub(token)
	if err != nil {
		return err
	}
	up, err := g.Upload(ctx, repo, bundleJSON)
	if err != nil {
		return err
	}
	p.Log.Plainf("uploaded to GitHub as attestation %d: %s", up.ID, up.URL)
	if !p.F.InActions() {
		return nil
	}
	// The same safe writer as every other output (a random delimiter per
	// value), never go-githubactions' SetOutput.
	files := &builder.FileCommands{Getenv: p.F.Getenv}
	err = files.SetOutputs(map[string]string{"attestation-id": strconv.FormatInt(up.ID, 10), "attestation-url": up.URL})
	if err == nil || errors.Is(err, builder.ErrNoCommandFile) {
		return nil
	}
	return fmt.Errorf("uploaded as attestation %d, but writing the step outputs failed: %w", up.ID, err)
}

// ToRegistries pushes the bundle as a referrer of each image, the same
// bundle for each (it names every subject), trying every image.
func (p *Publisher) ToRegistries(ctx context.Context, images []name.Digest, bundlePath string, bundleJSON []byte, predicateType string) error {
	if len(images) == 0 {
		return nil
	}
	c := p.F.OCI()
	var errs []error
	for _, img := range images {
		pushed, err := c.Push(ctx, img, bundleJSON, predicateType, p.F.Time())
		if err == nil {
			p.Log.Plainf("pushed the attestation of %s to %s", img.String(), pushed.Referrer.String())
			continue
		}
		errs = append(errs, fmt.Errorf("%w; the signed bundle is kept at %s (output bundle-path); log in to %s (docker login, or docker/login-action in a workflow, with packages: write for ghcr.io) and re-run the job, or set push-to-registry: false to sign without pushing",
			err, bundlePath, img.RegistryStr()))
	}
	return cmdutil.Failed(errors.Join(errs...))
}

// ToRelease attaches the bundle to the release tagged tag of
// GITHUB_REPOSITORY, as <asset>.sigstore.json for each file subject.
func (p *Publisher) ToRelease(ctx context.Context, tag, bundlePath string, subjects []provenance.Subject) error {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return nil
	}
	repo := p.F.Getenv("GITHUB_REPOSITORY")
	names := releaseAssetNames(subjects)
	err := p.checkRelease(tag, names)
	if err == nil {
		err = p.attach(ctx, tag, repo, names, bundlePath)
	}
	if err == nil {
		return nil
	}
	first := bundleAssetSuffix
	if len(names) > 0 {
		first = names[0]
	}
	return cmdutil.Failedf("upload-to-release: %w; the signed bundle is kept at %s (output bundle-path); to attach it, re-run the job, or for each of %s: cp %s NAME && gh release upload %s NAME --repo %s --clobber (e.g. NAME=%s)",
		err, bundlePath, listSome(names, 3), bundlePath, tag, repo, first)
}

// attach is ToRelease's upload.
func (p *Publisher) attach(ctx context.Context, tag, repo string, names []string, bundlePath string) error {
	g, err := p.F.WorkflowGitHub(p.token())
	if err != nil {
		return err
	}
	up, err := g.AttachToRelease(ctx, remote.AttachOptions{Repo: repo, Tag: tag, Names: names, Path: bundlePath,
		MediaType: "application/json", Overwrite: p.Overwrite})
	if err == nil {
		p.Log.Plainf("uploaded %d asset(s) to release %s of %s: %s", len(up), tag, repo, listSome(names, 5))
		return nil
	}
	if len(up) > 0 {
		err = fmt.Errorf("%w (%d of %d uploaded before it failed)", err, len(up), len(names))
	}
	return err
}

// checkRelease checks what upload-to-release needs: a repository, a
// token, file subjects whose names can be asset names.
func (p *Publisher) checkRelease(tag string, names []string) error {
	switch {
	case p.F.Getenv("GITHUB_REPOSITORY") == "":
		return errors.New("upload-to-release: GITHUB_REPOSITORY is not set: which repository's release?")
	case p.tokenValue() == "":
		return errors.New("upload-to-release needs a token that may write the release (permissions: contents: write): give github-token (it is empty or false)")
	case len(names) == 0:
		return errors.New("upload-to-release: no subject names a file (subject-path or subject-checksums) to put the bundle beside")
	}
	for _, n := range names {
		if err := cmdutil.CheckFileName(n); err != nil {
			return fmt.Errorf("upload-to-release: asset name %q: %w", n, err)
		}
	}
	return nil
}

// checkReleaseUpload checks before signing what upload-to-release needs.
func checkReleaseUpload(o *Options, subjects []provenance.Subject) error {
	tag := strings.TrimSpace(o.UploadToRelease)
	if tag == "" {
		return nil
	}
	if o.NoSign {
		return errors.New("upload-to-release: an unsigned statement is not uploaded (no-sign is set)")
	}
	p := &Publisher{F: o.f, Log: o.f.Logger("provenant attest", true), GitHubToken: o.GitHubToken}
	return p.checkRelease(tag, releaseAssetNames(subjects))
}

// releaseAssetNames are the assets a bundle goes beside: the base names of
// the subjects that name files (subject-path, subject-checksums), not a
// subject given by subject-name (an image, a package).
func releaseAssetNames(subjects []provenance.Subject) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range subjects {
		if s.Source == "subject-name" {
			continue
		}
		name := filepath.Base(filepath.FromSlash(s.Name)) + bundleAssetSuffix
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// allowedRegistries are the prefixes image subjects must start with to be
// pushed to: the ones given, else in GitHub Actions ghcr.io/<owner>/ of the
// repository running. The subjects may come from a checksums file the
// build wrote, and the job's registry credentials go wherever they name:
// the workflow, not the build, says where that may be. Outside Actions,
// with none given, the person at the terminal named the subjects: nil.
func allowedRegistries(f *cmdutil.Factory, given []string) []string {
	if len(given) > 0 {
		return given
	}
	if owner := f.Getenv("GITHUB_REPOSITORY_OWNER"); f.InActions() && owner != "" {
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
func ociImages(push, noSign bool, subjects []provenance.Subject, allowed []string) ([]name.Digest, error) {
	if !push {
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

// listSome joins at most n names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
