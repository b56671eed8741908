package verifier

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/provenant/provenant/trust"
)

// TrustedRoot is the trust material of one Sigstore instance with its
// name; package trust loads them (from files or through TUF).
type TrustedRoot = trust.TrustedRoot

// instance is a trusted root with its sigstore-go verifier, built once.
type instance struct {
	name     string
	material root.TrustedMaterial
	verifier *verify.Verifier
	// issuers holds the raw subjects of the instance's Fulcio CA
	// certificates: a leaf belongs to the instance whose CA issued it.
	issuers [][]byte
	// requires describes what the instance's verifier requires, for reports.
	requires []string
	sct      bool
}

// newInstance builds the sigstore-go verifier for a trusted root, requiring
// what the root provides: a transparency log entry when it has Rekor logs,
// an RFC 3161 timestamp when it has only timestamp authorities, an SCT when
// it has CT logs; always at least one observer timestamp.
func newInstance(tr TrustedRoot) (*instance, error) {
	in := &instance{name: tr.Name, material: tr.Root}
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1), verify.WithoutStatementPredicate()}
	switch {
	case len(tr.Root.RekorLogs()) > 0:
		opts = append(opts, verify.WithTransparencyLog(1))
		in.requires = append(in.requires, "a transparency log entry")
	case len(tr.Root.TimestampingAuthorities()) > 0:
		opts = append(opts, verify.WithSignedTimestamps(1))
		in.requires = append(in.requires, "an RFC 3161 timestamp")
	default:
		return nil, fmt.Errorf("trusted root %s has neither transparency logs nor timestamp authorities: no signature time can be established", tr.Name)
	}
	if len(tr.Root.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
		in.sct = true
	}
	v, err := verify.NewVerifier(tr.Root, opts...)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", tr.Name, err)
	}
	in.verifier = v
	for _, ca := range tr.Root.FulcioCertificateAuthorities() {
		f, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok {
			continue
		}
		if f.Root != nil {
			in.issuers = append(in.issuers, f.Root.RawSubject)
		}
		for _, c := range f.Intermediates {
			in.issuers = append(in.issuers, c.RawSubject)
		}
	}
	return in, nil
}

// issued reports whether one of the instance's CAs issued the leaf.
func (in *instance) issued(leaf *x509.Certificate) bool {
	for _, s := range in.issuers {
		if bytes.Equal(s, leaf.RawIssuer) {
			return true
		}
	}
	return false
}

// unknownInstanceHint says where a trusted root for an unknown issuer is.
func unknownInstanceHint(leaf *x509.Certificate) string {
	org := strings.Join(leaf.Issuer.Organization, ",")
	switch {
	case strings.Contains(org, "GitHub"):
		return "this is GitHub's Sigstore instance (private repositories); its trusted root is published only through GitHub's TUF repository https://tuf-repo.github.com: verify online (without --trusted-root) or pass that trusted_root.json with --trusted-root"
	case strings.Contains(org, "sigstore.dev"):
		return "this is the Sigstore public-good instance: verify online (without --trusted-root) or pass its trusted_root.json with --trusted-root"
	}
	return "pass the trusted_root.json of the Sigstore instance that issued it with --trusted-root"
}
