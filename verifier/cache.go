package verifier

import (
	"crypto/x509"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"
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
}

// attestationKey identifies one attestation: the entry of a bundle file,
// parsed once per run (the same *bundle.Bundle for every artifact).
type attestationKey struct {
	source string
	bundle *bundle.Bundle
}

func newBundleCache() *bundleCache {
	return &bundleCache{m: map[attestationKey]*verifiedAttestation{}, uses: map[attestationKey]int{}}
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
	va.once.Do(func() { va.verify(v, att) })
	return va
}

// verify runs checks 1–4 and 6–9 once, for no artifact in particular.
func (va *verifiedAttestation) verify(v *Verifier, att Attestation) {
	va.res = BundleResult{Source: att.Source}
	r := &run{checks: map[CheckName]CheckResult{}}
	b, ok := checkBundle(att, &va.res, r)
	if !ok {
		return
	}
	leaf, candidates, ok := v.certificateOf(b, r)
	if !ok {
		return
	}
	st, err := readStatement(b)
	if err != nil {
		return
	}
	va.bundle, va.leaf, va.first = b, leaf, candidates[0]
	policy := verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe())
	var vr *verify.VerificationResult
	for _, c := range candidates {
		if vr, err = c.verifier.Verify(b, policy); err == nil {
			va.res.Instance = c.name
			r.set(pass(CheckCertificate, certificateReason(c, leaf)))
			break
		}
	}
	if err != nil || vr.Statement == nil {
		return
	}
	for _, t := range vr.VerifiedTimestamps {
		va.res.Timestamps = append(va.res.Timestamps, Timestamp{Kind: t.Type, URI: t.URI, Time: t.Timestamp})
	}
	r.set(pass(CheckTimestamps, timestampReason(b, va.res.Timestamps)))
	r.set(pass(CheckSignature, signatureReason))
	v.checkContent(st, vr, &va.res, r)
	va.signed, va.signedOK = signedDigests(vr)
	va.st, va.index, va.checks, va.ok = st, subjectIndex(st), r.checks, true
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
	res := va.res
	res.Timestamps = slices.Clone(va.res.Timestamps)
	summary := *va.res.Signer
	res.Signer = &summary
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
type attestationFiles struct {
	mu sync.Mutex
	m  map[string]*loadedFile
}

type loadedFile struct {
	once sync.Once
	atts []Attestation
	err  error
}

func newAttestationFiles() *attestationFiles {
	return &attestationFiles{m: map[string]*loadedFile{}}
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
	lf.once.Do(func() { lf.atts, lf.err = LoadAttestations(path) })
	return lf.atts, lf.err
}

// prefetch hashes the artifact files and parses their bundle directory's
// attestation files in parallel (opts.Parallelism workers): a release of
// a thousand assets is otherwise read, hashed and parsed one file at a
// time before verification starts. Errors are returned by index, for
// collectItems to report the first in order; attestation files that do
// not load are reported when collectItems loads them again.
func prefetch(c *collector, paths []string) ([]Artifact, []error) {
	arts, errs := make([]Artifact, len(paths)), make([]error, len(paths))
	workers := c.opts.Parallelism
	if workers < 1 {
		workers = 4
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(paths)) {
		wg.Go(func() {
			for i := range jobs {
				arts[i], errs[i] = ArtifactFromFile(paths[i])
				if errs[i] != nil || c.opts.BundleDir == "" {
					continue
				}
				for _, f := range attestationFilesFor(c.opts.BundleDir, filepath.Base(paths[i])) {
					_, _ = c.files.load(f)
				}
			}
		})
	}
	for i := range paths {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return arts, errs
}
