//go:build unix

package otheruser

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// Needed reports whether permission cases must run as another user: the
// process is root, which reads any file.
func Needed() bool { return os.Geteuid() == 0 }

// asOtherUser makes cmd start as UID/GID, with no supplementary groups.
func asOtherUser(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: UID, Gid: GID, Groups: []uint32{}}}
	return nil
}

// NeedModeBits does nothing on Unix, where a file of mode 0000 is unreadable
// to all but root.
func NeedModeBits(testing.TB) {}
