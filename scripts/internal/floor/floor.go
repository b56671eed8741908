// Package floor is the sigstore-go verifier of the benchmarks' floors
// (scripts/internal/barefloor, the admission load test's baseline in
// scripts/kube-e2e): one definition, so every floor asks what provenant
// asks and no more.
package floor

import (
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Verifier is sigstore-go's verifier for tr requiring what the trusted
// root holds, as provenant requires it: an SCT when it has CT logs, a log
// entry when it has Rekor logs (a test instance may have neither), a
// verified time always.
func Verifier(tr *root.TrustedRoot) (*verify.Verifier, error) {
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1)}
	if len(tr.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	if len(tr.RekorLogs()) > 0 {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	return verify.NewVerifier(tr, opts...)
}
