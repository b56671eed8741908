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
	sct     bool // an SCT is required
}

// newInstance builds the sigstore-go verifier for a trusted root with
// trust.NewVerifier (the requirements follow from what the root provides).
func newInstance(tr TrustedRoot) (*instance, error) {
	in := &instance{name: tr.Name, material: tr.Root, sct: len(tr.Root.CTLogs()) > 0}
	v, err := trust.NewVerifier(tr.Root)
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
