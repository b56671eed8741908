//go:build unix

package trust

import (
	"fmt"
	"os"
	"syscall"
)

// ownedByUser refuses a file the current user does not own.
func ownedByUser(fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Getuid(); int(st.Uid) != uid {
		return fmt.Errorf("owned by uid %d, not by the current user (uid %d)", st.Uid, uid)
	}
	return nil
}
