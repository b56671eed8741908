package admission

import (
	"context"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// Reason classifies a verdict, for the metrics and the logs.
type Reason string

// The reasons of verdicts.
const (
	// ReasonVSA: admitted by a signed VSA from a trusted verifier.
	ReasonVSA Reason = "vsa"
	// ReasonProvenance: admitted by verified provenance meeting the policy.
	ReasonProvenance Reason = "provenance"
	// ReasonFailed: the verification failed (a check or the policy file).
	ReasonFailed Reason = "failed"
	// ReasonRevoked: the digest, its signer or its source is revoked.
	ReasonRevoked Reason = "revoked"
	// ReasonUnreachable: the registry could not be read, or the tag not
	// resolved.
	ReasonUnreachable Reason = "unreachable"
	// ReasonTimeout: the verification did not finish within the budget.
	ReasonTimeout Reason = "timeout"
	// ReasonMalformed: the request or an image reference is unusable.
	ReasonMalformed Reason = "malformed"
)

// Verdict is the judgement of one image digest.
type Verdict struct {
	// Allowed is true when the image may run.
	Allowed bool
	// Reason classifies the verdict.
	Reason Reason
	// Check names what failed, for a kubectl user: a verifier check
	// ("identity"), a policy rule ("policy rule source.repository-id"),
	// "revocation", "registry"…; empty when allowed.
	Check string
	// Message says why, in one line.
	Message string
	// Signers are the certificate SANs of the bundles that counted.
	Signers []string
	// SourceRepositoryIDs are their Source Repository Identifiers.
	SourceRepositoryIDs []string
	// NotAfter, when not zero, is the earliest expiry the verdict relied
	// on (trusted root metadata, a VSA's validity): the cache keeps it no
	// longer.
	NotAfter time.Time
	// Transient marks a verdict that says nothing of the image (a registry
	// that could not be reached): it is cached as a negative one, briefly.
	Transient bool
}

// VerifyFunc judges one image digest under the policy it was built for.
// It reports the stage it is in (e.g. "fetching the referrers") through
// stage, so that an answer cut by the budget can say what was slow. It is
// called at most once at a time per digest and policy (single-flight).
type VerifyFunc func(ctx context.Context, img name.Digest, stage func(string)) Verdict

// Resolver resolves an image reference to its digest (remote.OCI does).
type Resolver interface {
	Resolve(ctx context.Context, ref name.Reference) (name.Digest, error)
}
