package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/provenant/provenant/remote/registrytest"
)

// ociBundle is bundle-shaped JSON: the registry side never verifies.
func ociBundle(tag string) []byte {
	return []byte(fmt.Sprintf(`{"mediaType":%q,"note":%q}`, BundleMediaType, tag))
}

var created = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// onHost is img in the same repository on another host (a Front).
func onHost(t *testing.T, img name.Digest, host string) name.Digest {
	t.Helper()
	d, err := name.NewDigest(host + "/" + img.Context().RepositoryStr() + "@" + img.DigestStr())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestOCIPushFetch pushes a bundle as a referrer of a random image and
// reads it back, on the registry's referrers API and, through a front that
// answers 404 there, on the referrers tag schema; the manifest is checked
// field by field, and the fallback tag exists exactly when the front hid
// the API.
func TestOCIPushFetch(t *testing.T) {
	dist := registrytest.Start(t, registrytest.Options{})
	api := registrytest.WithReferrersAPI(t)
	front := api.NoReferrers(t)
	for _, tc := range []struct {
		name     string
		reg      *registrytest.Registry
		host     string
		fallback bool
	}{
		{"distribution v3.1.2 (no referrers API: referrers tag schema)", dist, dist.Host, true},
		{"a registry with the referrers API", api, api.Host, false},
		{"the same behind a front answering 404 on the referrers API", api, front.Host, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := tc.reg
			img := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
			at := onHost(t, img, tc.host)
			c := NewOCI(OCIOptions{Timeout: 30 * time.Second})
			before := front.Intercepted.Load()
			p, err := c.Push(context.Background(), at, ociBundle(tc.name), "https://slsa.dev/provenance/v1", created)
			if err != nil {
				t.Fatal(err)
			}
			if tc.host == front.Host && front.Intercepted.Load() == before {
				t.Fatal("the front never refused the referrers API: the fallback was not exercised")
			}
			// The manifest as the registry holds it.
			desc, err := remote.Get(onHost(t, p.Referrer, reg.Host))
			if err != nil {
				t.Fatal(err)
			}
			var m v1.Manifest
			if err := json.Unmarshal(desc.Manifest, &m); err != nil {
				t.Fatal(err)
			}
			sub, _ := remote.Head(img)
			checks := []struct{ what, got, want string }{
				{"mediaType", string(m.MediaType), string(types.OCIManifestSchema1)},
				{"artifactType", m.ArtifactType, BundleMediaType},
				{"config.mediaType", string(m.Config.MediaType), "application/vnd.oci.empty.v1+json"},
				{"config.size", fmt.Sprint(m.Config.Size), "2"},
				{"config.digest", m.Config.Digest.String(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
				{"layers", fmt.Sprint(len(m.Layers)), "1"},
				{"layer mediaType", string(m.Layers[0].MediaType), BundleMediaType},
				{"layer size", fmt.Sprint(m.Layers[0].Size), fmt.Sprint(len(ociBundle(tc.name)))},
				{"subject digest", m.Subject.Digest.String(), img.DigestStr()},
				{"subject mediaType", string(m.Subject.MediaType), string(sub.MediaType)},
				{"subject size", fmt.Sprint(m.Subject.Size), fmt.Sprint(sub.Size)},
				{"content annotation", m.Annotations[AnnotationContent], "dsse-envelope"},
				{"predicateType annotation", m.Annotations[AnnotationPredicateType], "https://slsa.dev/provenance/v1"},
				{"created annotation", m.Annotations[AnnotationCreated], "2026-07-01T12:00:00Z"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			// The fallback tag sha256-<hex> is there only without the API.
			tag := img.Context().Tag(strings.Replace(img.DigestStr(), ":", "-", 1))
			_, err = remote.Get(tag)
			if tc.fallback != (err == nil) {
				t.Errorf("fallback tag %s: present = %v, want %v", tag, err == nil, tc.fallback)
			}

			got, notes, err := c.Fetch(context.Background(), at)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || string(got[0].Bundle) != string(ociBundle(tc.name)) || len(notes) != 0 {
				t.Fatalf("fetched %d bundles (%v), notes %v", len(got), got, notes)
			}
			if got[0].PredicateType != "https://slsa.dev/provenance/v1" || got[0].Source != "oci://"+onHost(t, p.Referrer, tc.host).String() {
				t.Errorf("fetched %+v", got[0])
			}
		})
	}
}

// TestOCIFetchOnlyThisImage: two images in one repository, a bundle each;
// each image's fetch gets its own bundle only, and a referrer listed for
// an image it does not name as subject (a tampered referrers tag) is left
// out with a note.
func TestOCIFetchOnlyThisImage(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	front := reg.NoReferrers(t)
	c := NewOCI(OCIOptions{})
	ctx := context.Background()
	x := onHost(t, registrytest.PushRandomImage(t, reg.Host, "octo/app", nil), front.Host)
	y := onHost(t, registrytest.PushRandomImage(t, reg.Host, "octo/app", nil), front.Host)
	px, err := c.Push(ctx, x, ociBundle("x"), "t", created)
	if err != nil {
		t.Fatal(err)
	}
	py, err := c.Push(ctx, y, ociBundle("y"), "t", created)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		img  name.Digest
		want string
	}{{x, "x"}, {y, "y"}} {
		got, _, err := c.Fetch(ctx, tc.img)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || string(got[0].Bundle) != string(ociBundle(tc.want)) {
			t.Errorf("fetch %s: %d bundles %v, want only bundle %s", tc.img, len(got), got, tc.want)
		}
	}
	// Tamper: list y's referrer in x's referrers tag too.
	tag := x.Context().Tag(strings.Replace(x.DigestStr(), ":", "-", 1))
	idx, err := remote.Index(tag)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	yDesc, err := remote.Head(py.Referrer)
	if err != nil {
		t.Fatal(err)
	}
	yDesc.ArtifactType = BundleMediaType
	im.Manifests = append(im.Manifests, *yDesc)
	raw, _ := json.Marshal(im)
	if err := remote.Put(tag, rawManifest{raw, types.OCIImageIndex}); err != nil {
		t.Fatal(err)
	}
	got, notes, err := c.Fetch(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got[0].Bundle) != string(ociBundle("x")) || got[0].Source != "oci://"+px.Referrer.String() {
		t.Errorf("after tampering, fetch x: %v", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "its subject is "+y.DigestStr()) {
		t.Errorf("notes %q, want one naming y's digest as the other subject", notes)
	}
}

// TestOCISizeLimit: a bundle layer larger than the limit is not read.
func TestOCISizeLimit(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	img := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
	big := []byte(`{"pad":"` + strings.Repeat("a", 4096) + `"}`)
	if _, err := NewOCI(OCIOptions{}).Push(context.Background(), img, big, "t", created); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		max   int64
		want  int
		notes string
	}{
		{4096, 0, fmt.Sprintf("its bundle layer is %d bytes, more than the 4096 read", len(big))},
		{int64(len(big)), 1, ""},
		{0, 1, ""}, // the default, 64 MiB
	} {
		got, notes, err := NewOCI(OCIOptions{MaxBundleSize: tc.max}).Fetch(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want || (tc.notes != "") != (len(notes) == 1) || (tc.notes != "" && !strings.Contains(notes[0], tc.notes)) {
			t.Errorf("limit %d: %d bundles, notes %q; want %d bundles, note %q", tc.max, len(got), notes, tc.want, tc.notes)
		}
	}
	if MaxOCIBundleSize != 64<<20 {
		t.Errorf("MaxOCIBundleSize = %d, want 64 MiB", MaxOCIBundleSize)
	}
}

// TestOCIErrors: each failure is one line naming the registry and what to
// do: no or wrong credentials (401 from a registry with htpasswd), a
// missing image, a registry refusing the push, a registry failing, no
// answer in time. Right credentials through a keychain push.
func TestOCIErrors(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{Users: map[string]string{"ci": "s3cret"}})
	good := &authn.Basic{Username: "ci", Password: "s3cret"}
	img := registrytest.PushRandomImage(t, reg.Host, "octo/app", good)
	open := registrytest.Start(t, registrytest.Options{})
	openImg := registrytest.PushRandomImage(t, open.Host, "octo/app", nil)
	refuse := open.Front(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":[{"code":"MANIFEST_INVALID","message":"artifacts not accepted"}]}`)
			return true
		}
		return false
	})
	forbid := open.Front(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
			return true
		}
		return false
	})
	slow := open.Front(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return true
		}
		return false
	})
	missing := onHost(t, openImg, open.Host).Context().Digest("sha256:" + strings.Repeat("0", 64))
	for _, tc := range []struct {
		name string
		c    *OCI
		img  name.Digest
		want []string // substrings of the one-line message
	}{
		{"anonymous on a registry with authentication", NewOCI(OCIOptions{}), img, []string{reg.Host, "401", "credentials missing or refused", "docker login " + reg.Host}},
		{"wrong password", NewOCI(OCIOptions{Keychain: staticKeychain{&authn.Basic{Username: "ci", Password: "nope"}}}), img, []string{reg.Host, "401", "docker login"}},
		{"no such image", NewOCI(OCIOptions{}), missing, []string{open.Host, "404", "push the image before attesting it"}},
		{"push refused", NewOCI(OCIOptions{}), onHost(t, openImg, refuse.Host), []string{refuse.Host, "400", "MANIFEST_INVALID", "refused the attestation"}},
		{"push forbidden", NewOCI(OCIOptions{}), onHost(t, openImg, forbid.Host), []string{forbid.Host, "403", "may not push to", "packages: write"}},
		{"no answer in time", NewOCI(OCIOptions{Timeout: 300 * time.Millisecond}), onHost(t, openImg, slow.Host), []string{slow.Host, "no answer in time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.Push(context.Background(), tc.img, ociBundle("e"), "t", created)
			if err == nil {
				t.Fatal("push worked")
			}
			msg := err.Error()
			t.Log(msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line:\n%s", msg)
			}
		})
	}
	// The right credentials, through a keychain as authn.DefaultKeychain
	// would give them.
	c := NewOCI(OCIOptions{Keychain: staticKeychain{good}})
	if _, err := c.Push(context.Background(), img, ociBundle("ok"), "t", created); err != nil {
		t.Fatalf("push with credentials: %v", err)
	}
	if got, _, err := c.Fetch(context.Background(), img); err != nil || len(got) != 1 {
		t.Fatalf("fetch with credentials: %v, %d bundles", err, len(got))
	}
	if _, _, err := NewOCI(OCIOptions{}).Fetch(context.Background(), img); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("anonymous fetch from a registry with authentication: %v", err)
	}
}

// TestOCIEndlessAnswer: a registry whose referrers answer never ends (one
// endless JSON string, which no depth limit stops) costs bounded memory and
// time: the read stops at go-containerregistry's 100 MiB manifest limit,
// long before the client's timeout, with a one-line error naming the
// registry. Asserted by bytes, not time or heap: the client reads at most
// the 100 MiB and a byte of the answer (a counting transport), and the
// server writes at most socketSlack more than that (what the loopback
// socket buffers hold: Linux lets a receive buffer grow to 32 MiB).
func TestOCIEndlessAnswer(t *testing.T) {
	const (
		ggcrManifestLimit = 100 << 20
		socketSlack       = 40 << 20
	)
	open := registrytest.Start(t, registrytest.Options{})
	img := registrytest.PushRandomImage(t, open.Host, "octo/app", nil)
	var sent atomic.Int64
	endless := open.Front(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/referrers/") {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"schemaVersion":2,"manifests":"`)
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				break
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	read := &countingTransport{next: http.DefaultTransport, only: "/referrers/"}
	_, _, err := NewOCI(OCIOptions{Timeout: 80 * time.Second, Transport: read}).Fetch(ctx, onHost(t, img, endless.Host))
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), endless.Host) || !strings.Contains(err.Error(), "larger than go-containerregistry's 100 MiB manifest limit") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v (context: %v), want a one-line error naming %s before the timeout", err, ctx.Err(), endless.Host)
	}
	t.Logf("%s; the client read %d bytes of the answer, the server sent %d MiB; total allocated %d MiB", err, read.n.Load(), sent.Load()>>20, (after.TotalAlloc-before.TotalAlloc)>>20)
	if got := read.n.Load(); got < ggcrManifestLimit || got > ggcrManifestLimit+1 {
		t.Errorf("the client read %d bytes of the endless answer, want go-containerregistry's limit (%d) and at most one byte more", got, ggcrManifestLimit)
	}
	if sent.Load() > ggcrManifestLimit+socketSlack {
		t.Errorf("the server sent %d MiB before the client stopped, more than the %d MiB read and %d MiB of socket buffers", sent.Load()>>20, ggcrManifestLimit>>20, socketSlack>>20)
	}
}

// staticKeychain gives the same credentials for every registry.
type staticKeychain struct{ a authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.a, nil }

// TestParseImage: references need an explicit registry and a sha256
// digest or a tag.
func TestParseImage(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in, err string
	}{
		{"ghcr.io/octo/app@sha256:" + hex, ""},
		{"127.0.0.1:5000/octo/app:v1", ""},
		{"localhost/app:v1", ""},
		{"octo/app@sha256:" + hex, "registry host first"},
		{"app:v1", "registry host first"},
		{"ghcr.io/octo/app@sha512:" + strings.Repeat("ab", 64), "sha256"},
		{"ghcr.io/octo/App:v1", "could not parse"},
	} {
		_, err := ParseImage(tc.in)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseImage(%q) = %v, want error %q", tc.in, err, tc.err)
		}
	}
	if _, err := ParseRepository("ghcr.io/octo/app"); err != nil {
		t.Error(err)
	}
	if _, err := ParseRepository("ghcr.io/octo/app:v1"); err == nil {
		t.Error("ParseRepository took a tag")
	}
}

// pushReferrers pushes n referrers of img, each the same bundle of size
// bytes (one blob in the registry, n manifests), with predicate type pt.
func pushReferrers(t *testing.T, img name.Digest, n, size int, pt string) []byte {
	t.Helper()
	bundle := []byte(`{"mediaType":"` + BundleMediaType + `","pad":"` + strings.Repeat("a", size-len(BundleMediaType)-25) + `"}`)
	c := NewOCI(OCIOptions{Timeout: time.Minute})
	for i := 0; i < n; i++ {
		if _, err := c.Push(context.Background(), img, bundle, pt, created.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	return bundle
}

// TestOCIReferrerFlood_LimitsNamed: an image with more bundle referrers,
// or more bundle bytes across them, than a verifier reads fails with an
// error naming the limit, its value and the image, not a partial read.
func TestOCIReferrerFlood_LimitsNamed(t *testing.T) {
	reg := registrytest.WithReferrersAPI(t)
	img := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
	bundle := pushReferrers(t, img, 3, 2000, slsa)
	for _, tc := range []struct {
		name string
		o    OCIOptions
		want []string // in the error; none: no error
	}{
		{"within both limits", OCIOptions{MaxReferrers: 3, MaxTotalSize: int64(3 * len(bundle))}, nil},
		{"one referrer too many", OCIOptions{MaxReferrers: 2}, []string{"MaxReferrers", "more than 2 bundle referrers", img.String(), reg.Host}},
		{"one byte too many in all", OCIOptions{MaxTotalSize: int64(3*len(bundle) - 1)}, []string{"MaxOCITotalSize", fmt.Sprintf("more than %d bytes", 3*len(bundle)-1), img.String(), reg.Host}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			_, err := NewOCI(tc.o).Each(context.Background(), img, FetchOptions{}, func(OCIBundle) error { n++; return nil })
			if tc.want == nil {
				if err != nil || n != 3 {
					t.Fatalf("%d bundles, %v; want 3", n, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%d bundles read, no error", n)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	if MaxOCITotalSize != 256<<20 || MaxReferrers != 100 {
		t.Errorf("MaxOCITotalSize %d, MaxReferrers %d", MaxOCITotalSize, MaxReferrers)
	}
}

// TestOCIReferrerFlood_PredicateTypeNotAskedForIsNotRead: referrers whose
// predicateType annotation names a type nobody asked for are left out
// before their bundle is downloaded, so they cost neither memory nor the
// total limit.
func TestOCIReferrerFlood_PredicateTypeNotAskedForIsNotRead(t *testing.T) {
	reg := registrytest.WithReferrersAPI(t)
	img := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
	pushReferrers(t, img, 5, 4000, "https://spdx.dev/Document")
	want := pushReferrers(t, img, 1, 3000, slsa)
	var got [][]byte
	notes, err := NewOCI(OCIOptions{MaxTotalSize: 3000}).Each(context.Background(), img, FetchOptions{PredicateTypes: []string{slsa}}, func(b OCIBundle) error {
		got = append(got, b.Bundle)
		return nil
	})
	if err != nil || len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Fatalf("%d bundles, %v", len(got), err)
	}
	if len(notes) != 5 || !strings.Contains(notes[0], `its predicateType annotation is "https://spdx.dev/Document", not one asked for`) {
		t.Errorf("notes %q", notes)
	}
}

// TestOCIReferrerFlood_OneBundleAtATime: Each holds one referrer's bundle
// at a time: the live heap while fn runs (after a GC) stays within a few
// bundles however many referrers there are. Fetch, which keeps them all,
// grows with their number.
func TestOCIReferrerFlood_OneBundleAtATime(t *testing.T) {
	const n, size = 12, 4 << 20
	reg := registrytest.WithReferrersAPI(t)
	img := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
	pushReferrers(t, img, n, size, slsa)
	c := NewOCI(OCIOptions{Timeout: time.Minute})
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var peak uint64
	read := 0
	_, err := c.Each(context.Background(), img, FetchOptions{}, func(b OCIBundle) error {
		read++
		runtime.GC()
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
		runtime.KeepAlive(b.Bundle)
		return nil
	})
	if err != nil || read != n {
		t.Fatalf("%d bundles, %v", read, err)
	}
	grew := int64(peak) - int64(base)
	t.Logf("%d referrers of %d MiB: live heap grew by at most %d MiB while reading them", n, size>>20, grew>>20)
	if grew > 4*size {
		t.Errorf("live heap grew by %d MiB reading %d referrers one at a time, more than 4 bundles (%d MiB)", grew>>20, n, 4*size>>20)
	}
	// The measurement can tell: Fetch keeps every bundle.
	all, _, err := c.Fetch(context.Background(), img)
	runtime.GC()
	runtime.ReadMemStats(&m)
	held := int64(m.HeapAlloc) - int64(base)
	runtime.KeepAlive(all)
	if err != nil || held < n/2*size {
		t.Errorf("Fetch of %d referrers: the live heap grew by %d MiB only (%v): the measurement cannot tell", n, held>>20, err)
	}
}

// TestOCI_CosignAnnotationIsNotAType: cosign v2.6 annotates every referrer
// it pushes, attestations included, with its sign type; skipping on it hid
// cosign's attestations from verify oci:// (seen on the local stack).
func TestOCI_CosignAnnotationIsNotAType(t *testing.T) {
	want := []string{"https://slsa.dev/provenance/v1"}
	for _, tc := range []struct {
		annotation string
		skip       bool
	}{
		{"", false},
		{"https://slsa.dev/provenance/v1", false},
		{"https://sigstore.dev/cosign/sign/v1", false},
		{"https://example.test/other/v1", true},
	} {
		if got := skipByAnnotation(tc.annotation, want); got != tc.skip {
			t.Errorf("skipByAnnotation(%q) = %v, want %v", tc.annotation, got, tc.skip)
		}
	}
	if skipByAnnotation("https://example.test/other/v1", nil) {
		t.Error("skipped with no type asked for")
	}
}
