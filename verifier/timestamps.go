package verifier

import (
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// Timestamp is a verified time at which the signature existed.
type Timestamp struct {
	// Kind is "Tlog" (a log's integrated time) or "TimestampAuthority".
	Kind string    `json:"kind"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
}

func timestampReason(b *bundle.Bundle, ts []Timestamp) string {
	var parts []string
	if entries, err := b.TlogEntries(); err == nil {
		for _, e := range entries {
			kind := "Rekor v1"
			proof := []string{}
			if e.IsRekorV2() {
				kind = "Rekor v2"
			}
			if e.HasInclusionProof() {
				proof = append(proof, "inclusion proof")
			}
			if e.HasInclusionPromise() {
				proof = append(proof, "signed entry timestamp")
			}
			parts = append(parts, fmt.Sprintf("%s entry at log index %d with %s", kind, e.LogIndex(), strings.Join(proof, " and ")))
		}
	}
	for _, t := range ts {
		switch t.Kind {
		case "TimestampAuthority":
			parts = append(parts, fmt.Sprintf("RFC 3161 timestamp %s", t.Time.UTC().Format(time.RFC3339)))
		default:
			parts = append(parts, fmt.Sprintf("log integrated time %s", t.Time.UTC().Format(time.RFC3339)))
		}
	}
	return "verified: " + strings.Join(parts, "; ")
}
