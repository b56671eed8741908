package verifier

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// Attestation is one entry of a bundle file: a parsed Sigstore bundle, or
// the reason it is not one (check 1 then fails with that reason).
type Attestation struct {
	// Source names the entry: the file, and the line for JSON Lines files.
	Source string
	// Bundle is the parsed bundle; nil when Err is set.
	Bundle *bundle.Bundle
	// Err says why the entry is not a usable bundle.
	Err error
}

// document is one JSON document of a JSON or JSON Lines file.
type document struct {
	source string // the file, with ":LINE" for JSON Lines
	data   []byte
}

// documents splits a file into JSON documents: the whole file when it is one
// JSON value (pretty-printed or not), else one document per non-empty line.
func documents(source string, data []byte) ([]document, error) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if json.Valid(data) {
		return []document{{source, data}}, nil
	}
	var out []document
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if text := bytes.TrimSpace(sc.Bytes()); len(text) > 0 {
			out = append(out, document{fmt.Sprintf("%s:%d", source, line), text})
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s: %w", source, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty file", source)
	}
	return out, nil
}

// ParseAttestations parses a bundle file: one JSON bundle, or JSON Lines
// with one bundle per line. Entries that are not bundles are returned with
// Err set, so that every entry is reported.
func ParseAttestations(source string, data []byte) []Attestation {
	docs, err := documents(source, data)
	var out []Attestation
	for _, d := range docs {
		out = append(out, parseAttestation(d.source, d.data))
	}
	if err != nil {
		out = append(out, Attestation{Source: source, Err: fmt.Errorf("not a bundle file: %w", err)})
	}
	return out
}

// parseAttestation parses one JSON document as a Sigstore bundle.
func parseAttestation(source string, doc []byte) Attestation {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(doc, &probe); err != nil {
		return Attestation{Source: source, Err: fmt.Errorf("not JSON: %w", err)}
	}
	_, hasPayload := probe["payload"]
	_, hasSigs := probe["signatures"]
	_, hasMedia := probe["mediaType"]
	if hasPayload && hasSigs && !hasMedia {
		return Attestation{Source: source, Err: ErrOnlineLookupRequired}
	}
	_, hasType := probe["_type"]
	_, hasSubject := probe["subject"]
	if hasType && hasSubject && !hasMedia {
		return Attestation{Source: source, Err: ErrUnsigned}
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(doc); err != nil {
		return Attestation{Source: source, Err: fmt.Errorf("not a usable Sigstore bundle: %w", err)}
	}
	return Attestation{Source: source, Bundle: &b}
}

// LoadAttestations reads and parses a bundle file (see ParseAttestations).
// The error is for an unreadable file only.
func LoadAttestations(path string) ([]Attestation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("reading bundle: %w", err)}
	}
	return ParseAttestations(path, data), nil
}

// Artifact is what a bundle must be about: a name for reports and the
// artifact's digests by algorithm ("sha256", "sha512").
type Artifact struct {
	Name    string
	Digests map[string][]byte
}

// digestAlgorithms are the algorithms artifacts are hashed with, in order
// of preference.
var digestAlgorithms = []string{"sha256", "sha512"}

// String renders the artifact's preferred digest as "alg:hex".
func (a Artifact) String() string {
	for _, alg := range digestAlgorithms {
		if d, ok := a.Digests[alg]; ok {
			return alg + ":" + hex.EncodeToString(d)
		}
	}
	return ""
}

// ArtifactFromReader digests an artifact with SHA-256 and SHA-512 in one pass.
func ArtifactFromReader(name string, r io.Reader) (Artifact, error) {
	h256, h512 := sha256.New(), sha512.New()
	if _, err := io.Copy(io.MultiWriter(h256, h512), r); err != nil {
		return Artifact{}, fmt.Errorf("digesting %s: %w", name, err)
	}
	return Artifact{Name: name, Digests: map[string][]byte{"sha256": h256.Sum(nil), "sha512": h512.Sum(nil)}}, nil
}

// ArtifactFromFile digests a file (see ArtifactFromReader).
func ArtifactFromFile(path string) (Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return Artifact{}, &InputError{Err: fmt.Errorf("reading artifact: %w", err)}
	}
	defer f.Close()
	a, err := ArtifactFromReader(path, f)
	if err != nil {
		return Artifact{}, &InputError{Err: err}
	}
	return a, nil
}

// ArtifactFromDigest parses "sha256:<hex>" or "sha512:<hex>".
func ArtifactFromDigest(s string) (Artifact, error) {
	alg, h, ok := strings.Cut(s, ":")
	size := map[string]int{"sha256": sha256.Size, "sha512": sha512.Size}[alg]
	d, err := hex.DecodeString(h)
	if !ok || size == 0 || err != nil || len(d) != size {
		return Artifact{}, &InputError{Err: fmt.Errorf("digest %q: want sha256:<64 hex digits> or sha512:<128 hex digits>", s)}
	}
	return Artifact{Name: s, Digests: map[string][]byte{alg: d}}, nil
}

// attestationSuffixes are the names attestations take next to release
// assets: <asset><suffix>.
var attestationSuffixes = []string{".sigstore.json", ".sigstore", ".intoto.jsonl", ".intoto.sigstore", ".intoto.build.slsa", ".build.slsa"}

// MultipleAttestations is the name of slsa-github-generator's attestation
// file covering several assets.
const MultipleAttestations = "multiple.intoto.jsonl"

// isAttestationFile reports whether a file name is an attestation's.
func isAttestationFile(name string) bool {
	if name == MultipleAttestations {
		return true
	}
	for _, s := range attestationSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// attestationFilesFor lists the attestation files in dir for an asset name:
// <asset>.sigstore.json, <asset>.intoto.jsonl, … and multiple.intoto.jsonl.
func attestationFilesFor(dir, asset string) []string {
	var out []string
	for _, s := range attestationSuffixes {
		p := filepath.Join(dir, asset+s)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	p := filepath.Join(dir, MultipleAttestations)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		out = append(out, p)
	}
	return out
}

// dirEntry is an entry of a bundle directory that is not verified, and why.
type dirEntry struct {
	path   string
	reason string
}

// assetsIn lists the release assets of a directory: its regular files
// that are not attestations. Every other entry not excluded (a symbolic
// link, a folder, an attestation file for no asset) is returned in skipped
// with the reason it is not verified. exclude holds doublestar patterns
// matched against entry names.
func assetsIn(dir string, exclude []string) (assets []string, skipped []dirEntry, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, &InputError{Err: fmt.Errorf("reading bundle directory: %w", err)}
	}
	names := map[string]bool{}
	var attestations []string
	for _, e := range entries {
		name, p := e.Name(), filepath.Join(dir, e.Name())
		excluded, err := isExcluded(name, exclude)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case excluded:
		case e.Type()&fs.ModeSymlink != 0:
			skipped = append(skipped, dirEntry{p, "not verified: a symbolic link, which is not followed in a bundle directory (give its target as an artifact, or --exclude it)"})
		case e.IsDir():
			skipped = append(skipped, dirEntry{p, "not verified: a folder; assets in subfolders are not searched (verify them with their own --bundle-dir, or --exclude it)"})
		case !e.Type().IsRegular():
			skipped = append(skipped, dirEntry{p, "not verified: not a regular file (--exclude it)"})
		case isAttestationFile(name):
			attestations = append(attestations, name)
		default:
			names[name] = true
			assets = append(assets, p)
		}
	}
	for _, name := range attestations {
		if name != MultipleAttestations && !names[assetOfAttestation(name)] {
			skipped = append(skipped, dirEntry{filepath.Join(dir, name), fmt.Sprintf("not verified: named like an attestation of %s, which is not an asset in %s (--exclude it)", assetOfAttestation(name), dir)})
		}
	}
	return assets, skipped, nil
}

// assetOfAttestation is the asset an attestation file name is for:
// <asset><suffix>, the longest suffix first.
func assetOfAttestation(name string) string {
	best := ""
	for _, s := range attestationSuffixes {
		if strings.HasSuffix(name, s) && len(s) > len(best) {
			best = s
		}
	}
	return strings.TrimSuffix(name, best)
}

// isExcluded reports whether a name matches one of the doublestar patterns.
func isExcluded(name string, patterns []string) (bool, error) {
	for _, p := range patterns {
		ok, err := doublestar.Match(p, name)
		if err != nil {
			return false, &InputError{Err: fmt.Errorf("exclude pattern %q: %w", p, err)}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// InputError reports unusable input: an unreadable file, a malformed digest,
// an impossible combination of options. The command exits with status 2.
type InputError struct{ Err error }

// Error returns the underlying error's text.
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }
