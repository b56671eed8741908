// Package vsa writes SLSA Verification Summary Attestations (VSA v1,
// docs/policy.md): the predicate provenant writes for each artifact it
// verified, PASSED at the level reached or FAILED, naming the policy and the
// attestations it judged. Verifying a VSA given as input is a link of the
// chain and stays in package verifier.
package vsa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	vsapb "github.com/in-toto/attestation/go/predicates/vsa/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/verifier"
)

// SummaryOptions is what a VSA says beyond the artifact's result.
type SummaryOptions struct {
	// VerifierVersion is provenant's version (verifier.version.provenant).
	VerifierVersion string
	// Time is when the verification ran (timeVerified).
	Time time.Time
	// PolicyURI and PolicyDigest name the policy the artifact was judged
	// by: the policy file, or FlagsPolicy's data: URI.
	PolicyURI    string
	PolicyDigest map[string]string
}

// SummaryResourceURI is the resourceUri of an artifact's VSA: the file's
// base name, or the digest as given ("sha256:<hex>") for an artifact given
// by digest.
func SummaryResourceURI(a verifier.ArtifactResult) string {
	if a.Artifact == a.Digest {
		return a.Digest
	}
	return filepath.Base(a.Artifact)
}

// SummarySubject is the subject of an artifact's VSA: its resource URI as
// name and its digest. It fails for an entry that was never hashed (a
// folder or a link of a bundle directory).
func SummarySubject(a verifier.ArtifactResult) (name string, digest map[string]string, err error) {
	alg, hex, ok := strings.Cut(a.Digest, ":")
	if !ok || alg == "" || hex == "" {
		return "", nil, fmt.Errorf("%s has no digest: no VSA can be about it", a.Artifact)
	}
	return SummaryResourceURI(a), map[string]string{alg: hex}, nil
}

// summaryInputs are the attestations a VSA names: the bundles that
// verified, or every bundle tried when none did.
func summaryInputs(a verifier.ArtifactResult) []*vsapb.VerificationSummary_InputAttestation {
	var out []*vsapb.VerificationSummary_InputAttestation
	for _, b := range a.Bundles {
		if a.Verified && !b.Verified {
			continue
		}
		in := &vsapb.VerificationSummary_InputAttestation{Uri: b.Source}
		if b.BundleSHA256 != "" {
			in.Digest = map[string]string{"sha256": b.BundleSHA256}
		}
		out = append(out, in)
	}
	return out
}

// Summary writes the VSA predicate (JSON) of one artifact's verification:
// PASSED with the level reached, or FAILED (verifiedLevels ["FAILED"], as
// the SLSA spec has it). It is encoded with the in-toto attestation types
// and protojson, then verifier.version, which those types lack, is added.
func Summary(a verifier.ArtifactResult, o SummaryOptions) ([]byte, error) {
	if o.PolicyURI == "" {
		return nil, errors.New("a VSA needs the policy's URI")
	}
	s := &vsapb.VerificationSummary{
		Verifier:          &vsapb.VerificationSummary_Verifier{Id: formats.VerifierID},
		TimeVerified:      timestamppb.New(o.Time.UTC()),
		ResourceUri:       SummaryResourceURI(a),
		Policy:            &vsapb.VerificationSummary_Policy{Uri: o.PolicyURI, Digest: o.PolicyDigest},
		InputAttestations: summaryInputs(a),
		SlsaVersion:       formats.VSASLSAVersion,
	}
	if a.Verified {
		s.VerificationResult, s.VerifiedLevels = formats.VSAPassed, []string{formats.BuildLevel(a.Level)}
	} else {
		s.VerificationResult, s.VerifiedLevels = formats.VSAFailed, []string{formats.VSAFailed}
	}
	raw, err := protojson.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding the VSA: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("encoding the VSA: %w", err)
	}
	version := o.VerifierVersion
	if version == "" {
		version = "dev"
	}
	m["verifier"] = map[string]any{"id": formats.VerifierID, "version": map[string]string{"provenant": version}}
	return marshalCompact(m)
}

// marshalCompact encodes v with sorted keys and without HTML escaping.
func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// FlagsPolicy is the policy a verification without a policy file applied:
// the policy's fields that are set, as JSON with sorted keys (Go field
// names), so that the same flags always give the same bytes and digest.
func FlagsPolicy(p verifier.Policy) ([]byte, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
		case string:
			if t == "" {
				delete(m, k)
			}
		case bool:
			if !t {
				delete(m, k)
			}
		case float64:
			if t == 0 {
				delete(m, k)
			}
		case map[string]any:
			if len(t) == 0 {
				delete(m, k)
			}
		}
	}
	return marshalCompact(m)
}
