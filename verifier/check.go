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
	// StatusNotApplicable: the check does not apply to this kind of
	// attestation (the provenance expectations, check 8, to a VSA). It
	// does not fail the bundle.
	StatusNotApplicable Status = "n/a"
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
	err := c.err
	if err == nil {
		// A result read back from a report keeps only its reason.
		err = errors.New(c.Reason)
	}
	return &CheckError{Check: c.Name, Err: err}
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

func pass(name CheckName, reason string) CheckResult {
	return CheckResult{Number: name.Number(), Name: name, Status: StatusPass, Reason: reason}
}

func fail(name CheckName, err error) CheckResult {
	// errors.Join separates with newlines; a reason is one line.
	reason := strings.ReplaceAll(err.Error(), "\n", "; ")
	return CheckResult{Number: name.Number(), Name: name, Status: StatusFail, Reason: reason, err: err}
}

func unchecked(name CheckName, reason string) CheckResult {
	return CheckResult{Number: name.Number(), Name: name, Status: StatusUnchecked, Reason: reason}
}

func skipped(name CheckName, reason string) CheckResult {
	return CheckResult{Number: name.Number(), Name: name, Status: StatusSkipped, Reason: reason}
}

func notApplicable(name CheckName, reason string) CheckResult {
	return CheckResult{Number: name.Number(), Name: name, Status: StatusNotApplicable, Reason: reason}
}
