package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/provenant/provenant/internal/homes"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote/githubtest"
	"github.com/provenant/provenant/verifier"
)

const (
	npmRepo     = "sigstore/sigstore-js"
	npmV01      = fixturesDir + "/npm/sigstore-js-2.1.0-bundle-v0.1.json"
	js200Bundle = fixturesDir + "/sigstore-go/sigstore.js@2.0.0-provenance.sigstore.json"
	js200Digest = "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"
	ghWrite     = "ghs_jobtokenwrite"
	ghRead      = "ghp_readonlytoken"
)

func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// npmDigest is the sha512 digest of the npm fixture tarball, the digest
// its bundle's subject has.
func npmDigest(t *testing.T) string {
	t.Helper()
	a, err := verifier.ArtifactFromFile(npmTgz)
	if err != nil {
		t.Fatal(err)
	}
	return "sha512:" + hex.EncodeToString(a.Digests["sha512"])
}

// fakeGitHub is a test server holding sigstore/sigstore-js (organization
// sigstore) with the npm fixture bundle.
func fakeGitHub(t *testing.T, private bool) *githubtest.Server {
	t.Helper()
	s := githubtest.New(t)
	s.AddRepo(npmRepo, true, private)
	s.AddToken(ghWrite, true)
	s.AddToken(ghRead, false)
	if _, err := s.Add(npmRepo, readFixture(t, npmBundle), "user"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify_FetchByDigestFromGitHub(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*testing.T, *githubtest.Server)
		private  bool
		token    string
		args     []string
		code     int
		want     string // in stdout+stderr
		requests int    // API requests, 0: not checked
	}{
		{name: "repo, bundle_url", args: []string{"--repo", npmRepo}, code: exitOK, want: "VERIFIED", requests: 1},
		{name: "owner", args: []string{"--owner", "sigstore"}, code: exitOK, want: "VERIFIED", requests: 1},
		{name: "source-uri as the repository", args: []string{"--source-uri", "github.com/" + npmRepo, "--signer-repo", npmRepo}, code: exitOK, want: "VERIFIED", requests: 1},
		{name: "inline bundles", setup: func(_ *testing.T, s *githubtest.Server) { s.SetInline(true) }, args: []string{"--repo", npmRepo}, code: exitOK, want: "VERIFIED"},
		{name: "pagination past 100", setup: func(t *testing.T, s *githubtest.Server) {
			for i := 0; i < 149; i++ {
				s.Add(npmRepo, readFixture(t, npmBundle), "user")
			}
		}, args: []string{"--repo", npmRepo, "-L", "200"}, code: exitOK, want: "150 attestation(s) for 1 digest(s)", requests: 2},
		{name: "limit", setup: func(t *testing.T, s *githubtest.Server) { s.Add(npmRepo, readFixture(t, npmV01), "user") },
			args: []string{"--repo", npmRepo, "--limit", "1"}, code: exitOK, want: "1 attestation(s) for 1 digest(s)", requests: 1},
		{name: "rate-limit pause, retry-after 1", setup: func(_ *testing.T, s *githubtest.Server) {
			s.Fail(githubtest.Fault{Status: 429, RetryAfter: "1"})
		}, args: []string{"--repo", npmRepo}, code: exitOK, want: "VERIFIED", requests: 2},
		{name: "private, no token", private: true, args: []string{"--repo", npmRepo}, code: exitFailed, want: "private? give a token (GH_TOKEN)"},
		{name: "private, GH_TOKEN", private: true, token: ghRead, args: []string{"--repo", npmRepo}, code: exitOK, want: "VERIFIED"},
		{name: "nothing for this digest", args: []string{"--repo", npmRepo, "--digest", "sha512:" + strings.Repeat("ab", 64)}, code: exitFailed, want: "no attestation found"},
		{name: "GitHub failing", setup: func(_ *testing.T, s *githubtest.Server) { s.Fail(githubtest.Fault{Status: 503}) },
			args: []string{"--repo", npmRepo}, code: exitFailed, want: "answered 503"},
		{name: "primary rate limit", setup: func(_ *testing.T, s *githubtest.Server) { s.Fail(githubtest.Fault{Status: 403, Primary: true}) },
			args: []string{"--repo", npmRepo}, code: exitFailed, want: "resets at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeGitHub(t, tt.private)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			args := append([]string{"--trusted-root", pgRoot, "--digest-alg", "sha512"}, tt.args...)
			if !strings.Contains(strings.Join(tt.args, " "), "--digest ") {
				args = append(args, npmTgz)
			}
			vars := map[string]string{"GITHUB_API_URL": s.URL, "GH_TOKEN": tt.token}
			code, stdout, stderr := runVerifyIn(t, vars, args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout:%s\nstderr:%s", code, tt.code, tt.want, stdout, stderr)
			}
			if tt.requests != 0 && s.APIRequests() != tt.requests {
				t.Errorf("%d API requests, want %d", s.APIRequests(), tt.requests)
			}
			if tt.token != "" && strings.Contains(stdout+stderr, tt.token) {
				t.Error("the token was printed")
			}
			for _, r := range s.Requests() {
				if strings.HasPrefix(r.Path, "/blobs/") && r.Authorization {
					t.Errorf("the token went to the bundle URL %s", r.Path)
				}
			}
		})
	}
}

// TestVerify_GitHubReleaseAttestationIsNotProvenance: an attestation GitHub
// marks as its own (initiator github) is never taken as the workflow's
// build provenance, even if it is a valid provenance bundle.
func TestVerify_GitHubReleaseAttestationIsNotProvenance(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo(npmRepo, true, false)
	s.Add(npmRepo, readFixture(t, npmBundle), "github")
	code, stdout, stderr := runVerifyIn(t, map[string]string{"GITHUB_API_URL": s.URL},
		"--trusted-root", pgRoot, "--digest-alg", "sha512", "--repo", npmRepo, npmTgz)
	if code != exitFailed || !strings.Contains(stderr, "skipped: GitHub's release attestation") {
		t.Fatalf("exit %d\nstdout:%s\nstderr:%s", code, stdout, stderr)
	}
}

// TestVerify_BulkFor500Digests: 500 artifacts of one owner cost five
// bulk-list requests; the two with real attestations verify, the rest say
// they have none.
func TestVerify_BulkFor500Digests(t *testing.T) {
	s := fakeGitHub(t, false)
	if _, err := s.Add(npmRepo, readFixture(t, js200Bundle), "user"); err != nil {
		t.Fatal(err)
	}
	args := []string{"--trusted-root", pgRoot, "--owner", "sigstore", "--format", "report", "--digest", npmDigest(t), "--digest", js200Digest}
	for i := 0; i < 498; i++ {
		args = append(args, "--digest", fmt.Sprintf("sha512:%0128x", i))
	}
	code, stdout, stderr := runVerifyIn(t, map[string]string{"GITHUB_API_URL": s.URL}, args...)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (498 digests have no attestation)\nstderr:%s", code, stderr)
	}
	var rep verifier.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	verified := map[string]bool{}
	for _, a := range rep.Artifacts {
		if a.Verified {
			verified[a.Digest] = true
		} else if a.Error != "no attestation found for this artifact" {
			t.Fatalf("%s: %q", a.Digest, a.Error)
		}
	}
	if len(rep.Artifacts) != 500 || len(verified) != 2 || !verified[npmDigest(t)] || !verified[js200Digest] {
		t.Fatalf("%d artifacts, verified %v", len(rep.Artifacts), verified)
	}
	if n := s.APIRequests(); n != 5 {
		t.Errorf("%d API requests for 500 digests, want 5", n)
	}
}

// TestDownload_ThenVerifyOffline: download writes <digest>.jsonl, one
// bundle a line, and verify --bundle takes it with GitHub gone.
func TestDownload_ThenVerifyOffline(t *testing.T) {
	s := fakeGitHub(t, false)
	s.Add(npmRepo, readFixture(t, npmV01), "user")
	dir := t.TempDir()
	vars := map[string]string{"GITHUB_API_URL": s.URL}
	code, stdout, stderr := runIn(t, vars, "download", npmTgz, "--repo", npmRepo, "-d", "sha512", "--out-dir", dir)
	if code != exitOK || !strings.Contains(stdout, "2 attestation(s) written") {
		t.Fatalf("download: exit %d\nstdout:%s\nstderr:%s", code, stdout, stderr)
	}
	path := filepath.Join(dir, npmDigest(t)+".jsonl")
	data := readFixture(t, path)
	if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) != 2 || !json.Valid([]byte(lines[0])) || !json.Valid([]byte(lines[1])) {
		t.Fatalf("%s: want two JSON lines, got %q", path, data)
	}
	s.Close()
	code, stdout, stderr = runVerifyIn(t, nil, "-v", "--trusted-root", pgRoot, "--repo", npmRepo, "--bundle", path, npmTgz)
	if code != exitOK || strings.Count(stdout, ".jsonl:") < 2 {
		t.Fatalf("offline verify: exit %d\nstdout:%s\nstderr:%s", code, stdout, stderr)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing there", []string{"--repo", npmRepo, "--digest", "sha512:" + strings.Repeat("cd", 64)}, exitFailed, "no attestation"},
		{"repo and owner", []string{"--repo", npmRepo, "--owner", "sigstore", npmTgz}, exitUsage, "give --repo or --owner"},
		{"no artifact", []string{"--repo", npmRepo}, exitUsage, "nothing to look up"},
		{"bad digest", []string{"--repo", npmRepo, "--digest", "md5:00"}, exitUsage, "not ALG:HEX"},
	}
	s2 := fakeGitHub(t, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runIn(t, map[string]string{"GITHUB_API_URL": s2.URL}, append([]string{"download", "--out-dir", t.TempDir()}, tt.args...)...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout:%s\nstderr:%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}

func TestPublishToGitHub(t *testing.T) {
	signed := readFixture(t, npmBundle)
	tests := []struct {
		name    string
		flag    string            // --github-token
		vars    map[string]string // on top of a workflow step's
		bundle  []byte
		code    int
		want    string // in stderr
		uploads int
	}{
		{name: "job token", vars: map[string]string{"GITHUB_TOKEN": ghWrite}, bundle: signed, code: exitOK, want: "uploaded to GitHub as attestation", uploads: 1},
		{name: "flag token", flag: ghWrite, bundle: signed, code: exitOK, want: "uploaded", uploads: 1},
		{name: "false turns it off", flag: "false", vars: map[string]string{"GITHUB_TOKEN": ghWrite}, bundle: signed, code: exitOK},
		{name: "no token", bundle: signed, code: exitOK},
		{name: "outside Actions the environment's token is not used", vars: map[string]string{"GITHUB_ACTIONS": "", "GITHUB_TOKEN": ghWrite}, bundle: signed, code: exitOK},
		{name: "token without attestations: write", flag: ghRead, bundle: signed, code: exitFailed, want: "permissions: attestations: write"},
		{name: "refused bundle", flag: ghWrite, bundle: []byte(`{"_type":"https://in-toto.io/Statement/v1"}`), code: exitFailed, want: "bundle was refused"},
		{name: "GitHub down", flag: ghWrite, vars: map[string]string{"FAULT": "503"}, bundle: signed, code: exitFailed, want: "answered 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeGitHub(t, false)
			if tt.vars["FAULT"] == "503" {
				s.Fail(githubtest.Fault{Status: 503})
			}
			dir := t.TempDir()
			bundlePath := filepath.Join(dir, "app.sigstore.json")
			os.WriteFile(bundlePath, tt.bundle, 0o644)
			vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": npmRepo, "GITHUB_API_URL": s.URL,
				"GITHUB_SERVER_URL": "https://github.com", "GITHUB_OUTPUT": filepath.Join(dir, "output")}
			for k, v := range tt.vars {
				vars[k] = v
			}
			var stdout, stderr bytes.Buffer
			e := env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
			code := reported(e, publisher(e, tt.flag, false).GitHubAPI().Publish(context.Background(), homes.Signed{Path: bundlePath, JSON: tt.bundle}))
			log := stdout.String() + stderr.String()
			if code != tt.code || !strings.Contains(log, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s", code, tt.code, tt.want, log)
			}
			uploads := 0
			for _, r := range s.Requests() {
				if r.Method == "POST" && strings.HasSuffix(r.Path, "/attestations") {
					uploads++
				}
			}
			if tt.code == exitOK && uploads != tt.uploads {
				t.Errorf("%d uploads, want %d", uploads, tt.uploads)
			}
			for _, tok := range []string{ghWrite, ghRead} {
				if strings.Contains(strings.ReplaceAll(log, "::add-mask::"+tok, ""), tok) {
					t.Error("the token was printed")
				}
			}
			outputs, _ := os.ReadFile(vars["GITHUB_OUTPUT"])
			if tt.code != exitOK {
				if !strings.Contains(log, bundlePath) || !strings.Contains(log, "re-run") {
					t.Errorf("a failed upload must say where the bundle is and what to re-run:\n%s", log)
				}
				if _, err := os.Stat(bundlePath); err != nil {
					t.Errorf("the bundle is gone: %v", err)
				}
				return
			}
			if tt.uploads == 1 {
				if !strings.Contains(string(outputs), "attestation-id<<") || !strings.Contains(string(outputs), "https://github.com/"+npmRepo+"/attestations/") {
					t.Errorf("outputs:\n%s", outputs)
				}
				// What was uploaded is found by digest and verifies.
				code, out, errOut := runVerifyIn(t, map[string]string{"GITHUB_API_URL": s.URL}, "--trusted-root", pgRoot, "-d", "sha512", "--repo", npmRepo, npmTgz)
				if code != exitOK || s.APIRequests() < 2 {
					t.Errorf("verify after upload: exit %d\n%s\n%s", code, out, errOut)
				}
			}
		})
	}
}

// TestGitHubToken_GitHubComTokenNotSentToEnterpriseServer: on a GitHub
// Enterprise Server --hostname, GH_TOKEN and GITHUB_TOKEN (github.com's)
// are never sent; GH_ENTERPRISE_TOKEN, then GITHUB_ENTERPRISE_TOKEN, are,
// as gh reads them. A <tenant>.ghe.com tenant takes GH_TOKEN.
func TestGitHubToken_GitHubComTokenNotSentToEnterpriseServer(t *testing.T) {
	tests := []struct {
		name   string
		host   string
		vars   map[string]string
		code   int
		want   string
		authed bool
	}{
		{name: "GHES, only GH_TOKEN", host: "ghes.example", vars: map[string]string{"GH_TOKEN": ghRead}, code: exitFailed, want: "private? give a token"},
		{name: "GHES, only GITHUB_TOKEN", host: "ghes.example", vars: map[string]string{"GITHUB_TOKEN": ghRead}, code: exitFailed, want: "private? give a token"},
		{name: "GHES, GH_ENTERPRISE_TOKEN", host: "ghes.example", vars: map[string]string{"GH_TOKEN": "ghp_github_com_token", "GH_ENTERPRISE_TOKEN": ghRead}, code: exitOK, authed: true},
		{name: "GHES, GITHUB_ENTERPRISE_TOKEN", host: "ghes.example", vars: map[string]string{"GITHUB_ENTERPRISE_TOKEN": ghRead}, code: exitOK, authed: true},
		{name: "GHES, GH_ENTERPRISE_TOKEN first", host: "ghes.example", vars: map[string]string{"GH_ENTERPRISE_TOKEN": ghRead, "GITHUB_ENTERPRISE_TOKEN": "ghp_other"}, code: exitOK, authed: true},
		{name: "tenant, GH_TOKEN", host: "acme.ghe.com", vars: map[string]string{"GH_TOKEN": ghRead}, code: exitOK, authed: true},
		{name: "tenant, only GH_ENTERPRISE_TOKEN", host: "acme.ghe.com", vars: map[string]string{"GH_ENTERPRISE_TOKEN": ghRead}, code: exitFailed, want: "private? give a token"},
		{name: "github.com, GH_TOKEN", host: "github.com", vars: map[string]string{"GH_TOKEN": ghRead}, code: exitOK, authed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeGitHub(t, true)
			// The runner's own server: GITHUB_API_URL serves --hostname.
			vars := map[string]string{"GITHUB_API_URL": s.URL, "GITHUB_SERVER_URL": "https://" + tt.host}
			for k, v := range tt.vars {
				vars[k] = v
			}
			code, stdout, stderr := runIn(t, vars, "download", "--out-dir", t.TempDir(), "--hostname", tt.host, "--repo", npmRepo, "-d", "sha512", npmTgz)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout:%s\nstderr:%s", code, tt.code, tt.want, stdout, stderr)
			}
			for _, r := range s.Requests() {
				if r.Authorization != tt.authed && !strings.HasPrefix(r.Path, "/blobs/") {
					t.Errorf("%s %s: Authorization sent: %v, want %v", r.Method, r.Path, r.Authorization, tt.authed)
				}
			}
		})
	}
}

// TestVerify_PolicyRequireFetchesEveryPredicateType: a policy whose
// require: lists provenance, an SBOM and a test result is met by what
// GitHub holds only if verify asks the API for each of those types, not
// only for the first one.
func TestVerify_PolicyRequireFetchesEveryPredicateType(t *testing.T) {
	const dir = "testdata/policy"
	tests := []struct {
		name    string
		bundles []string
		code    int
		want    string
	}{
		{"all three on GitHub", []string{"provenance", "sbom", "test-passed"}, exitOK, "VERIFIED at SLSA Build L3"},
		{"the SBOM missing", []string{"provenance", "test-passed"}, exitFailed, "policy rule require[1] (https://cyclonedx.org/bom): no verified attestation"},
		{"stored in another order", []string{"test-passed", "sbom", "provenance"}, exitOK, "VERIFIED at SLSA Build L3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := githubtest.New(t)
			s.AddRepo("provenant/demo", true, false)
			for _, b := range tt.bundles {
				if _, err := s.Add("provenant/demo", readFixture(t, dir+"/"+b+".sigstore.json"), "user"); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := runVerifyIn(t, map[string]string{"GITHUB_API_URL": s.URL},
				"--trusted-root", dir+"/trusted_root.json", "--policy", dir+"/demo.yaml", dir+"/demo-linux-amd64")
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout:%s\nstderr:%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}

// TestGitHubToken_NotSentOnCrossHostRedirect_Commands: every command that
// speaks to GitHub's API with a token, given an API that redirects each
// request to another host, never hands that host the token.
func TestGitHubToken_NotSentOnCrossHostRedirect_Commands(t *testing.T) {
	const token = "ghp_crosshostsecret"
	tests := []struct {
		name string
		run  func(t *testing.T, api string)
	}{
		{"verify by digest", func(t *testing.T, api string) {
			runVerifyIn(t, map[string]string{"GITHUB_API_URL": api, "GH_TOKEN": token}, "--trusted-root", pgRoot, "-d", "sha512", "--repo", npmRepo, npmTgz)
		}},
		{"verify by digest, two artifacts (bulk)", func(t *testing.T, api string) {
			runVerifyIn(t, map[string]string{"GITHUB_API_URL": api, "GH_TOKEN": token}, "--trusted-root", pgRoot, "--owner", "sigstore",
				"--digest", "sha256:"+strings.Repeat("a", 64), "--digest", "sha256:"+strings.Repeat("b", 64))
		}},
		{"download", func(t *testing.T, api string) {
			runIn(t, map[string]string{"GITHUB_API_URL": api, "GITHUB_TOKEN": token}, "download", "--out-dir", t.TempDir(), "--repo", npmRepo, "-d", "sha512", npmTgz)
		}},
		{"GET /meta of a tenant", func(t *testing.T, api string) {
			runVerifyIn(t, map[string]string{"GITHUB_API_URL": api, "GITHUB_SERVER_URL": "https://acme.ghe.com", "GH_TOKEN": token},
				"--hostname", "acme.ghe.com", "--offline", "--repo", "acme/app", npmTgz)
		}},
		{"verify --release", func(t *testing.T, api string) {
			runVerifyIn(t, map[string]string{"GITHUB_API_URL": api, "GH_TOKEN": token}, "--trusted-root", pgRoot, "--repo", npmRepo, "--release", "v1")
		}},
		{"attest's upload", func(t *testing.T, api string) {
			vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": npmRepo, "GITHUB_API_URL": api, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_TOKEN": token}
			e := env{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return vars[k] }}
			reported(e, publisher(e, "", false).GitHubAPI().Publish(context.Background(), homes.Signed{Path: "b.json", JSON: readFixture(t, npmBundle)}))
		}},
		{"attest's upload-to-release", func(t *testing.T, api string) {
			vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": npmRepo, "GITHUB_API_URL": api, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_TOKEN": token}
			e := env{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return vars[k] }}
			reported(e, publisher(e, "", false).Release("v1", []provenance.Subject{{Name: "a.bin", Digest: map[string]string{"sha256": strings.Repeat("a", 64)}, Source: "a.bin"}}).Publish(context.Background(), homes.Signed{Path: npmBundle}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var hits int
			var leaked []string
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits++
				if a := r.Header.Get("Authorization"); a != "" {
					leaked = append(leaked, r.Method+" "+r.URL.Path+": "+a)
				}
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, "{}")
			}))
			t.Cleanup(other.Close)
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
			}))
			t.Cleanup(api.Close)
			tt.run(t, api.URL+"/")
			mu.Lock()
			defer mu.Unlock()
			if hits == 0 {
				t.Fatal("the redirect was never followed: the test tests nothing")
			}
			if len(leaked) > 0 {
				t.Errorf("the other host was sent Authorization: %s", strings.Join(leaked, "; "))
			}
		})
	}
}
