package verifier

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Options is everything Verify needs: where the artifacts and attestations
// are, which roots to trust and what to require.
type Options struct {
	// Artifacts are files to verify.
	Artifacts []string
	// Digests are artifacts given by digest ("sha256:<hex>", "sha512:<hex>").
	Digests []string
	// BundleFiles are bundle files (JSON, or JSON Lines with several
	// bundles); each is tried for every artifact.
	BundleFiles []string
	// BundleDir holds release assets with their attestations
	// (<asset>.sigstore.json, <asset>.intoto.jsonl, multiple.intoto.jsonl…).
	// With no Artifacts and no Digests, every asset in it is verified, and
	// every other entry (a symbolic link, a folder, an attestation for no
	// asset) is reported as not verified unless Exclude matches its name.
	BundleDir string
	// BundleDirName, when set, is the name reports give BundleDir and its
	// entries ("release v1.2.3" for a release downloaded into a temporary
	// folder: "release v1.2.3/app.tar.gz"); empty: the path itself.
	BundleDirName string
	// Exclude are doublestar patterns (e.g. "*.txt", "docs") of BundleDir
	// entries to leave out on purpose.
	Exclude []string
	// TrustedRoots are the instances to trust (see package trust).
	TrustedRoots []TrustedRoot
	// Policy is what the signer and the provenance must be.
	Policy Policy
	// Parallelism bounds how many artifacts are verified at once (default 4).
	Parallelism int
	// Attestations are attestations already in memory (fetched from a
	// remote), by subject digest "alg:hex"; each artifact gets those of
	// its digests. A non-nil map is an attestation source even if empty.
	Attestations map[string][]Attestation
	// KeepEvidence keeps each verified bundle and sigstore-go's
	// VerificationResult in its BundleResult (Evidence), for output in gh's
	// JSON shape; off by default, since a release's worth of bundles is
	// memory a report does not need.
	KeepEvidence bool
	// DigestAlgorithm, when set, is the one algorithm file artifacts are
	// compared in (gh's --digest-alg, cosign's sha256): a subject only in
	// another algorithm does not match. Empty: every algorithm the
	// subjects use.
	DigestAlgorithm string
	// RefuseBundleV01 refuses bundles of media type v0.1, as gh does.
	RefuseBundleV01 bool
}

// Verify verifies every artifact of opts against its attestations. It
// returns an *InputError for unusable input (unreadable files, malformed
// digests, no artifact); a failed check is not an error but a Report whose
// Verified is false.
func Verify(ctx context.Context, opts Options) (*Report, error) {
	if len(opts.TrustedRoots) == 0 {
		return nil, &InputError{Err: errors.New("no trusted root given")}
	}
	v, err := New(opts.TrustedRoots, opts.Policy)
	var pe *PolicyError
	if errors.As(err, &pe) {
		return nil, pe
	}
	if err != nil {
		return nil, &InputError{Err: err}
	}
	v.keep, v.noV01 = opts.KeepEvidence, opts.RefuseBundleV01
	items, err := collectItems(opts)
	if err != nil {
		return nil, err
	}
	results, err := v.verifyItems(ctx, items, opts.Parallelism, newAttestationFiles(opts.displayName), true)
	if err != nil {
		return nil, err
	}
	rep := &Report{MinLevel: opts.Policy.MinLevel, Artifacts: results}
	rep.Verified = len(rep.Artifacts) > 0
	for _, a := range rep.Artifacts {
		rep.Verified = rep.Verified && a.Verified
	}
	return rep, nil
}

// CheckOptions refuses what Verify would refuse of opts before anything is
// read, fetched or loaded: an unusable policy (a *PolicyError), a minimum
// level out of range and malformed digests (an *InputError). A command calls
// it first, so that a usage error is reported as one (and at once) rather
// than after the trusted roots were loaded through TUF.
func CheckOptions(opts Options) error {
	if opts.Policy.MinLevel < 0 || opts.Policy.MinLevel > 3 {
		return &PolicyError{Err: fmt.Errorf("min level %d: want 1, 2 or 3", opts.Policy.MinLevel)}
	}
	if err := opts.Policy.Validate(); err != nil {
		return err
	}
	for _, d := range opts.Digests {
		if _, err := ArtifactFromDigest(d); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				return err
			}
			return &InputError{Err: err}
		}
	}
	return nil
}

// Evidence is a verified bundle and what sigstore-go said of it, the
// pieces of gh attestation verify's JSON output.
type Evidence struct {
	Bundle *bundle.Bundle
	Result *verify.VerificationResult
}

// Verifier verifies bundles against a set of trusted roots and a policy. It
// is built once and is safe for concurrent use.
type Verifier struct {
	instances []*instance
	policy    Policy
	identity  *identityMatcher
	keep      bool // keep each verified bundle's Evidence
	noV01     bool // refuse bundles v0.1 (gh's line)
}

// New builds a Verifier: one sigstore-go verifier per trusted root, and the
// compiled policy. It fails on an unusable policy or trusted root.
func New(roots []TrustedRoot, policy Policy) (*Verifier, error) {
	if len(roots) == 0 {
		return nil, errors.New("no trusted root: give at least one")
	}
	if policy.MinLevel < 0 || policy.MinLevel > 3 {
		return nil, fmt.Errorf("min level %d: want 1, 2 or 3", policy.MinLevel)
	}
	id, err := policy.compileIdentity()
	if err != nil {
		return nil, err
	}
	v := &Verifier{policy: policy, identity: id}
	for _, r := range roots {
		in, err := newInstance(r)
		if err != nil {
			return nil, err
		}
		v.instances = append(v.instances, in)
	}
	return v, nil
}

// BundleResult is the verification of one bundle for one artifact.
type BundleResult struct {
	// Source names the bundle: file, and line in JSON Lines files.
	Source string `json:"source"`
	// MediaType is the bundle's media type.
	MediaType string `json:"mediaType,omitempty"`
	// Instance names the trusted root that verified the certificate.
	Instance string `json:"instance,omitempty"`
	// Signer is the verified certificate's SAN, issuer and Fulcio extensions.
	Signer *certificate.Summary `json:"signer,omitempty"`
	// Timestamps are the verified signature times.
	Timestamps []Timestamp `json:"timestamps,omitempty"`
	// PredicateType and BuildType describe the verified statement.
	PredicateType string `json:"predicateType,omitempty"`
	BuildType     string `json:"buildType,omitempty"`
	// Predicate is the verified statement's predicate (JSON), for the
	// conditions of a policy file; not in the report.
	Predicate []byte `json:"-"`
	// BundleSHA256 is the SHA-256 (hex) of the bundle as read, for the
	// inputAttestations of a VSA; not in the report.
	BundleSHA256 string `json:"-"`
	// Checks holds the nine checks in order.
	Checks []CheckResult `json:"checks"`
	// Level is the SLSA Build level reached (0 when the signature did not verify).
	Level int `json:"level"`
	// Verified is true when no check failed (and no policy file refused it).
	Verified bool `json:"verified"`
	// Evidence is what sigstore-go verified: the bundle and its
	// VerificationResult, kept only with Options.KeepEvidence (to print
	// gh's JSON); not in the report.
	Evidence *Evidence `json:"-"`
	// Refused, when set, says why a policy file refused a bundle whose nine
	// checks passed (PolicyFile.Apply): it does not count.
	Refused string `json:"refusedByPolicy,omitempty"`
}

// Err returns the first failed check as a *CheckError, or nil if verified.
func (r *BundleResult) Err() error {
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			return c.Err()
		}
	}
	return nil
}

// Check returns the result of the named check.
func (r *BundleResult) Check(name CheckName) CheckResult {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return CheckResult{Name: name}
}

// run collects the check results of one bundle.
type run struct {
	checks map[CheckName]CheckResult
}

func (r *run) set(c CheckResult) { r.checks[c.Name] = c }

// VerifyBundle runs the nine checks on one bundle for one artifact.
func (v *Verifier) VerifyBundle(att Attestation, art Artifact) BundleResult {
	return newBundleCache().get(v, att).result(v, att, art)
}

// verifyBundleFull runs the nine checks on one bundle for one artifact,
// from the start: the path of a bundle that does not verify for every
// artifact alike, which names the failing link.
func (v *Verifier) verifyBundleFull(att Attestation, art Artifact) BundleResult {
	c := v.chain(att, &art)
	return assemble(c.res, c.r)
}

// assemble lists the checks of r in order in res, a check that did not
// run as skipped with the first failed check as its reason, and sets
// Verified.
func assemble(res BundleResult, r *run) BundleResult {
	res.Verified = true
	res.Checks = make([]CheckResult, 0, len(Checks))
	var failed CheckName
	for _, name := range Checks {
		c, ok := r.checks[name]
		if !ok {
			reason := "not run"
			if failed != "" {
				reason = fmt.Sprintf("not run: check %d (%s) failed", failed.Number(), failed)
			}
			c = skipped(name, reason)
		}
		if c.Status == StatusFail {
			res.Verified = false
			if failed == "" {
				failed = name
			}
		}
		res.Checks = append(res.Checks, c)
	}
	return res
}

// chained is what the chain found for one attestation: the result and
// checks so far, and what the links read, for bundleCache to reuse.
type chained struct {
	res BundleResult
	r   *run
	// complete is set when every link ran: for no artifact in particular
	// (art nil), checks 1–4 and 6–9 passed their sigstore-go part and the
	// statement was read.
	complete bool
	b        *bundle.Bundle
	leaf     *x509.Certificate
	first    *instance // the leaf's first candidate instance
	st       *statement
	vr       *verify.VerificationResult
}

// chain is the one orchestrator: it runs the links on one attestation in
// order, each in the file named for it (doc.go lists them). With an
// artifact it runs all nine and, when sigstore-go refuses the bundle,
// re-runs sigstore-go's steps to name the failing link (sigstore.go). With
// art nil it verifies what every artifact of the attestation shares
// (checks 1–4 and 6–9, sigstore-go without an artifact) and stops at the
// first failure without diagnosing: bundleCache then matches artifacts to
// the verified statement (check 5) or takes the path with the artifact.
func (v *Verifier) chain(att Attestation, art *Artifact) chained {
	c := chained{res: BundleResult{Source: att.Source}, r: &run{checks: map[CheckName]CheckResult{}}}
	res, r := &c.res, c.r
	b, ok := v.checkBundle(att, res, r) // 1: bundle.go
	if !ok {
		return c
	}
	leaf, candidates, ok := v.certificateOf(b, r) // 2: certificate.go (the instance)
	if !ok {
		return c
	}
	c.b, c.leaf, c.first = b, leaf, candidates[0]
	if art != nil {
		res.Instance = c.first.name
	}

	// The statement, read before the signature is checked only to find the
	// artifact's subject; it is trusted only once sigstore-go verified it.
	st, stErr := readStatement(b) // signature.go
	if stErr != nil {
		if art != nil && v.diagnose(c.first, b, leaf, nil, r, CheckSignature) {
			r.set(fail(CheckSignature, stErr))
		}
		return c
	}
	var subj *subject
	var digests []verify.ArtifactDigest
	if art != nil {
		var subjErr error
		if subj, digests, subjErr = matchSubject(st, *art); subjErr != nil { // 5: subject.go
			// sigstore-go cannot be asked about this bundle as an
			// attestation of this artifact; its certificate and timestamps
			// are still checked, to report every link that holds.
			if v.diagnose(c.first, b, leaf, nil, r, CheckSubject) {
				r.set(fail(CheckSubject, subjErr))
			}
			return c
		}
	}
	vr, ok := v.verifyCrypto(candidates, b, leaf, digests, art != nil, res, r) // 2–4 (and 5): sigstore.go
	if !ok || (art == nil && vr.Statement == nil) {
		return c
	}
	if art != nil {
		r.set(pass(CheckSubject, subjectReason(subj, *art, digests)))
	}
	c.st, c.vr, c.complete = st, vr, true

	if v.keep {
		res.Evidence = &Evidence{Bundle: b, Result: vr}
	}
	v.checkContent(st, vr, res, r) // 6–9
	return c
}

// checkContent runs checks 6–9, which judge verified content; each runs on
// its own, so a forged bundle reports every link it breaks.
func (v *Verifier) checkContent(st *statement, vr *verify.VerificationResult, res *BundleResult, r *run) {
	summary := *vr.Signature.Certificate
	res.Signer = &summary
	res.PredicateType = st.PredicateType
	res.Predicate = st.Predicate
	r.set(v.identity.check(summary)) // 6: identity.go
	if st.PredicateType == VSAPredicateType {
		// A VSA: its own checks 7–9 (vsa.go); the provenance checks do not apply.
		pred, facts := checkVSA(st, &v.policy)
		r.set(pred)
		r.set(v.policy.checkVSAProvenance(st))
		lvl, lc := vsaLevel(facts, pred, &v.policy)
		res.Level = lvl
		r.set(lc)
		return
	}
	pc := checkPredicate(st, summary.Extensions) // 7: predicate.go
	if pc.prov != nil {
		res.BuildType = pc.prov.BuildType
	}
	r.set(pc.result)
	r.set(v.policy.checkProvenance(st, pc.prov, summary.Extensions)) // 8: provenance.go
	lvl, lc := level(summary, st, pc.result, &v.policy)              // 9: level.go
	res.Level = lvl
	r.set(lc)
}
