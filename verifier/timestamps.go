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
	// From the bundle's protobuf, not b.TlogEntries(): that decodes every
	// entry's body again (a tenth of a --bundle-dir run), after
	// sigstore-go's verification already did. Rekor v2 logs only
	// hashedrekord and dsse entries of version 0.0.2; Rekor v1's are
	// 0.0.1, or intoto 0.0.2.
	for _, e := range b.GetVerificationMaterial().GetTlogEntries() {
		kind := "Rekor v1"
		if kv := e.GetKindVersion(); kv.GetVersion() == "0.0.2" && (kv.GetKind() == "hashedrekord" || kv.GetKind() == "dsse") {
			kind = "Rekor v2"
		}
		proof := []string{}
		if e.GetInclusionProof() != nil {
			proof = append(proof, "inclusion proof")
		}
		if len(e.GetInclusionPromise().GetSignedEntryTimestamp()) > 0 {
			proof = append(proof, "signed entry timestamp")
		}
		parts = append(parts, fmt.Sprintf("%s entry at log index %d with %s", kind, e.GetLogIndex(), strings.Join(proof, " and ")))
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
