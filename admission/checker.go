package admission

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/policy"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// Fetcher reads an image's bundle referrers, one at a time (remote.OCI
// does).
type Fetcher interface {
	Each(ctx context.Context, img name.Digest, o remote.FetchOptions, fn func(remote.OCIBundle) error) (notes []string, err error)
}

// CheckerOptions are what provenant verify is given for an oci:// image:
// the registry, the trusted roots, the policy (flags), the policy file and
// the pins, and the verifiers whose VSAs are trusted.
type CheckerOptions struct {
	// Registry reads the referrers.
	Registry Fetcher
	// TrustedRoots are the Sigstore instances to trust.
	TrustedRoots []verifier.TrustedRoot
	// RootDigest names the trusted roots' content (e.g. the SHA-256 of
	// trusted_root.json, or of the TUF targets): a change is a cache miss.
	RootDigest string
	// RootsNotAfter, when not zero, is when the trusted roots' metadata
	// expires: no verdict is cached past it.
	RootsNotAfter time.Time
	// Policy is what verify's flags say.
	Policy verifier.Policy
	// PolicyFile, when not empty, is a policy file (docs/policy.md),
	// merged into Policy and judged as verify --policy does.
	PolicyFile []byte
	// Pins, when not empty, is a pins file held read-only (verify --pins
	// without --update-pins): a source seen with other ids, signer or a
	// lower level is refused.
	Pins []byte
	// VSA, when set, is the policy a VSA referrer must meet to admit the
	// image without verifying its provenance (PredicateType is set to
	// verifier.VSAPredicateType; VerifierID and SignerWorkflow name the
	// verifier trusted).
	VSA *verifier.Policy
	// Verify is verifier.Verify (nil), or a stand-in in tests.
	Verify policy.VerifyFunc
}

// Checker verifies image digests as provenant verify oci://… does: the
// image's bundle referrers verified by verifier.Verify with the policy,
// then held to the policy file and the pins. It is safe for concurrent
// use.
type Checker struct {
	o      CheckerOptions
	file   *policy.File
	pins   *policy.Pins
	digest string
	wanted []string
}

// NewChecker checks the policy (as verify does before anything is
// fetched) and returns a Checker.
func NewChecker(o CheckerOptions) (*Checker, error) {
	if o.Registry == nil {
		return nil, errors.New("admission checker: no registry client given")
	}
	if len(o.TrustedRoots) == 0 {
		return nil, errors.New("admission checker: no trusted root given")
	}
	if o.Verify == nil {
		o.Verify = verifier.Verify
	}
	c := &Checker{o: o}
	if len(o.PolicyFile) > 0 {
		f, err := policy.ParseFile(o.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("policy file: %w", err)
		}
		if err := f.MergeInto(&c.o.Policy); err != nil {
			return nil, fmt.Errorf("policy file: %w", err)
		}
		c.file = f
	}
	if c.o.Policy.PredicateType == "" {
		c.o.Policy.PredicateType = verifier.SLSAProvenanceV1
	}
	if err := verifier.CheckOptions(verifier.Options{Policy: c.o.Policy}); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if len(o.Pins) > 0 {
		p, err := policy.ParsePins(o.Pins)
		if err != nil {
			return nil, fmt.Errorf("pins: %w", err)
		}
		c.pins = p
	}
	if o.VSA != nil {
		v := *o.VSA
		v.PredicateType = verifier.VSAPredicateType
		if v.Owner == "" && v.Repo == "" && v.SourceURI == "" {
			// A VSA admits the image only for the source the policy
			// names.
			v.Owner, v.Repo, v.SourceURI, v.GitHubServer = c.o.Policy.Owner, c.o.Policy.Repo, c.o.Policy.SourceURI, c.o.Policy.GitHubServer
		}
		if err := verifier.CheckOptions(verifier.Options{Policy: v}); err != nil {
			return nil, fmt.Errorf("VSA policy: %w", err)
		}
		c.o.VSA = &v
	}
	c.wanted = []string{c.o.Policy.PredicateType}
	if c.file != nil {
		for _, r := range c.file.Require {
			c.wanted = append(c.wanted, r.PredicateType)
		}
	}
	if c.o.VSA != nil {
		c.wanted = append(c.wanted, verifier.VSAPredicateType)
	}
	slices.Sort(c.wanted)
	c.wanted = slices.Compact(c.wanted)
	sum, err := c.policyDigest()
	if err != nil {
		return nil, err
	}
	c.digest = sum
	return c, nil
}

// policyDigest is the SHA-256 of everything the verdicts depend on
// besides the image and the roots: the merged policy, the policy file,
// the pins and the VSA policy.
func (c *Checker) policyDigest() (string, error) {
	doc, err := json.Marshal(struct {
		Policy     verifier.Policy
		PolicyFile []byte
		Pins       []byte
		VSA        *verifier.Policy
	}{c.o.Policy, c.o.PolicyFile, c.o.Pins, c.o.VSA})
	if err != nil {
		return "", fmt.Errorf("digesting the policy: %w", err)
	}
	sum := sha256.Sum256(doc)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// State is the engine state of this checker.
func (c *Checker) State() State {
	root := c.o.RootDigest
	if root == "" {
		names := make([]string, 0, len(c.o.TrustedRoots))
		for _, r := range c.o.TrustedRoots {
			names = append(names, r.Name)
		}
		root = "names:" + strings.Join(names, ",")
	}
	return State{PolicyDigest: c.digest, RootDigest: root, NotAfter: c.o.RootsNotAfter, Verify: c.Verify}
}

// Verify judges one image digest: its referrers are read, a VSA from a
// trusted verifier admits it at once, else its provenance is verified and
// judged by the policy file and the pins.
func (c *Checker) Verify(ctx context.Context, img name.Digest, stage func(string)) Verdict {
	d := img.DigestStr()
	stage("fetching the attestations (referrers) of " + img.String() + " from the registry " + img.RegistryStr())
	var atts []verifier.Attestation
	_, err := c.o.Registry.Each(ctx, img, remote.FetchOptions{PredicateTypes: c.wanted}, func(b remote.OCIBundle) error {
		atts = append(atts, verifier.ParseAttestations(b.Source, b.Bundle)...)
		return nil
	})
	if err != nil {
		return Verdict{Reason: ReasonUnreachable, Check: "registry", Message: "reading the attestations: " + err.Error(), Transient: true}
	}
	if len(atts) == 0 {
		return Verdict{Reason: ReasonFailed, Check: "attestation", Message: "no attestation of " + strings.Join(c.wanted, " or ") + " is attached to the image in the registry (provenant attest --push-to-registry)"}
	}
	opts := verifier.Options{Digests: []string{d}, Attestations: map[string][]verifier.Attestation{d: atts}, TrustedRoots: c.o.TrustedRoots, Parallelism: 1}
	if c.o.VSA != nil {
		stage("verifying the VSA of " + img.String())
		o := opts
		o.Policy = *c.o.VSA
		if rep, err := c.o.Verify(ctx, o); err == nil && rep.Verified && len(rep.Artifacts) == 1 {
			v := Verdict{Allowed: true, Reason: ReasonVSA}
			facts(&v, rep.Artifacts[0], verifier.VSAPredicateType)
			return v
		}
	}
	stage("verifying the provenance of " + img.String())
	opts.Policy = c.o.Policy
	rep, err := c.o.Verify(ctx, opts)
	if err == nil && c.file != nil {
		err = c.file.Judge(ctx, c.o.Verify, opts, rep)
	}
	if err != nil {
		return Verdict{Reason: ReasonFailed, Check: "input", Message: err.Error()}
	}
	if len(rep.Artifacts) != 1 {
		return Verdict{Reason: ReasonFailed, Check: "input", Message: fmt.Sprintf("the verification gave %d results for one image", len(rep.Artifacts))}
	}
	a := rep.Artifacts[0]
	if a.Verified && c.pins != nil {
		c.checkPins(&a)
	}
	if !a.Verified {
		return failure(a)
	}
	v := Verdict{Allowed: true, Reason: ReasonProvenance}
	facts(&v, a, c.o.Policy.PredicateType)
	return v
}

// checkPins holds a verified artifact's bundles of the primary type to a
// copy of the pins (read-only: nothing is recorded across verdicts).
func (c *Checker) checkPins(a *verifier.ArtifactResult) {
	pins := &policy.Pins{Version: c.pins.Version, Sources: maps.Clone(c.pins.Sources)}
	only := *a
	only.Bundles = nil
	for _, b := range a.Bundles {
		if b.PredicateType == c.o.Policy.PredicateType {
			only.Bundles = append(only.Bundles, b)
		}
	}
	_, err := pins.Check(only, false)
	policy.FailArtifact(a, err)
}

// facts records the signers and source repositories of a's verified
// bundles of predicate type pt, for the revocation list.
func facts(v *Verdict, a verifier.ArtifactResult, pt string) {
	for _, b := range a.Bundles {
		if !b.Verified || b.Signer == nil || b.PredicateType != pt {
			continue
		}
		if san := b.Signer.SubjectAlternativeName; san != "" && !slices.Contains(v.Signers, san) {
			v.Signers = append(v.Signers, san)
		}
		if id := b.Signer.Extensions.SourceRepositoryIdentifier; id != "" && !slices.Contains(v.SourceRepositoryIDs, id) {
			v.SourceRepositoryIDs = append(v.SourceRepositoryIDs, id)
		}
	}
}

// ruleVerdict is the failure of a policy rule, from the text "policy rule
// RULE: WHY": the denial line reads "failed policy rule RULE: WHY", the
// rule once.
func ruleVerdict(text string) Verdict {
	rule, why, ok := strings.Cut(text, ": ")
	if !ok {
		why = text
	}
	return Verdict{Reason: ReasonFailed, Check: rule, Message: why}
}

// failure is the verdict on an artifact that did not verify: the policy
// rule or pin that refused it, else the check that failed furthest along
// the chain among its bundles.
func failure(a verifier.ArtifactResult) Verdict {
	for _, b := range a.Bundles {
		if b.Refused != "" {
			return ruleVerdict(b.Refused)
		}
	}
	if i := strings.Index(a.Error, "policy rule "); i >= 0 {
		return ruleVerdict(a.Error[i:])
	}
	var best *verifier.CheckResult
	for _, b := range a.Bundles {
		for _, c := range b.Checks {
			if c.Status == verifier.StatusFail && (best == nil || c.Name.Number() > best.Name.Number()) {
				best = &c
			}
		}
	}
	switch {
	case best != nil:
		return Verdict{Reason: ReasonFailed, Check: string(best.Name),
			Message: fmt.Sprintf("check %d (%s) failed: %s", best.Name.Number(), best.Name, best.Reason)}
	case a.Error != "":
		return Verdict{Reason: ReasonFailed, Check: "verification", Message: a.Error}
	}
	return Verdict{Reason: ReasonFailed, Check: "verification", Message: "no attestation verified"}
}
