package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// digestOf is a fake image digest made of one repeated hex character.
func digestOf(c string) string { return "sha256:" + strings.Repeat(c, 64) }

// fakeResolver resolves every tag to the digest of its map, else fails.
type fakeResolver struct {
	tags  map[string]string // "registry/repo:tag" → digest
	calls atomic.Int64
	block chan struct{} // when set, Resolve waits for it (or ctx)
}

func (r *fakeResolver) Resolve(ctx context.Context, ref name.Reference) (name.Digest, error) {
	r.calls.Add(1)
	if d, ok := ref.(name.Digest); ok {
		return d, nil
	}
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return name.Digest{}, ctx.Err()
		}
	}
	d, ok := r.tags[ref.String()]
	if !ok {
		return name.Digest{}, fmt.Errorf("resolving %s: no such tag", ref)
	}
	return ref.Context().Digest(d), nil
}

// fakeVerify counts calls per digest and answers by verdicts (default:
// allowed by provenance).
type fakeVerify struct {
	mu       sync.Mutex
	calls    map[string]int
	total    atomic.Int64
	verdicts map[string]Verdict // by digest "sha256:…"
	block    chan struct{}      // when set, each call waits for it (or ctx)
	stage    string
}

func newFakeVerify() *fakeVerify {
	return &fakeVerify{calls: map[string]int{}, verdicts: map[string]Verdict{}}
}

func (f *fakeVerify) verify(ctx context.Context, img name.Digest, stage func(string)) Verdict {
	f.total.Add(1)
	f.mu.Lock()
	f.calls[img.DigestStr()]++
	v, ok := f.verdicts[img.DigestStr()]
	f.mu.Unlock()
	if f.stage != "" {
		stage(f.stage)
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return Verdict{Reason: ReasonTimeout, Check: "deadline", Message: ctx.Err().Error()}
		}
	}
	if !ok {
		v = Verdict{Allowed: true, Reason: ReasonProvenance, Signers: []string{"https://github.com/o/app/.github/workflows/release.yml@refs/tags/v1"}, SourceRepositoryIDs: []string{"42"}}
	}
	return v
}

func (f *fakeVerify) callsOf(d string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[d]
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testServer is a webhook over TLS with fakes behind it.
type testServer struct {
	srv      *httptest.Server
	engine   *Engine
	verify   *fakeVerify
	resolver *fakeResolver
	metrics  *Metrics
}

type serverOptions struct {
	handler  HandlerOptions
	engine   EngineOptions
	verify   *fakeVerify
	resolver *fakeResolver
}

func startServer(t *testing.T, o serverOptions) *testServer {
	t.Helper()
	if o.verify == nil {
		o.verify = newFakeVerify()
	}
	if o.resolver == nil {
		o.resolver = &fakeResolver{}
	}
	o.engine.Resolver = o.resolver
	m := NewMetrics()
	o.engine.Metrics = m
	e, err := NewEngine(o.engine, State{PolicyDigest: "sha256:policy1", RootDigest: "sha256:root1", Verify: o.verify.verify})
	if err != nil {
		t.Fatal(err)
	}
	o.handler.Engine, o.handler.Metrics = e, m
	h, err := NewHandler(o.handler)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return &testServer{srv: srv, engine: e, verify: o.verify, resolver: o.resolver, metrics: m}
}

// pod is a Pod's JSON with the given containers' images.
func pod(images ...string) []byte {
	p := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "apps"}}
	for i, im := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: im})
	}
	b, _ := json.Marshal(p)
	return b
}

var podKind = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}

// reviewOf is an AdmissionReview of a CREATE of object in namespace ns.
func reviewOf(uid string, gvk metav1.GroupVersionKind, ns string, object []byte) []byte {
	r := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID(uid), Kind: gvk, Namespace: ns, Name: "x",
			Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: object}},
	}
	b, _ := json.Marshal(r)
	return b
}

// post sends body to path and decodes the answer.
func (s *testServer) post(t *testing.T, path string, body []byte) (*admissionv1.AdmissionReview, int) {
	t.Helper()
	resp, err := s.srv.Client().Post(s.srv.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s: answer %d is no AdmissionReview: %v\n%s", path, resp.StatusCode, err, data)
	}
	if out.Response == nil {
		t.Fatalf("POST %s: answer without a response:\n%s", path, data)
	}
	return &out, resp.StatusCode
}

// message is the denial's message, or "".
func message(r *admissionv1.AdmissionReview) string {
	if r.Response.Result == nil {
		return ""
	}
	return r.Response.Result.Message
}
