package main

// End-to-end tests of keyless signing against a real Sigstore stack on
// loopback. They need the variables scripts/sigstore-stack sets (SIGSTORE_DIR,
// ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN, OIDC_ISSUER):
//
//	scripts/sigstore-stack run --rekor v1 -- go test -run E2E -count=1 .
//
// Without them they skip, unless PROVENANT_E2E=1 (set by scripts/test), where a
// missing stack is a failure.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/provenant/provenant/builder/oidctest"
	"github.com/provenant/provenant/trust"
	"github.com/provenant/provenant/verifier"
)

// stack is the local Sigstore stack the test runs in.
type stack struct {
	dir, issuer, tokenURL, tokenSecret string
}

func needStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{
		dir: os.Getenv("SIGSTORE_DIR"), issuer: os.Getenv("OIDC_ISSUER"),
		tokenURL: os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), tokenSecret: os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
	}
	if s.dir == "" || s.issuer == "" || s.tokenURL == "" {
		if os.Getenv("PROVENANT_E2E") == "1" {
			t.Fatal("PROVENANT_E2E=1 but no Sigstore stack: run under scripts/sigstore-stack run")
		}
		t.Skip("no local Sigstore stack (run under scripts/sigstore-stack run)")
	}
	return s
}

// stackWrites reports whether the running stack writes the signing config
// file config, by its mode (scripts/sigstore-stack exports
// SIGSTORE_STACK_REKOR: v1, v2 or both).
func stackWrites(config string) bool {
	mode := os.Getenv("SIGSTORE_STACK_REKOR")
	switch config {
	case "signing_config-rekor-v1.json":
		return mode == "v1" || mode == "both"
	case "signing_config-rekor-v2.json":
		return mode == "v2" || mode == "both"
	}
	return true // signing_config.json, signing_config-tsa-only.json: every mode
}

// instanceDir makes a folder with the stack's trusted root and the named
// signing config (optionally rewritten) as signing_config.json.
func (s *stack) instanceDir(t *testing.T, config string, rewrite func(map[string]any)) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(s.dir, config))
	switch {
	case err != nil && stackWrites(config):
		// The stack's mode writes this file: without it the tests that need
		// it would skip and the run stay green, so it is fatal.
		t.Fatalf("the stack (SIGSTORE_STACK_REKOR=%s) must write %s: %v", os.Getenv("SIGSTORE_STACK_REKOR"), config, err)
	case err != nil:
		// By design: this stack's mode has no such instance (a Rekor v1 run
		// has no Rekor v2 config, and back).
		t.Skipf("this stack (SIGSTORE_STACK_REKOR=%s) has no %s by design", os.Getenv("SIGSTORE_STACK_REKOR"), config)
	}
	if rewrite != nil {
		var sc map[string]any
		json.Unmarshal(raw, &sc)
		rewrite(sc)
		raw, _ = json.Marshal(sc)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "signing_config.json"), raw, 0o644)
	tr, _ := os.ReadFile(filepath.Join(s.dir, "trusted_root.json"))
	os.WriteFile(filepath.Join(dir, "trusted_root.json"), tr, 0o644)
	return dir
}

// serviceURLs lists the URLs of one kind of service in a signing config:
// caUrls, rekorTlogUrls or tsaUrls.
func serviceURLs(sc map[string]any, kind string) []map[string]any {
	var out []map[string]any
	list, _ := sc[kind].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// signedStep is a workflow step of the default job set up against the stack.
func (s *stack) signedStep(t *testing.T, instance string) *step {
	st := newStep(t)
	st.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = s.tokenURL
	st.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = s.tokenSecret
	st.env["INPUT_OIDC-ISSUER"] = s.issuer
	st.env["INPUT_SIGSTORE"] = instance
	st.file("dist/octo-1.0.tgz", "the release artifact")
	st.env["INPUT_SUBJECT-PATH"] = "dist/octo-1.0.tgz"
	return st
}

const defaultSAN = "https://github.com/" + oidctest.DefaultWorkflowRef

// verifyWithSigstoreGo verifies a bundle for the artifact with sigstore-go
// against the stack's trusted root, identity and issuer.
func verifyWithSigstoreGo(trustedRoot string, bundlePath string, artifact []byte, san, issuer string) (*verify.VerificationResult, error) {
	tr, err := root.NewTrustedRootFromPath(trustedRoot)
	if err != nil {
		return nil, err
	}
	b, err := bundle.LoadJSONFromPath(bundlePath)
	if err != nil {
		return nil, err
	}
	opts := []verify.VerifierOption{verify.WithSignedCertificateTimestamps(1), verify.WithObserverTimestamps(1)}
	if len(b.GetVerificationMaterial().GetTlogEntries()) > 0 {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	v, err := verify.NewVerifier(tr, opts...)
	if err != nil {
		return nil, err
	}
	id, err := verify.NewShortCertificateIdentity(issuer, "", san, "")
	if err != nil {
		return nil, err
	}
	return v.Verify(b, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithCertificateIdentity(id)))
}

// cosignPath finds the cosign CLI the stack script built.
func cosignPath(t *testing.T) string {
	if p := os.Getenv("COSIGN"); p != "" {
		return p
	}
	out, err := exec.Command("scripts/sigstore-stack", "tool-path", "cosign").Output()
	if err != nil {
		t.Fatalf("cosign: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func cosignVerify(t *testing.T, trustedRoot, bundlePath, artifact, san, issuer string, extra ...string) (string, error) {
	args := append([]string{"verify-blob-attestation", "--bundle", bundlePath, "--new-bundle-format",
		"--type", "slsaprovenance1", "--trusted-root", trustedRoot,
		"--certificate-identity", san, "--certificate-oidc-issuer", issuer}, extra...)
	args = append(args, artifact)
	cmd := exec.Command(cosignPath(t), args...)
	cmd.Env = append(os.Environ(), "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestE2ESignAndVerify(t *testing.T) {
	s := needStack(t)
	cases := []struct {
		name, config string
		wantLog      bool
	}{
		{"stack default (Rekor + its time source)", "signing_config.json", true},
		{"timestamp authority only", "signing_config-tsa-only.json", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inst := s.instanceDir(t, c.config, nil)
			st := s.signedStep(t, inst)
			stdout, stderr, code := st.run("attest")
			if code != 0 {
				t.Fatalf("exit %d\nstdout:%s\nstderr:%s", code, stdout, stderr)
			}
			out := st.outputs()
			bundlePath := out["bundle-path"]
			if filepath.Base(bundlePath) != "octo-1.0.tgz.sigstore.json" || !strings.HasPrefix(bundlePath, filepath.Join(st.temp, "provenant", "run-")) {
				t.Errorf("bundle-path = %q, want $RUNNER_TEMP/provenant/run-*/octo-1.0.tgz.sigstore.json", bundlePath)
			}
			if out["certificate-identity"] != defaultSAN {
				t.Errorf("certificate-identity output = %q, want %q", out["certificate-identity"], defaultSAN)
			}
			if _, ok := out["log-index"]; ok != c.wantLog {
				t.Errorf("log-index output present = %v, want %v (outputs %v)", ok, c.wantLog, out)
			}
			if !strings.Contains(stdout, "certificate identity: "+defaultSAN) {
				t.Errorf("step log lacks the certificate identity:\n%s", stdout)
			}
			tokenHeader := strings.SplitN(st.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"], ".", 2)[0]
			if tokenHeader != "" && strings.Contains(stderr, tokenHeader) {
				t.Error("request token printed")
			}

			raw, err := os.ReadFile(bundlePath)
			if err != nil {
				t.Fatal(err)
			}
			checkBundleShape(t, raw)

			artifact, _ := os.ReadFile(filepath.Join(st.workspace, "dist/octo-1.0.tgz"))
			trPath := filepath.Join(inst, "trusted_root.json")
			res, err := verifyWithSigstoreGo(trPath, bundlePath, artifact, defaultSAN, s.issuer)
			if err != nil {
				t.Fatalf("sigstore-go rejects our bundle: %v", err)
			}
			checkExtensions(t, res, s.issuer)
			var envelope struct{ Payload string }
			var bj map[string]json.RawMessage
			json.Unmarshal(raw, &bj)
			json.Unmarshal(bj["dsseEnvelope"], &envelope)
			payload, _ := base64.StdEncoding.DecodeString(envelope.Payload)
			checkPredicate(t, payload, defaultClaimStrings())

			// cosign v2.6.5 verifies the same bundle.
			// cosign needs to be told where the signing time comes from.
			extra := []string{}
			if res.Signature != nil && strings.Contains(string(raw), `"rfc3161Timestamps"`) {
				extra = append(extra, "--use-signed-timestamps")
			}
			if !c.wantLog {
				extra = append(extra, "--insecure-ignore-tlog")
			}
			if out, err := cosignVerify(t, trPath, bundlePath, filepath.Join(st.workspace, "dist/octo-1.0.tgz"), defaultSAN, s.issuer, extra...); err != nil {
				t.Errorf("cosign rejects our bundle: %v\n%s", err, out)
			}

			// Rejections: a wrong artifact, a wrong identity, a one-byte
			// change in the bundle.
			if _, err := verifyWithSigstoreGo(trPath, bundlePath, []byte("another artifact"), defaultSAN, s.issuer); err == nil {
				t.Error("sigstore-go accepted the bundle for a wrong artifact")
			}
			if _, err := verifyWithSigstoreGo(trPath, bundlePath, artifact, "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main", s.issuer); err == nil {
				t.Error("sigstore-go accepted the bundle for a wrong identity")
			}
			wrongArtifact := filepath.Join(t.TempDir(), "octo-1.0.tgz")
			os.WriteFile(wrongArtifact, []byte("another artifact"), 0o644)
			if out, err := cosignVerify(t, trPath, bundlePath, wrongArtifact, defaultSAN, s.issuer, extra...); err == nil {
				t.Errorf("cosign accepted the bundle for a wrong artifact:\n%s", out)
			}
			if out, err := cosignVerify(t, trPath, bundlePath, filepath.Join(st.workspace, "dist/octo-1.0.tgz"), "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main", s.issuer, extra...); err == nil {
				t.Errorf("cosign accepted the bundle for a wrong identity:\n%s", out)
			}
			tampered := tamperPayload(t, raw)
			tp := filepath.Join(t.TempDir(), "tampered.sigstore.json")
			os.WriteFile(tp, tampered, 0o644)
			if _, err := verifyWithSigstoreGo(trPath, tp, artifact, defaultSAN, s.issuer); err == nil {
				t.Error("sigstore-go accepted a bundle with one byte changed")
			}
		})
	}
}

// tamperPayload changes one byte of the signed statement inside the bundle.
func tamperPayload(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b map[string]any
	json.Unmarshal(raw, &b)
	env := b["dsseEnvelope"].(map[string]any)
	payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
	i := bytes.Index(payload, []byte("octo-1.0.tgz"))
	payload[i] = 'O'
	env["payload"] = base64.StdEncoding.EncodeToString(payload)
	out, _ := json.Marshal(b)
	return out
}

// checkBundleShape checks what the signing issue requires of every bundle.
func checkBundleShape(t *testing.T, raw []byte) {
	t.Helper()
	var b struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			Certificate *struct{ RawBytes string } `json:"certificate"`
			Chain       any                        `json:"x509CertificateChain"`
		} `json:"verificationMaterial"`
		DSSEEnvelope struct {
			PayloadType string
			Signatures  []any
		} `json:"dsseEnvelope"`
	}
	var entries struct {
		VerificationMaterial struct {
			TlogEntries []struct {
				KindVersion      struct{ Kind, Version string } `json:"kindVersion"`
				InclusionPromise *struct{}                      `json:"inclusionPromise"`
				InclusionProof   *struct {
					Checkpoint *struct{ Envelope string } `json:"checkpoint"`
				} `json:"inclusionProof"`
			} `json:"tlogEntries"`
		} `json:"verificationMaterial"`
	}
	json.Unmarshal(raw, &entries)
	for _, e := range entries.VerificationMaterial.TlogEntries {
		// Rekor v1 logs the envelope as a dsse entry (what gh and cosign
		// expect); sigstore-go sends it to Rekor v2 as a hashedrekord
		// over the envelope's PAE, Rekor v2 having no dsse type there.
		switch e.KindVersion.Version {
		case "0.0.1":
			if e.KindVersion.Kind != "dsse" {
				t.Errorf("Rekor v1 entry kind %q, want dsse", e.KindVersion.Kind)
			}
		case "0.0.2":
			if e.KindVersion.Kind != "dsse" && e.KindVersion.Kind != "hashedrekord" {
				t.Errorf("Rekor v2 entry kind %q", e.KindVersion.Kind)
			}
		default:
			t.Errorf("log entry %s %s", e.KindVersion.Kind, e.KindVersion.Version)
		}
		if e.InclusionProof == nil || e.InclusionProof.Checkpoint == nil {
			t.Error("log entry without an inclusion proof and checkpoint")
		}
		// Rekor v1 (dsse 0.0.1) also gives a signed inclusion promise.
		if e.KindVersion.Version == "0.0.1" && e.InclusionPromise == nil {
			t.Error("Rekor v1 entry without an inclusion promise")
		}
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.MediaType != "application/vnd.dev.sigstore.bundle.v0.3+json" {
		t.Errorf("mediaType = %q", b.MediaType)
	}
	if b.VerificationMaterial.Certificate == nil || b.VerificationMaterial.Chain != nil {
		t.Error("want a single leaf certificate, not a chain")
	}
	if b.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json" || len(b.DSSEEnvelope.Signatures) != 1 {
		t.Errorf("envelope: payloadType %q, %d signatures", b.DSSEEnvelope.PayloadType, len(b.DSSEEnvelope.Signatures))
	}
}

// checkExtensions checks the GitHub Fulcio extensions of the leaf against
// the default claims.
func checkExtensions(t *testing.T, res *verify.VerificationResult, issuer string) {
	t.Helper()
	c := res.Signature.Certificate
	repo := "https://github.com/" + oidctest.DefaultRepository
	for _, f := range []struct{ name, got, want string }{
		{"issuer", c.Issuer, issuer},
		{"SAN", c.SubjectAlternativeName, defaultSAN},
		{"BuildSignerURI", c.BuildSignerURI, defaultSAN},
		{"BuildSignerDigest", c.BuildSignerDigest, oidctest.DefaultSHA},
		{"RunnerEnvironment", c.RunnerEnvironment, "github-hosted"},
		{"SourceRepositoryURI", c.SourceRepositoryURI, repo},
		{"SourceRepositoryDigest", c.SourceRepositoryDigest, oidctest.DefaultSHA},
		{"SourceRepositoryRef", c.SourceRepositoryRef, oidctest.DefaultRef},
		{"SourceRepositoryIdentifier", c.SourceRepositoryIdentifier, oidctest.DefaultRepositoryID},
		{"SourceRepositoryOwnerURI", c.SourceRepositoryOwnerURI, "https://github.com/" + oidctest.DefaultRepositoryOwner},
		{"SourceRepositoryOwnerIdentifier", c.SourceRepositoryOwnerIdentifier, oidctest.DefaultRepositoryOwnerID},
		{"BuildConfigURI", c.BuildConfigURI, defaultSAN},
		{"BuildConfigDigest", c.BuildConfigDigest, oidctest.DefaultSHA},
		{"BuildTrigger", c.BuildTrigger, "push"},
		{"RunInvocationURI", c.RunInvocationURI, repo + "/actions/runs/" + oidctest.DefaultRunID + "/attempts/" + oidctest.DefaultRunAttempt},
		{"SourceRepositoryVisibilityAtSigning", c.SourceRepositoryVisibilityAtSigning, "public"},
	} {
		if f.got != f.want {
			t.Errorf("certificate %s = %q, want %q", f.name, f.got, f.want)
		}
	}
}

// flakyProxy forwards to target after answering the first `fail` requests
// with 503; fail < 0 means it never forwards. With lose set, the failed
// requests do reach the target, only its answers are lost (a 503 instead).
type flakyProxy struct {
	mu    sync.Mutex
	fail  int
	lose  bool
	count int
	proxy *httputil.ReverseProxy
}

func startFlakyProxy(t *testing.T, target string, fail int) (*httptest.Server, *flakyProxy) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{fail: fail, proxy: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.count++
		n := p.count
		p.mu.Unlock()
		if p.fail < 0 || n <= p.fail {
			if p.lose {
				p.proxy.ServeHTTP(httptest.NewRecorder(), r)
			}
			http.Error(w, "service unavailable (test)", http.StatusServiceUnavailable)
			return
		}
		p.proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, p
}

func TestE2EServiceFaults(t *testing.T) {
	s := needStack(t)
	services := []struct {
		name, kind, config, wantErr string
	}{
		{"Fulcio", "caUrls", "signing_config.json", "Fulcio at"},
		{"Rekor", "rekorTlogUrls", "signing_config.json", "Rekor at"},
		{"timestamp authority", "tsaUrls", "signing_config-tsa-only.json", "timestamp authority at"},
	}
	for _, svc := range services {
		for _, mode := range []struct {
			name string
			fail int
		}{{"503 twice then up", 2}, {"down for good", -1}} {
			t.Run(svc.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel() // own proxy, config and step, as TestE2EFaults' cases
				var proxy *flakyProxy
				var proxied bool
				inst := s.instanceDir(t, svc.config, func(sc map[string]any) {
					for _, e := range serviceURLs(sc, svc.kind) {
						orig := e["url"].(string)
						srv, p := startFlakyProxy(t, orig, mode.fail)
						u, _ := url.Parse(orig)
						e["url"] = srv.URL + u.Path
						proxy, proxied = p, true
					}
				})
				if !proxied {
					// By design: this mode's signing config lists no such
					// service (the Rekor v1 config has no TSA).
					t.Skipf("%s names no %s", svc.config, svc.kind)
				}
				st := s.signedStep(t, inst)
				stdout, stderr, code := st.run("attest")
				bundlePath := st.outputs()["bundle-path"]
				if mode.fail >= 0 {
					if code != 0 {
						t.Fatalf("exit %d after transient 503s\n%s\n%s", code, stdout, stderr)
					}
					if proxy.count <= mode.fail {
						t.Errorf("the %s proxy saw %d requests: the fault was not exercised", svc.name, proxy.count)
					}
					if _, err := os.Stat(bundlePath); err != nil {
						t.Errorf("no bundle: %v", err)
					}
					return
				}
				if code == 0 {
					t.Fatalf("exit 0 with %s down", svc.name)
				}
				if !strings.Contains(stdout+stderr, svc.wantErr) {
					t.Errorf("error does not name the service (%q):\n%s\n%s", svc.wantErr, stdout, stderr)
				}
				if bundlePath != "" {
					t.Errorf("bundle-path output set on failure: %s", bundlePath)
				}
				entries, _ := os.ReadDir(filepath.Join(st.temp, "provenant"))
				if len(entries) != 0 {
					t.Errorf("files left behind: %v", entries)
				}
			})
		}
	}
}

// TestE2EVerifyLevels signs on the stack as different jobs and checks the
// level provenant verify gives, and that a workflow which edits its own
// predicate before signing is caught by check 7.
func TestE2EVerifyLevels(t *testing.T) {
	s := needStack(t)
	inst := s.instanceDir(t, "signing_config.json", nil)
	reusable := map[string]any{
		"job_workflow_ref": "octo-org/build-platform/.github/workflows/slsa-build.yml@refs/tags/v1.0.0",
		"job_workflow_sha": "1111111111111111111111111111111111111111",
	}
	editRepo := func(p map[string]any) {
		wf := p["buildDefinition"].(map[string]any)["externalParameters"].(map[string]any)["workflow"].(map[string]any)
		wf["repository"] = "https://github.com/octo-org/trusted-repo"
	}
	editCommit := func(p map[string]any) {
		dep := p["buildDefinition"].(map[string]any)["resolvedDependencies"].([]any)[0].(map[string]any)
		dep["digest"].(map[string]any)["gitCommit"] = "2222222222222222222222222222222222222222"
	}
	tests := []struct {
		name       string
		claims     map[string]any
		edit       func(map[string]any)
		policy     verifier.Policy
		wantOK     bool
		wantLevel  int
		wantFailed verifier.CheckName
	}{
		{"own bundle: L2", nil, nil, verifier.Policy{Repo: oidctest.DefaultRepository, MinLevel: 2}, true, 2, ""},
		{"own bundle asked for L3: fails on level", nil, nil, verifier.Policy{Repo: oidctest.DefaultRepository, MinLevel: 3}, false, 2, verifier.CheckLevel},
		{"reusable workflow of another repository: L3", reusable, nil,
			verifier.Policy{Repo: oidctest.DefaultRepository, SignerRepo: "octo-org/build-platform", MinLevel: 3}, true, 3, ""},
		{"predicate repository edited before signing", nil, editRepo, verifier.Policy{Repo: oidctest.DefaultRepository, MinLevel: 2}, false, 1, verifier.CheckPredicate},
		{"predicate commit edited before signing", nil, editCommit, verifier.Policy{Repo: oidctest.DefaultRepository, MinLevel: 2}, false, 1, verifier.CheckPredicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.signedStep(t, inst)
			if tt.claims != nil {
				c, _ := json.Marshal(tt.claims)
				st.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = s.tokenURL + "&claims=" + url.QueryEscape(string(c))
			}
			args := []string{"attest"}
			if tt.edit != nil {
				// A workflow that edits its predicate: take the statement
				// provenant would sign, change it, sign the changed one.
				stdout, stderr, code := st.run("attest", "--dry-run")
				if code != 0 {
					t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
				}
				lines := strings.Split(strings.TrimSpace(stdout), "\n")
				var stmt map[string]any
				json.Unmarshal([]byte(lines[len(lines)-1]), &stmt)
				pred := stmt["predicate"].(map[string]any)
				tt.edit(pred)
				raw, _ := json.Marshal(pred)
				st.file("edited-predicate.json", string(raw))
				args = append(args, "--predicate-type", "https://slsa.dev/provenance/v1", "--predicate-path", "edited-predicate.json")
			}
			stdout, stderr, code := st.run(args...)
			if code != 0 {
				t.Fatalf("attest: exit %d\n%s\n%s", code, stdout, stderr)
			}
			bundlePath := st.outputs()["bundle-path"]
			policy := tt.policy
			policy.CertOIDCIssuer = s.issuer
			roots, err := trust.LoadTrustedRoots(filepath.Join(inst, "trusted_root.json"))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := verifier.Verify(context.Background(), verifier.Options{
				Artifacts:    []string{filepath.Join(st.workspace, "dist/octo-1.0.tgz")},
				BundleFiles:  []string{bundlePath},
				TrustedRoots: roots,
				Policy:       policy,
			})
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			rep.WriteText(&text, true)
			a := rep.Artifacts[0]
			if rep.Verified != tt.wantOK {
				t.Fatalf("verified = %v, want %v\n%s", rep.Verified, tt.wantOK, text.String())
			}
			// The level the bundle reached, verified or not (a failing
			// case's level is asserted too: it says how far the bundle got).
			if len(a.Bundles) != 1 || a.Bundles[0].Level != tt.wantLevel || tt.wantOK && a.Level != tt.wantLevel {
				t.Errorf("levels: artifact %d, %d bundle(s); want the bundle at L%d\n%s", a.Level, len(a.Bundles), tt.wantLevel, text.String())
			}
			if tt.wantFailed != "" {
				var ce *verifier.CheckError
				if !errors.As(a.Bundles[0].Err(), &ce) || ce.Check != tt.wantFailed {
					t.Errorf("failed check = %v, want %s\n%s", a.Bundles[0].Err(), tt.wantFailed, text.String())
				}
			}
		})
	}
}

// TestE2ERekorConflict: the log stores the entry but its answer is lost;
// the retry gets 409 Conflict and the existing entry is used.
func TestE2ERekorConflict(t *testing.T) {
	s := needStack(t)
	var proxy *flakyProxy
	inst := s.instanceDir(t, "signing_config.json", func(sc map[string]any) {
		for _, e := range serviceURLs(sc, "rekorTlogUrls") {
			if v, _ := e["majorApiVersion"].(float64); v != 1 {
				continue
			}
			orig := e["url"].(string)
			srv, p := startFlakyProxy(t, orig, 1)
			p.lose = true
			u, _ := url.Parse(orig)
			e["url"] = srv.URL + u.Path
			proxy = p
		}
	})
	if proxy == nil {
		t.Skip("this stack has no Rekor v1 (409 Conflict is Rekor v1's answer to a repeated entry)")
	}
	st := s.signedStep(t, inst)
	stdout, stderr, code := st.run("attest")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// create (lost) + create (409) + fetch of the existing entry
	if proxy.count < 3 {
		t.Errorf("Rekor saw %d requests, want the lost create, the conflicting retry and the fetch", proxy.count)
	}
	bundlePath := st.outputs()["bundle-path"]
	artifact, _ := os.ReadFile(filepath.Join(st.workspace, "dist/octo-1.0.tgz"))
	if _, err := verifyWithSigstoreGo(filepath.Join(inst, "trusted_root.json"), bundlePath, artifact, defaultSAN, s.issuer); err != nil {
		t.Fatalf("bundle with the existing entry does not verify: %v", err)
	}
}

// TestE2EGitHubCLI: `gh attestation verify` (GitHub CLI v2.83.1, built by
// scripts/sigstore-stack) accepts our bundles, offline, with the stack's
// trusted root, and rejects them for another artifact or owner. (A
// timestamp-only bundle is left out: gh treats a leaf whose CA is not
// "GitHub, Inc." as public-good's, which requires a log entry.)
func TestE2EGitHubCLI(t *testing.T) {
	s := needStack(t)
	out, err := exec.Command("scripts/sigstore-stack", "tool-path", "gh").Output()
	if err != nil {
		t.Fatalf("gh: %v", err)
	}
	gh := strings.TrimSpace(string(out))
	inst := s.instanceDir(t, "signing_config.json", nil)
	// gh reads a custom trusted root as JSON Lines.
	tr, _ := os.ReadFile(filepath.Join(inst, "trusted_root.json"))
	var compact bytes.Buffer
	json.Compact(&compact, tr)
	trLines := filepath.Join(t.TempDir(), "trusted_root.jsonl")
	os.WriteFile(trLines, append(compact.Bytes(), '\n'), 0o644)

	st := s.signedStep(t, inst)
	if stdout, stderr, code := st.run("attest"); code != 0 {
		t.Fatalf("attest: exit %d\n%s\n%s", code, stdout, stderr)
	}
	bundlePath := st.outputs()["bundle-path"]
	artifact := filepath.Join(st.workspace, "dist/octo-1.0.tgz")
	ghVerify := func(artifact string, args ...string) (string, error) {
		cmd := exec.Command(gh, append([]string{"attestation", "verify", artifact, "--bundle", bundlePath,
			"--custom-trusted-root", trLines, "--cert-oidc-issuer", s.issuer}, args...)...)
		home := t.TempDir()
		cmd.Env = append(os.Environ(), "HOME="+home, "GH_CONFIG_DIR="+home, "GH_TOKEN=unused-offline", "GH_NO_UPDATE_NOTIFIER=1", "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := ghVerify(artifact, "--owner", "octo-org"); err != nil {
		t.Errorf("gh attestation verify --owner rejects our bundle: %v\n%s", err, out)
	}
	if out, err := ghVerify(artifact, "--repo", "octo-org/octo-repo", "--signer-workflow", "octo-org/octo-repo/.github/workflows/release.yml"); err != nil {
		t.Errorf("gh attestation verify --repo --signer-workflow rejects our bundle: %v\n%s", err, out)
	}
	if out, err := ghVerify(artifact, "--owner", "someone-else"); err == nil {
		t.Errorf("gh accepted our bundle for another owner:\n%s", out)
	}
	wrong := filepath.Join(t.TempDir(), "octo-1.0.tgz")
	os.WriteFile(wrong, []byte("not the release"), 0o644)
	if out, err := ghVerify(wrong, "--owner", "octo-org"); err == nil {
		t.Errorf("gh accepted our bundle for another artifact:\n%s", out)
	}
}
