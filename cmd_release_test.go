package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/homes"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/remote/githubtest"
	"github.com/provenant/provenant/verifier"
)

// demoRepo is the source repository of the attack fixtures' bundles.
const demoRepo = "provenant/demo"

// releaseGitHub is a stand-in holding demoRepo (public) with a release v1.
func releaseGitHub(t *testing.T) *githubtest.Server {
	t.Helper()
	s := githubtest.New(t)
	s.AddRepo(demoRepo, true, false)
	s.AddToken(ghWrite, true)
	s.AddToken(ghRead, false)
	if _, err := s.AddRelease(demoRepo, "v1"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUploadToRelease(t *testing.T) {
	signed := readFixture(t, attackDir+"/mixed-digests.sigstore.json")
	subjects := []provenance.Subject{
		{Name: "demo-linux-amd64", Source: "dist/demo-linux-amd64"},
		{Name: "demo-darwin-arm64", Source: "dist/demo-darwin-arm64"},
		{Name: "ghcr.io/provenant/demo", Source: "subject-name"}, // an image: no asset
	}
	both := []string{"demo-darwin-arm64.sigstore.json", "demo-linux-amd64.sigstore.json"}
	tests := []struct {
		name      string
		tag       string
		token     string
		existing  bool // demo-linux-amd64.sigstore.json is there already
		overwrite bool
		fault     int
		code      int
		want      string   // in the log
		assets    []string // the release's assets afterwards
		fresh     bool     // do they hold the new bundle
	}{
		{name: "new release", tag: "v1", token: ghWrite, code: exitOK, want: "uploaded 2 asset(s) to release v1", assets: both, fresh: true},
		{name: "existing asset refused", tag: "v1", token: ghWrite, existing: true, code: exitFailed,
			want: "asset demo-linux-amd64.sigstore.json already exists", assets: []string{"demo-linux-amd64.sigstore.json"}},
		{name: "replaced with overwrite", tag: "v1", token: ghWrite, existing: true, overwrite: true, code: exitOK, want: "uploaded 2", assets: both, fresh: true},
		{name: "GitHub failing", tag: "v1", token: ghWrite, fault: 503, code: exitFailed, want: "answered 503"},
		{name: "no such release", tag: "v2", token: ghWrite, code: exitFailed, want: "no release tagged v2"},
		{name: "read-only token", tag: "v1", token: ghRead, code: exitFailed, want: "contents: write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := releaseGitHub(t)
			if tt.existing {
				s.AddAsset(demoRepo, "v1", "demo-linux-amd64.sigstore.json", []byte("old"))
			}
			if tt.fault != 0 {
				s.Fail(githubtest.Fault{Path: "/releases/", Status: tt.fault})
			}
			dir := t.TempDir()
			bundlePath := filepath.Join(dir, "attestation.sigstore.json")
			os.WriteFile(bundlePath, signed, 0o644)
			vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": demoRepo, "GITHUB_API_URL": s.URL,
				"GITHUB_SERVER_URL": "https://github.com", "GITHUB_TOKEN": tt.token}
			var stdout, stderr bytes.Buffer
			e := env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
			code := reported(e, publisher(e, "", tt.overwrite).Release(tt.tag, subjects).Publish(context.Background(), homes.Signed{Path: bundlePath, JSON: signed}))
			log := stdout.String() + stderr.String()
			if code != tt.code || !strings.Contains(log, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s", code, tt.code, tt.want, log)
			}
			if strings.Contains(strings.ReplaceAll(log, "::add-mask::"+tt.token, ""), tt.token) {
				t.Error("the token was printed")
			}
			if code != exitOK {
				if !strings.Contains(log, bundlePath) || !strings.Contains(log, "re-run") || strings.Count(strings.TrimSpace(log), "\n") > 1 {
					t.Errorf("a failed upload must say in one line where the bundle is and what to re-run:\n%s", log)
				}
				if data, err := os.ReadFile(bundlePath); err != nil || !bytes.Equal(data, signed) {
					t.Errorf("the bundle is gone or changed: %v", err)
				}
			}
			got := s.Assets(demoRepo, tt.tag)
			if tt.assets != nil && len(got) != len(tt.assets) {
				t.Fatalf("assets %v, want %v", got, tt.assets)
			}
			for _, n := range tt.assets {
				if fresh := bytes.Equal(got[n], signed); fresh != tt.fresh {
					t.Errorf("%s holds the new bundle: %v, want %v", n, fresh, tt.fresh)
				}
			}
		})
	}
}

// TestUploadToRelease_RefusedBeforeSigning: what upload-to-release needs
// is checked before any Sigstore service is called.
func TestUploadToRelease_RefusedBeforeSigning(t *testing.T) {
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"no token", []string{"--subject-path", "a.bin"}, nil, "needs a token"},
		{"github-token false", []string{"--subject-path", "a.bin", "--github-token", "false"}, map[string]string{"GITHUB_TOKEN": ghWrite}, "needs a token"},
		{"no file subject", []string{"--subject-name", "ghcr.io/o/r", "--subject-digest", "sha256:" + strings.Repeat("a", 64)}, map[string]string{"GITHUB_TOKEN": ghWrite}, "no subject names a file"},
		{"unsigned", []string{"--subject-path", "a.bin", "--no-sign"}, map[string]string{"GITHUB_TOKEN": ghWrite}, "unsigned statement is not uploaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStep(t)
			s.withTokenService()
			s.file("a.bin", "a")
			for k, v := range tt.vars {
				s.env[k] = v
			}
			s.runRefusedBeforeSigning(tt.want, append([]string{"--upload-to-release", "v1"}, tt.args...)...)
		})
	}
}

// release puts assets into release v1 of the stand-in.
func release(t *testing.T, s *githubtest.Server, assets map[string][]byte) {
	t.Helper()
	for name, data := range assets {
		if _, err := s.AddAsset(demoRepo, "v1", name, data); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyRelease(t *testing.T) {
	artifact := readFixture(t, attackArtifact)
	bundle := readFixture(t, attackDir+"/mixed-digests.sigstore.json")
	multiple := readFixture(t, attackDir+"/inputs-same-repo.intoto.jsonl")
	tampered := append(append([]byte(nil), artifact...), '!')
	twoTypes := jsonLines(t, attackDir+"/provenance-own.sigstore.json", attackDir+"/sbom-same-run.sigstore.json")
	twoTypesPolicy := writePolicy(t, "require:\n  - predicate-type: https://slsa.dev/provenance/v1\n  - predicate-type: https://cyclonedx.org/bom\n")
	base := []string{"--trusted-root", attackRoot, "--repo", demoRepo, "--release", "v1", "--format", "report"}
	tests := []struct {
		name     string
		assets   map[string][]byte
		copies   int // demo-N and demo-N.sigstore.json pairs on top
		args     []string
		token    string
		code     int
		verified int
		total    int
		want     string // in the report or stderr
	}{
		{name: "all pass", assets: map[string][]byte{"demo-linux-amd64": artifact, "demo-linux-amd64.sigstore.json": bundle},
			code: exitOK, verified: 1, total: 1, want: `"artifact": "release v1/demo-linux-amd64"`},
		{name: "with a token", token: ghRead, assets: map[string][]byte{"demo-linux-amd64": artifact, "demo-linux-amd64.sigstore.json": bundle},
			code: exitOK, verified: 1, total: 1},
		{name: "tampered asset", assets: map[string][]byte{"demo-linux-amd64": tampered, "demo-linux-amd64.sigstore.json": bundle},
			code: exitFailed, verified: 0, total: 1, want: "subject"},
		{name: "an asset without a bundle", assets: map[string][]byte{"demo-linux-amd64": artifact, "demo-linux-amd64.sigstore.json": bundle, "NOTES.txt": []byte("notes")},
			code: exitFailed, verified: 1, total: 2, want: "no attestation found in release v1"},
		{name: "excluded on purpose", assets: map[string][]byte{"demo-linux-amd64": artifact, "demo-linux-amd64.sigstore.json": bundle, "NOTES.txt": []byte("notes")},
			args: []string{"--exclude", "*.txt"}, code: exitOK, verified: 1, total: 1},
		{name: "slsa-github-generator's multiple.intoto.jsonl", assets: map[string][]byte{"demo-linux-amd64": artifact, "multiple.intoto.jsonl": multiple},
			args: []string{"--predicate-type", provV02}, code: exitOK, verified: 1, total: 1},
		{name: "a bundle for no asset", assets: map[string][]byte{"demo-linux-amd64": artifact, "demo-linux-amd64.sigstore.json": bundle, "gone.sigstore.json": bundle},
			code: exitFailed, verified: 1, total: 2, want: "named like an attestation of gone"},
		{name: "a hostile asset name", assets: map[string][]byte{"demo-linux-amd64": artifact, "demo-linux-amd64.sigstore.json": bundle, "..": artifact, "a\nb": artifact},
			code: exitFailed, verified: 1, total: 3, want: "not a plain file name"},
		{name: "pagination past 100 assets", token: ghRead, copies: 70, code: exitOK, verified: 70, total: 70},
		{name: "more assets than the unauthenticated rate limit", copies: 70, code: exitFailed, want: "140 asset(s) to download, one API request each, and the rate limit has 57 left: set GH_TOKEN"},
		// Issue 20: the other types of a policy's require: were verified
		// again from the downloaded folder after it was deleted: always failed.
		{name: "a policy requiring two predicate types", assets: map[string][]byte{"demo-linux-amd64": artifact, "demo-linux-amd64.intoto.jsonl": twoTypes},
			args: []string{"--policy", twoTypesPolicy}, code: exitOK, verified: 1, total: 1},
		{name: "a policy requiring two predicate types, one missing", assets: map[string][]byte{"demo-linux-amd64": artifact, "demo-linux-amd64.sigstore.json": readFixture(t, attackDir+"/provenance-own.sigstore.json")},
			args: []string{"--policy", twoTypesPolicy}, code: exitFailed, verified: 0, total: 1, want: "require[1] (https://cyclonedx.org/bom): no verified attestation"},
		{name: "no such release", args: []string{"--release", "v9"}, code: exitFailed, want: "no release tagged v9"},
		{name: "an empty release", code: exitUsage, want: "has no asset to verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := releaseGitHub(t)
			release(t, s, tt.assets)
			for i := 0; i < tt.copies; i++ {
				release(t, s, map[string][]byte{fmt.Sprintf("demo-%03d", i): artifact, fmt.Sprintf("demo-%03d.sigstore.json", i): bundle})
			}
			code, stdout, stderr := runVerifyIn(t, map[string]string{"GITHUB_API_URL": s.URL, "GH_TOKEN": tt.token}, append(append([]string(nil), base...), tt.args...)...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout:%s\nstderr:%s", code, tt.code, tt.want, stdout, stderr)
			}
			for _, r := range s.Requests() {
				if strings.HasPrefix(r.Path, "/storage/") && r.Authorization {
					t.Errorf("the token went to the storage URL %s", r.Path)
				}
			}
			if tt.total == 0 {
				return
			}
			var rep verifier.Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			ok := 0
			for _, a := range rep.Artifacts {
				if a.Verified {
					ok++
				}
				if !strings.HasPrefix(a.Artifact, "release v1/") || strings.Contains(stdout, os.TempDir()+"/provenant-release-") {
					t.Errorf("artifact named %q, not after the release", a.Artifact)
				}
			}
			if ok != tt.verified || len(rep.Artifacts) != tt.total {
				t.Errorf("%d of %d verified, want %d of %d\n%s", ok, len(rep.Artifacts), tt.verified, tt.total, stdout)
			}
		})
	}
}

func TestVerifyRelease_BadUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--release", "v1"}, "needs --repo"},
		{[]string{"--release", "v1", "--repo", demoRepo, attackArtifact}, "give no ARTIFACT"},
		{[]string{"--release", "v1", "--repo", demoRepo, "--bundle-dir", "."}, "give no --bundle"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runVerifyIn(t, nil, append([]string{"--trusted-root", attackRoot}, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, want 2 with %q\n%s%s", tt.args, code, tt.want, stdout, stderr)
		}
	}
}

// jsonLines is a JSON Lines file of the bundle files given, one a line.
func jsonLines(t *testing.T, files ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, f := range files {
		if err := json.Compact(&out, readFixture(t, f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}
