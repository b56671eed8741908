package verifier

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/slsa-framework/slsa-verifier/v2/verifiers/utils"
)

// isSLSAProvenance reports whether a predicate type is SLSA provenance.
func isSLSAProvenance(predicateType string) bool {
	return strings.HasPrefix(predicateType, "https://slsa.dev/provenance/")
}

// checkProvenance runs check 8: the provenance expectations of the policy.
// prov is nil when check 7 did not recognise the predicate's format; ext
// are the verified certificate's extensions.
func (p *Policy) checkProvenance(st *statement, prov *provenance, ext certificate.Extensions) CheckResult {
	wantType := p.PredicateType
	if wantType == "" {
		wantType = SLSAProvenanceV1
	}
	switch {
	case p.DetectProvenanceType && isSLSAProvenance(st.PredicateType):
		wantType = st.PredicateType
	case p.DetectProvenanceType:
		return fail(CheckProvenance, fmt.Errorf("predicate type is %q, expected SLSA provenance (%s or %s)", st.PredicateType, SLSAProvenanceV1, SLSAProvenanceV02))
	case st.PredicateType != wantType:
		return fail(CheckProvenance, fmt.Errorf("predicate type is %q, expected %q", st.PredicateType, wantType))
	}
	met := []string{"predicate type " + wantType}
	if p.BuilderID == "" && p.SourceURI == "" && p.SourceTag == "" && p.SourceVersionedTag == "" &&
		p.SourceBranch == "" && len(p.WorkflowInputs) == 0 {
		return pass(CheckProvenance, strings.Join(met, "; ")+"; no other provenance expectation given")
	}
	if prov == nil {
		return fail(CheckProvenance, errors.New("the predicate's format is not one whose builder, source and inputs this verifier can read (see check 7), so the expectations cannot be checked"))
	}
	e := &expectations{met: met}
	if p.BuilderID != "" {
		switch err := matchBuilderID(prov.BuilderID, p.BuilderID); {
		case prov.BuilderUnbound != "":
			e.fail(fmt.Errorf("the builder cannot be checked: %s", prov.BuilderUnbound))
		case err != nil:
			e.fail(err)
		default:
			e.pass("builder " + prov.BuilderID + " matches " + p.BuilderID)
		}
	}
	if p.SourceURI != "" {
		want := utils.NormalizeGitURI(p.SourceURI)
		if got := utils.NormalizeGitURI(prov.SourceRepo); !strings.EqualFold(got, want) {
			e.fail(fmt.Errorf("source is %q, expected %q", prov.SourceRepo, p.SourceURI))
		} else {
			e.pass("source " + prov.SourceRepo)
		}
	}
	p.checkRef(prov, e)
	if len(p.WorkflowInputs) > 0 {
		p.checkInputs(prov, ext, e)
	}
	if len(e.errs) > 0 {
		return fail(CheckProvenance, errors.Join(e.errs...))
	}
	return pass(CheckProvenance, strings.Join(e.met, "; "))
}

// expectations collects the provenance expectations met and failed.
type expectations struct {
	met  []string
	errs []error
}

func (e *expectations) pass(what string) { e.met = append(e.met, what) }
func (e *expectations) fail(err error)   { e.errs = append(e.errs, err) }

// checkRef checks the branch and tag expectations against the ref the
// build ran on, with slsa-verifier's semantics.
func (p *Policy) checkRef(prov *provenance, e *expectations) {
	if p.SourceBranch != "" {
		branch, err := utils.BranchFromGitRef(prov.SourceRef)
		switch {
		case err != nil:
			e.fail(fmt.Errorf("the run was not on a branch (ref %q), expected branch %q", prov.SourceRef, p.SourceBranch))
		case branch != p.SourceBranch:
			e.fail(fmt.Errorf("branch is %q, expected %q", branch, p.SourceBranch))
		default:
			e.pass("branch " + branch)
		}
	}
	if p.SourceTag == "" && p.SourceVersionedTag == "" {
		return
	}
	tag, err := utils.TagFromGitRef(prov.SourceRef)
	switch {
	case err != nil:
		e.fail(fmt.Errorf("the run was not on a tag (ref %q)", prov.SourceRef))
	case p.SourceTag != "" && tag != p.SourceTag:
		e.fail(fmt.Errorf("tag is %q, expected %q", tag, p.SourceTag))
	case p.SourceVersionedTag != "":
		if err := utils.VerifyVersionedTag(tag, p.SourceVersionedTag); err != nil {
			e.fail(fmt.Errorf("tag %q does not match versioned tag %q: %w", tag, p.SourceVersionedTag, err))
		} else {
			e.pass("tag " + tag + " matches " + p.SourceVersionedTag)
		}
	default:
		e.pass("tag " + tag)
	}
}

// checkInputs checks the workflow inputs, which only a trusted builder's
// predicate records honestly: the certificate does not carry them.
func (p *Policy) checkInputs(prov *provenance, ext certificate.Extensions, e *expectations) {
	trusted, why := p.trustedBuilder(ext)
	switch {
	case !prov.InputsKnown:
		e.fail(fmt.Errorf("buildType %q does not record workflow inputs", prov.BuildType))
		return
	case !trusted:
		e.fail(fmt.Errorf("workflow inputs not checked: they are recorded only in the predicate, which the signer writes, and %s", why))
		return
	}
	for _, k := range sortedKeys(p.WorkflowInputs) {
		got, ok := prov.Inputs[k]
		switch {
		case !ok:
			e.fail(fmt.Errorf("workflow input %q is not recorded", k))
		case stringify(got) != p.WorkflowInputs[k]:
			e.fail(fmt.Errorf("workflow input %s=%q, expected %q", k, stringify(got), p.WorkflowInputs[k]))
		default:
			e.pass("input " + k + "=" + p.WorkflowInputs[k])
		}
	}
}

// matchBuilderID matches the provenance's builder id against an expected
// one with slsa-verifier's semantics (verifiers/utils.TrustedBuilderID).
func matchBuilderID(actual, expected string) error {
	if actual == "" {
		return fmt.Errorf("the provenance names no builder, expected %q", expected)
	}
	id, err := utils.TrustedBuilderIDNew(actual, false)
	if err != nil {
		return fmt.Errorf("builder id %q: %w", actual, err)
	}
	if err := id.MatchesLoose(expected, true); err != nil {
		return fmt.Errorf("builder is %q, expected %q: %w", actual, expected, err)
	}
	return nil
}

// provenance is what checks 8 and 9 need to know of a predicate, in one shape
// for every format.
type provenance struct {
	BuildType string
	// BuilderID is the builder the provenance names (for GitHub's old
	// buildType, whose builder.id only names the runner, the signer workflow).
	BuilderID string
	// SourceRepo is the source repository URL, e.g. https://github.com/o/r.
	SourceRepo string
	// SourceRef is the git ref the build ran on.
	SourceRef string
	// Inputs are the workflow inputs the predicate records; nil if none.
	Inputs map[string]any
	// InputsKnown tells whether the format records workflow inputs at all.
	InputsKnown bool
	// SourceDigest and Trigger are the commit and the event the predicate
	// records, when it does.
	SourceDigest, Trigger string
	// BuilderUnbound, when set, says why BuilderID is not known.
	BuilderUnbound string
}
