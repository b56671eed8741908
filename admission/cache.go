package admission

import (
	"container/list"
	"sync"
	"time"
)

// CacheKey is everything a verdict depends on: a verdict is reused only
// for the same image digest judged under the same policy, trusted roots
// and revocation list.
type CacheKey struct {
	// Digest is the image's digest, "sha256:<hex>", with its repository
	// (referrers are per repository): registry/repository@sha256:<hex>.
	Digest string
	// PolicyDigest is the digest of the policy in force (flags, policy
	// file, pins, VSA trust).
	PolicyDigest string
	// RootDigest is the digest of the trusted roots.
	RootDigest string
	// RevocationVersion is the revocation list's version (its content's
	// digest).
	RevocationVersion string
}

// CacheOptions bound the verdict cache.
type CacheOptions struct {
	// MaxEntries bounds the entries (least recently used go first);
	// 0 is 10,000.
	MaxEntries int
	// TTL bounds how long a positive verdict is kept; 0 is 10 minutes.
	TTL time.Duration
	// NegativeTTL bounds how long a negative verdict is kept; 0 is 30 s.
	NegativeTTL time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Cache is a bounded verdict cache, safe for concurrent use.
type Cache struct {
	o     CacheOptions
	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recently used first
	byKey map[CacheKey]*list.Element
}

type cacheEntry struct {
	key     CacheKey
	verdict Verdict
	expires time.Time
}

// NewCache returns an empty cache.
func NewCache(o CacheOptions) *Cache {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 10_000
	}
	if o.TTL <= 0 {
		o.TTL = 10 * time.Minute
	}
	if o.NegativeTTL <= 0 {
		o.NegativeTTL = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cache{o: o, order: list.New(), byKey: map[CacheKey]*list.Element{}}
}

// Get returns the verdict of key, if one is kept and not expired.
func (c *Cache) Get(key CacheKey) (Verdict, bool) {
	now := c.o.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return Verdict{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.byKey, key)
		return Verdict{}, false
	}
	c.order.MoveToFront(el)
	return e.verdict, true
}

// Put keeps v for key: a positive verdict for TTL, a negative one for
// NegativeTTL, and neither past v.NotAfter or notAfter (the earliest
// expiry the verdict relied on; zero: none). A verdict already expired is
// not kept.
func (c *Cache) Put(key CacheKey, v Verdict, notAfter time.Time) {
	now := c.o.Now()
	ttl := c.o.TTL
	if !v.Allowed {
		ttl = c.o.NegativeTTL
	}
	expires := now.Add(ttl)
	for _, t := range []time.Time{v.NotAfter, notAfter} {
		if !t.IsZero() && t.Before(expires) {
			expires = t
		}
	}
	if !now.Before(expires) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		el.Value = &cacheEntry{key: key, verdict: v, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, verdict: v, expires: expires})
	for c.order.Len() > c.o.MaxEntries {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
}

// Len is the number of entries kept (expired ones included until read).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
