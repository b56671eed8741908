package verifier

// export_test.go lends this package's test Sigstore and its helpers to the
// external tests in this folder (package verifier_test), which test the
// packages that judge verified results (policy, vsa) on bundles signed here:
// they import verifier, so they cannot be tests of package verifier itself.

import (
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// TestSigstore is testSigstore, for the external tests.
type TestSigstore = testSigstore

// GHRun is ghRun, for the external tests.
type GHRun = ghRun

// SignOpts is signOpts, for the external tests.
type SignOpts = signOpts

// Exported for the external tests.
var (
	NewTestSigstore      = newTestSigstore
	DefaultRun           = defaultRun
	OwnBundle            = ownBundle
	VerifyOne            = verifyOne
	BundleText           = bundleText
	MustRead             = mustRead
	MustWrite            = mustWrite
	MustLoadRoots        = mustLoadRoots
	Text                 = text
	Update               = update
	DeprecatedExtensions = deprecatedExtensions
)

// Reusable is reusable, for the external tests.
func (r ghRun) Reusable() ghRun { return r.reusable() }

// Roots is roots, for the external tests.
func (s *testSigstore) Roots() []TrustedRoot { return s.roots() }

// Sign is sign, for the external tests.
func (s *testSigstore) Sign(t testing.TB, run ghRun, stmt map[string]any, o signOpts) []byte {
	return s.sign(t, run, stmt, o)
}

// WriteTrustedRoot is writeTrustedRoot, for the external tests.
func (s *testSigstore) WriteTrustedRoot(t testing.TB, dir string) string {
	return s.writeTrustedRoot(t, dir)
}

// OldCertificate is the signOpts of a certificate with only the deprecated
// GitHub extensions (1.3.6.1.4.1.57264.1.2–.6) of the run.
func OldCertificate(run ghRun) signOpts {
	return signOpts{certExt: func(e *certificate.Extensions) { *e = certificate.Extensions{Issuer: e.Issuer} }, extraExt: deprecatedExtensions(run)}
}
