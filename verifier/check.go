package verifier

import (
	"errors"
	"fmt"
	"strings"
)

// CheckName names one link of the verification chain.
type CheckName string

// The checks, in the order they run. Their numbers are those of Checks.
const (
	CheckBundle      CheckName = "bundle"      // 1: parses, known media type and version
	CheckCertificate CheckName = "certificate" // 2: chains to a trusted Fulcio CA; SCT
	CheckTimestamps  CheckName = "timestamps"  // 3: transparency log entry and/or RFC 3161 timestamp
	CheckSignature   CheckName = "signature"   // 4: DSSE signature, one signature, in-toto payload
	CheckSubject     CheckName = "subject"     // 5: subject digest matches the artifact
	CheckIdentity    CheckName = "identity"    // 6: SAN, issuer and Fulcio extensions match the policy
	CheckPredicate   CheckName = "predicate"   // 7: predicate agrees with the certificate
	CheckProvenance  CheckName = "provenance"  // 8: provenance expectations
	CheckLevel       CheckName = "level"       // 9: SLSA Build level reached
)

// Checks lists every check in order; a check's number is its index plus one.
var Checks = []CheckName{
	CheckBundle, CheckCertificate, CheckTimestamps, CheckSignature, CheckSubject,
	CheckIdentity, CheckPredicate, CheckProvenance, CheckLevel,
}

// Number returns the check's number (1–9), or 0 for an unknown name.
func (c CheckName) Number() int {
	for i, n := range Checks {
		if n == c {
			return i + 1
		}
	}
	return 0
}

// Status is the outcome of one check.
type Status string

const (
	// StatusPass: the check ran and passed.
	StatusPass Status = "pass"
	// StatusFail: the check ran and failed; the bundle is not verified.
	StatusFail Status = "fail"
	// StatusUnchecked: the check could not be made (for example a predicate
	// whose buildType has no known mapping to the certificate). It does not
	// fail the bundle by itself, but it limits the SLSA level (check 9).
	StatusUnchecked Status = "unchecked"
	// StatusSkipped: the check did not run because an earlier one failed.
	StatusSkipped Status = "skipped"
)

// CheckResult is the outcome of one check with its reason.
type CheckResult struct {
	Number int       `json:"number"`
	Name   CheckName `json:"name"`
	Status Status    `json:"status"`
	Reason string    `json:"reason"`
	err    error
}

// Err returns the error of a failed check (a *CheckError), or nil.
func (c CheckResult) Err() error {
	if c.Status != StatusFail {
		return nil
	}
	return &CheckError{Check: c.Name, Err: c.err}
}

// CheckError is the error of a failed check: which link failed, and why.
type CheckError struct {
	Check CheckName
	Err   error
}

// Error names the check and its reason.
func (e *CheckError) Error() string {
	return fmt.Sprintf("check %d (%s) failed: %v", e.Check.Number(), e.Check, e.Err)
}

// Unwrap returns the check's reason, e.g. a *MismatchError.
func (e *CheckError) Unwrap() error { return e.Err }

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

// ErrOnlineLookupRequired is returned for a bare DSSE envelope that carries
// its certificate inside the signature and no transparency log proof (the
// format of slsa-github-generator before v1.5): its Rekor entry can only be
// found by searching Rekor online, which this verifier does not do.
var ErrOnlineLookupRequired = errors.New("not a Sigstore bundle but a bare DSSE envelope with the certificate inside the signature and no transparency log proof: its Rekor entry must be looked up online (for example with slsa-verifier), which offline verification cannot do")

// ErrUnsigned is returned for a bare in-toto statement (as `provenant attest
// --no-sign` writes): provenance that nothing vouches for, SLSA Build L1 at
// most, with no signature to verify.
var ErrUnsigned = errors.New("an unsigned in-toto statement, not a Sigstore bundle: SLSA Build L1 provenance at most, with no signature or signer to verify")

// MismatchError reports a predicate field that disagrees with the
// certificate extension that records the same fact (check 7).
type MismatchError struct {
	// Field is the predicate field, e.g. "externalParameters.workflow.repository".
	Field string
	// Predicate is the value the predicate claims.
	Predicate string
	// Extension names the certificate extension, e.g. "Source Repository URI (1.3.6.1.4.1.57264.1.12)".
	Extension string
	// Certificate is the value the certificate records.
	Certificate string
}

// Error gives the field, the extension and both values.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("predicate %s is %q but the certificate's %s is %q", e.Field, e.Predicate, e.Extension, e.Certificate)
}
