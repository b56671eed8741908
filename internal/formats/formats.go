// Package formats holds the names of the formats provenant writes and
// reads: payload, predicate and build types, and the fixed values of its
// verification summaries. It imports nothing of the project, so that the
// verifier, the provenance writer, the VSA writer and the Kyverno generator
// can share them without linking one another (the verifier would otherwise
// link the whole signing stack for two constants).
package formats

import (
	"strconv"

	"github.com/in-toto/in-toto-golang/in_toto"
	slsa02 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v0.2"
	slsa1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"
)

// Payload, predicate and build types.
const (
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = in_toto.PayloadType
	// SLSAProvenanceV1 is the predicate type of SLSA provenance v1.
	SLSAProvenanceV1 = slsa1.PredicateSLSAProvenance
	// SLSAProvenanceV02 is the predicate type of SLSA provenance v0.2.
	SLSAProvenanceV02 = slsa02.PredicateSLSAProvenance
	// GitHubWorkflowBuildType is the buildType GitHub's attestations API
	// and attest action write for a GitHub Actions workflow run.
	GitHubWorkflowBuildType = "https://actions.github.io/buildtypes/workflow/v1"
)

// The VSA's fixed values.
const (
	// VSAPredicateType is the predicate type of a SLSA VSA v1.
	VSAPredicateType = "https://slsa.dev/verification_summary/v1"
	// VerifierID is provenant's verifier.id in the VSAs it writes; give it
	// to --verifier-id to trust them.
	VerifierID = "https://provenant.dev/verifier"
	// VSASLSAVersion is the SLSA version the verified levels are of.
	VSASLSAVersion = "1.0"
	// VSAPassed and VSAFailed are the values of verificationResult.
	VSAPassed = "PASSED"
	VSAFailed = "FAILED"
	// FlagsPolicyMediaType is the media type of the policy a VSA names
	// when the verification had no policy file: the flags, as JSON, in a
	// data: URI.
	FlagsPolicyMediaType = "application/vnd.provenant.flags-policy+json"
)

// BuildLevel names a SLSA Build level as a VSA's verifiedLevels holds it,
// e.g. SLSA_BUILD_LEVEL_3.
func BuildLevel(n int) string { return "SLSA_BUILD_LEVEL_" + strconv.Itoa(n) }
