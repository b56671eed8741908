package admission

import (
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSingleFlight: one verification per distinct digest, within a
// request (8 containers of one image, by tag and by digest) and across
// concurrent requests (100 pods of one new image).
func TestSingleFlight(t *testing.T) {
	d := digestOf("c")
	byDigest := "example.com/app@" + d
	byTag := "example.com/app:v1"
	tests := []struct {
		name     string
		requests int
		images   []string
		// waiting is how many lookups miss the cache while the
		// verification is held: every request's every distinct reference.
		waiting int
	}{
		{"100 pods of one image", 100, []string{byDigest}, 100},
		{"8 containers of one image", 1, []string{byDigest, byDigest, byDigest, byDigest, byDigest, byDigest, byDigest, byDigest}, 1},
		{"50 pods by tag and digest", 50, []string{byTag, byDigest, byTag, byDigest}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVerify()
			fv.block = make(chan struct{})
			s := startServer(t, serverOptions{verify: fv, resolver: &fakeResolver{tags: map[string]string{byTag: d}}})
			var wg sync.WaitGroup
			denied := make(chan string, tt.requests)
			for i := range tt.requests {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, _ := s.post(t, "/validate", reviewOf(fmt.Sprint("u", i), podKind, "apps", pod(tt.images...)))
					if !out.Response.Allowed {
						denied <- message(out)
					}
				}()
			}
			// Release the verification once every request waits for it.
			misses := s.metrics.cacheLookups.WithLabelValues("miss")
			for deadline := time.Now().Add(time.Minute); testutil.ToFloat64(misses) < float64(tt.waiting); {
				if time.Now().After(deadline) {
					t.Errorf("only %v of %d lookups reached the engine", testutil.ToFloat64(misses), tt.waiting)
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			close(fv.block)
			wg.Wait()
			close(denied)
			for m := range denied {
				t.Errorf("denied: %s", m)
			}
			if n := fv.total.Load(); n != 1 {
				t.Errorf("%d verifications, want 1", n)
			}
		})
	}
}

// memFS is a FileSystem of one file with a settable time.
type memFS struct {
	mu    sync.Mutex
	data  []byte
	mtime time.Time
	err   error
}

func (m *memFS) set(data string, mtime time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data, m.mtime = []byte(data), mtime
}

type memInfo struct {
	fs.FileInfo
	size  int64
	mtime time.Time
}

func (i memInfo) Size() int64        { return i.size }
func (i memInfo) ModTime() time.Time { return i.mtime }

func (m *memFS) Stat(string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	return memInfo{size: int64(len(m.data)), mtime: m.mtime}, nil
}

func (m *memFS) ReadFile(string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.data...), m.err
}

// emptyRevocations is a fake clock and a revocation file revoking
// nothing, written an hour ago, with its watcher.
func emptyRevocations(t *testing.T) (*fakeClock, *memFS, *RevocationWatcher) {
	t.Helper()
	clock := newFakeClock()
	rev := &memFS{}
	rev.set("digests: []\n", clock.Now().Add(-time.Hour))
	w, err := NewRevocationWatcher("revoked.yaml", rev, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return clock, rev, w
}

// TestCacheKey: a verdict is reused only under everything it depends on;
// a change of policy, trusted roots or revocation list, or the expiry it
// relied on, is a miss (no stale allow), and a negative verdict is kept
// briefly.
func TestCacheKey(t *testing.T) {
	img := "example.com/app@" + digestOf("d")
	tests := []struct {
		name      string
		negative  bool
		change    func(s *testServer, clock *fakeClock, rev *memFS)
		wantCalls int64
	}{
		{"nothing changed: hit", false, func(*testServer, *fakeClock, *memFS) {}, 1},
		{"policy changed: miss", false, func(s *testServer, _ *fakeClock, _ *memFS) {
			st := *s.engine.state.Load()
			st.PolicyDigest = "sha256:policy2"
			s.engine.SetState(st)
		}, 2},
		{"trusted root changed: miss", false, func(s *testServer, _ *fakeClock, _ *memFS) {
			st := *s.engine.state.Load()
			st.RootDigest = "sha256:root2"
			s.engine.SetState(st)
		}, 2},
		{"revocation list changed: miss", false, func(_ *testServer, c *fakeClock, rev *memFS) {
			rev.set("digests: ["+digestOf("e")+"]\n", c.Now())
		}, 2},
		{"TTL passed: miss", false, func(_ *testServer, c *fakeClock, _ *memFS) { c.Add(11 * time.Minute) }, 2},
		{"roots' expiry passed: miss", false, func(s *testServer, c *fakeClock, _ *memFS) {
			// The state's NotAfter was a minute ahead (below).
			c.Add(61 * time.Second)
		}, 2},
		{"negative kept briefly: hit", true, func(_ *testServer, c *fakeClock, _ *memFS) { c.Add(10 * time.Second) }, 1},
		{"negative expired: miss", true, func(_ *testServer, c *fakeClock, _ *memFS) { c.Add(31 * time.Second) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock, rev, w := emptyRevocations(t)
			fv := newFakeVerify()
			if tt.negative {
				fv.verdicts[digestOf("d")] = Verdict{Reason: ReasonFailed, Check: "subject", Message: "no subject"}
			}
			s := startServer(t, serverOptions{verify: fv, engine: EngineOptions{Revocations: w, Cache: NewCache(CacheOptions{Now: clock.Now})}})
			st := *s.engine.state.Load()
			st.NotAfter = clock.Now().Add(time.Minute)
			s.engine.SetState(st)
			first, _ := s.post(t, "/validate", reviewOf("u1", podKind, "apps", pod(img)))
			tt.change(s, clock, rev)
			second, _ := s.post(t, "/validate", reviewOf("u2", podKind, "apps", pod(img)))
			if n := fv.total.Load(); n != tt.wantCalls {
				t.Errorf("%d verifications, want %d", n, tt.wantCalls)
			}
			if first.Response.Allowed == tt.negative || second.Response.Allowed == tt.negative {
				t.Errorf("allowed %v then %v, want %v", first.Response.Allowed, second.Response.Allowed, !tt.negative)
			}
			if tt.negative && !strings.Contains(message(second), "no subject") {
				t.Errorf("cached denial %q lost its reason", message(second))
			}
		})
	}
}

// TestCacheBounds: the cache holds at most MaxEntries (the least
// recently used go first) and nothing past the expiry given.
func TestCacheBounds(t *testing.T) {
	clock := newFakeClock()
	c := NewCache(CacheOptions{MaxEntries: 2, Now: clock.Now})
	k := func(s string) CacheKey { return CacheKey{Digest: s} }
	allow := Verdict{Allowed: true}
	c.Put(k("a"), allow, time.Time{})
	c.Put(k("b"), allow, time.Time{})
	c.Get(k("a"))
	c.Put(k("c"), allow, time.Time{})
	c.Put(k("d"), allow, clock.Now().Add(time.Second))
	c.Put(k("e"), Verdict{Allowed: true, NotAfter: clock.Now().Add(-time.Second)}, time.Time{})
	clock.Add(2 * time.Second)
	tests := []struct {
		key  string
		want bool
	}{
		{"a", false}, // evicted: b was used less recently, then a by d
		{"b", false},
		{"c", true},
		{"d", false}, // past the expiry given
		{"e", false}, // already expired: not kept
	}
	for _, tt := range tests {
		if _, ok := c.Get(k(tt.key)); ok != tt.want {
			t.Errorf("Get(%s) = %v, want %v", tt.key, ok, tt.want)
		}
	}
	if n := c.Len(); n > 2 {
		t.Errorf("%d entries, want at most 2", n)
	}
}

// TestRevocation: a change of the revocation file takes effect on the
// next request, for a digest, a signer (one ref or every ref) and a
// source repository, in YAML or JSON; an unreadable list denies.
func TestRevocation(t *testing.T) {
	d := digestOf("f")
	img := "example.com/app@" + d
	tests := []struct {
		name    string
		file    string
		wantMsg string
	}{
		{"digest (YAML)", "digests:\n  - " + d + "\n", "the digest " + d + " is revoked"},
		{"digest (JSON)", `{"digests": ["` + d + `"]}`, "the digest " + d + " is revoked"},
		{"signer", "signers: [\"https://github.com/o/app/.github/workflows/release.yml@refs/tags/v1\"]", "its signer"},
		{"signer, every ref", "signers: [\"https://github.com/o/app/.github/workflows/release.yml\"]", "its signer"},
		{"source repository", `{"sourceRepositoryIds": ["42"]}`, "source repository (id 42) is revoked"},
		{"unparsable list", "digests: [sha256:short]", "revocation list cannot be read"},
		{"misspelt key", "digest: [" + d + "]", "revocation list cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock, rev, w := emptyRevocations(t)
			s := startServer(t, serverOptions{engine: EngineOptions{Revocations: w, Cache: NewCache(CacheOptions{Now: clock.Now})}})
			if out, _ := s.post(t, "/validate", reviewOf("u1", podKind, "apps", pod(img))); !out.Response.Allowed {
				t.Fatalf("denied before the revocation: %s", message(out))
			}
			clock.Add(time.Second)
			rev.set(tt.file, clock.Now())
			out, _ := s.post(t, "/validate", reviewOf("u2", podKind, "apps", pod(img)))
			if out.Response.Allowed {
				t.Fatalf("allowed after the revocation")
			}
			if m := message(out); !strings.Contains(m, tt.wantMsg) || !strings.Contains(m, d) {
				t.Errorf("message %q, want it to name %q and the digest", m, tt.wantMsg)
			}
		})
	}
}

// TestRevocationSameSizeRewrite: a rewrite of the same size within the
// clock's resolution is still seen (the file is read again while its
// time is recent).
func TestRevocationSameSizeRewrite(t *testing.T) {
	clock := newFakeClock()
	rev := &memFS{}
	mtime := clock.Now()
	rev.set("digests: ["+digestOf("1")+"]\n", mtime)
	w, err := NewRevocationWatcher("revoked.yaml", rev, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	rev.set("digests: ["+digestOf("2")+"]\n", mtime)
	r, _, err := w.Current()
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Revoked(digestOf("2"), Verdict{}); got == "" {
		t.Errorf("the rewrite of the same size and time was not seen")
	}
}

// TestDeadline: when verification (or tag resolution) cannot finish in
// the budget, the answer still comes before it: a denial naming what was
// slow, or an admission with a warning in audit mode.
func TestDeadline(t *testing.T) {
	tests := []struct {
		name        string
		image       string
		mode        Mode
		path        string
		wantAllowed bool
		wantMsg     string
	}{
		{"slow verification, enforce", "example.com/app@" + digestOf("a"), ModeEnforce, "/validate", false, "slow: fetching the attestations"},
		{"slow verification, audit", "example.com/app@" + digestOf("a"), ModeAudit, "/validate", true, "slow: fetching the attestations"},
		{"slow tag resolution", "example.com/app:slow", ModeEnforce, "/validate", false, "resolving the tag example.com/app:slow at the registry example.com"},
		{"API server timeout shortens the budget", "example.com/app@" + digestOf("a"), ModeEnforce, "/validate?timeout=1s", false, "did not finish in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVerify()
			fv.block = make(chan struct{})
			fv.stage = "fetching the attestations (referrers)"
			res := &fakeResolver{block: make(chan struct{})}
			t.Cleanup(func() { close(fv.block); close(res.block) })
			budget := 300 * time.Millisecond
			if strings.Contains(tt.path, "timeout=") {
				budget = time.Hour // only the API server's timeout can cut it
			}
			s := startServer(t, serverOptions{verify: fv, resolver: res, handler: HandlerOptions{Budget: budget, DefaultMode: tt.mode}})
			done := make(chan struct{})
			var out *admissionReviewAnswer
			go func() {
				defer close(done)
				r, _ := s.post(t, tt.path, reviewOf("u", podKind, "apps", pod(tt.image)))
				out = &admissionReviewAnswer{allowed: r.Response.Allowed, text: message(r) + strings.Join(r.Response.Warnings, "\n")}
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("no answer: the webhook would have timed out")
			}
			if out.allowed != tt.wantAllowed {
				t.Errorf("allowed %v, want %v (%s)", out.allowed, tt.wantAllowed, out.text)
			}
			if !strings.Contains(out.text, tt.wantMsg) || !strings.Contains(out.text, "failed deadline") {
				t.Errorf("answer %q, want it to name the deadline and %q", out.text, tt.wantMsg)
			}
		})
	}
}

type admissionReviewAnswer struct {
	allowed bool
	text    string
}
