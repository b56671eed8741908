package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionWithAndWithoutStamp: a binary built as scripts/build-release
// builds it (-buildvcs=false, -X main.version, -X main.sourceDigest) prints
// the source digest it was stamped with, its module and Go version, and no
// commit; the tests' binary (no stamp) prints no source line.
func TestVersionWithAndWithoutStamp(t *testing.T) {
	digest := strings.Repeat("5a", 32)
	bin := filepath.Join(t.TempDir(), "provenant-release")
	build := exec.Command("go", "build", "-buildvcs=false", "-ldflags", "-X main.version=v9.8.7 -X main.sourceDigest="+digest, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	if !strings.HasPrefix(got, "provenant v9.8.7\nsource:  sha256:"+digest+"\nmodule:  github.com/provenant/provenant ") ||
		!strings.Contains(got, "\ngo:      go") || strings.Contains(got, "commit:") {
		t.Errorf("stamped release build, version:\n%s", got)
	}
	if out, _ := exec.Command(bin, "--version").Output(); string(out) != "provenant v9.8.7 (source sha256:"+digest+")\n" {
		t.Errorf("stamped release build, --version: %q", out)
	}

	out, err = exec.Command(binary, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	got = string(out)
	if !strings.HasPrefix(got, "provenant ") || strings.Contains(got, "source:") ||
		!strings.Contains(got, "\nmodule:  github.com/provenant/provenant ") || !strings.Contains(got, "\ngo:      go") {
		t.Errorf("build without the stamp, version:\n%s", got)
	}
}
