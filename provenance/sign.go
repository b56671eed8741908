package provenance

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/provenant/provenant/internal/formats"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	rekorapi "github.com/sigstore/rekor/pkg/generated/client"
	rekorutil "github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/provenant/provenant/internal/httplimit"
	"github.com/provenant/provenant/trust"
)

// InTotoPayloadType is the DSSE payload type of an in-toto statement.
const InTotoPayloadType = formats.InTotoPayloadType

// SignOptions say how a statement is signed.
type SignOptions struct {
	// IDToken is the OIDC token (audience "sigstore") Fulcio certifies.
	// It is a secret: it never appears in an error.
	IDToken string
	// Instance is the Sigstore instance to sign with.
	Instance *trust.Instance
	// Identity is the certificate identity (SAN) the bundle must carry,
	// and Issuer the OIDC issuer; the bundle is verified against both
	// before it is returned. Empty skips that part of the check.
	Identity, Issuer string
	// Timeout bounds each call to a service; 0 means 30 seconds.
	Timeout time.Duration
	// Attempts is how many times a service call is tried on a server error
	// (5xx, 429) or a failed connection; 0 means DefaultAttempts.
	Attempts int
	// Backoff is the wait before the second attempt, doubled each time;
	// 0 means 500ms.
	Backoff time.Duration
	// Transport carries the HTTP calls to Fulcio, the timestamp
	// authority and Rekor v1 (sigstore-go v1.3.0 takes no transport for
	// Rekor v2); nil means http.DefaultTransport. Answers are read through
	// it at most MaxServiceAnswerSize bytes each.
	Transport http.RoundTripper
	// Now is the clock for choosing valid services; nil means time.Now.
	Now func() time.Time
}

// DefaultAttempts is how many times a call to Fulcio, a timestamp
// authority or Rekor is tried when SignOptions.Attempts is 0: the first try
// and three retries (docs/hardening.md states it, and the fault tests count
// the requests).
const DefaultAttempts = 4

// MaxServiceAnswerSize bounds one answer of Fulcio, the timestamp
// authority or Rekor v1: 16 MiB. A certificate chain, a timestamp or a
// log entry of a DSSE envelope (which holds its digest, not its payload)
// is a few KiB; a server that answers forever, or with more, fails the
// signing with an error naming it instead of filling memory. Rekor v2's
// client (rekor-tiles) cuts its answers at 10 MB itself.
const MaxServiceAnswerSize = 16 << 20

// MaxSignedSubjects is the most subjects a signed statement may have:
// 1,024. sigstore-go's verifier refuses a statement with more when it is
// verified against an artifact ("too many subjects"), and so do gh
// attestation verify, cosign and this package's own check of what it
// signed; GitHub's attest action has the same limit. Sign tells it before
// any service is contacted.
const MaxSignedSubjects = 1024

// ErrTooManySubjects is a statement with more than MaxSignedSubjects
// subjects given to Sign.
var ErrTooManySubjects = fmt.Errorf("a signed attestation holds at most %d subjects (sigstore-go's verifier, which gh attestation verify and cosign use, refuses more, as GitHub's attest action does): attest them in several steps of at most %d, or make a checksums file of them the one subject; --no-sign writes any number", MaxSignedSubjects, MaxSignedSubjects)

// Signed is a statement signed into a Sigstore bundle.
type Signed struct {
	// JSON is the bundle (v0.3) as written.
	JSON []byte
	// CertificateIdentity and CertificateIssuer come from the leaf.
	CertificateIdentity, CertificateIssuer string
	// LogIndex is the transparency log index, -1 without a log entry.
	LogIndex int64
}

// ServiceError is a Sigstore service that could not be used.
type ServiceError struct {
	// Service is "Fulcio", "Rekor", "timestamp authority" or "signing config".
	Service string
	// URL is the service's URL, when one was chosen.
	URL string
	Err error
}

func (e *ServiceError) Error() string {
	hint := ""
	switch e.Service {
	case "Fulcio":
		hint = " (check that the job's token is accepted by this Fulcio and that the service is reachable; re-run the job to retry)"
	case "Rekor", "timestamp authority":
		hint = " (the service may be down: re-run the job later, or choose another instance with --sigstore)"
	}
	if e.URL == "" {
		return fmt.Sprintf("%s: %v%s", e.Service, e.Err, hint)
	}
	return fmt.Sprintf("%s at %s: %v%s", e.Service, e.URL, e.Err, hint)
}

func (e *ServiceError) Unwrap() error { return e.Err }

// Sign signs the statement keylessly: an ephemeral key (never written), a
// Fulcio certificate for the token, a DSSE envelope with one signature, and
// the transparency log entry and/or RFC 3161 timestamp the instance's
// signing config asks for. The bundle is verified against the instance's
// trusted root, identity and subject digest before it is returned, so a
// broken bundle is never written.
func Sign(ctx context.Context, st *Statement, opts SignOptions) (*Signed, error) {
	if len(st.Subjects) > MaxSignedSubjects {
		return nil, fmt.Errorf("%d subjects: %w", len(st.Subjects), ErrTooManySubjects)
	}
	if opts.IDToken == "" {
		return nil, errors.New("signing needs the job's OIDC token")
	}
	if opts.Instance == nil || opts.Instance.SigningConfig == nil || opts.Instance.TrustedRoot == nil {
		return nil, errors.New("signing needs a Sigstore instance with a signing config and a trusted root")
	}
	opts = opts.withDefaults()
	tracker := &stage{}
	bopts, err := bundleOptions(ctx, opts, tracker)
	if err != nil {
		return nil, err
	}
	keypair, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, fmt.Errorf("ephemeral key: %w", err)
	}
	content := &sign.DSSEData{Data: st.JSON, PayloadType: InTotoPayloadType}
	pb, err := sign.Bundle(content, keypair, bopts)
	if err != nil {
		return nil, tracker.wrap(err)
	}
	return finish(pb, st, opts)
}

// withDefaults fills the clock, timeouts, retries and transport left zero.
func (opts SignOptions) withDefaults() SignOptions {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 500 * time.Millisecond
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	return opts
}

// bundleOptions chooses the services of the signing config (Fulcio, the
// timestamp authorities, the logs), each wrapped to name itself in errors
// and to retry within opts' budget.
func bundleOptions(ctx context.Context, opts SignOptions, tracker *stage) (sign.BundleOptions, error) {
	rt := &retryTransport{ctx: ctx, next: httplimit.Transport(opts.Transport, MaxServiceAnswerSize), attempts: opts.Attempts, backoff: opts.Backoff}
	sc := opts.Instance.SigningConfig
	fulcioSvc, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), []uint32{1}, opts.Now())
	if err != nil {
		return sign.BundleOptions{}, &ServiceError{Service: "signing config", Err: fmt.Errorf("no usable Fulcio: %w", err)}
	}
	bopts := sign.BundleOptions{
		Context: ctx,
		CertificateProvider: &namedCertProvider{
			next:  sign.NewFulcio(&sign.FulcioOptions{BaseURL: fulcioSvc.URL, Timeout: opts.Timeout, Retries: 0, Transport: rt}),
			url:   fulcioSvc.URL,
			stage: tracker,
		},
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: opts.IDToken},
		TrustedRoot:                opts.Instance.TrustedRoot,
	}
	if len(sc.TimestampAuthorityURLs()) > 0 {
		tsas, err := root.SelectServices(sc.TimestampAuthorityURLs(), sc.TimestampAuthorityURLsConfig(), []uint32{1}, opts.Now())
		if err != nil {
			return bopts, &ServiceError{Service: "signing config", Err: fmt.Errorf("no usable timestamp authority: %w", err)}
		}
		for _, s := range tsas {
			tracker.tsaURLs = append(tracker.tsaURLs, s.URL)
			bopts.TimestampAuthorities = append(bopts.TimestampAuthorities,
				sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: s.URL, Timeout: opts.Timeout, Retries: 0, Transport: rt}))
		}
	}
	rekorV2, err := addLogs(&bopts, opts, rt, tracker)
	if err != nil {
		return bopts, err
	}
	if rekorV2 && len(tracker.tsaURLs) == 0 {
		return bopts, &ServiceError{Service: "signing config", Err: errors.New("Rekor v2 gives no signing time: the config must name a timestamp authority too")}
	}
	if len(bopts.TransparencyLogs) == 0 && len(tracker.tsaURLs) == 0 {
		return bopts, &ServiceError{Service: "signing config", Err: errors.New("names neither a transparency log nor a timestamp authority")}
	}
	return bopts, nil
}

// addLogs adds the signing config's Rekor logs to bopts and reports
// whether one is a Rekor v2 log (which needs a timestamp authority beside).
func addLogs(bopts *sign.BundleOptions, opts SignOptions, rt http.RoundTripper, tracker *stage) (rekorV2 bool, err error) {
	sc := opts.Instance.SigningConfig
	if len(sc.RekorLogURLs()) == 0 {
		return false, nil
	}
	logs, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), opts.Instance.RekorVersions, opts.Now())
	if err != nil {
		return false, &ServiceError{Service: "signing config", Err: fmt.Errorf("no usable Rekor log: %w", err)}
	}
	for _, s := range logs {
		ro := &sign.RekorOptions{BaseURL: s.URL, Timeout: opts.Timeout, Retries: uint(opts.Attempts - 1), Version: s.MajorAPIVersion}
		if s.MajorAPIVersion == 1 {
			c, err := rekorV1Client(s.URL, rt, opts.Timeout)
			if err != nil {
				return false, &ServiceError{Service: "Rekor", URL: s.URL, Err: err}
			}
			ro.Client = c.Entries
		} else {
			rekorV2 = true
		}
		tracker.logURLs = append(tracker.logURLs, s.URL)
		bopts.TransparencyLogs = append(bopts.TransparencyLogs, &namedTransparency{
			next: sign.NewRekor(ro), url: s.URL, retry: s.MajorAPIVersion != 1,
			attempts: opts.Attempts, backoff: opts.Backoff, stage: tracker,
		})
	}
	return rekorV2, nil
}

// rekorV1Client is rekor's client as its GetRekorClient makes it, but
// over rt: GetRekorClient takes no transport, and its own reads an answer
// without bound. rt retries as for Fulcio and the TSA and cuts answers at
// MaxServiceAnswerSize.
func rekorV1Client(serverURL string, rt http.RoundTripper, timeout time.Duration) (*rekorapi.Rekor, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, err
	}
	if u.Path == "" {
		u.Path = rekorapi.DefaultBasePath
	}
	t := httptransport.NewWithClient(u.Host, u.Path, []string{u.Scheme}, &http.Client{Transport: rt, Timeout: timeout})
	t.Consumers["application/json"] = runtime.JSONConsumer()
	t.Consumers["application/x-pem-file"] = runtime.TextConsumer()
	t.Producers["application/json"] = runtime.JSONProducer()
	registry := strfmt.Default
	registry.Add("signedCheckpoint", &rekorutil.SignedNote{}, rekorutil.SignedCheckpointValidator)
	return rekorapi.New(t, registry), nil
}

// finish serialises the bundle and verifies it, with identity and subject,
// against the instance's trusted root.
func finish(pb *protobundle.Bundle, st *Statement, opts SignOptions) (*Signed, error) {
	raw, err := protojson.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("encoding the bundle: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, err
	}
	b := &bundle.Bundle{}
	if err := b.UnmarshalJSON(compact.Bytes()); err != nil {
		return nil, fmt.Errorf("the signed bundle does not parse: %w", err)
	}
	res, err := VerifyBundle(b, st, opts.Instance.TrustedRoot, opts.Identity, opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("the signed bundle does not verify, not writing it: %w", err)
	}
	out := &Signed{JSON: append(compact.Bytes(), '\n'), LogIndex: -1}
	if res.Signature != nil && res.Signature.Certificate != nil {
		out.CertificateIdentity = res.Signature.Certificate.SubjectAlternativeName
		out.CertificateIssuer = res.Signature.Certificate.Issuer
	}
	for _, e := range pb.GetVerificationMaterial().GetTlogEntries() {
		out.LogIndex = e.GetLogIndex()
	}
	return out, nil
}

// VerifyBundle verifies a bundle of st with sigstore-go against a trusted
// root with trust.NewVerifier: certificate chain, SCTs when the root has CT
// logs, the transparency log entry and/or timestamp the bundle carries, the
// DSSE signature, the identity (when given) and the first subject's digest.
func VerifyBundle(b *bundle.Bundle, st *Statement, tr root.TrustedMaterial, identity, issuer string) (*verify.VerificationResult, error) {
	v, err := trust.NewVerifier(tr, trust.Requirements{
		TransparencyLog:  len(b.GetVerificationMaterial().GetTlogEntries()) > 0,
		SignedTimestamps: len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()) > 0,
	})
	if err != nil {
		return nil, err
	}
	var policy []verify.PolicyOption
	if identity != "" || issuer != "" {
		id, err := verify.NewShortCertificateIdentity(issuer, "", identity, "")
		if err != nil {
			return nil, err
		}
		policy = append(policy, verify.WithCertificateIdentity(id))
	} else {
		policy = append(policy, verify.WithoutIdentitiesUnsafe())
	}
	if len(st.Subjects) == 0 {
		return nil, errors.New("statement has no subjects")
	}
	s := st.Subjects[0]
	alg := s.SortedDigestAlgorithms()[0]
	d, err := hex.DecodeString(s.Digest[alg])
	if err != nil {
		return nil, err
	}
	return v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest(alg, d), policy...))
}

// stage remembers how far signing got, to name the service that failed:
// sign.Bundle calls Fulcio, then the timestamp authorities, then the logs.
type stage struct {
	certDone, tlogStarted bool
	tsaURLs, logURLs      []string
}

func (s *stage) wrap(err error) error {
	var se *ServiceError
	if errors.As(err, &se) {
		return err
	}
	if s.certDone && !s.tlogStarted && len(s.tsaURLs) > 0 {
		return &ServiceError{Service: "timestamp authority", URL: s.tsaURLs[0], Err: err}
	}
	if s.tlogStarted && len(s.logURLs) > 0 {
		// sign.Bundle verifies the log's answer (its inclusion proof and
		// signature) after the request: an answer for another entry.
		return &ServiceError{Service: "Rekor", URL: s.logURLs[0], Err: fmt.Errorf("its answer does not verify: %w", err)}
	}
	return fmt.Errorf("signing: %w", err)
}

type namedCertProvider struct {
	next  sign.CertificateProvider
	url   string
	stage *stage
}

func (p *namedCertProvider) GetCertificate(ctx context.Context, k sign.Keypair, o *sign.CertificateProviderOptions) ([]byte, error) {
	der, err := p.next.GetCertificate(ctx, k, o)
	if err != nil {
		return nil, &ServiceError{Service: "Fulcio", URL: p.url, Err: redact(err, o.IDToken)}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, &ServiceError{Service: "Fulcio", URL: p.url, Err: fmt.Errorf("answered with an unreadable certificate: %w", err)}
	}
	// A certificate for another key (an answer replayed or meant for
	// another request) is refused here, before anything is signed or
	// logged with it.
	if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(k.GetPublicKey()) {
		return nil, &ServiceError{Service: "Fulcio", URL: p.url, Err: errors.New("answered with a certificate for another key than the one it was asked to certify")}
	}
	p.stage.certDone = true
	return der, nil
}

// namedTransparency names the log in errors and, for Rekor v2 (whose client
// does not retry), retries failed uploads with back-off.
type namedTransparency struct {
	next     sign.Transparency
	url      string
	retry    bool
	attempts int
	backoff  time.Duration
	stage    *stage
}

func (t *namedTransparency) GetTransparencyLogEntry(ctx context.Context, pem []byte, b *protobundle.Bundle) error {
	t.stage.tlogStarted = true
	var err error
	for i := 0; i < t.attempts; i++ {
		if i > 0 {
			if werr := sleep(ctx, t.backoff<<(i-1)); werr != nil {
				return &ServiceError{Service: "Rekor", URL: t.url, Err: werr}
			}
		}
		if err = t.next.GetTransparencyLogEntry(ctx, pem, b); err == nil || !t.retry {
			break
		}
	}
	if err != nil {
		return &ServiceError{Service: "Rekor", URL: t.url, Err: err}
	}
	return nil
}

// retryTransport retries requests that fail to connect or get a 5xx or 429
// answer, with exponential back-off. Every request also ends with ctx:
// sigstore-go v1.3.0 makes its Fulcio request without a context, so without
// this a signal would wait for the request's timeout.
type retryTransport struct {
	ctx      context.Context
	next     http.RoundTripper
	attempts int
	backoff  time.Duration
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.ctx != nil {
		// The request's own context still bounds it (the client's
		// timeout); the signing context now ends it too. The response
		// body outlives RoundTrip, so nothing cancels it here.
		ctx, cancel := context.WithCancel(req.Context())
		context.AfterFunc(t.ctx, cancel)
		req = req.WithContext(ctx)
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	var (
		resp *http.Response
		err  error
	)
	for i := 0; i < t.attempts; i++ {
		if i > 0 {
			if werr := sleep(req.Context(), t.backoff<<(i-1)); werr != nil {
				return nil, werr
			}
		}
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err = t.next.RoundTrip(r)
		if err != nil {
			var ne net.Error
			// A connection closed or reset before any answer (EOF) is
			// retried too: nothing was answered, so nothing is lost.
			if errors.As(err, &ne) || isConnRefused(err) || errors.Is(err, io.EOF) ||
				errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
				continue
			}
			return nil, err
		}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) //nolint:errcheck // draining
			resp.Body.Close()
			if i < t.attempts-1 {
				continue
			}
			// sigstore-go v1.3.0 closes a last 5xx answer's body before
			// reading it ("read on closed response body"): say the status.
			return nil, fmt.Errorf("answered %d %s (after %d attempts)", resp.StatusCode, http.StatusText(resp.StatusCode), t.attempts)
		}
		return resp, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w (after %d attempts)", err, t.attempts)
	}
	return resp, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// redact removes the token from an error's text.
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "***"))
}

func isConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
