package remote

// oci.go: OCI registries as a home for attestations. A Sigstore bundle is
// pushed as an OCI 1.1 referrer of its image (a manifest whose subject is
// the image), as cosign attest --new-bundle-format and GitHub's
// actions/attest push-to-registry do, and read back by listing the image's
// referrers. Registries without the referrers API get the referrers tag
// schema (an index tagged sha256-<hex>), which go-containerregistry writes
// and reads itself (remote.Put of a manifest with a subject, remote.Referrers).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/provenant/provenant/internal/httplimit"
)

// OCI media types and annotations of a Sigstore bundle referrer, as cosign
// (WriteAttestationNewBundleFormat) and actions/attest write them.
const (
	// BundleMediaType is the referrer's artifactType and its layer's media type.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// AnnotationContent says what the bundle holds: "dsse-envelope".
	AnnotationContent = "dev.sigstore.bundle.content"
	// AnnotationPredicateType is the attested predicate type.
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	// AnnotationCreated is when the referrer was made (RFC 3339).
	AnnotationCreated = "org.opencontainers.image.created"
)

// MaxOCIBundleSize bounds one bundle layer read from a registry: 64 MiB,
// as verifier.MaxBundleFileSize bounds a bundle file.
const MaxOCIBundleSize = 64 << 20

// MaxOCIAnswerSize, with the bundle limit, bounds any one answer of a
// registry: above go-containerregistry's own 100 MiB manifest limit.
const MaxOCIAnswerSize = 101 << 20

// MaxReferrers bounds the bundle referrers of one image that are read.
const MaxReferrers = 100

// MaxOCITotalSize bounds the bundle bytes read across the referrers of one
// image: 256 MiB, four bundles of the largest size read. What verify keeps
// of them is bounded by it too.
const MaxOCITotalSize = 256 << 20

// emptyJSON is the OCI empty descriptor's content (application/vnd.oci.empty.v1+json).
var emptyJSON = []byte("{}")

// OCIOptions configures a registry client.
type OCIOptions struct {
	// Keychain finds credentials for a registry (authn.DefaultKeychain:
	// the Docker config and its credential helpers); nil is anonymous.
	Keychain authn.Keychain
	// Transport carries the requests; nil is go-containerregistry's default.
	Transport http.RoundTripper
	// Timeout bounds one Push, Fetch or Resolve; 0 is two minutes.
	Timeout time.Duration
	// UserAgent names the client to the registry.
	UserAgent string
	// MaxBundleSize bounds one bundle layer read; 0 is MaxOCIBundleSize.
	MaxBundleSize int64
	// MaxReferrers bounds the candidate referrers of one image read; 0 is
	// MaxReferrers.
	MaxReferrers int
	// MaxTotalSize bounds the bundle bytes read across the referrers of
	// one image; 0 is MaxOCITotalSize.
	MaxTotalSize int64
}

// OCI pushes bundles to and fetches them from OCI registries.
type OCI struct {
	opts      []remote.Option
	timeout   time.Duration
	max       int64
	referrers int
	total     int64
}

// NewOCI returns a registry client.
func NewOCI(o OCIOptions) *OCI {
	c := &OCI{timeout: o.Timeout, max: o.MaxBundleSize, referrers: o.MaxReferrers, total: o.MaxTotalSize}
	if c.timeout <= 0 {
		c.timeout = 2 * time.Minute
	}
	if c.max <= 0 {
		c.max = MaxOCIBundleSize
	}
	if c.referrers <= 0 {
		c.referrers = MaxReferrers
	}
	if c.total <= 0 {
		c.total = MaxOCITotalSize
	}
	if o.Keychain != nil {
		c.opts = append(c.opts, remote.WithAuthFromKeychain(o.Keychain))
	} else {
		c.opts = append(c.opts, remote.WithAuth(authn.Anonymous))
	}
	// go-containerregistry cuts manifests at 100 MiB and this package
	// the bundle layer at c.max; the rest it reads unbounded (a token
	// server's answer, an error's body) is cut here, above both.
	next := o.Transport
	if next == nil {
		next = remote.DefaultTransport
	}
	c.opts = append(c.opts, remote.WithTransport(httplimit.Transport(next, MaxOCIAnswerSize+c.max)))
	if o.UserAgent != "" {
		c.opts = append(c.opts, remote.WithUserAgent(o.UserAgent))
	}
	return c
}

// ParseImage parses an image reference, registry/repository@sha256:<hex>
// or registry/repository:tag. The registry must be explicit (a host with a
// dot or a port, or localhost), so that a name is never sent to Docker Hub
// by default.
func ParseImage(s string) (name.Reference, error) {
	if err := explicitRegistry(s); err != nil {
		return nil, err
	}
	ref, err := name.ParseReference(s, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", s, err)
	}
	if d, ok := ref.(name.Digest); ok && !strings.HasPrefix(d.DigestStr(), "sha256:") {
		return nil, fmt.Errorf("image %q: want a sha256 digest", s)
	}
	return ref, nil
}

// ParseRepository parses registry/repository (a tag or digest is refused:
// the digest is given apart).
func ParseRepository(s string) (name.Repository, error) {
	if err := explicitRegistry(s); err != nil {
		return name.Repository{}, err
	}
	repo, err := name.NewRepository(s, name.StrictValidation)
	if err != nil {
		return name.Repository{}, fmt.Errorf("image name %q: want registry/repository: %w", s, err)
	}
	return repo, nil
}

// explicitRegistry refuses a name whose first part is no registry host.
func explicitRegistry(s string) error {
	host, rest, ok := strings.Cut(s, "/")
	if !ok || rest == "" || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return fmt.Errorf("image %q: want registry/repository with the registry host first (e.g. ghcr.io/owner/app)", s)
	}
	return nil
}

// Resolve returns the digest a reference names: itself for a digest, the
// registry's answer for a tag.
func (c *OCI) Resolve(ctx context.Context, ref name.Reference) (name.Digest, error) {
	if d, ok := ref.(name.Digest); ok {
		return d, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	op := "resolving " + ref.String()
	desc, err := remote.Head(ref, c.with(ctx)...)
	if err != nil {
		return name.Digest{}, c.wrap(ref.Context(), op, opRead, err)
	}
	return ref.Context().Digest(desc.Digest.String()), nil
}

// Pushed is a bundle pushed as a referrer.
type Pushed struct {
	// Image is the image the bundle refers to.
	Image name.Digest
	// Referrer is the referrer manifest, repository@sha256:<hex>.
	Referrer name.Digest
}

// Push pushes bundleJSON as an OCI 1.1 referrer of img: a manifest with
// artifactType BundleMediaType, the empty config, the bundle as its one
// layer, img's descriptor as subject and the annotations cosign writes.
// A registry without the referrers API gets the referrers tag schema.
func (c *OCI) Push(ctx context.Context, img name.Digest, bundleJSON []byte, predicateType string, created time.Time) (Pushed, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	repo := img.Context()
	opts := c.with(ctx)
	subject, err := remote.Head(img, opts...)
	if err != nil {
		return Pushed{}, c.wrap(repo, "reading the image "+img.String(), opImage, err)
	}
	if subject.Digest.String() != img.DigestStr() {
		return Pushed{}, &Error{Remote: repo.RegistryStr(), Op: "reading the image " + img.String(), Reason: "it answered for digest " + subject.Digest.String()}
	}
	config := static.NewLayer(emptyJSON, types.OCIEmptyJSON)
	layer := static.NewLayer(bundleJSON, types.MediaType(BundleMediaType))
	op := "pushing the attestation to " + repo.String()
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(repo, l, opts...); err != nil {
			return Pushed{}, c.wrap(repo, op, opUpload, err)
		}
	}
	configDesc, _ := descriptorOf(config)
	layerDesc, _ := descriptorOf(layer)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  BundleMediaType,
		Config:        configDesc,
		Layers:        []v1.Descriptor{layerDesc},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Size: subject.Size, Digest: subject.Digest},
		Annotations: map[string]string{
			AnnotationContent:       "dsse-envelope",
			AnnotationPredicateType: predicateType,
			AnnotationCreated:       created.UTC().Format(time.RFC3339),
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return Pushed{}, fmt.Errorf("%s: %w", op, err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return Pushed{}, fmt.Errorf("%s: %w", op, err)
	}
	ref := repo.Digest(h.String())
	// remote.Put of a manifest with a subject also updates the referrers
	// tag (sha256-<hex>) when the registry has no referrers API.
	if err := remote.Put(ref, rawManifest{raw, types.OCIManifestSchema1}, opts...); err != nil {
		return Pushed{}, c.wrap(repo, op, opUpload, err)
	}
	return Pushed{Image: img, Referrer: ref}, nil
}

// descriptorOf describes a static layer (its digest and size cannot fail).
func descriptorOf(l v1.Layer) (v1.Descriptor, error) {
	mt, err := l.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := l.Size()
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}, err
}

// rawManifest is a manifest to Put as it is.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

// RawManifest returns the manifest's bytes.
func (r rawManifest) RawManifest() ([]byte, error) { return r.raw, nil }

// MediaType returns the manifest's media type.
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// OCIBundle is a bundle read from a registry.
type OCIBundle struct {
	// Source names it: oci://registry/repository@<referrer digest>.
	Source string
	// Bundle is the bundle's JSON.
	Bundle []byte
	// PredicateType is the referrer's predicateType annotation, as the
	// registry says it (the verifier reads the real one from the bundle).
	PredicateType string
}

// Fetch lists img's referrers (through the referrers API, or the
// referrers tag where the registry lacks it) and, for each of artifactType
// BundleMediaType, reads its bundle layer, at most MaxBundleSize bytes. A
// referrer that cannot be used (another subject, no bundle layer, too
// large) is left out and said in notes. Nothing is verified here. It holds
// every bundle read: Each reads one at a time.
func (c *OCI) Fetch(ctx context.Context, img name.Digest) (bundles []OCIBundle, notes []string, err error) {
	notes, err = c.Each(ctx, img, FetchOptions{}, func(b OCIBundle) error {
		bundles = append(bundles, b)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return bundles, notes, nil
}

// FetchOptions say which referrers Each reads.
type FetchOptions struct {
	// PredicateTypes, when not empty, are the predicate types wanted: a
	// referrer whose predicateType annotation names another is not read
	// (a note says so). The annotation is the registry's word, so it only
	// ever leaves a bundle out; one without it is read.
	PredicateTypes []string
}

// Each lists img's referrers as Fetch does and hands each usable bundle to
// fn, one at a time: the next is read only once fn returned, so a bundle
// fn does not keep is garbage by then. It reads at most MaxReferrers
// candidates and MaxTotalSize bundle bytes across them, and fails with an
// *Error naming the limit, its value and the image when the registry
// lists more; an error of fn stops it and is returned as it is.
func (c *OCI) Each(ctx context.Context, img name.Digest, o FetchOptions, fn func(OCIBundle) error) (notes []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	repo := img.Context()
	opts := c.with(ctx)
	op := "listing the referrers of " + img.String()
	// No artifactType filter: registries differ in what they list as a
	// referrer's artifactType (go-containerregistry's lists the config's
	// media type), so each candidate's manifest is read and checked.
	idx, err := remote.Referrers(img, opts...)
	if err != nil {
		return nil, c.wrap(repo, op, opRead, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, c.wrap(repo, op, opRead, err)
	}
	read := 0
	var total int64
	for _, desc := range im.Manifests {
		if !maybeBundle(desc) {
			continue
		}
		if pt := desc.Annotations[AnnotationPredicateType]; skipByAnnotation(pt, o.PredicateTypes) {
			notes = append(notes, fmt.Sprintf("oci://%s: skipped: its predicateType annotation is %q, not one asked for", repo.Digest(desc.Digest.String()), pt))
			continue
		}
		if read == c.referrers {
			return nil, &Error{Remote: repo.RegistryStr(), Op: "reading the referrers of " + img.String(),
				Reason: fmt.Sprintf("more than %d bundle referrers (the limit MaxReferrers is %d; %d referrers listed in all)", c.referrers, c.referrers, len(im.Manifests)),
				Hint:   "not all of them can be read: remove the stale ones from the registry"}
		}
		read++
		b, note, err := c.fetchOne(opts, img, repo.Digest(desc.Digest.String()), o, c.total-total)
		switch {
		case err != nil:
			return nil, err
		case note != "":
			notes = append(notes, note)
		case b.Bundle != nil:
			total += int64(len(b.Bundle))
			if err := fn(b); err != nil {
				return nil, err
			}
		}
	}
	return notes, nil
}

// totalLimitError is the total-bytes limit of Each hit at img.
func (c *OCI) totalLimitError(img name.Digest) error {
	return &Error{Remote: img.RegistryStr(), Op: "reading the referrers of " + img.String(),
		Reason: fmt.Sprintf("their bundles total more than %d bytes (the limit MaxOCITotalSize is %d MiB)", c.total, c.total>>20),
		Hint:   "not all of them can be read: remove the stale ones from the registry"}
}

// maybeBundle says whether a listed referrer may be a bundle: its
// artifactType is the bundle's, or none the registry names (empty, or the
// empty config's media type).
func maybeBundle(d v1.Descriptor) bool {
	switch d.ArtifactType {
	case BundleMediaType, "", string(types.OCIEmptyJSON):
		return true
	}
	return false
}

// fetchOne reads one referrer manifest and its bundle layer. A referrer
// that is not a usable bundle gives a note; a registry failure an error.
// left is what the total limit leaves: a layer larger fails Each.
func (c *OCI) fetchOne(opts []remote.Option, img name.Digest, ref name.Digest, o FetchOptions, left int64) (OCIBundle, string, error) {
	repo := img.Context()
	source := "oci://" + ref.String()
	got, err := remote.Get(ref, opts...)
	if err != nil {
		return OCIBundle{}, "", c.wrap(repo, "reading the referrer "+ref.String(), opRead, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(got.Manifest, &m); err != nil {
		return OCIBundle{}, fmt.Sprintf("%s: skipped: not a manifest: %v", source, err), nil
	}
	if m.ArtifactType != BundleMediaType {
		return OCIBundle{}, "", nil // another kind of referrer (a signature, an SBOM): not ours to read
	}
	if pt := m.Annotations[AnnotationPredicateType]; skipByAnnotation(pt, o.PredicateTypes) {
		return OCIBundle{}, fmt.Sprintf("%s: skipped: its predicateType annotation is %q, not one asked for", source, pt), nil
	}
	if m.Subject == nil || m.Subject.Digest.String() != img.DigestStr() {
		subject := "none"
		if m.Subject != nil {
			subject = m.Subject.Digest.String()
		}
		return OCIBundle{}, fmt.Sprintf("%s: skipped: its subject is %s, not %s", source, subject, img.DigestStr()), nil
	}
	var layer *v1.Descriptor
	for i := range m.Layers {
		if m.Layers[i].MediaType == BundleMediaType {
			layer = &m.Layers[i]
			break
		}
	}
	switch {
	case layer == nil:
		return OCIBundle{}, fmt.Sprintf("%s: skipped: no layer of media type %s", source, BundleMediaType), nil
	case layer.Size > c.max || layer.Size < 0:
		return OCIBundle{}, fmt.Sprintf("%s: skipped: its bundle layer is %d bytes, more than the %d read", source, layer.Size, c.max), nil
	case layer.Size > left:
		return OCIBundle{}, "", c.totalLimitError(img)
	}
	blob := repo.Digest(layer.Digest.String())
	l, err := remote.Layer(blob, opts...)
	if err == nil {
		var rc io.ReadCloser
		if rc, err = l.Compressed(); err == nil {
			defer rc.Close()
			// Exactly the size the manifest gives (at most c.max, and what
			// the total limit leaves), read into one buffer: no growing
			// copies of a large bundle.
			data := make([]byte, layer.Size)
			var n int
			n, err = io.ReadFull(rc, data)
			var one [1]byte
			switch {
			case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) && layer.Size > 0:
				return OCIBundle{}, fmt.Sprintf("%s: skipped: its bundle layer is %d bytes, the manifest says %d", source, n, layer.Size), nil
			case err != nil:
			default:
				if extra, _ := rc.Read(one[:]); extra > 0 {
					return OCIBundle{}, fmt.Sprintf("%s: skipped: its bundle layer is longer than the %d bytes the manifest says", source, layer.Size), nil
				}
				if h, _, herr := v1.SHA256(bytes.NewReader(data)); herr != nil || h != layer.Digest {
					return OCIBundle{}, fmt.Sprintf("%s: skipped: its bundle layer does not have digest %s", source, layer.Digest), nil
				}
				return OCIBundle{Source: source, Bundle: data, PredicateType: m.Annotations[AnnotationPredicateType]}, "", nil
			}
		}
	}
	return OCIBundle{}, "", c.wrap(repo, "reading the bundle layer of "+ref.String(), opRead, err)
}

// with is the client's options for one operation under ctx.
func (c *OCI) with(ctx context.Context) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx)}, c.opts...)
}

// opImage is reading the image an attestation is pushed for.
const opImage opKind = 100

// wrap turns a registry failure into an *Error naming the registry and
// what to do.
func (c *OCI) wrap(repo name.Repository, op string, kind opKind, err error) error {
	host := repo.RegistryStr()
	var terr *transport.Error
	if strings.Contains(err.Error(), "body exceeds") && strings.Contains(err.Error(), "byte limit") {
		// go-containerregistry's manifest limit (internal/limit: a plain
		// error, no type to match; TestOCIEndlessAnswer pins the text).
		return &Error{Remote: host, Op: op, Reason: "the answer is larger than go-containerregistry's 100 MiB manifest limit", Hint: "not a registry as it answers, or a proxy in the way: check the image's registry", Err: err}
	}
	if !errors.As(err, &terr) {
		return networkError(host, op, err)
	}
	e := &Error{Remote: host, Op: op, Status: terr.StatusCode, Reason: registryReason(terr), Err: err}
	login := "docker login " + host + " (credentials come from the Docker config and its credential helpers)"
	switch status := terr.StatusCode; {
	case status == http.StatusUnauthorized:
		e.Hint = "credentials missing or refused: " + login
	case status == http.StatusForbidden && kind == opUpload:
		e.Hint = "the credentials may not push to " + repo.String() + " (in a workflow: permissions: packages: write, and a login to the registry)"
	case status == http.StatusForbidden:
		e.Hint = "the credentials may not read " + repo.String() + ": " + login
	case status == http.StatusNotFound && kind == opImage:
		e.Hint = "no such image: push the image before attesting it, and check subject-name and subject-digest"
	case status == http.StatusNotFound:
		e.Hint = "no such repository or image, or it is private: " + login
	case status == http.StatusTooManyRequests:
		e.Hint = "rate limited: wait and run again"
	case kind == opUpload && (status == http.StatusBadRequest || status == http.StatusMethodNotAllowed || status == http.StatusConflict || status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType):
		e.Hint = "the registry refused the attestation (does it take OCI 1.1 artifacts with a subject?)"
	case status >= 500:
		e.Hint = host + " failed on its side: run again later"
	}
	return e
}

// registryReason is the registry's own word on a failure, short.
func registryReason(terr *transport.Error) string {
	var parts []string
	for _, d := range terr.Errors {
		s := strings.TrimSpace(string(d.Code) + " " + d.Message)
		if s != "" {
			parts = append(parts, s)
		}
	}
	s := strings.Join(parts, "; ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// cosignSignType is the predicateType annotation cosign (v2.6, new bundle
// format) writes on every referrer it pushes, attestations included: it
// says nothing of the attested predicate type.
const cosignSignType = "https://sigstore.dev/cosign/sign/v1"

// skipByAnnotation reports whether a referrer's predicateType annotation
// names a type that none of wanted is, so it need not be read. An empty
// annotation, or cosign's, which names no attested type, is read.
func skipByAnnotation(annotation string, wanted []string) bool {
	return annotation != "" && annotation != cosignSignType && len(wanted) > 0 && !slices.Contains(wanted, annotation)
}
