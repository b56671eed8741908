package verifier

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
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
	results, err := v.verifyItems(ctx, items, opts.Parallelism, true)
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
	res := BundleResult{Source: att.Source}
	r := &run{checks: map[CheckName]CheckResult{}}
	v.verifyBundle(att, art, &res, r)
	return assemble(res, r)
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

func (v *Verifier) verifyBundle(att Attestation, art Artifact, res *BundleResult, r *run) {
	b, ok := v.checkBundle(att, res, r)
	if !ok {
		return
	}
	leaf, candidates, ok := v.certificateOf(b, r)
	if !ok {
		return
	}
	in := candidates[0]
	res.Instance = in.name

	// The statement, read before the signature is checked only to find the
	// artifact's subject; it is trusted only once sigstore-go verified it.
	st, stErr := readStatement(b)
	var subj *subject
	var digests []verify.ArtifactDigest
	var subjErr error
	if stErr == nil {
		subj, digests, subjErr = matchSubject(st, art)
	}
	if stErr != nil || subjErr != nil {
		// sigstore-go cannot be asked about this bundle as an attestation
		// of this artifact; its certificate and timestamps are still
		// checked, to report every link that holds.
		if stErr != nil {
			if v.diagnose(in, b, leaf, nil, r, CheckSignature) {
				r.set(fail(CheckSignature, stErr))
			}
			return
		}
		if v.diagnose(in, b, leaf, nil, r, CheckSubject) {
			r.set(fail(CheckSubject, subjErr))
		}
		return
	}
	vr, ok := v.verifyCrypto(candidates, b, leaf, digests, res, r)
	if !ok {
		return
	}
	r.set(pass(CheckSubject, subjectReason(subj, art, digests)))
	v.checkContent(st, vr, res, r)
	if v.keep {
		res.Evidence = &Evidence{Bundle: b, Result: vr}
	}
}

// verifyCrypto runs checks 2–5 at once with sigstore-go, with each
// instance whose CA names match the leaf's issuer (two instances may use
// the same names) until one verifies the bundle; when none does, it
// re-runs sigstore-go's steps to name the failing link.
func (v *Verifier) verifyCrypto(candidates []*instance, b *bundle.Bundle, leaf *x509.Certificate, digests []verify.ArtifactDigest, res *BundleResult, r *run) (*verify.VerificationResult, bool) {
	policy := verify.NewPolicy(verify.WithArtifactDigests(digests), verify.WithoutIdentitiesUnsafe())
	in := candidates[0]
	var vr *verify.VerificationResult
	var err error
	for _, c := range candidates {
		if vr, err = c.verifier.Verify(b, policy); err == nil {
			in = c
			res.Instance = c.name
			break
		}
	}
	if err != nil {
		if v.diagnose(in, b, leaf, digests, r, "") {
			r.set(fail(CheckSignature, err))
		}
		return nil, false
	}
	for _, t := range vr.VerifiedTimestamps {
		res.Timestamps = append(res.Timestamps, Timestamp{Kind: t.Type, URI: t.URI, Time: t.Timestamp})
	}
	r.set(pass(CheckCertificate, certificateReason(in, leaf)))
	r.set(pass(CheckTimestamps, timestampReason(b, res.Timestamps)))
	r.set(pass(CheckSignature, signatureReason))
	return vr, true
}

// checkContent runs checks 6–9, which judge verified content; each runs on
// its own, so a forged bundle reports every link it breaks.
func (v *Verifier) checkContent(st *statement, vr *verify.VerificationResult, res *BundleResult, r *run) {
	summary := *vr.Signature.Certificate
	res.Signer = &summary
	res.PredicateType = st.PredicateType
	res.Predicate = st.Predicate
	r.set(v.identity.check(summary))
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
	pc := checkPredicate(st, summary.Extensions)
	if pc.prov != nil {
		res.BuildType = pc.prov.BuildType
	}
	r.set(pc.result)
	r.set(v.policy.checkProvenance(st, pc.prov, summary.Extensions))
	lvl, lc := level(summary, st, pc.result, &v.policy)
	res.Level = lvl
	r.set(lc)
}

// diagnose re-runs sigstore-go's verification steps one by one, in
// sigstore-go's order, recording each check that passes and the first that
// fails. It stops before check `until` (CheckSignature or CheckSubject; ""
// runs every step); it returns true when every step it ran passed.
func (v *Verifier) diagnose(in *instance, b *bundle.Bundle, leaf *x509.Certificate, digests []verify.ArtifactDigest, r *run, until CheckName) bool {
	tlogTimes, err := in.verifier.VerifyTransparencyLogInclusion(b)
	if err != nil {
		r.set(fail(CheckTimestamps, fmt.Errorf("transparency log entry does not verify: %w", err)))
		r.set(skipped(CheckCertificate, "not run: no verified signature time to check the certificate at (check 3 failed)"))
		return false
	}
	times, err := in.verifier.VerifyObserverTimestamps(b, tlogTimes)
	if err != nil {
		r.set(fail(CheckTimestamps, fmt.Errorf("no verified signature time: %w", err)))
		r.set(skipped(CheckCertificate, "not run: no verified signature time to check the certificate at (check 3 failed)"))
		return false
	}
	var ts []Timestamp
	for _, t := range times {
		ts = append(ts, Timestamp{Kind: t.Type, URI: t.URI, Time: t.Timestamp})
	}
	r.set(pass(CheckTimestamps, timestampReason(b, ts)))

	// As sigstore-go does, ignore an OtherName SAN marked critical, which
	// crypto/x509 does not handle.
	cert := *leaf
	cert.UnhandledCriticalExtensions = nil
	for _, oid := range leaf.UnhandledCriticalExtensions {
		if !oid.Equal(cryptoutils.SANOID) {
			cert.UnhandledCriticalExtensions = append(cert.UnhandledCriticalExtensions, oid)
		}
	}
	for _, t := range times {
		chains, err := verify.VerifyLeafCertificate(t.Timestamp, &cert, in.material)
		if err != nil {
			r.set(fail(CheckCertificate, fmt.Errorf("certificate does not chain to the %s Fulcio CA at %s: %w", in.name, t.Timestamp.UTC().Format(time.RFC3339), err)))
			return false
		}
		if in.sct {
			if err := verify.VerifySignedCertificateTimestamp(chains, 1, in.material); err != nil {
				r.set(fail(CheckCertificate, fmt.Errorf("certificate transparency: %w", err)))
				return false
			}
		}
	}
	r.set(pass(CheckCertificate, certificateReason(in, leaf)))
	if until == CheckSignature {
		return true
	}

	sc, err := b.SignatureContent()
	if err != nil {
		r.set(fail(CheckSignature, err))
		return false
	}
	vc, err := b.VerificationContent()
	if err != nil {
		r.set(fail(CheckSignature, err))
		return false
	}
	if err := verify.VerifySignature(sc, vc, in.material); err != nil {
		r.set(fail(CheckSignature, fmt.Errorf("DSSE signature does not verify with the certificate's key: %w", err)))
		return false
	}
	r.set(pass(CheckSignature, signatureReason))
	if until == CheckSubject {
		return true
	}
	if err := verify.VerifySignatureWithArtifactDigests(sc, vc, in.material, digests); err != nil {
		r.set(fail(CheckSubject, fmt.Errorf("no subject of the statement has %s: %w", digestList(digests, " and "), err)))
		return false
	}
	return true
}

// Item is one artifact with the attestations that may cover it.
type Item struct {
	Artifact     Artifact
	Attestations []Attestation
	// Missing, when set, explains why no attestation was found.
	Missing string
	// files are bundle files whose attestations are the item's too,
	// loaded when it is verified (a bundle directory's, see collectItems).
	files []string
}

// ArtifactResult is the verification of one artifact: it is verified when
// at least one of its bundles is.
type ArtifactResult struct {
	Artifact string `json:"artifact"`
	Digest   string `json:"digest"`
	Verified bool   `json:"verified"`
	// Level is the highest SLSA Build level among verified bundles.
	Level   int            `json:"level"`
	Error   string         `json:"error,omitempty"`
	Bundles []BundleResult `json:"bundles"`
}

// VerifyItems verifies many artifacts in parallel, at most parallelism at a
// time (parallelism < 1 means 4). Results keep the order of items.
func (v *Verifier) VerifyItems(ctx context.Context, items []Item, parallelism int) []ArtifactResult {
	out, _ := v.verifyItems(ctx, items, parallelism, false)
	return out
}

// verifyItems is VerifyItems; with release (for a caller that is done with
// items, as Verify is) each item is cleared once verified (its artifact's
// digests, its attestations and its files),
// so that memory follows the items in flight, not the whole release.
//
// A bundle file of an item's files that cannot be read stops the run: the
// error (an *InputError) of the first such item is returned, and the
// results are then incomplete.
func (v *Verifier) verifyItems(ctx context.Context, items []Item, parallelism int, release bool) ([]ArtifactResult, error) {
	if parallelism < 1 {
		parallelism = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]ArtifactResult, len(items))
	errs := make([]error, len(items))
	cache, files := newBundleCache(), newAttestationFiles()
	cache.expect(items)
	files.expect(items)
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for i, it := range items {
		out[i] = ArtifactResult{Artifact: it.Artifact.Name, Digest: it.Artifact.String()}
		if ctx.Err() != nil {
			out[i].Error = "not verified: " + ctx.Err().Error()
			continue
		}
		select {
		case <-ctx.Done():
			out[i].Error = "not verified: " + ctx.Err().Error()
			continue
		case sem <- struct{}{}:
		}
		wg.Add(1)
		go func(i int, it Item) {
			defer wg.Done()
			defer func() { <-sem }()
			if out[i], errs[i] = v.verifyItem(cache, files, it); errs[i] != nil {
				cancel()
			}
			if release {
				items[i] = Item{}
			}
		}(i, it)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// verifyItem verifies one artifact against each of its attestations, each
// attestation verified once per run (cache) and each of its files loaded
// once while items use it (files). The error is a file that cannot be read.
func (v *Verifier) verifyItem(cache *bundleCache, files *attestationFiles, it Item) (ArtifactResult, error) {
	ar := ArtifactResult{Artifact: it.Artifact.Name, Digest: it.Artifact.String()}
	defer func() {
		for _, p := range it.files {
			cache.forget(files.done(p))
		}
	}()
	atts := it.Attestations
	for _, p := range it.files {
		a, err := files.load(p)
		if err != nil {
			return ar, err
		}
		atts = append(atts[:len(atts):len(atts)], a...)
	}
	if len(atts) == 0 {
		ar.Error = it.Missing
		if ar.Error == "" {
			ar.Error = "no attestation found for this artifact"
		}
		return ar, nil
	}
	for _, att := range atts {
		br := cache.get(v, att).result(v, att, it.Artifact)
		cache.done(att)
		br.BundleSHA256 = cache.values.canonicalString(att.SHA256)
		if br.Verified {
			ar.Verified = true
			ar.Level = max(ar.Level, br.Level)
		}
		ar.Bundles = append(ar.Bundles, br)
	}
	return ar, nil
}
