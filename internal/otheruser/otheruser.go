// Package otheruser runs a test's case in a child process as another user,
// for the cases root cannot meet in its own process: root reads any file,
// so "permission denied" can be seen as root only through a process that is
// not root. CI runs the tests as root.
//
// The child is the test binary itself, run again with an environment
// variable naming the case: the package's TestMain calls Case first and, when
// it names a case, runs that case instead of the tests and exits.
package otheruser

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// caseEnv names the case a child process runs; it is set only in the
// environment of a child of Run.
const caseEnv = "PROVENANT_TEST_OTHER_USER_CASE"

// UID and GID are the user and group the child runs as: nobody and nogroup.
const UID, GID = 65534, 65534

// Case is the case this process is to run as a child of Run, or "" when the
// test binary runs its tests.
func Case() string { return os.Getenv(caseEnv) }

// Result is what a child did.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs the test binary again as UID/GID in dir, with the environment env
// (plus the case's variable) and the arguments args (the child's
// os.Args[1:]), and returns its exit code and output. The test binary is
// linked or copied into a folder the child can traverse; dir must be one
// too (Traversable) and the files the case reads must be readable by the
// child, unless not reading them is the point. Run fails the test where no
// other user can be taken (Needed is false there).
func Run(t testing.TB, name, dir string, env []string, args ...string) Result {
	t.Helper()
	if name == "" {
		t.Fatal("otheruser.Run: no case name")
	}
	exe := testBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, env...), caseEnv+"="+name)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := asOtherUser(cmd); err != nil {
		t.Fatal(err)
	}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("case %q as uid %d: no answer in 2 minutes\nstdout:\n%s\nstderr:\n%s", name, UID, &stdout, &stderr)
	case errors.As(err, &exit):
	case err != nil:
		t.Fatalf("case %q as uid %d: %v", name, UID, err)
	}
	return Result{Code: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}
}

// Traversable makes dir and each folder above it up to the system's
// temporary folder (t.TempDir's, which the testing package makes 0700)
// readable and searchable by all, so that the child can reach what dir
// holds. dir must be under os.TempDir().
func Traversable(t testing.TB, dir string) {
	t.Helper()
	top, err := filepath.Abs(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p, top+string(filepath.Separator)) {
		t.Fatalf("otheruser.Traversable: %s is not under %s", p, top)
	}
	for ; p != top; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// testBinary is the running test binary, linked (or copied) into a fresh
// traversable folder: go test builds it in a folder only its user may
// enter.
func testBinary(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	Traversable(t, dir)
	exe := filepath.Join(dir, filepath.Base(self))
	if os.Link(self, exe) == nil {
		if err := os.Chmod(exe, 0o755); err != nil {
			t.Fatal(err)
		}
		return exe
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}
