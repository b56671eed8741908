package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/provenant/provenant/internal/cli"
	"github.com/provenant/provenant/internal/homes"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/remote/registrytest"
)

// ociTestPredicate is the predicate type of the test-signed bundles: not
// SLSA provenance, so the certificate needs no GitHub extensions (SLSA
// Build L1, the default minimum for other predicates).
const ociTestPredicate = "https://provenant.dev/test-result/v1"

// ociSigner signs statements with sigstore-go's VirtualSigstore (Fulcio
// CA, Rekor log, timestamp authority in memory) and writes its trusted
// root for the command to read.
type ociSigner struct {
	vs   *ca.VirtualSigstore
	root string
}

const (
	ociSAN    = "release@provenant.test"
	ociIssuer = "https://issuer.test"
)

func newOCISigner(t *testing.T) *ociSigner {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	// VirtualSigstore keys its log by the hex string's bytes; a trusted
	// root written to JSON and read back needs the raw key id.
	id, _ := vs.RekorLogID()
	idb, _ := hex.DecodeString(id)
	logs := vs.RekorLogs()
	for k, l := range logs {
		c := *l
		c.ID = idb
		logs[k] = &c
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), nil, vs.TimestampingAuthorities(), logs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return &ociSigner{vs: vs, root: p}
}

// sign makes a v0.3 bundle of an in-toto statement about images.
func (s *ociSigner) sign(t *testing.T, images ...name.Digest) []byte {
	t.Helper()
	return s.signStatement(t, ociTestPredicate, map[string]any{"passed": true}, images...)
}

// signStatement makes a v0.3 bundle of a statement of predicateType with
// predicate about images.
func (s *ociSigner) signStatement(t *testing.T, predicateType string, predicate any, images ...name.Digest) []byte {
	t.Helper()
	var subjects []any
	for _, img := range images {
		subjects = append(subjects, map[string]any{"name": img.Context().Name(), "digest": map[string]string{"sha256": strings.TrimPrefix(img.DigestStr(), "sha256:")}})
	}
	payload, _ := json.Marshal(map[string]any{
		"_type": "https://in-toto.io/Statement/v1", "subject": subjects,
		"predicateType": predicateType, "predicate": predicate,
	})
	e, err := s.vs.AttestAtTime(ociSAN, ociIssuer, payload, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := e.VerificationContent()
	sc, _ := e.SignatureContent()
	env := sc.EnvelopeContent().RawEnvelope()
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	entries, _ := e.TlogEntries()
	tss, _ := e.Timestamps()
	vm := &protobundle.VerificationMaterial{
		Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
		TimestampVerificationData: &protobundle.TimestampVerificationData{},
	}
	for _, en := range entries {
		tle := en.TransparencyLogEntry()
		if tle.KindVersion == nil {
			tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
		}
		vm.TlogEntries = append(vm.TlogEntries, tle)
	}
	for _, ts := range tss {
		vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	b := bundle.Bundle{Bundle: &protobundle.Bundle{
		MediaType:            remote.BundleMediaType,
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

// pushBundle pushes a bundle as a referrer of img.
func pushBundle(t *testing.T, img name.Digest, data []byte) {
	t.Helper()
	if _, err := remote.NewOCI(remote.OCIOptions{}).Push(context.Background(), img, data, ociTestPredicate, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyOCI: verify oci:// reads an image's bundles from the registry
// and verifies each against the image's digest, by digest and by tag, on
// distribution (referrers tag schema) and on a registry with the
// referrers API; a bundle about another image of the same repository,
// pushed as this image's referrer, is refused at check 5.
func TestVerifyOCI(t *testing.T) {
	s := newOCISigner(t)
	dist := registrytest.Start(t, registrytest.Options{})
	api := registrytest.WithReferrersAPI(t)
	for label, reg := range map[string]*registrytest.Registry{"distribution": dist, "referrers API": api} {
		x := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
		y := registrytest.PushRandomImage(t, reg.Host, "octo/other", nil)
		pushBundle(t, x, s.sign(t, x))
		// y's bundle pushed as a referrer of z, another image of y's repository.
		z := registrytest.PushRandomImage(t, reg.Host, "octo/other", nil)
		pushBundle(t, y, s.sign(t, y))
		pushBundle(t, z, s.sign(t, y))
		base := []string{"--trusted-root", s.root, "--cert-identity", ociSAN, "--cert-oidc-issuer", ociIssuer, "--predicate-type", ociTestPredicate, "--verbose"}
		for _, tc := range []struct {
			name     string
			args     []string
			code     int
			out, err string
		}{
			{"by digest", []string{"oci://" + x.String()}, exitOK, "VERIFIED at SLSA Build L1", "1 attestation(s) for oci://" + x.String()},
			{"by tag", []string{"oci://" + reg.Host + "/octo/app:latest"}, exitOK, x.DigestStr() + " (" + x.DigestStr() + "): VERIFIED", "oci://" + reg.Host + "/octo/app:latest is " + x.DigestStr()},
			{"two images at once", []string{"oci://" + x.String(), "oci://" + y.String()}, exitOK, "2 of 2 artifacts verified", ""},
			{"another image's bundle", []string{"oci://" + z.String()}, exitFailed, "FAIL      5 subject", "1 attestation(s) for oci://" + z.String()},
			{"no attestation", []string{"oci://" + registrytest.PushRandomImage(t, reg.Host, "octo/bare", nil).String()}, exitFailed, "no attestation found for this artifact", "0 attestation(s)"},
			{"no such image", []string{"oci://" + reg.Host + "/octo/app:missing"}, exitFailed, "", "404"},
			{"no registry host", []string{"oci://octo/app:v1"}, exitUsage, "", "registry host first"},
		} {
			t.Run(label+"/"+tc.name, func(t *testing.T) {
				code, out, errOut := runVerifyIn(t, nil, append(base, tc.args...)...)
				if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
					t.Errorf("exit %d, want %d (stdout %q, stderr %q)\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.out, tc.err, out, errOut)
				}
			})
		}
	}
}

// TestAttestPushToRegistryInputs: push-to-registry is refused before any
// token is asked for when the bundle would be unsigned or a subject is no
// image.
func TestAttestPushToRegistryInputs(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"unsigned", []string{"--no-sign", "--subject-name", "ghcr.io/octo/app", "--subject-digest", digest}, "push-to-registry needs a signed bundle"},
		{"a file subject", []string{"--subject-path", "go.mod"}, `subject "go.mod" is not an image`},
		{"no registry host", []string{"--subject-name", "octo/app", "--subject-digest", digest}, "registry host first"},
		{"a tag in the name", []string{"--subject-name", "ghcr.io/octo/app:v1", "--subject-digest", digest}, "is not an image"},
		{"sha512 only", []string{"--subject-name", "ghcr.io/octo/app", "--subject-digest", "sha512:" + strings.Repeat("ab", 64)}, "no sha256 digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			dir := t.TempDir()
			args := append([]string{"attest", "--push-to-registry", "--out", filepath.Join(dir, "x.json")}, tc.args...)
			code := run(context.Background(), args, env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }})
			if code != exitUsage || !strings.Contains(errOut.String(), tc.err) {
				t.Errorf("exit %d, want %d and %q\n%s", code, exitUsage, tc.err, errOut.String())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("wrote %v", entries)
			}
		})
	}
}

// TestAttestPushToRegistry_BuildChoosesTheRegistry: image subjects may come
// from a checksums file the build wrote, and the job's registry
// credentials go to whatever registry they name. The workflow names the
// registries (allowed-registries, default ghcr.io/<owner>/ in Actions);
// plain http is refused but on loopback. All before a token is asked for.
func TestAttestPushToRegistry_BuildChoosesTheRegistry(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	actions := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY_OWNER": "Octo", "GITHUB_REPOSITORY": "Octo/app"}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		err  string // "" when accepted (then the run stops later, asking for a token)
	}{
		{"checksums name another registry, in Actions", actions, []string{"--subject-checksums", digest[7:] + "  evil.example/octo/app"}, `image "evil.example/octo/app" is not under the allowed registries ghcr.io/octo/`},
		{"another owner on ghcr.io, in Actions", actions, []string{"--subject-name", "ghcr.io/octo-evil/app", "--subject-digest", digest}, "is not under the allowed registries ghcr.io/octo/"},
		{"the owner's ghcr.io, in Actions", actions, []string{"--subject-name", "ghcr.io/octo/app", "--subject-digest", digest}, ""},
		{"outside the allowed list given", nil, []string{"--allowed-registries", "registry.example/team/", "--subject-name", "registry.example/other/app", "--subject-digest", digest}, "not under the allowed registries registry.example/team/"},
		{"inside the allowed list given", nil, []string{"--allowed-registries", "registry.example/team", "--subject-name", "registry.example/team/app", "--subject-digest", digest}, ""},
		{"plain http to a private address", nil, []string{"--subject-name", "10.0.0.5:5000/octo/app", "--subject-digest", digest}, "would be reached over plain http"},
		{"plain http to a .localhost name", nil, []string{"--subject-name", "registry.localhost:5000/octo/app", "--subject-digest", digest}, "plain http"},
		{"plain http on loopback", nil, []string{"--subject-name", "127.0.0.1:5000/octo/app", "--subject-digest", digest}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			dir := t.TempDir()
			args := append([]string{"attest", "--push-to-registry", "--sigstore", filepath.Join(dir, "no-instance"), "--out", filepath.Join(dir, "x.json")}, tc.args...)
			code := run(context.Background(), args, env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return tc.vars[k] }})
			said := out.String() + errOut.String() // in Actions, an error annotation on stdout
			refused := code == exitUsage && strings.Contains(said, "push-to-registry")
			if tc.err != "" && (!refused || !strings.Contains(said, tc.err)) {
				t.Errorf("exit %d, want %d and %q\n%s", code, exitUsage, tc.err, said)
			}
			if tc.err == "" && (refused || code == exitOK) {
				t.Errorf("exit %d: refused or done, want the push accepted and the run to stop later (no token here)\n%s", code, errOut.String())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("wrote %v", entries)
			}
		})
	}
}

// TestVerifyOCI_ReferrerFloodOfOtherTypesNotHeld: an image flooded with
// large signed referrers of a predicate type verify does not ask for
// (whatever their annotation says) costs no memory once each was read:
// verify keeps of them only a line saying why they were left out, the
// bundle it asks for still verifies, and each is said in the report.
func TestVerifyOCI_ReferrerFloodOfOtherTypesNotHeld(t *testing.T) {
	const n, pad = 12, 6 << 20
	s := newOCISigner(t)
	reg := registrytest.WithReferrersAPI(t)
	x := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
	big := s.signStatement(t, "https://example.test/other/v1", map[string]any{"pad": strings.Repeat("a", pad)}, x)
	c := remote.NewOCI(remote.OCIOptions{})
	for i := 0; i < n; i++ {
		// Annotated as the type verify asks for: read, then left out.
		// Another creation time each: n referrers, one blob.
		if _, err := c.Push(context.Background(), x, big, ociTestPredicate, time.Unix(int64(1e9+i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	pushBundle(t, x, s.sign(t, x))

	var stderr bytes.Buffer
	fac := env{stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }}.factory()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	regs := &homes.Registries{F: fac, Log: fac.Logger("provenant verify", false), Refs: []string{x.String()}}
	res, err := regs.Gather(context.Background(), homes.Want{PredicateTypes: []string{ociTestPredicate}})
	if res == nil {
		res = &homes.Found{}
	}
	got, digests, code := res.Attestations, res.Digests, cli.ExitCode(err)
	runtime.GC()
	runtime.ReadMemStats(&m)
	held := int64(m.HeapAlloc) - int64(base)
	if code != exitOK || len(digests) != 1 {
		t.Fatalf("exit %d, %v\n%s", code, digests, stderr.String())
	}
	kept := 0
	for _, a := range got[x.DigestStr()] {
		if a.Bundle != nil {
			kept++
		}
	}
	runtime.KeepAlive(got)
	t.Logf("%d referrers of %d MiB of another type: %d MiB held after reading them", n, len(big)>>20, held>>20)
	if kept != 1 || len(got[x.DigestStr()]) != n+1 {
		t.Errorf("%d bundles kept of %d attestations, want 1 of %d", kept, len(got[x.DigestStr()]), n+1)
	}
	if held > int64(2*len(big)) {
		t.Errorf("%d MiB held after reading %d referrers of another type, more than two bundles (%d MiB)", held>>20, n, 2*len(big)>>20)
	}

	code, out, errOut := runVerifyIn(t, nil, "--trusted-root", s.root, "--cert-identity", ociSAN, "--cert-oidc-issuer", ociIssuer,
		"--predicate-type", ociTestPredicate, "--verbose", "oci://"+x.String())
	if code != exitOK || !strings.Contains(out, "VERIFIED") || !strings.Contains(out, `predicate type is "https://example.test/other/v1", not one verify asks for`) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
