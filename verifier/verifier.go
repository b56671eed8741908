package verifier

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = "application/vnd.in-toto+json"

// Verifier verifies bundles against a set of trusted roots and a policy. It
// is built once and is safe for concurrent use.
type Verifier struct {
	instances []*instance
	policy    Policy
	identity  *identityMatcher
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

// Timestamp is a verified time at which the signature existed.
type Timestamp struct {
	// Kind is "Tlog" (a log's integrated time) or "TimestampAuthority".
	Kind string    `json:"kind"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
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
	// Checks holds the nine checks in order.
	Checks []CheckResult `json:"checks"`
	// Level is the SLSA Build level reached (0 when the signature did not verify).
	Level int `json:"level"`
	// Verified is true when no check failed.
	Verified bool `json:"verified"`
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
	res := BundleResult{Source: att.Source}
	r := &run{checks: map[CheckName]CheckResult{}}
	v.verifyBundle(att, art, &res, r)
	res.Verified = true
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
	// Check 1: the bundle.
	if att.Err != nil {
		r.set(fail(CheckBundle, att.Err))
		return
	}
	// sigstore-go's Bundle caches flags as it is read: verify a shallow
	// copy, so that one parsed bundle can serve many artifacts at once
	// (the protobuf message itself is only read).
	bc := *att.Bundle
	b := &bc
	version, err := b.Version()
	if err != nil {
		r.set(fail(CheckBundle, err))
		return
	}
	if version != "v0.1" && version != "v0.2" && version != "v0.3" {
		r.set(fail(CheckBundle, fmt.Errorf("bundle version %s is not one of v0.1, v0.2, v0.3", version)))
		return
	}
	res.MediaType = b.MediaType
	r.set(pass(CheckBundle, fmt.Sprintf("Sigstore bundle %s (%s)", version, b.MediaType)))

	// Which instance issued the certificate?
	vc, err := b.VerificationContent()
	if err != nil {
		r.set(fail(CheckCertificate, err))
		return
	}
	leaf := vc.Certificate()
	if leaf == nil {
		r.set(fail(CheckCertificate, errors.New("the bundle is signed with a public key, not a Fulcio certificate: only keyless bundles are verified")))
		return
	}
	candidates := v.instancesFor(leaf)
	if len(candidates) == 0 {
		known := make([]string, len(v.instances))
		for i, x := range v.instances {
			known[i] = x.name
		}
		issuer := leaf.Issuer.String()
		r.set(fail(CheckCertificate, &UnknownInstanceError{Issuer: issuer, Known: known, Hint: unknownInstanceHint(leaf)}))
		return
	}
	in := candidates[0]
	res.Instance = in.name

	// The statement, read before the signature is checked only to choose
	// the digest algorithm; it is trusted only once sigstore-go verified it.
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
			if v.diagnose(in, b, leaf, art, nil, r, CheckSignature) {
				r.set(fail(CheckSignature, stErr))
			}
			return
		}
		if v.diagnose(in, b, leaf, art, nil, r, CheckSubject) {
			r.set(fail(CheckSubject, subjErr))
		}
		return
	}

	// Checks 2–5: sigstore-go verifies the whole bundle at once, with each
	// instance whose CA names match the leaf's issuer (two instances may
	// use the same names) until one verifies it.
	policy := verify.NewPolicy(verify.WithArtifactDigests(digests), verify.WithoutIdentitiesUnsafe())
	var vr *verify.VerificationResult
	for _, c := range candidates {
		if vr, err = c.verifier.Verify(b, policy); err == nil {
			in = c
			res.Instance = c.name
			break
		}
	}
	if err != nil {
		// Name the failing link by re-running sigstore-go's steps.
		if v.diagnose(in, b, leaf, art, digests, r, "") {
			r.set(fail(CheckSignature, err))
		}
		return
	}
	for _, t := range vr.VerifiedTimestamps {
		res.Timestamps = append(res.Timestamps, Timestamp{Kind: t.Type, URI: t.URI, Time: t.Timestamp})
	}
	r.set(pass(CheckCertificate, certificateReason(in, leaf)))
	r.set(pass(CheckTimestamps, timestampReason(b, res.Timestamps)))
	r.set(pass(CheckSignature, fmt.Sprintf("one DSSE signature by the certificate's key over an %s payload", InTotoPayloadType)))
	r.set(pass(CheckSubject, subjectReason(subj, art, digests)))

	summary := *vr.Signature.Certificate
	res.Signer = &summary
	res.PredicateType = st.PredicateType

	// Checks 6–9 judge verified content; each runs on its own.
	r.set(v.identity.check(summary))
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

// instancesFor returns the instances whose Fulcio CA names match the
// leaf's issuer, in the order the trusted roots were given.
func (v *Verifier) instancesFor(leaf *x509.Certificate) []*instance {
	var out []*instance
	for _, in := range v.instances {
		if in.issued(leaf) {
			out = append(out, in)
		}
	}
	return out
}

// diagnose re-runs sigstore-go's verification steps one by one, in
// sigstore-go's order, recording each check that passes and the first that
// fails. It stops before check `until` (CheckSignature or CheckSubject; ""
// runs every step); it returns true when every step it ran passed.
func (v *Verifier) diagnose(in *instance, b *bundle.Bundle, leaf *x509.Certificate, art Artifact, digests []verify.ArtifactDigest, r *run, until CheckName) bool {
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
	r.set(pass(CheckSignature, fmt.Sprintf("one DSSE signature by the certificate's key over an %s payload", InTotoPayloadType)))
	if until == CheckSubject {
		return true
	}
	if err := verify.VerifySignatureWithArtifactDigests(sc, vc, in.material, digests); err != nil {
		r.set(fail(CheckSubject, fmt.Errorf("no subject of the statement has %s, the digest of %s: %w", digestList(digests, " and "), art.Name, err)))
		return false
	}
	return true
}

// readStatement decodes the in-toto statement of a DSSE bundle.
func readStatement(b *bundle.Bundle) (*statement, error) {
	env, err := b.Envelope()
	if err != nil {
		return nil, errors.New("the bundle holds a message signature, not a DSSE envelope: it carries no attestation")
	}
	if env.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("DSSE payload type is %q, not %q", env.PayloadType, InTotoPayloadType)
	}
	if n := len(env.Signatures); n != 1 {
		return nil, fmt.Errorf("the DSSE envelope has %d signatures; a Sigstore bundle must have exactly one", n)
	}
	raw, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("DSSE payload is not base64: %w", err)
	}
	var st statement
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("DSSE payload is not an in-toto statement: %w", err)
	}
	if st.Type != "https://in-toto.io/Statement/v1" && st.Type != "https://in-toto.io/Statement/v0.1" {
		return nil, fmt.Errorf("DSSE payload has _type %q, not an in-toto statement (v0.1 or v1)", st.Type)
	}
	return &st, nil
}

// matchSubject finds the subject the artifact is: one that carries at
// least one digest in an algorithm the artifact was hashed with, and whose
// every such digest equals the artifact's (a subject whose sha256 matches
// but whose sha512 does not is another artifact). It returns the subject
// and the digests compared, for sigstore-go to check against the signed
// statement.
func matchSubject(st *statement, art Artifact) (*subject, []verify.ArtifactDigest, error) {
	var tried []verify.ArtifactDigest
	seen := map[string]bool{}
	var partial []string
	for i := range st.Subject {
		s := &st.Subject[i]
		var ds []verify.ArtifactDigest
		matched, mismatched := 0, []string{}
		for _, alg := range digestAlgorithms {
			h, ok := s.Digest[alg]
			d, have := art.Digests[alg]
			if !ok || !have {
				continue
			}
			ds = append(ds, verify.ArtifactDigest{Algorithm: alg, Digest: d})
			if !seen[alg] {
				seen[alg] = true
				tried = append(tried, verify.ArtifactDigest{Algorithm: alg, Digest: d})
			}
			if strings.EqualFold(h, hex.EncodeToString(d)) {
				matched++
			} else {
				mismatched = append(mismatched, alg)
			}
		}
		switch {
		case matched > 0 && len(mismatched) == 0:
			return s, ds, nil
		case matched > 0:
			partial = append(partial, fmt.Sprintf("subject %q matches the artifact in some algorithms but not in %s", s.Name, strings.Join(mismatched, ", ")))
		}
	}
	switch {
	case len(tried) == 0:
		return nil, nil, fmt.Errorf("the artifact %s has no digest in an algorithm the statement's subjects use (%s)", art.Name, subjectAlgorithms(st))
	case len(partial) > 0:
		return nil, nil, fmt.Errorf("no subject of the statement has %s, the digest of %s: %s", digestList(tried, " or "), art.Name, strings.Join(partial, "; "))
	}
	return nil, nil, fmt.Errorf("no subject of the statement has %s, the digest of %s", digestList(tried, " or "), art.Name)
}

// digestList renders digests as "alg:hex" joined by sep.
func digestList(ds []verify.ArtifactDigest, sep string) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Algorithm + ":" + hex.EncodeToString(d.Digest)
	}
	return strings.Join(parts, sep)
}

func subjectAlgorithms(st *statement) string {
	seen := map[string]bool{}
	var algs []string
	for _, s := range st.Subject {
		for alg := range s.Digest {
			if !seen[alg] {
				seen[alg] = true
				algs = append(algs, alg)
			}
		}
	}
	sort.Strings(algs)
	return strings.Join(algs, ", ")
}

func certificateReason(in *instance, leaf *x509.Certificate) string {
	s := fmt.Sprintf("leaf certificate issued by %s chains to the %s Fulcio CA at the verified signature time", leaf.Issuer.String(), in.name)
	if in.sct {
		s += "; its SCT verifies against the instance's CT log"
	}
	return s
}

func timestampReason(b *bundle.Bundle, ts []Timestamp) string {
	var parts []string
	if entries, err := b.TlogEntries(); err == nil {
		for _, e := range entries {
			kind := "Rekor v1"
			proof := []string{}
			if e.IsRekorV2() {
				kind = "Rekor v2"
			}
			if e.HasInclusionProof() {
				proof = append(proof, "inclusion proof")
			}
			if e.HasInclusionPromise() {
				proof = append(proof, "signed entry timestamp")
			}
			parts = append(parts, fmt.Sprintf("%s entry at log index %d with %s", kind, e.LogIndex(), strings.Join(proof, " and ")))
		}
	}
	for _, t := range ts {
		switch t.Kind {
		case "TimestampAuthority":
			parts = append(parts, fmt.Sprintf("RFC 3161 timestamp %s", t.Time.UTC().Format(time.RFC3339)))
		default:
			parts = append(parts, fmt.Sprintf("log integrated time %s", t.Time.UTC().Format(time.RFC3339)))
		}
	}
	return "verified: " + strings.Join(parts, "; ")
}

func subjectReason(s *subject, art Artifact, ds []verify.ArtifactDigest) string {
	return fmt.Sprintf("subject %q has %s, the digest of %s", s.Name, digestList(ds, " and "), art.Name)
}

// Item is one artifact with the attestations that may cover it.
type Item struct {
	Artifact     Artifact
	Attestations []Attestation
	// Missing, when set, explains why no attestation was found.
	Missing string
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
	if parallelism < 1 {
		parallelism = 4
	}
	out := make([]ArtifactResult, len(items))
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
			out[i] = v.verifyItem(it)
		}(i, it)
	}
	wg.Wait()
	return out
}

func (v *Verifier) verifyItem(it Item) ArtifactResult {
	ar := ArtifactResult{Artifact: it.Artifact.Name, Digest: it.Artifact.String()}
	if len(it.Attestations) == 0 {
		ar.Error = it.Missing
		if ar.Error == "" {
			ar.Error = "no attestation found for this artifact"
		}
		return ar
	}
	for _, att := range it.Attestations {
		br := v.VerifyBundle(att, it.Artifact)
		if br.Verified {
			ar.Verified = true
			ar.Level = max(ar.Level, br.Level)
		}
		ar.Bundles = append(ar.Bundles, br)
	}
	return ar
}
