package trust

import (
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// NewVerifier is the one constructor of sigstore-go verifiers, for
// verification and for signing's self-check alike. It requires what the
// trusted root provides: a transparency log entry when it has Rekor logs,
// else an RFC 3161 timestamp when it has timestamp authorities (GitHub's
// instance); an SCT when it has CT logs; always one verified signature time.
func NewVerifier(tm root.TrustedMaterial) (*verify.Verifier, error) {
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1), verify.WithoutStatementPredicate()}
	switch {
	case len(tm.RekorLogs()) > 0:
		opts = append(opts, verify.WithTransparencyLog(1))
	case len(tm.TimestampingAuthorities()) > 0:
		opts = append(opts, verify.WithSignedTimestamps(1))
	default:
		return nil, fmt.Errorf("the trusted root has neither transparency logs nor timestamp authorities: no signature time can be established")
	}
	if len(tm.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	return verify.NewVerifier(tm, opts...)
}
