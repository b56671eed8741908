package trust

import (
	"errors"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Requirements say which proofs of the signature's time a verifier
// requires; at least one.
type Requirements struct {
	// TransparencyLog requires a verified transparency log entry.
	TransparencyLog bool
	// SignedTimestamps requires a verified RFC 3161 timestamp.
	SignedTimestamps bool
}

// RequirementsOf is what verification requires of an instance's bundles:
// a transparency log entry when its trusted root has Rekor logs, else an
// RFC 3161 timestamp when it has timestamp authorities (GitHub's instance).
func RequirementsOf(tm root.TrustedMaterial) Requirements {
	if len(tm.RekorLogs()) > 0 {
		return Requirements{TransparencyLog: true}
	}
	return Requirements{SignedTimestamps: len(tm.TimestampingAuthorities()) > 0}
}

// NewVerifier is the one constructor of sigstore-go verifiers, for
// verification (with RequirementsOf) and signing's self-check (with what
// the instance signs with) alike: the given requirements, one verified
// signature time at least, and an SCT when the trusted root has CT logs.
func NewVerifier(tm root.TrustedMaterial, req Requirements) (*verify.Verifier, error) {
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1), verify.WithoutStatementPredicate()}
	if !req.TransparencyLog && !req.SignedTimestamps {
		return nil, errors.New("the trusted root has neither transparency logs nor timestamp authorities: no signature time can be established")
	}
	if req.TransparencyLog {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	if req.SignedTimestamps {
		opts = append(opts, verify.WithSignedTimestamps(1))
	}
	if len(tm.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	return verify.NewVerifier(tm, opts...)
}
