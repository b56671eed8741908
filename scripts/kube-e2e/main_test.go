package kubee2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is provenant, built from this checkout for the run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "provenant-kube-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "provenant")
	// Built in provenant's own module (../..), as its release is.
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building provenant: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// strict reports whether a missing prerequisite fails the test rather
// than skipping it: under scripts/test (PROVENANT_E2E=1) and in CI.
func strict() bool { return os.Getenv("PROVENANT_E2E") == "1" || os.Getenv("CI") == "true" }

// need skips the test for a missing prerequisite, or fails it when strict.
func need(t testing.TB, format string, a ...any) {
	t.Helper()
	if strict() {
		t.Fatalf(format, a...)
	}
	t.Skipf(format, a...)
}

// freePort is a loopback TCP port nothing listened on a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
