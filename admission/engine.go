package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/singleflight"
)

// State is the policy in force: the verify function built for it and the
// digests that name what its verdicts depend on. A new State (a policy
// reload, new trusted roots) makes every cached verdict of the old one a
// miss.
type State struct {
	// PolicyDigest names the policy (flags, policy file, pins, VSA trust).
	PolicyDigest string
	// RootDigest names the trusted roots.
	RootDigest string
	// NotAfter, when not zero, is the earliest expiry the state relies on
	// (the trusted roots' TUF metadata): no verdict is cached past it.
	NotAfter time.Time
	// Verify judges one digest under this policy.
	Verify VerifyFunc
}

// EngineOptions configure an Engine.
type EngineOptions struct {
	// Resolver resolves tags to digests.
	Resolver Resolver
	// Cache keeps verdicts; nil is NewCache(CacheOptions{}).
	Cache *Cache
	// Revocations is the watched revocation file; nil revokes nothing.
	Revocations *RevocationWatcher
	// VerifyTimeout bounds one verification or tag resolution, which
	// goes on after the request that started it is answered (its verdict
	// is cached for the retry); 0 is 2 minutes.
	VerifyTimeout time.Duration
	// Metrics, when set, counts cache hits and misses, verifications and
	// verdicts.
	Metrics *Metrics
}

// Engine judges images: each distinct digest once per request and once
// across concurrent requests, through the verdict cache. It is safe for
// concurrent use.
type Engine struct {
	o      EngineOptions
	state  atomic.Pointer[State]
	group  singleflight.Group
	stages sync.Map // flight key → *atomic.Value of string
}

// NewEngine returns an engine judging under s.
func NewEngine(o EngineOptions, s State) (*Engine, error) {
	if o.Resolver == nil {
		return nil, errors.New("admission engine: no resolver given")
	}
	if s.Verify == nil {
		return nil, errors.New("admission engine: no verify function given")
	}
	if o.Cache == nil {
		o.Cache = NewCache(CacheOptions{})
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = 2 * time.Minute
	}
	e := &Engine{o: o}
	e.state.Store(&s)
	return e, nil
}

// SetState puts s in force from the next judgement on.
func (e *Engine) SetState(s State) { e.state.Store(&s) }

// Image is one container image of a request.
type Image struct {
	// Container names it: "spec.containers[0] (app)".
	Container string
	// Ref is the image as written, by tag or by digest.
	Ref string
}

// Judgement is the verdict of one image of a request.
type Judgement struct {
	Image Image
	// Digest is the digest judged, registry/repository@sha256:<hex>;
	// empty when the reference could not be resolved.
	Digest string
	// ByTag is true when Ref names a tag, resolved to Digest.
	ByTag bool
	// Verdict is the judgement.
	Verdict Verdict
	// Cached is true when the verdict came from the cache.
	Cached bool
}

// Judge judges the images, each distinct reference resolved once and each
// distinct digest verified once, all at the same time, and returns when
// all are judged or ctx is done: an image not judged by then gets a
// ReasonTimeout verdict naming what was slow (its verification goes on,
// and its verdict is cached for the retry).
func (e *Engine) Judge(ctx context.Context, images []Image) []Judgement {
	out := make([]Judgement, len(images))
	rev, revVersion, revErr := e.o.Revocations.Current()
	st := e.state.Load()
	byRef := map[string][]int{}
	var refs []string
	for i, im := range images {
		out[i].Image = im
		if _, ok := byRef[im.Ref]; !ok {
			refs = append(refs, im.Ref)
		}
		byRef[im.Ref] = append(byRef[im.Ref], i)
	}
	var wg sync.WaitGroup
	for _, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := Judgement{Image: images[byRef[ref][0]]}
			if revErr != nil {
				j.Verdict = Verdict{Reason: ReasonMalformed, Check: "revocation", Message: "the revocation list cannot be read, so nothing is admitted: " + revErr.Error()}
			} else {
				j = e.judgeRef(ctx, st, rev, revVersion, j)
			}
			for _, i := range byRef[ref] {
				im := out[i].Image
				out[i] = j
				out[i].Image = im
			}
		}()
	}
	wg.Wait()
	return out
}

// judgeRef resolves j's reference and judges its digest.
func (e *Engine) judgeRef(ctx context.Context, st *State, rev *Revocations, revVersion string, j Judgement) Judgement {
	ref, err := ParseImageRef(j.Image.Ref)
	if err != nil {
		j.Verdict = Verdict{Reason: ReasonMalformed, Check: "image reference", Message: err.Error()}
		return j
	}
	dig, ok := ref.(name.Digest)
	if !ok {
		j.ByTag = true
		var v *Verdict
		dig, v = e.resolve(ctx, ref)
		if v != nil {
			j.Verdict = *v
			return j
		}
	}
	j.Digest = dig.String()
	j.Verdict, j.Cached = e.judgeDigest(ctx, st, rev, revVersion, dig)
	return j
}

// resolve resolves a tag, once across concurrent requests; a verdict is
// returned when it cannot be resolved in time.
func (e *Engine) resolve(ctx context.Context, ref name.Reference) (name.Digest, *Verdict) {
	key := "resolve\x00" + ref.String()
	ch := e.group.DoChan(key, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.o.VerifyTimeout)
		defer cancel()
		return e.o.Resolver.Resolve(rctx, ref)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return name.Digest{}, &Verdict{Reason: ReasonUnreachable, Check: "registry", Message: "resolving the tag: " + r.Err.Error(), Transient: true}
		}
		return r.Val.(name.Digest), nil
	case <-ctx.Done():
		return name.Digest{}, &Verdict{Reason: ReasonTimeout, Check: "deadline",
			Message: fmt.Sprintf("resolving the tag %s at the registry %s did not finish in time", ref, ref.Context().RegistryStr())}
	}
}

// judgeDigest judges one digest: revoked at once, else from the cache,
// else verified (single-flight) and cached.
func (e *Engine) judgeDigest(ctx context.Context, st *State, rev *Revocations, revVersion string, dig name.Digest) (Verdict, bool) {
	d := dig.DigestStr()
	if why := rev.Revoked(d, Verdict{}); why != "" {
		return Verdict{Reason: ReasonRevoked, Check: "revocation", Message: why}, false
	}
	key := CacheKey{Digest: dig.String(), PolicyDigest: st.PolicyDigest, RootDigest: st.RootDigest, RevocationVersion: revVersion}
	if v, ok := e.o.Cache.Get(key); ok {
		e.o.Metrics.cache(true)
		return e.revoke(rev, d, v), true
	}
	e.o.Metrics.cache(false)
	fkey := strings.Join([]string{"verify", key.Digest, key.PolicyDigest, key.RootDigest, key.RevocationVersion}, "\x00")
	box, _ := e.stages.LoadOrStore(fkey, new(atomic.Value))
	stage := box.(*atomic.Value)
	ch := e.group.DoChan(fkey, func() (any, error) {
		defer e.stages.Delete(fkey)
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.o.VerifyTimeout)
		defer cancel()
		start := time.Now()
		v := safeVerify(vctx, st.Verify, dig, func(s string) { stage.Store(s) })
		e.o.Metrics.verification(time.Since(start), v.Reason)
		if len(v.Message) > maxMessage {
			v.Message = v.Message[:maxMessage] + "…"
		}
		e.o.Cache.Put(key, v, st.NotAfter)
		return v, nil
	})
	select {
	case r := <-ch:
		return e.revoke(rev, d, r.Val.(Verdict)), false
	case <-ctx.Done():
		what, _ := stage.Load().(string)
		if what == "" {
			what = "verifying"
		}
		return Verdict{Reason: ReasonTimeout, Check: "deadline",
			Message: fmt.Sprintf("the verification did not finish in time (slow: %s); it goes on, and a retry is answered from its result", what)}, false
	}
}

// maxMessage bounds a cached verdict's message, so that the cache is
// bounded in memory as in entries.
const maxMessage = 2048

// revoke turns v into a revoked verdict when its signers or sources are.
func (e *Engine) revoke(rev *Revocations, digest string, v Verdict) Verdict {
	if !v.Allowed {
		return v
	}
	if why := rev.Revoked(digest, v); why != "" {
		return Verdict{Reason: ReasonRevoked, Check: "revocation", Message: why, Signers: v.Signers, SourceRepositoryIDs: v.SourceRepositoryIDs}
	}
	return v
}

// ParseImageRef parses a container image as Kubernetes reads it: a name
// without a registry is on Docker Hub (docker.io/library/ for one
// without a path), and a digest must be sha256.
func ParseImageRef(s string) (name.Reference, error) {
	if s == "" {
		return nil, errors.New("the image is empty")
	}
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", s, err)
	}
	if d, ok := ref.(name.Digest); ok && !strings.HasPrefix(d.DigestStr(), "sha256:") {
		return nil, fmt.Errorf("image %q: want a sha256 digest", s)
	}
	return ref, nil
}

// safeVerify is verify, with a panic turned into a failed verdict: a
// bug judging one image must not take the webhook (and the requests
// sharing the flight) down.
func safeVerify(ctx context.Context, verify VerifyFunc, dig name.Digest, stage func(string)) (v Verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = Verdict{Reason: ReasonFailed, Check: "internal", Message: fmt.Sprintf("the verification of %s failed: %v", dig, r)}
		}
	}()
	return verify(ctx, dig, stage)
}
