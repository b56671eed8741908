package verifier

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/provenant/provenant/internal/inputfile"
)

// ErrOnlineLookupRequired is returned for a bare DSSE envelope that carries
// its certificate inside the signature and no transparency log proof (the
// format of slsa-github-generator before v1.5): its Rekor entry can only be
// found by searching Rekor online, which this verifier does not do.
var ErrOnlineLookupRequired = errors.New("not a Sigstore bundle but a bare DSSE envelope with the certificate inside the signature and no transparency log proof: its Rekor entry must be looked up online (for example with slsa-verifier), which offline verification cannot do")

// ErrUnsigned is returned for a bare in-toto statement (as `provenant attest
// --no-sign` writes): provenance that nothing vouches for, SLSA Build L1 at
// most, with no signature to verify.
var ErrUnsigned = errors.New("an unsigned in-toto statement, not a Sigstore bundle: SLSA Build L1 provenance at most, with no signature or signer to verify")

// Attestation is one entry of a bundle file: a parsed Sigstore bundle, or
// the reason it is not one (check 1 then fails with that reason).
type Attestation struct {
	// Source names the entry: the file, and the line for JSON Lines files.
	Source string
	// Bundle is the parsed bundle; nil when Err is set.
	Bundle *bundle.Bundle
	// Err says why the entry is not a usable bundle.
	Err error
	// SHA256 is the SHA-256 (hex) of the entry as read: of the whole
	// file for a file of one bundle, of the line in JSON Lines.
	SHA256 string
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
	if len(docs) == 1 && docs[0].source == source {
		// A file of one bundle: its digest is the file's, as sha256sum has it.
		sum := sha256.Sum256(data)
		out[0].SHA256 = hex.EncodeToString(sum[:])
	}
	if err != nil {
		out = append(out, Attestation{Source: source, Err: fmt.Errorf("not a bundle file: %w", err)})
	}
	return out
}

// parseAttestation parses one JSON document as a Sigstore bundle.
func parseAttestation(source string, doc []byte) Attestation {
	a := parseBundleDocument(source, doc)
	sum := sha256.Sum256(doc)
	a.SHA256 = hex.EncodeToString(sum[:])
	return a
}

// parseBundleDocument parses one JSON document as a Sigstore bundle. Only a
// document that is not one is probed for what else it is (a bare DSSE
// envelope, an unsigned statement): probing every bundle first cost a
// third of the parsing of a release.
func parseBundleDocument(source string, doc []byte) Attestation {
	var b bundle.Bundle
	berr := b.UnmarshalJSON(doc)
	if berr == nil {
		return Attestation{Source: source, Bundle: &b}
	}
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
		return Attestation{Source: source, Err: unsignedError(probe)}
	}
	return Attestation{Source: source, Err: fmt.Errorf("not a usable Sigstore bundle: %w", berr)}
}

// MaxBundleFileSize bounds what LoadAttestations reads of one bundle file:
// 64 MiB, room for a JSON Lines file of many bundles whose predicates are
// each at GitHub's 16 MiB limit once base64-encoded (a bundle is usually a
// few KiB).
const MaxBundleFileSize = 64 << 20

// LoadAttestations reads and parses a bundle file (see ParseAttestations).
// The error is for an unreadable file only: missing, not a regular file
// (a folder, a device, a named pipe) or larger than MaxBundleFileSize.
func LoadAttestations(path string) ([]Attestation, error) {
	return loadAttestations(path, DisplayName(path))
}

// loadAttestations is LoadAttestations, the attestations and errors
// naming the file name.
func loadAttestations(path, name string) ([]Attestation, error) {
	data, err := inputfile.Read(context.Background(), path, MaxBundleFileSize)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("reading bundle %s: %w", name, err)}
	}
	return ParseAttestations(name, data), nil
}

// checkBundle runs check 1: the entry is a bundle of a known version. It
// returns a shallow copy of the bundle to verify: sigstore-go's Bundle
// caches flags as it is read, and one parsed bundle may serve many
// artifacts at once (the protobuf message itself is only read).
func (v *Verifier) checkBundle(att Attestation, res *BundleResult, r *run) (*bundle.Bundle, bool) {
	if att.Err != nil {
		r.set(fail(CheckBundle, att.Err))
		return nil, false
	}
	bc := *att.Bundle
	b := &bc
	version, err := b.Version()
	if err != nil {
		r.set(fail(CheckBundle, err))
		return nil, false
	}
	if version != "v0.1" && version != "v0.2" && version != "v0.3" {
		r.set(fail(CheckBundle, fmt.Errorf("bundle version %s is not one of v0.1, v0.2, v0.3", version)))
		return nil, false
	}
	if version == "v0.1" && v.noV01 {
		r.set(fail(CheckBundle, errors.New("bundle version v0.1: refused, as gh attestation verify refuses it (its line was given); provenant verify reads it")))
		return nil, false
	}
	res.MediaType = b.MediaType
	r.set(pass(CheckBundle, fmt.Sprintf("Sigstore bundle %s (%s)", version, b.MediaType)))
	return b, true
}

// StatementPredicateType is the predicate type of the in-toto statement
// in a's DSSE envelope, read without verifying anything; ok is false when
// a holds no bundle or no statement can be read from it (Verify says why).
// It lets a caller drop, before verification, a bundle of a type it will
// never ask for.
func (a Attestation) StatementPredicateType() (predicateType string, ok bool) {
	if a.Bundle == nil || a.Bundle.Bundle == nil {
		return "", false
	}
	env := a.Bundle.Bundle.GetDsseEnvelope()
	if env == nil || env.GetPayloadType() != InTotoPayloadType {
		return "", false
	}
	// The payload as parsed, not readStatement's copies of it: only the
	// two names are decoded out of what may be a large predicate.
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal(env.GetPayload(), &st); err != nil || st.PredicateType == "" ||
		(st.Type != intoto.StatementInTotoV1 && st.Type != intoto.StatementInTotoV01) {
		return "", false
	}
	return st.PredicateType, true
}

// mayUseSHA512 reports whether the attestation's statement may compare an
// artifact's SHA-512: true unless its payload reads as an in-toto
// statement none of whose subjects has a sha512 digest. A bundle that did
// not parse never compares digests.
func (a Attestation) mayUseSHA512() bool {
	if a.Err != nil || a.Bundle == nil || a.Bundle.Bundle == nil {
		return false
	}
	env := a.Bundle.Bundle.GetDsseEnvelope()
	if env == nil || env.GetPayloadType() != InTotoPayloadType {
		return false // readStatement refuses it before any subject is compared
	}
	var st struct {
		Subject []subject `json:"subject"`
	}
	if err := json.Unmarshal(env.GetPayload(), &st); err != nil {
		return true
	}
	for _, s := range st.Subject {
		if _, ok := s.Digest["sha512"]; ok {
			return true
		}
	}
	return false
}
