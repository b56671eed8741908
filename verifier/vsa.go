package verifier

// vsa.go is a link of the chain for a SLSA Verification Summary
// Attestation (VSA v1, docs/policy.md) given as input: the checks it passes
// in place of the provenance checks 7–9 (checkVSA, checkVSAProvenance,
// vsaLevel). Writing VSAs is package vsa.

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/provenant/provenant/internal/formats"

	vsapb "github.com/in-toto/attestation/go/predicates/vsa/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// The VSA's fixed values (package formats), for the verifier's callers.
const (
	// VSAPredicateType is the predicate type of a SLSA VSA v1.
	VSAPredicateType = formats.VSAPredicateType
	// VerifierID is provenant's verifier.id in the VSAs it writes.
	VerifierID = formats.VerifierID
	// VSAPassed and VSAFailed are the values of verificationResult.
	VSAPassed = formats.VSAPassed
	VSAFailed = formats.VSAFailed
)

// vsaFacts is what checks 8 and 9 need of a VSA that check 7 read.
type vsaFacts struct {
	levels []string // verifiedLevels; nil when the predicate did not parse
}

// parseVSA decodes a VSA v1 predicate with the in-toto attestation types;
// fields those types do not know (verifier.version) are ignored.
func parseVSA(raw json.RawMessage) (*vsapb.VerificationSummary, error) {
	var s vsapb.VerificationSummary
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// vsaRule is a VSA field that does not meet the policy.
type vsaRule struct {
	field string
	err   error
}

// VSARuleError is a VSA field that does not say what the policy requires.
type VSARuleError struct {
	// Field is the predicate field, e.g. "verifier.id".
	Field string
	Err   error
}

// Error names the rule (the field) and says why it failed.
func (e *VSARuleError) Error() string { return "VSA rule " + e.Field + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *VSARuleError) Unwrap() error { return e.Err }

// checkVSA runs check 7 on a VSA: it names the required verifier, says
// PASSED, names a resource (the one required by --resource-uri, if given),
// and its verified levels are well-formed. The subject digest is check 5's.
func checkVSA(st *statement, p *Policy) (CheckResult, vsaFacts) {
	s, err := parseVSA(st.Predicate)
	if err != nil {
		return fail(CheckPredicate, fmt.Errorf("predicate is not a SLSA VSA v1: %w", err)), vsaFacts{}
	}
	var errs []error
	rule := func(field string, format string, a ...any) {
		errs = append(errs, &VSARuleError{Field: field, Err: fmt.Errorf(format, a...)})
	}
	id := s.GetVerifier().GetId()
	switch {
	case p.VerifierID == "":
		rule("verifier.id", "no verifier is trusted: give --verifier-id")
	case id != p.VerifierID:
		rule("verifier.id", "the VSA's verifier is %q, required %q (--verifier-id)", id, p.VerifierID)
	}
	if r := s.GetVerificationResult(); r != VSAPassed {
		rule("verificationResult", "the verifier's verdict is %q, required %q", r, VSAPassed)
	}
	uri := s.GetResourceUri()
	switch {
	case uri == "":
		rule("resourceUri", "the VSA names no resource")
	case p.ResourceURI != "" && uri != p.ResourceURI:
		rule("resourceUri", "the VSA is about %q, required %q (--resource-uri)", uri, p.ResourceURI)
	}
	if s.GetTimeVerified() == nil {
		rule("timeVerified", "the VSA does not say when it verified")
	}
	if _, err := buildLevelOf(s.GetVerifiedLevels()); err != nil {
		rule("verifiedLevels", "%v", err)
	}
	if len(errs) > 0 {
		return fail(CheckPredicate, errors.Join(errs...)), vsaFacts{levels: s.GetVerifiedLevels()}
	}
	when := s.GetTimeVerified().AsTime().UTC().Format(time.RFC3339)
	reason := fmt.Sprintf("SLSA VSA v1 of verifier %s: %s at %s for resource %q, verified levels %s, policy %s", id, VSAPassed, when, uri,
		strings.Join(s.GetVerifiedLevels(), ", "), truncateURI(s.GetPolicy().GetUri()))
	return pass(CheckPredicate, reason), vsaFacts{levels: s.GetVerifiedLevels()}
}

// truncateURI shortens a long URI (a flags policy's data: URI) for a report.
func truncateURI(u string) string {
	if u == "" {
		return "(none named)"
	}
	if len(u) > 96 {
		return u[:96] + "…"
	}
	return u
}

// buildLevelOf is the highest SLSA Build level of verifiedLevels (0 when
// none is named). Entries of other tracks and "FAILED" are skipped, as
// slsa-verifier does; a malformed SLSA_ entry is an error.
func buildLevelOf(levels []string) (int, error) {
	best := 0
	for _, l := range levels {
		if !strings.HasPrefix(l, "SLSA_") {
			continue
		}
		parts := strings.SplitN(l, "_", 4)
		if len(parts) != 4 || parts[2] != "LEVEL" {
			return 0, fmt.Errorf("%q is not a SLSA level (SLSA_<TRACK>_LEVEL_<n>)", l)
		}
		n, err := strconv.Atoi(parts[3])
		if err != nil || n < 0 || n > 4 {
			return 0, fmt.Errorf("%q is not a SLSA level (SLSA_<TRACK>_LEVEL_<n>)", l)
		}
		if parts[1] == "BUILD" {
			best = max(best, n)
		}
	}
	return best, nil
}

// provenanceExpectations names the policy's expectations that only a
// provenance predicate can meet.
func (p *Policy) provenanceExpectations() []string {
	var out []string
	add := func(set bool, flag string) {
		if set {
			out = append(out, flag)
		}
	}
	add(p.BuilderID != "", "--builder-id")
	add(p.SourceURI != "" && p.Repo == "" && p.Owner == "", "--source-uri")
	add(p.SourceTag != "", "--source-tag")
	add(p.SourceVersionedTag != "", "--source-versioned-tag")
	add(p.SourceBranch != "", "--source-branch")
	add(len(p.WorkflowInputs) > 0, "--workflow-input")
	sort.Strings(out)
	return out
}

// checkVSAProvenance runs check 8 on a VSA: the predicate type must be the
// one asked for; the provenance expectations do not apply to a VSA, which
// carries no provenance, and are refused when given rather than passed.
func (p *Policy) checkVSAProvenance(st *statement) CheckResult {
	want := p.PredicateType
	if want == "" {
		want = SLSAProvenanceV1
	}
	if st.PredicateType != want {
		return fail(CheckProvenance, fmt.Errorf("predicate type is %q, expected %q", st.PredicateType, want))
	}
	if exp := p.provenanceExpectations(); len(exp) > 0 {
		// --source-uri also names the source (check 6), and is only an
		// expectation of the provenance when nothing else does.
		return fail(CheckProvenance, fmt.Errorf("provenance expectations (%s) cannot be checked on a VSA: it carries no provenance, only its verifier's verdict", strings.Join(exp, ", ")))
	}
	return notApplicable(CheckProvenance, "predicate type "+want+"; provenance expectations do not apply to a VSA: it carries no builder, source or inputs, its verifier judged them")
}

// vsaLevel runs check 9 on a VSA: the level is the highest SLSA Build
// level the VSA's verifier vouches for, held to the minimum required
// (default 2, as for provenance).
func vsaLevel(facts vsaFacts, pred CheckResult, p *Policy) (int, CheckResult) {
	minLevel := p.MinLevel
	if minLevel == 0 {
		minLevel = 2
	}
	reached, err := buildLevelOf(facts.levels)
	var msg string
	switch {
	case err != nil || facts.levels == nil:
		reached = 0
		msg = "SLSA Build L0: the VSA's verified levels cannot be read (check 7)"
	case reached == 0:
		msg = "SLSA Build L0: the VSA's verifiedLevels name no SLSA_BUILD_LEVEL_n"
	default:
		msg = fmt.Sprintf("SLSA Build L%d: the VSA's verifier vouches for %s", reached, formats.BuildLevel(reached))
	}
	if pred.Status != StatusPass {
		msg += ", but the VSA does not meet the policy (check 7)"
	}
	msg += fmt.Sprintf(" (required: L%d)", minLevel)
	if reached < minLevel {
		return reached, fail(CheckLevel, &VSARuleError{Field: "verifiedLevels", Err: errors.New(msg)})
	}
	return reached, pass(CheckLevel, msg)
}

// checkVSAPolicy refuses a policy that asks for VSAs without naming the
// verifier to trust, or names a verifier for another predicate type.
func (p *Policy) checkVSAPolicy() error {
	isVSA := p.PredicateType == VSAPredicateType
	switch {
	case isVSA && p.VerifierID == "":
		return errors.New("--predicate-type " + VSAPredicateType + " needs --verifier-id: a VSA is only as good as the verifier that wrote it (provenant's is " + VerifierID + ")")
	case !isVSA && p.VerifierID != "":
		return fmt.Errorf("--verifier-id applies to VSAs only: give --predicate-type %s", VSAPredicateType)
	case !isVSA && p.ResourceURI != "":
		return fmt.Errorf("--resource-uri applies to VSAs only: give --predicate-type %s", VSAPredicateType)
	}
	return nil
}

// ErrUnsignedVSA is check 1's reason for a bare VSA statement (as
// `verify --vsa-out` writes outside a job that may sign): nothing vouches
// that a verifier wrote it.
var ErrUnsignedVSA = errors.New("an unsigned VSA (an in-toto statement of " + VSAPredicateType + "), not a Sigstore bundle: a VSA is trusted only when signed by its verifier (verify --vsa-out signs in a job with id-token: write, or with --sign)")

// unsignedError is check 1's reason for a bare in-toto statement whose
// predicate type probe is.
func unsignedError(probe map[string]json.RawMessage) error {
	var t string
	if json.Unmarshal(probe["predicateType"], &t) == nil && t == VSAPredicateType {
		return ErrUnsignedVSA
	}
	return ErrUnsigned
}
