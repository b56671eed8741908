package verifier

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// sigstore.go: checks 2–5 as sigstore-go runs them, and, when it refuses a
// bundle, its steps re-run one by one to name the failing link.

// verifyCrypto runs checks 2–5 at once with sigstore-go, with each
// instance whose CA names match the leaf's issuer (two instances may use
// the same names) until one verifies the bundle; when none does, it
// re-runs sigstore-go's steps to name the failing link.
func (v *Verifier) verifyCrypto(candidates []*instance, b *bundle.Bundle, leaf *x509.Certificate, digests []verify.ArtifactDigest, withArtifact bool, res *BundleResult, r *run) (*verify.VerificationResult, bool) {
	artifact := verify.WithArtifactDigests(digests)
	if !withArtifact {
		artifact = verify.WithoutArtifactUnsafe()
	}
	policy := verify.NewPolicy(artifact, verify.WithoutIdentitiesUnsafe())
	in := candidates[0]
	var vr *verify.VerificationResult
	var err error
	for _, c := range candidates {
		if vr, err = c.verifier.Verify(b, policy); err == nil {
			in = c
			res.Instance = c.name
			break
		}
	}
	if err != nil {
		if withArtifact && v.diagnose(in, b, leaf, digests, r, "") {
			r.set(fail(CheckSignature, err))
		}
		return nil, false
	}
	for _, t := range vr.VerifiedTimestamps {
		res.Timestamps = append(res.Timestamps, Timestamp{Kind: t.Type, URI: t.URI, Time: t.Timestamp})
	}
	r.set(pass(CheckCertificate, certificateReason(in, leaf)))
	r.set(pass(CheckTimestamps, timestampReason(b, res.Timestamps)))
	r.set(pass(CheckSignature, signatureReason))
	return vr, true
}

// diagnose re-runs sigstore-go's verification steps one by one, in
// sigstore-go's order, recording each check that passes and the first that
// fails. It stops before check `until` (CheckSignature or CheckSubject; ""
// runs every step); it returns true when every step it ran passed.
func (v *Verifier) diagnose(in *instance, b *bundle.Bundle, leaf *x509.Certificate, digests []verify.ArtifactDigest, r *run, until CheckName) bool {
	tlogTimes, err := in.verifier.VerifyTransparencyLogInclusion(b)
	if err != nil {
		r.set(fail(CheckTimestamps, fmt.Errorf("transparency log entry does not verify: %w", err)))
		r.set(skipped(CheckCertificate, "not run: no verified signature time to check the certificate at (check 3 failed)"))
		return false
	}
	times, err := in.verifier.VerifyObserverTimestamps(b, tlogTimes)
	if err != nil {
		r.set(fail(CheckTimestamps, fmt.Errorf("no verified signature time: %w", err)))
		r.set(skipped(CheckCertificate, "not run: no verified signature time to check the certificate at (check 3 failed)"))
		return false
	}
	var ts []Timestamp
	for _, t := range times {
		ts = append(ts, Timestamp{Kind: t.Type, URI: t.URI, Time: t.Timestamp})
	}
	r.set(pass(CheckTimestamps, timestampReason(b, ts)))

	// As sigstore-go does, ignore an OtherName SAN marked critical, which
	// crypto/x509 does not handle.
	cert := *leaf
	cert.UnhandledCriticalExtensions = nil
	for _, oid := range leaf.UnhandledCriticalExtensions {
		if !oid.Equal(cryptoutils.SANOID) {
			cert.UnhandledCriticalExtensions = append(cert.UnhandledCriticalExtensions, oid)
		}
	}
	for _, t := range times {
		chains, err := verify.VerifyLeafCertificate(t.Timestamp, &cert, in.material)
		if err != nil {
			r.set(fail(CheckCertificate, fmt.Errorf("certificate does not chain to the %s Fulcio CA at %s: %w", in.name, t.Timestamp.UTC().Format(time.RFC3339), err)))
			return false
		}
		if in.sct {
			if err := verify.VerifySignedCertificateTimestamp(chains, 1, in.material); err != nil {
				r.set(fail(CheckCertificate, fmt.Errorf("certificate transparency: %w", err)))
				return false
			}
		}
	}
	r.set(pass(CheckCertificate, certificateReason(in, leaf)))
	if until == CheckSignature {
		return true
	}

	sc, err := b.SignatureContent()
	if err != nil {
		r.set(fail(CheckSignature, err))
		return false
	}
	vc, err := b.VerificationContent()
	if err != nil {
		r.set(fail(CheckSignature, err))
		return false
	}
	if err := verify.VerifySignature(sc, vc, in.material); err != nil {
		r.set(fail(CheckSignature, fmt.Errorf("DSSE signature does not verify with the certificate's key: %w", err)))
		return false
	}
	r.set(pass(CheckSignature, signatureReason))
	if until == CheckSubject {
		return true
	}
	if err := verify.VerifySignatureWithArtifactDigests(sc, vc, in.material, digests); err != nil {
		r.set(fail(CheckSubject, fmt.Errorf("no subject of the statement has %s: %w", digestList(digests, " and "), err)))
		return false
	}
	return true
}
