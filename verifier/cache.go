package verifier

import (
	"crypto/x509"
	"encoding/hex"
	"slices"
	"strings"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// A run verifies many artifacts, often against one bundle (attest writes
// one bundle for every subject of a step; multiple.intoto.jsonl covers a
// whole release). Checks 1–4 and 6–9 do not depend on the artifact, so
// each distinct attestation is verified once per run, by sigstore-go and
// without an artifact; every artifact is then looked up in an index of the
// verified statement's subjects (check 5). The statement's integrity is
// that of the DSSE signature sigstore-go verified.

// bundleCache holds the verifications of one run, one per attestation.
// It is safe for concurrent use: each attestation is verified once, by
// the first artifact that needs it, while the others wait.
//
// When the uses are known up front (expect), an entry is dropped after its
// last use (done), so a release of many assets with a bundle each holds
// only the attestations being verified, not every one until the end.
type bundleCache struct {
	mu   sync.Mutex
	m    map[attestationKey]*verifiedAttestation
	uses map[attestationKey]int // the uses still to come, from expect
	// values holds one copy of each result value that many artifacts'
	// results repeat (see canonical).
	values canonicalValues
}

// attestationKey identifies one attestation: the entry of a bundle file,
// parsed once per run (the same *bundle.Bundle for every artifact).
type attestationKey struct {
	source string
	bundle *bundle.Bundle
}

func newBundleCache() *bundleCache {
	return &bundleCache{m: map[attestationKey]*verifiedAttestation{}, uses: map[attestationKey]int{}, values: newCanonicalValues()}
}

// expect counts the uses items will make of each attestation.
func (c *bundleCache) expect(items []Item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range items {
		for _, att := range it.Attestations {
			c.uses[attestationKey{att.Source, att.Bundle}]++
		}
	}
}

// done ends one expected use of att; after the last, its entry is dropped.
// An attestation expect never counted keeps its entry.
func (c *bundleCache) done(att Attestation) {
	key := attestationKey{att.Source, att.Bundle}
	c.mu.Lock()
	defer c.mu.Unlock()
	n, counted := c.uses[key]
	if !counted {
		return
	}
	if n <= 1 {
		delete(c.uses, key)
		delete(c.m, key)
		return
	}
	c.uses[key] = n - 1
}

// forget drops the entries of attestations no item will use again (those
// of a bundle file every user of which is done), whether expect counted
// them or not.
func (c *bundleCache) forget(atts []Attestation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, att := range atts {
		key := attestationKey{att.Source, att.Bundle}
		delete(c.uses, key)
		delete(c.m, key)
	}
}

// verifiedAttestation is what checks 1–4 and 6–9 found for one
// attestation, and the index of its statement's subjects.
type verifiedAttestation struct {
	once sync.Once
	// ok is set when checks 1–4 passed with sigstore-go for no artifact
	// in particular and the statement was read; otherwise every artifact
	// takes the full path (verifyBundle), which names the failing link.
	ok bool
	// res holds the artifact-independent fields of a verified result.
	res BundleResult
	// checks holds the results of checks 1–4 and 6–9.
	checks map[CheckName]CheckResult
	st     *statement
	index  map[string][]int // "alg:hex" (lower case) → subjects' indices in st
	// signed is the statement's subject digests as sigstore-go read them
	// (alg → set of decoded digests), to ask what it would answer for a digest;
	// signedOK is false when sigstore-go would reject any digest.
	signed   map[string]map[string]bool
	signedOK bool

	// The diagnosis of a subject that is not the artifact's, which
	// re-runs checks 2–4 step by step with the leaf's first instance (as
	// verifyBundle does): the same for every artifact, so made once.
	mismatchOnce sync.Once
	bundle       *bundle.Bundle
	leaf         *x509.Certificate
	first        *instance
	mismatch     map[CheckName]CheckResult
	mismatchOK   bool
}

// get returns the attestation's entry, verifying it on first use.
func (c *bundleCache) get(v *Verifier, att Attestation) *verifiedAttestation {
	key := attestationKey{att.Source, att.Bundle}
	c.mu.Lock()
	va, ok := c.m[key]
	if !ok {
		va = &verifiedAttestation{}
		c.m[key] = va
	}
	c.mu.Unlock()
	va.once.Do(func() {
		va.verify(v, att)
		c.values.canonical(va)
	})
	return va
}

// verify runs the chain once for no artifact in particular (checks 1–4
// and 6–9) and indexes the verified statement's subjects.
func (va *verifiedAttestation) verify(v *Verifier, att Attestation) {
	c := v.chain(att, nil)
	va.res = c.res
	va.bundle, va.leaf, va.first = c.b, c.leaf, c.first
	if !c.complete {
		return
	}
	va.signed, va.signedOK = signedDigests(c.vr)
	va.st, va.index, va.checks, va.ok = c.st, subjectIndex(c.st), c.r.checks, true
}

// result is the verification of the attestation for one artifact: the
// same BundleResult as VerifyBundle's, made from the run's verification.
func (va *verifiedAttestation) result(v *Verifier, att Attestation, art Artifact) BundleResult {
	if !va.ok {
		return v.verifyBundleFull(att, art)
	}
	subj, digests, err := va.match(art)
	if err != nil {
		return va.mismatchResult(v, att, err)
	}
	if !va.signedOK || !va.signedHas(digests) {
		// sigstore-go reads the signed statement otherwise than this
		// package: the full path reports what it says.
		return v.verifyBundleFull(att, art)
	}
	// res.Signer, res.Timestamps and res.Predicate are shared by every
	// artifact of the attestation (and of equal ones, canonical): results
	// are read, never changed.
	res := va.res
	r := &run{checks: make(map[CheckName]CheckResult, len(Checks))}
	for k, c := range va.checks {
		r.checks[k] = c
	}
	r.set(pass(CheckSubject, subjectReason(subj, art, digests)))
	return assemble(res, r)
}

// mismatchResult is the result for an artifact that no subject matches,
// as verifyBundle reports it: checks 2–4 diagnosed with the leaf's first
// instance, check 5 failed, the others not run.
func (va *verifiedAttestation) mismatchResult(v *Verifier, att Attestation, subjErr error) BundleResult {
	va.mismatchOnce.Do(func() {
		r := &run{checks: map[CheckName]CheckResult{}}
		va.mismatchOK = v.diagnose(va.first, va.bundle, va.leaf, nil, r, CheckSubject)
		va.mismatch = r.checks
	})
	res := BundleResult{Source: att.Source, MediaType: va.res.MediaType, Instance: va.first.name}
	r := &run{checks: make(map[CheckName]CheckResult, len(Checks))}
	r.checks[CheckBundle] = va.checks[CheckBundle]
	for k, c := range va.mismatch {
		r.checks[k] = c
	}
	if va.mismatchOK {
		r.set(fail(CheckSubject, subjErr))
	}
	return assemble(res, r)
}

// subjectIndex maps each subject digest ("alg:hex", hex in lower case, in
// the algorithms artifacts are hashed with) to the subjects that carry it,
// in statement order.
func subjectIndex(st *statement) map[string][]int {
	idx := make(map[string][]int, len(st.Subject))
	for i, s := range st.Subject {
		for _, alg := range digestAlgorithms {
			if h, ok := s.Digest[alg]; ok {
				k := alg + ":" + strings.ToLower(h)
				idx[k] = append(idx[k], i)
			}
		}
	}
	return idx
}

// match is matchSubject through the index: the first subject in statement
// order whose every digest in the artifact's algorithms equals the
// artifact's. Only a subject carrying one of the artifact's digests can
// match, so only those are compared; when none matches, matchSubject
// itself explains why.
func (va *verifiedAttestation) match(art Artifact) (*subject, []verify.ArtifactDigest, error) {
	var cands []int
	for _, alg := range digestAlgorithms {
		if d, ok := art.Digests[alg]; ok {
			cands = append(cands, va.index[alg+":"+hex.EncodeToString(d)]...)
		}
	}
	slices.Sort(cands)
	for _, i := range slices.Compact(cands) {
		if ds, ok := fullMatch(&va.st.Subject[i], art); ok {
			return &va.st.Subject[i], ds, nil
		}
	}
	return matchSubject(va.st, art)
}

// fullMatch applies matchSubject's rule to one subject: at least one
// digest in common, and every digest in common equal.
func fullMatch(s *subject, art Artifact) ([]verify.ArtifactDigest, bool) {
	var ds []verify.ArtifactDigest
	for _, alg := range digestAlgorithms {
		h, ok := s.Digest[alg]
		d, have := art.Digests[alg]
		if !ok || !have {
			continue
		}
		if !strings.EqualFold(h, hex.EncodeToString(d)) {
			return nil, false
		}
		ds = append(ds, verify.ArtifactDigest{Algorithm: alg, Digest: d})
	}
	return ds, len(ds) > 0
}

// sigstore-go's limits on a statement verified against artifact digests
// (pkg/verify/signature.go, unexported there); TestCachedResultIsVerifyBundles
// pins them.
const (
	sigstoreMaxSubjects       = 1024
	sigstoreMaxSubjectDigests = 32
)

// signedDigests is the statement's subject digests as sigstore-go read the
// verified payload (VerificationResult.Statement), by algorithm; ok is
// false when sigstore-go would refuse to compare any artifact digest with
// them (too many subjects or digests, a digest that is not hex), as
// verify.WithArtifactDigests does.
func signedDigests(vr *verify.VerificationResult) (map[string]map[string]bool, bool) {
	subjects := vr.Statement.GetSubject()
	if len(subjects) > sigstoreMaxSubjects {
		return nil, false
	}
	out := map[string]map[string]bool{}
	for _, s := range subjects {
		if len(s.GetDigest()) > sigstoreMaxSubjectDigests {
			return nil, false
		}
		for alg, h := range s.GetDigest() {
			d, err := hex.DecodeString(h)
			if err != nil {
				return nil, false
			}
			if out[alg] == nil {
				out[alg] = map[string]bool{}
			}
			out[alg][string(d)] = true
		}
	}
	return out, true
}

// signedHas reports whether sigstore-go would find every digest among the
// signed statement's subjects (as verify.WithArtifactDigests checks).
func (va *verifiedAttestation) signedHas(digests []verify.ArtifactDigest) bool {
	if len(digests) == 0 {
		return false
	}
	for _, d := range digests {
		if !va.signed[d.Algorithm][string(d.Digest)] {
			return false
		}
	}
	return true
}

// attestationFiles reads and parses each bundle file once per run, safely
// from many goroutines: every artifact then holds the same parsed
// attestations (the same *bundle.Bundle), which bundleCache keys on.
//
// A bundle directory's files are loaded when the first of their items is
// verified, not when items are collected, and dropped after the last
// (expect, done): memory then follows the items in flight, not the size
// of the release.
type attestationFiles struct {
	// display names a file's attestations (Options.displayName).
	display func(path string) string
	mu      sync.Mutex
	m       map[string]*loadedFile
	uses    map[string]int // the uses still to come, from expect
}

type loadedFile struct {
	once sync.Once
	atts []Attestation
	err  error
}

// newAttestationFiles names each file's attestations by display (nil:
// DisplayName).
func newAttestationFiles(display func(string) string) *attestationFiles {
	if display == nil {
		display = DisplayName
	}
	return &attestationFiles{display: display, m: map[string]*loadedFile{}, uses: map[string]int{}}
}

// expect counts the uses items will make of each of their files.
func (f *attestationFiles) expect(items []Item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range items {
		for _, p := range it.files {
			f.uses[p]++
		}
	}
}

// done ends one expected use of a file. After the last it drops the file
// and returns its attestations, for the caller to forget their
// verifications; a file expect never counted is kept.
func (f *attestationFiles) done(path string) []Attestation {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, counted := f.uses[path]
	if !counted {
		return nil
	}
	if n > 1 {
		f.uses[path] = n - 1
		return nil
	}
	delete(f.uses, path)
	lf := f.m[path]
	delete(f.m, path)
	if lf == nil {
		return nil
	}
	return lf.atts
}

// load returns the parsed attestations of a bundle file (LoadAttestations).
func (f *attestationFiles) load(path string) ([]Attestation, error) {
	f.mu.Lock()
	lf, ok := f.m[path]
	if !ok {
		lf = &loadedFile{}
		f.m[path] = lf
	}
	f.mu.Unlock()
	lf.once.Do(func() { lf.atts, lf.err = loadAttestations(path, f.display(path)) })
	return lf.atts, lf.err
}

// canonicalValues keeps one copy of each value that the results of many
// artifacts repeat. A report holds every result to the end of the run
// (for the policy, VSAs and output), and the assets of one release, each
// with its own bundle from the same workflow run, carry the same signer,
// predicate and check reasons: without one copy of each, the report grows
// by kilobytes per asset. Values that differ are kept as they are.
type canonicalValues struct {
	mu      sync.Mutex
	signers map[certificate.Summary]*certificate.Summary
	bytes   map[string][]byte
	strs    map[string]string
}

func newCanonicalValues() canonicalValues {
	return canonicalValues{signers: map[certificate.Summary]*certificate.Summary{}, bytes: map[string][]byte{}, strs: map[string]string{}}
}

// canonical makes the values a verified attestation's results will share
// the run's copies of equal values. Results of the full path (bundles
// that did not verify) are made per artifact and keep their own.
func (cv *canonicalValues) canonical(va *verifiedAttestation) {
	if !va.ok {
		return
	}
	cv.mu.Lock()
	defer cv.mu.Unlock()
	if s := va.res.Signer; s != nil {
		if c, ok := cv.signers[*s]; ok {
			va.res.Signer = c
		} else {
			cv.signers[*s] = s
		}
	}
	if p := va.res.Predicate; p != nil {
		if c, ok := cv.bytes[string(p)]; ok {
			va.res.Predicate = c
		} else {
			cv.bytes[string(p)] = p
		}
	}
	va.res.MediaType = cv.str(va.res.MediaType)
	va.res.Instance = cv.str(va.res.Instance)
	va.res.PredicateType = cv.str(va.res.PredicateType)
	va.res.BuildType = cv.str(va.res.BuildType)
	for i, t := range va.res.Timestamps {
		va.res.Timestamps[i].Kind, va.res.Timestamps[i].URI = cv.str(t.Kind), cv.str(t.URI)
	}
	for k, c := range va.checks {
		c.Reason = cv.str(c.Reason)
		va.checks[k] = c
	}
}

// canonicalString returns the run's copy of s.
func (cv *canonicalValues) canonicalString(s string) string {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	return cv.str(s)
}

// str returns the run's copy of s; cv.mu is held.
func (cv *canonicalValues) str(s string) string {
	if c, ok := cv.strs[s]; ok {
		return c
	}
	cv.strs[s] = s
	return s
}
