//go:build !unix

package otheruser

import (
	"errors"
	"os/exec"
	"testing"
)

// Needed is false: outside Unix there is no root that reads every file by
// its mode bits (Windows decides by ACL), and a process cannot be started as
// another user without that user's credentials, so the permission cases run
// in the test's own process.
func Needed() bool { return false }

func asOtherUser(*exec.Cmd) error {
	return errors.New("otheruser: running as another user needs Unix credentials (syscall.Credential)")
}

// NeedModeBits skips the test: outside Unix, mode bits do not deny reading
// (Windows decides by ACL, and os.Chmod only sets the read-only attribute),
// so a file of mode 0000 stays readable and the case cannot be made here,
// by design.
func NeedModeBits(t testing.TB) {
	t.Helper()
	t.Skip("mode 0000 does not deny reading outside Unix (Windows uses ACLs): this case is Unix's")
}
