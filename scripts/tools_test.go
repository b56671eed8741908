package scripts_test

import (
	"os"
	"os/exec"
	"testing"
)

// needTool skips t when the command name is not on PATH, except in CI
// (CI=true, as GitHub Actions and .ci/run set it), where it fails: there
// scripts/test installs every tool these tests need (jq, curl, bash), so a
// missing one means the test would pass without running, which is what
// issue 26 is about. A developer's machine without the tool still runs the
// rest of the suite.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no %s on PATH under CI=true: scripts/test installs it; this test must run in CI", name)
		}
		t.Skipf("no %s (CI=true makes this fatal)", name)
	}
}
