package admission

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxRevocationFileSize bounds what is read of the revocation file: 4 MiB.
const MaxRevocationFileSize = 4 << 20

// Revocations is the revocation file (docs/admission.md): YAML or JSON
// with three lists, any of which may be missing.
type Revocations struct {
	// Digests are revoked image digests, "sha256:<hex>".
	Digests []string `yaml:"digests" json:"digests"`
	// Signers are revoked signer identities: certificate SANs, e.g.
	// "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1".
	// An entry ending in "@" or without "@" revokes every ref of the
	// workflow.
	Signers []string `yaml:"signers" json:"signers"`
	// SourceRepositoryIDs are revoked source repositories by GitHub's
	// numeric id (the certificate's Source Repository Identifier).
	SourceRepositoryIDs []string `yaml:"sourceRepositoryIds" json:"sourceRepositoryIds"`
}

// ParseRevocations reads a revocation file; empty data revokes nothing.
// Unknown keys are an error, so that a misspelt list revokes nothing
// silently.
func ParseRevocations(data []byte) (*Revocations, error) {
	r := &Revocations{}
	if len(bytes.TrimSpace(data)) == 0 {
		return r, nil
	}
	d := yaml.NewDecoder(bytes.NewReader(data))
	d.KnownFields(true)
	if err := d.Decode(r); err != nil {
		return nil, fmt.Errorf("revocation file: %w", err)
	}
	for _, dg := range r.Digests {
		if !validDigest(dg) {
			return nil, fmt.Errorf("revocation file: digest %q: want sha256:<64 hex digits>", dg)
		}
	}
	return r, nil
}

// validDigest reports whether s is sha256:<64 lower-case hex digits>.
func validDigest(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

// Revoked says why the digest or a verdict's signers or sources are
// revoked, or "" when none is.
func (r *Revocations) Revoked(digest string, v Verdict) string {
	if r == nil {
		return ""
	}
	if slices.Contains(r.Digests, digest) {
		return "the digest " + digest + " is revoked"
	}
	for _, san := range v.Signers {
		for _, s := range r.Signers {
			if san == s || strings.HasPrefix(san, strings.TrimSuffix(s, "@")+"@") {
				return "its signer " + san + " is revoked"
			}
		}
	}
	for _, id := range v.SourceRepositoryIDs {
		if slices.Contains(r.SourceRepositoryIDs, id) {
			return "its source repository (id " + id + ") is revoked"
		}
	}
	return ""
}

// FileSystem is what the revocation watcher reads: os.Stat and
// os.ReadFile in production, a fake in tests.
type FileSystem interface {
	Stat(name string) (fs.FileInfo, error)
	ReadFile(name string) ([]byte, error)
}

// OSFileSystem is the FileSystem of the real files, the one the command
// gives Serve.
type OSFileSystem struct{}

// Stat is os.Stat.
func (OSFileSystem) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// ReadFile is os.ReadFile.
func (OSFileSystem) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// RevocationWatcher serves the revocation file's current content: each
// Current stats the file and reads it again when its size or modification
// time changed, or when it was modified so recently (within racyWindow of
// the last read) that a change in the same clock tick could hide behind
// an equal time; its version is the content's SHA-256. A change thus
// takes effect on the next request.
type RevocationWatcher struct {
	path string
	fsys FileSystem
	now  func() time.Time

	mu      sync.Mutex
	size    int64
	mtime   time.Time
	read    time.Time
	current *Revocations
	version string
}

// racyWindow is how recent a modification time must be for the file to
// be read again although its size and time did not change.
const racyWindow = 2 * time.Second

// NewRevocationWatcher reads the file at path once; it fails when the
// file cannot be read or parsed. now is the clock (nil: time.Now).
func NewRevocationWatcher(path string, fsys FileSystem, now func() time.Time) (*RevocationWatcher, error) {
	if now == nil {
		now = time.Now
	}
	w := &RevocationWatcher{path: path, fsys: fsys, now: now}
	if _, _, err := w.Current(); err != nil {
		return nil, err
	}
	return w, nil
}

// Current returns the revocations in force and their version. When the
// file changed and cannot be read or parsed, it returns an error (and the
// caller denies: a broken revocation list must not admit what it
// revoked); the next call tries again.
func (w *RevocationWatcher) Current() (*Revocations, string, error) {
	if w == nil {
		return nil, "", nil
	}
	fi, err := w.fsys.Stat(w.path)
	if err != nil {
		return nil, "", fmt.Errorf("revocation file %s: %w", w.path, err)
	}
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current != nil && fi.Size() == w.size && fi.ModTime().Equal(w.mtime) && w.read.Sub(fi.ModTime()) > racyWindow {
		return w.current, w.version, nil
	}
	if fi.Size() > MaxRevocationFileSize {
		return nil, "", fmt.Errorf("revocation file %s: %d bytes, more than the limit of %d", w.path, fi.Size(), MaxRevocationFileSize)
	}
	data, err := w.fsys.ReadFile(w.path)
	if err != nil {
		return nil, "", fmt.Errorf("revocation file %s: %w", w.path, err)
	}
	if len(data) > MaxRevocationFileSize {
		return nil, "", errors.New("revocation file " + w.path + ": larger than the limit")
	}
	sum := sha256.Sum256(data)
	version := hex.EncodeToString(sum[:])
	if w.current == nil || version != w.version {
		r, err := ParseRevocations(data)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", w.path, err)
		}
		w.current, w.version = r, version
	}
	w.size, w.mtime, w.read = fi.Size(), fi.ModTime(), now
	return w.current, w.version, nil
}
