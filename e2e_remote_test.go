package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/builder/oidctest"
	"github.com/provenant/provenant/remote/githubtest"
)

// TestE2EAttestUploadVerifyByDigest: attest signs against the local stack
// and uploads to the GitHub stand-in with the job token; verify then finds
// the attestation by digest with no --bundle, and download + offline
// verify take the same one. A failed upload keeps the bundle.
func TestE2EAttestUploadVerifyByDigest(t *testing.T) {
	s := needStack(t)
	inst := s.instanceDir(t, "signing_config.json", nil)
	gh := githubtest.New(t)
	gh.AddRepo(oidctest.DefaultRepository, true, false)
	gh.AddToken("ghs_job", true)

	st := s.signedStep(t, inst)
	st.env["GITHUB_API_URL"] = gh.URL
	st.env["INPUT_GITHUB-TOKEN"] = "ghs_job"
	stdout, stderr, code := st.run("attest")
	if code != 0 {
		t.Fatalf("attest: exit %d\n%s\n%s", code, stdout, stderr)
	}
	out := st.outputs()
	if out["attestation-id"] == "" || !strings.HasPrefix(out["attestation-url"], "https://github.com/"+oidctest.DefaultRepository+"/attestations/") {
		t.Fatalf("outputs %v", out)
	}
	trPath := filepath.Join(inst, "trusted_root.json")
	artifact := filepath.Join(st.workspace, "dist/octo-1.0.tgz")
	verifyArgs := []string{"verify", artifact, "--repo", oidctest.DefaultRepository, "--trusted-root", trPath, "--cert-oidc-issuer", s.issuer}
	delete(st.env, "INPUT_GITHUB-TOKEN")
	if stdout, stderr, code := st.run(verifyArgs...); code != 0 || !strings.Contains(stdout, "VERIFIED") {
		t.Fatalf("verify by digest: exit %d\n%s\n%s", code, stdout, stderr)
	}
	dir := t.TempDir()
	if stdout, stderr, code := st.run("download", artifact, "--repo", oidctest.DefaultRepository, "--out-dir", dir); code != 0 {
		t.Fatalf("download: exit %d\n%s\n%s", code, stdout, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "sha256:*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("download wrote %v", files)
	}
	gh.Close()
	if stdout, stderr, code := st.run(append(verifyArgs, "--bundle", files[0])...); code != 0 {
		t.Fatalf("offline verify of the download: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// GitHub refusing the upload: exit 1, the bundle stays and is named.
	st2 := s.signedStep(t, inst)
	gh2 := githubtest.New(t)
	gh2.AddRepo(oidctest.DefaultRepository, true, false)
	gh2.AddToken("ghs_readonly", false)
	st2.env["GITHUB_API_URL"] = gh2.URL
	st2.env["INPUT_GITHUB-TOKEN"] = "ghs_readonly"
	stdout, stderr, code = st2.run("attest")
	bundlePath := st2.outputs()["bundle-path"]
	if code != 1 || bundlePath == "" || !strings.Contains(stdout+stderr, "attestations: write") || !strings.Contains(stdout+stderr, bundlePath) {
		t.Fatalf("refused upload: exit %d, bundle-path %q\n%s\n%s", code, bundlePath, stdout, stderr)
	}
	if _, err := os.Stat(bundlePath); err != nil {
		t.Fatalf("the signed bundle is gone after a failed upload: %v", err)
	}
}
