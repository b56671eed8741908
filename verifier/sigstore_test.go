package verifier

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
)

// testSigstore is a Sigstore instance for tests: sigstore-go's
// VirtualSigstore provides the Rekor log and the timestamp authority; the
// Fulcio CA is our own, so that leaf certificates can carry GitHub's Fulcio
// extensions (VirtualSigstore only issues e-mail identities).
type testSigstore struct {
	vs       *ca.VirtualSigstore
	fulcio   *root.FulcioCertificateAuthority
	interKey *ecdsa.PrivateKey
	trusted  *root.TrustedRoot
	rekorID  string
	rekorIDB []byte
}

func newTestSigstore(t testing.TB) *testSigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	inter, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	fulcio := &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}, URI: "https://fulcio.test"}
	id, err := vs.RekorLogID()
	if err != nil {
		t.Fatal(err)
	}
	idb, _ := hex.DecodeString(id)
	// VirtualSigstore keys its log by the hex string's bytes; a trusted
	// root written to JSON and read back needs the raw key id.
	logs := vs.RekorLogs()
	for k, l := range logs {
		c := *l
		c.ID = idb
		logs[k] = &c
	}
	// No CT log: the test instance issues no SCTs, so none is required.
	trusted, err := root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{fulcio}, nil, vs.TimestampingAuthorities(), logs)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigstore{vs: vs, fulcio: fulcio, interKey: interKey, trusted: trusted, rekorID: id, rekorIDB: idb}
}

func (s *testSigstore) roots() []TrustedRoot {
	return []TrustedRoot{{Name: "test", Root: s.trusted}}
}

// tsaOnlyRoots is the instance's trust without its Rekor log, as GitHub's
// instance is: a timestamp authority alone dates signatures.
func (s *testSigstore) tsaOnlyRoots(t testing.TB) []TrustedRoot {
	t.Helper()
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, s.trusted.FulcioCertificateAuthorities(), nil, s.trusted.TimestampingAuthorities(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return []TrustedRoot{{Name: "tsa-only", Root: tr}}
}

// writeTrustedRoot writes the instance's trusted_root.json, as the e2e
// tests and the command read it.
func (s *testSigstore) writeTrustedRoot(t testing.TB, dir string) string {
	t.Helper()
	data, err := s.trusted.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ghRun is what GitHub's OIDC token says of a workflow run; Fulcio copies it
// into the certificate's extensions and our predicate restates it.
type ghRun struct {
	Server         string // https://github.com
	Repo           string // owner/name
	Ref            string // refs/heads/main
	SHA            string
	WorkflowPath   string // top-level workflow: .github/workflows/release.yml
	JobWorkflowRef string // signing workflow: owner/repo/.github/workflows/x.yml@ref
	JobWorkflowSHA string
	Event          string
	RepoID         string
	OwnerID        string
	Runner         string // github-hosted | self-hosted
	RunID          string
	Attempt        string
	Issuer         string // default GitHub Actions'
}

func defaultRun() ghRun {
	return ghRun{
		Server: "https://github.com", Repo: "provenant/demo", Ref: "refs/tags/v1.2.3",
		SHA: "0123456789abcdef0123456789abcdef01234567", WorkflowPath: ".github/workflows/release.yml",
		JobWorkflowRef: "provenant/demo/.github/workflows/release.yml@refs/tags/v1.2.3",
		JobWorkflowSHA: "0123456789abcdef0123456789abcdef01234567",
		Event:          "push", RepoID: "123456", OwnerID: "654321", Runner: GitHubHosted,
		RunID: "987654321", Attempt: "1",
	}
}

// reusable makes the run sign from a reusable workflow in another repository.
func (r ghRun) reusable() ghRun {
	r.JobWorkflowRef = "provenant/builders/.github/workflows/provenance.yml@refs/tags/v2.0.0"
	r.JobWorkflowSHA = "fedcba9876543210fedcba9876543210fedcba98"
	return r
}

func (r ghRun) extensions() certificate.Extensions {
	owner, _, _ := cut(r.Repo, "/")
	issuer := r.Issuer
	if issuer == "" {
		issuer = GitHubActionsIssuer
	}
	return certificate.Extensions{
		Issuer:                              issuer,
		BuildSignerURI:                      r.Server + "/" + r.JobWorkflowRef,
		BuildSignerDigest:                   r.JobWorkflowSHA,
		RunnerEnvironment:                   r.Runner,
		SourceRepositoryURI:                 r.Server + "/" + r.Repo,
		SourceRepositoryDigest:              r.SHA,
		SourceRepositoryRef:                 r.Ref,
		SourceRepositoryIdentifier:          r.RepoID,
		SourceRepositoryOwnerURI:            r.Server + "/" + owner,
		SourceRepositoryOwnerIdentifier:     r.OwnerID,
		BuildConfigURI:                      r.Server + "/" + r.Repo + "/" + r.WorkflowPath + "@" + r.Ref,
		BuildConfigDigest:                   r.SHA,
		BuildTrigger:                        r.Event,
		RunInvocationURI:                    r.Server + "/" + r.Repo + "/actions/runs/" + r.RunID + "/attempts/" + r.Attempt,
		SourceRepositoryVisibilityAtSigning: "public",
	}
}

func cut(s, sep string) (string, string, bool) {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// statement is our own in-toto statement for a run, the same predicate as
// GitHub's attest action.
func (r ghRun) statement(subjects map[string][]byte) map[string]any {
	var subj []map[string]any
	for name, d := range subjects {
		subj = append(subj, map[string]any{"name": name, "digest": map[string]string{"sha256": hex.EncodeToString(d)}})
	}
	return map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       subj,
		"predicateType": SLSAProvenanceV1,
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType": BuildTypeGitHubWorkflow,
				"externalParameters": map[string]any{"workflow": map[string]any{
					"ref": r.Ref, "repository": r.Server + "/" + r.Repo, "path": r.WorkflowPath,
				}},
				"internalParameters": map[string]any{"github": map[string]any{
					"event_name": r.Event, "repository_id": r.RepoID, "repository_owner_id": r.OwnerID, "runner_environment": r.Runner,
				}},
				"resolvedDependencies": []any{map[string]any{
					"uri": "git+" + r.Server + "/" + r.Repo + "@" + r.Ref, "digest": map[string]string{"gitCommit": r.SHA},
				}},
			},
			"runDetails": map[string]any{
				"builder":  map[string]any{"id": r.Server + "/" + r.JobWorkflowRef},
				"metadata": map[string]any{"invocationId": r.Server + "/" + r.Repo + "/actions/runs/" + r.RunID + "/attempts/" + r.Attempt},
			},
		},
	}
}

// utf8Ext encodes a Fulcio v2 extension value (a DER UTF8String).
func utf8Ext(t testing.TB, oid asn1.ObjectIdentifier, v string) pkix.Extension {
	der, err := asn1.MarshalWithParams(v, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oid, Value: der}
}

// leaf issues a Fulcio-style leaf certificate for a run, signed by issuer
// (the instance's intermediate unless another is given).
func (s *testSigstore) leaf(t testing.TB, san string, ext certificate.Extensions, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, extra ...pkix.Extension) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent, parentKey = s.fulcio.Intermediates[0], s.interKey
	}
	var uris []*url.URL
	var emails []string
	if strings.Contains(san, "://") {
		u, err := url.Parse(san)
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, u)
	} else {
		emails = append(emails, san)
	}
	exts := append([]pkix.Extension{{Id: certificate.OIDIssuer, Value: []byte(ext.Issuer)}}, extra...)
	for _, e := range []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{
		{certificate.OIDIssuerV2, ext.Issuer},
		{certificate.OIDBuildSignerURI, ext.BuildSignerURI},
		{certificate.OIDBuildSignerDigest, ext.BuildSignerDigest},
		{certificate.OIDRunnerEnvironment, ext.RunnerEnvironment},
		{certificate.OIDSourceRepositoryURI, ext.SourceRepositoryURI},
		{certificate.OIDSourceRepositoryDigest, ext.SourceRepositoryDigest},
		{certificate.OIDSourceRepositoryRef, ext.SourceRepositoryRef},
		{certificate.OIDSourceRepositoryIdentifier, ext.SourceRepositoryIdentifier},
		{certificate.OIDSourceRepositoryOwnerURI, ext.SourceRepositoryOwnerURI},
		{certificate.OIDSourceRepositoryOwnerIdentifier, ext.SourceRepositoryOwnerIdentifier},
		{certificate.OIDBuildConfigURI, ext.BuildConfigURI},
		{certificate.OIDBuildConfigDigest, ext.BuildConfigDigest},
		{certificate.OIDBuildTrigger, ext.BuildTrigger},
		{certificate.OIDRunInvocationURI, ext.RunInvocationURI},
		{certificate.OIDSourceRepositoryVisibilityAtSigning, ext.SourceRepositoryVisibilityAtSigning},
	} {
		if e.v != "" {
			exts = append(exts, utf8Ext(t, e.oid, e.v))
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(time.Now().UnixNano()),
		URIs:            uris,
		EmailAddresses:  emails,
		NotBefore:       time.Now().Add(-time.Minute),
		NotAfter:        time.Now().Add(10 * time.Minute),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: exts,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signOpts changes how a test bundle is made, to break one link at a time.
type signOpts struct {
	parent      *x509.Certificate // issue the leaf from another CA
	parentKey   *ecdsa.PrivateKey
	breakSET    bool   // corrupt the Rekor signed entry timestamp
	noTimestamp bool   // leave out the RFC 3161 timestamp
	noTlog      bool   // leave out the transparency log entry (GitHub's instance)
	mediaType   string // another bundle media type
	payloadType string // another DSSE payload type
	// certExt edits the certificate's Fulcio extensions (an empty value
	// leaves the extension out); extraExt adds raw extensions.
	certExt  func(*certificate.Extensions)
	san      string // another SAN than the Build Signer URI (an e-mail address)
	extraExt []pkix.Extension
}

// sign makes a v0.3 bundle for a statement: the leaf certificate of the
// run, the DSSE envelope, the Rekor entry with inclusion proof and promise,
// and an RFC 3161 timestamp.
func (s *testSigstore) sign(t testing.TB, run ghRun, stmt map[string]any, o signOpts) []byte {
	t.Helper()
	payload, err := json.Marshal(stmt)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ext := run.extensions()
	san := ext.BuildSignerURI
	if o.san != "" {
		san = o.san
	}
	if o.certExt != nil {
		o.certExt(&ext)
	}
	leaf := s.leaf(t, san, ext, key, o.parent, o.parentKey, o.extraExt...)
	signer, err := signature.LoadECDSASignerVerifier(key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	envSigner, err := dsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: signer, Pub: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	pt := InTotoPayloadType
	if o.payloadType != "" {
		pt = o.payloadType
	}
	env, err := envSigner.SignPayload(context.Background(), pt, payload)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	entry, err := s.vs.GenerateTlogEntry(leaf, env, sig, now.Unix(), true)
	if err != nil {
		t.Fatal(err)
	}
	tle := entry.TransparencyLogEntry()
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body: base64.StdEncoding.EncodeToString(tle.CanonicalizedBody), IntegratedTime: now.Unix(), LogIndex: tle.LogIndex, LogID: s.rekorID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.breakSET {
		set[len(set)/2] ^= 0xff
		tle.InclusionProof = nil
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	vm := &protobundle.VerificationMaterial{
		Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leaf.Raw}},
		TlogEntries: []*protorekor.TransparencyLogEntry{tle},
	}
	if o.noTlog {
		vm.TlogEntries = nil
	}
	if !o.noTimestamp {
		tsr, err := s.vs.TimestampResponse(sig)
		if err != nil {
			t.Fatal(err)
		}
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}}}
	}
	mt := o.mediaType
	if mt == "" {
		mt = "application/vnd.dev.sigstore.bundle.v0.3+json"
	}
	pb := &protobundle.Bundle{
		MediaType:            mt,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	b := bundle.Bundle{Bundle: pb}
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// noCT is a VirtualSigstore without CT logs: its leaves carry no SCT.
type noCT struct{ *ca.VirtualSigstore }

func (noCT) CTLogs() map[string]*root.TransparencyLog { return nil }

// entityBundle writes a VirtualSigstore test entity as a v0.3 bundle.
func entityBundle(t testing.TB, e *ca.TestEntity) []byte {
	t.Helper()
	vc, err := e.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := e.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := env.DecodeB64Payload()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := e.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	tss, err := e.Timestamps()
	if err != nil {
		t.Fatal(err)
	}
	vm := &protobundle.VerificationMaterial{
		Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
		TimestampVerificationData: &protobundle.TimestampVerificationData{},
	}
	for _, en := range entries {
		vm.TlogEntries = append(vm.TlogEntries, en.TransparencyLogEntry())
	}
	for _, ts := range tss {
		vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	b := bundle.Bundle{Bundle: &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}}
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return data
}
