package kubee2e

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/builder/oidctest"
)

// stack is the local Sigstore stack the test runs in
// (scripts/sigstore-stack run exports what it reads).
type stack struct {
	dir, issuer, tokenURL, tokenSecret, rekor string
	// inst is a folder with the stack's trusted_root.json and
	// signing_config.json, as INPUT_SIGSTORE takes it.
	inst string
}

// otherClaims are the token claims of a workflow of another repository.
const otherClaims = `{"repository":"octo-org/other","repository_id":"9999","sub":"repo:octo-org/other:ref:refs/heads/main",` +
	`"job_workflow_ref":"octo-org/other/.github/workflows/release.yml@refs/heads/main","workflow_ref":"octo-org/other/.github/workflows/release.yml@refs/heads/main"}`

// The source repositories of the images.
const (
	ourRepo   = oidctest.DefaultRepository
	otherRepo = "octo-org/other"
)

// needStack is the stack, or a skip (a failure when strict).
func needStack(t testing.TB) *stack {
	t.Helper()
	s := &stack{dir: os.Getenv("SIGSTORE_DIR"), issuer: os.Getenv("OIDC_ISSUER"),
		tokenURL: os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), tokenSecret: os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
		rekor: os.Getenv("SIGSTORE_STACK_REKOR")}
	if s.dir == "" || s.issuer == "" || s.tokenURL == "" {
		need(t, "no local Sigstore stack: run under scripts/sigstore-stack run --rekor v1|v2")
	}
	s.inst = t.TempDir()
	for _, f := range []string{"signing_config.json", "trusted_root.json"} {
		data, err := os.ReadFile(filepath.Join(s.dir, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(s.inst, f), data, 0o644)
	}
	return s
}

// trustedRoot is the stack's trusted_root.json.
func (s *stack) trustedRoot() string { return filepath.Join(s.inst, "trusted_root.json") }

// stepEnv is the environment of a GitHub Actions step of the default job
// (claims: of another workflow) with an id-token permission on the stack.
func (s *stack) stepEnv(t testing.TB, claims string) (env map[string]string, temp string) {
	root := t.TempDir()
	work, temp := filepath.Join(root, "work"), filepath.Join(root, "runner-temp")
	os.MkdirAll(work, 0o755)
	os.MkdirAll(temp, 0o755)
	env = map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": root,
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_REPOSITORY": oidctest.DefaultRepository, "GITHUB_REPOSITORY_ID": oidctest.DefaultRepositoryID,
		"GITHUB_REPOSITORY_OWNER": oidctest.DefaultRepositoryOwner, "GITHUB_REPOSITORY_OWNER_ID": oidctest.DefaultRepositoryOwnerID,
		"GITHUB_REF": oidctest.DefaultRef, "GITHUB_SHA": oidctest.DefaultSHA, "GITHUB_EVENT_NAME": "push",
		"GITHUB_WORKFLOW_REF": oidctest.DefaultWorkflowRef, "GITHUB_RUN_ID": oidctest.DefaultRunID,
		"GITHUB_RUN_ATTEMPT": oidctest.DefaultRunAttempt, "RUNNER_ENVIRONMENT": "github-hosted",
		"RUNNER_TEMP": temp, "GITHUB_WORKSPACE": work,
		"GITHUB_OUTPUT": filepath.Join(root, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(root, "summary"),
		"ACTIONS_ID_TOKEN_REQUEST_URL": s.tokenURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": s.tokenSecret,
		"INPUT_OIDC-ISSUER": s.issuer, "INPUT_SIGSTORE": s.inst,
	}
	if claims != "" {
		env["ACTIONS_ID_TOKEN_REQUEST_URL"] = s.tokenURL + "&claims=" + url.QueryEscape(claims)
		env["GITHUB_REPOSITORY"] = otherRepo
	}
	return env, temp
}

// run runs provenant with env and returns its stdout, stderr and exit code.
func run(t testing.TB, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = env["GITHUB_WORKSPACE"]
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// attest signs one provenance of the images on the stack (claims: as
// another repository's workflow) and pushes it beside each of them in
// their registry; it returns the bundle.
func (s *stack) attest(t testing.TB, claims string, imgs ...name.Digest) []byte {
	t.Helper()
	env, _ := s.stepEnv(t, claims)
	var lines, hosts []string
	for _, img := range imgs {
		lines = append(lines, strings.TrimPrefix(img.DigestStr(), "sha256:")+"  "+img.Context().Name())
		hosts = append(hosts, img.Context().RegistryStr())
	}
	os.WriteFile(filepath.Join(env["GITHUB_WORKSPACE"], "images.sha256"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	env["INPUT_SUBJECT-CHECKSUMS"] = "images.sha256"
	env["INPUT_PUSH-TO-REGISTRY"] = "true"
	env["INPUT_ALLOWED-REGISTRIES"] = strings.Join(hosts, "\n")
	stdout, stderr, code := run(t, env, "attest")
	if code != 0 || strings.Count(stderr, "pushed the attestation of") != len(imgs) {
		t.Fatalf("attest of %d images: exit %d\n%s\n%s", len(imgs), code, stdout, stderr)
	}
	raw, err := os.ReadFile(outputs(t, env)["bundle-path"])
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// pushVSA is the gate of CI: verify the image as our repository's and push
// a signed VSA of the verdict beside it.
func (s *stack) pushVSA(t testing.TB, img name.Digest) {
	t.Helper()
	env, temp := s.stepEnv(t, "")
	stdout, stderr, code := run(t, env, "verify", "--trusted-root", s.trustedRoot(), "--cert-oidc-issuer", s.issuer,
		"--repo", ourRepo, "--vsa-out", filepath.Join(temp, "vsa"), "--push-vsa", "oci://"+img.String())
	if code != 0 || !strings.Contains(stderr, "pushed the VSA of "+img.String()) {
		t.Fatalf("verify --push-vsa %s: exit %d\n%s\n%s", img, code, stdout, stderr)
	}
}

// outputs are the step's outputs (GITHUB_OUTPUT, as the runner reads it).
func outputs(t testing.TB, env map[string]string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(env["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatalf("the step's outputs: %v", err)
	}
	out, err := builder.ParseFileCommands(string(data))
	if err != nil {
		t.Fatalf("GITHUB_OUTPUT: %v", err)
	}
	return out
}

// checkBundleKind fails unless the bundle is the kind the stack makes: a
// Rekor v1 entry with an integrated time, or a Rekor v2 entry (none) with
// an RFC 3161 timestamp from the TSA.
func (s *stack) checkBundleKind(t testing.TB, raw []byte) {
	t.Helper()
	v1 := strings.Contains(string(raw), `"integratedTime"`)
	tsa := strings.Contains(string(raw), `"rfc3161Timestamps"`)
	switch s.rekor {
	case "v1":
		if !v1 {
			t.Fatalf("a Rekor v1 stack made a bundle without an integrated time:\n%.400s", raw)
		}
	case "v2":
		if v1 || !tsa {
			t.Fatalf("a Rekor v2 stack made a bundle with an integrated time or without a timestamp:\n%.400s", raw)
		}
	}
	t.Logf("bundle of a Rekor %s stack (integrated time %v, RFC 3161 timestamp %v)", s.rekor, v1, tsa)
}
