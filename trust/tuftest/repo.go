// Package tuftest serves a TUF repository on loopback whose one target is a
// Sigstore trusted root, for tests: trust's own TUF tests, and the end-to-end
// tests that hand the local stack's root to tools which only read a root
// through TUF (cosign initialize, Kyverno). One ed25519 key signs every
// role; the metadata is go-tuf's. It is never linked into the binary.
package tuftest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Repo is a TUF repository served on loopback.
type Repo struct {
	// Server serves the metadata and targets; close it to take the
	// repository offline.
	Server *httptest.Server
	// Root is 1.root.json, the trust anchor a client starts from.
	Root  []byte
	files map[string][]byte
	hits  atomic.Int32
}

// New serves trustedRoot as the target trusted_root.json, and as each of
// alsoAs (e.g. a GitHub tenant's "<trust domain>.trusted_root.json"), with
// timestamp metadata that expires at tsExpires (the other roles in ten
// years).
func New(t testing.TB, trustedRoot []byte, tsExpires time.Time, alsoAs ...string) *Repo {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signature.LoadSigner(priv, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	key, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	far := time.Now().AddDate(10, 0, 0)
	r := &Repo{files: map[string][]byte{}}
	rt := metadata.Root(far)
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if err := rt.Signed.AddKey(key, role); err != nil {
			t.Fatal(err)
		}
	}
	targets := metadata.Targets(far)
	tf, err := metadata.TargetFile().FromBytes("trusted_root.json", trustedRoot, "sha256")
	if err != nil {
		t.Fatal(err)
	}
	targets.Signed.Targets["trusted_root.json"] = tf
	for _, n := range alsoAs {
		targets.Signed.Targets[n] = tf
	}
	snapshot := metadata.Snapshot(far)
	snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(targets.Signed.Version)
	ts := metadata.Timestamp(tsExpires)
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(snapshot.Signed.Version)
	sign := func(name string, md interface {
		Sign(signature.Signer) (*metadata.Signature, error)
		ToBytes(bool) ([]byte, error)
	}) {
		if _, err := md.Sign(signer); err != nil {
			t.Fatal(err)
		}
		data, err := md.ToBytes(false)
		if err != nil {
			t.Fatal(err)
		}
		r.files[name] = data
	}
	sign("1.root.json", rt)
	sign("1.targets.json", targets)
	sign("1.snapshot.json", snapshot)
	sign("timestamp.json", ts)
	r.Root = r.files["1.root.json"]
	r.files["targets/"+hex.EncodeToString(tf.Hashes["sha256"])+".trusted_root.json"] = trustedRoot
	for _, n := range alsoAs {
		r.files["targets/"+hex.EncodeToString(tf.Hashes["sha256"])+"."+n] = trustedRoot
	}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		data, ok := r.files[strings.TrimPrefix(req.URL.Path, "/")]
		if !ok {
			http.NotFound(w, req)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(r.Server.Close)
	return r
}

// URL is the repository's base URL.
func (r *Repo) URL() string { return r.Server.URL }

// Hits is how many requests the repository has answered.
func (r *Repo) Hits() int { return int(r.hits.Load()) }
