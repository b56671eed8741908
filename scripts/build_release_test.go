package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBuildReleaseStampsSourceDigest: scripts/build-release stamps each
// binary with -X main.sourceDigest=DIGEST, the very digest it writes to
// OUTDIR/source-digest (dist/source-digest of a release commit), next to
// -X main.version and -buildvcs=false, so `provenant version` of a release
// binary names its source exactly. A fake go records the build; the real
// build's reproducibility is scripts/check-reproducible's.
func TestBuildReleaseStampsSourceDigest(t *testing.T) {
	needBash(t) // the fake go is a shell script
	needTool(t, "git")
	needTool(t, "sha256sum")
	tmp := t.TempDir()
	goDir := filepath.Join(tmp, "gobin")
	writeFile(t, filepath.Join(goDir, "go"), fakeGo, 0o755)
	out := filepath.Join(tmp, "dist")
	cmd := exec.Command("bash", filepath.Join("..", "scripts", "build-release"), "v9.8.7", out, "linux/amd64")
	cmd.Env = append(os.Environ(),
		"PATH="+goDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GO_CALLS="+filepath.Join(tmp, "go-calls"),
		"FAKE_BINARY=binary")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-release: %v\n%s", err, b)
	}
	digest, err := os.ReadFile(filepath.Join(out, "source-digest"))
	if err != nil {
		t.Fatal(err)
	}
	d := strings.TrimSpace(string(digest))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(d) {
		t.Fatalf("source-digest = %q", d)
	}
	calls, _ := os.ReadFile(filepath.Join(tmp, "go-calls"))
	for _, want := range []string{"build ", "-trimpath", "-buildvcs=false", "-X main.version=v9.8.7", "-X main.sourceDigest=" + d} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("the build does not have %q: %s", want, calls)
		}
	}
}
