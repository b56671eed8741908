package verifier

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/provenant/provenant/trust"
)

// UnknownInstanceError reports a bundle whose certificate was issued by a CA
// that none of the trusted roots holds: the bundle may be perfectly valid,
// but the material to verify it is missing. It is not a cryptographic error.
type UnknownInstanceError struct {
	// Issuer is the distinguished name of the leaf certificate's issuer.
	Issuer string
	// Known lists the names of the trusted roots that were consulted.
	Known []string
	// Hint says where the missing trusted root can be found, when known.
	Hint string
}

// Error names the issuer, the trusted roots consulted and where to look.
func (e *UnknownInstanceError) Error() string {
	msg := fmt.Sprintf("the certificate was issued by %s, which no trusted root given holds (trusted: %s)", e.Issuer, strings.Join(e.Known, ", "))
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

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
// trust.NewVerifier, requiring what the root provides (trust.RequirementsOf).
func newInstance(tr TrustedRoot) (*instance, error) {
	in := &instance{name: tr.Name, material: tr.Root, sct: len(tr.Root.CTLogs()) > 0}
	v, err := trust.NewVerifier(tr.Root, trust.RequirementsOf(tr.Root))
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

// instancesFor returns the instances whose Fulcio CA names match the
// leaf's issuer, in the order the trusted roots were given.
func (v *Verifier) instancesFor(leaf *x509.Certificate) []*instance {
	var out []*instance
	for _, in := range v.instances {
		if in.issued(leaf) {
			out = append(out, in)
		}
	}
	return out
}

func certificateReason(in *instance, leaf *x509.Certificate) string {
	s := fmt.Sprintf("leaf certificate issued by %s chains to the %s Fulcio CA at the verified signature time", leaf.Issuer.String(), in.name)
	if in.sct {
		s += "; its SCT verifies against the instance's CT log"
	}
	return s
}

// certificateOf returns the bundle's Fulcio leaf certificate and the
// instances whose CA may have issued it; when there is none, check 2 fails
// naming the issuer and where its trusted root can be found.
func (v *Verifier) certificateOf(b *bundle.Bundle, r *run) (*x509.Certificate, []*instance, bool) {
	vc, err := b.VerificationContent()
	if err != nil {
		r.set(fail(CheckCertificate, err))
		return nil, nil, false
	}
	leaf := vc.Certificate()
	if leaf == nil {
		r.set(fail(CheckCertificate, errors.New("the bundle is signed with a public key, not a Fulcio certificate: only keyless bundles are verified")))
		return nil, nil, false
	}
	candidates := v.instancesFor(leaf)
	if len(candidates) == 0 {
		known := make([]string, len(v.instances))
		for i, x := range v.instances {
			known[i] = x.name
		}
		r.set(fail(CheckCertificate, &UnknownInstanceError{Issuer: leaf.Issuer.String(), Known: known, Hint: unknownInstanceHint(leaf)}))
		return nil, nil, false
	}
	return leaf, candidates, true
}
