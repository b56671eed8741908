package main

// End-to-end test of provenant's container image (docs/admission.md, "The
// image"): ko v0.19.1 (scripts/ko; PROVENANT_KO_BIN) builds this checkout
// with .ko.yaml — no Dockerfile — and pushes the image to distribution's
// registry on loopback; provenant attests that image on the local Sigstore
// stack, pushes the attestation next to it, and verifies it by digest.
//
// No internet: the base image is a tiny linux/amd64 image the test pushes
// to the same registry (KO_DEFAULTBASEIMAGE overrides .ko.yaml's distroless
// base), and the Go build reads only the module cache (GOPROXY=off).

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcrremote "github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/provenant/provenant/builder/oidctest"
	"github.com/provenant/provenant/remote/registrytest"
)

// koPath is the ko binary the test runs. Without PROVENANT_KO_BIN the test
// is skipped, except under CI=true (scripts/test sets it from scripts/ko
// path), where a skip would leave the image untested and the run green.
func koPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROVENANT_KO_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("PROVENANT_KO_BIN=%s: %v", p, err)
		}
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but PROVENANT_KO_BIN is not set (scripts/test sets it from scripts/ko path)")
	}
	t.Skip("no ko: set PROVENANT_KO_BIN=$(scripts/ko path)")
	return ""
}

// pushBaseImage pushes an empty linux/amd64 image (no layers, a platform in
// its config) to host/repo:base, for ko to build on without the internet.
func pushBaseImage(t *testing.T, host, repo string) name.Digest {
	t.Helper()
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		OS: "linux", Architecture: "amd64",
		RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{User: "65532"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(host + "/" + repo + ":base")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ggcrremote.Write(ref, img, ggcrremote.WithContext(ctx)); err != nil {
		t.Fatalf("pushing the base image to %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Context().Digest(d.String())
}

// koBuild runs ko build of this checkout (.ko.yaml) for linux/amd64 on
// base, pushing to repo, and returns the image's digest reference, the one
// line ko prints on stdout.
func koBuild(t *testing.T, ko, repo string, base name.Digest) name.Digest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ko, "build", "--bare", "--platform=linux/amd64", "--push", ".")
	cmd.Env = append(os.Environ(),
		"KO_DOCKER_REPO="+repo,
		"KO_DEFAULTBASEIMAGE="+base.String(),
		"KO_CONFIG_PATH=.ko.yaml",
		"DOCKER_CONFIG="+t.TempDir(), // anonymous: no credentials of the machine
		"GOPROXY=off",                // the module cache only: the stack has no network
		"GOFLAGS=-mod=readonly",
		"PROVENANT_VERSION=v0.0.0-ko-test",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("ko build: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("ko build in %s:\n%s", time.Since(t0).Round(time.Second), firstLines(stderr.String(), 40))
	out := strings.TrimSpace(stdout.String())
	d, err := name.NewDigest(out)
	if err != nil {
		t.Fatalf("ko build printed %q, not an image digest reference: %v\n%s", out, err, stderr.String())
	}
	if d.Context().Name() != repo {
		t.Fatalf("ko pushed %s, not to KO_DOCKER_REPO=%s", d, repo)
	}
	return d
}

// imageFile is the content of the file at path (absolute, as in the
// image's file system) in img's layers, the topmost copy.
func imageFile(t *testing.T, img v1.Image, path string) []byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	want := strings.TrimPrefix(path, "/")
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s is not in the image", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "/") == want && h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

func TestE2EKoImage(t *testing.T) {
	s := needStack(t)
	ko := koPath(t)
	inst := s.instanceDir(t, "signing_config.json", nil)
	trPath := filepath.Join(inst, "trusted_root.json")
	reg := registrytest.Start(t, registrytest.Options{})

	base := pushBaseImage(t, reg.Host, "distroless/static")
	img := koBuild(t, ko, reg.Host+"/provenant", base)
	t.Logf("ko pushed %s", img)

	// The image runs provenant: ko's entrypoint, on the base we gave it, for
	// the platform asked, and the file it names is this provenant.
	ri, err := ggcrremote.Image(img)
	if err != nil {
		t.Fatalf("reading the image ko pushed: %v", err)
	}
	cfg, err := ri.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/ko-app/provenant"}) || cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Fatalf("image config: entrypoint %q, platform %s/%s; want [/ko-app/provenant] on linux/amd64", cfg.Config.Entrypoint, cfg.OS, cfg.Architecture)
	}
	if cfg.Config.User != "65532" {
		t.Errorf("image user %q, want the base's 65532 (nonroot)", cfg.Config.User)
	}
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		bin := filepath.Join(t.TempDir(), "provenant")
		if err := os.WriteFile(bin, imageFile(t, ri, "/ko-app/provenant"), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "v0.0.0-ko-test") {
			t.Fatalf("the image's /ko-app/provenant version: %v\n%s\nwant the version .ko.yaml stamps from PROVENANT_VERSION", err, out)
		}
		t.Logf("/ko-app/provenant version: %s", firstLines(string(out), 2))
	} else {
		t.Logf("not running the image's linux/amd64 binary on %s/%s", runtime.GOOS, runtime.GOARCH)
	}

	// provenant attests its own image and pushes the attestation next to it.
	st := s.ociStep(t, inst, reg.Host)
	st.env["INPUT_SUBJECT-NAME"] = img.Context().Name()
	st.env["INPUT_SUBJECT-DIGEST"] = img.DigestStr()
	stdout, stderr, code := st.run("attest")
	if code != 0 || !strings.Contains(stderr, "pushed the attestation of "+img.String()) {
		t.Fatalf("attest: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// Verified by digest, with the trusted root, issuer and source repository
	// of the stack's job.
	stdout, stderr, code = st.run("verify", "--trusted-root", trPath, "--cert-oidc-issuer", s.issuer,
		"--repo", oidctest.DefaultRepository, "oci://"+img.String())
	if code != 0 || !strings.Contains(stdout, "("+img.DigestStr()+"): VERIFIED at SLSA Build L2") {
		t.Fatalf("verify oci://%s: exit %d\n%s\n%s", img, code, stdout, stderr)
	}
	t.Logf("provenant verify oci://%s:\n%s%s", img, stderr, stdout)

	// The base image alone was never attested: the same verify refuses it.
	stdout, stderr, code = st.run("verify", "--trusted-root", trPath, "--cert-oidc-issuer", s.issuer,
		"--repo", oidctest.DefaultRepository, "oci://"+base.String())
	if code == 0 || strings.Contains(stdout, "VERIFIED") {
		t.Fatalf("verify of the unattested base image: exit %d, want a failure\n%s\n%s", code, stdout, stderr)
	}
}
