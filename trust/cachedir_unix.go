//go:build unix

package trust

import (
	"fmt"
	"os"
	"syscall"
)

var platformChecker dirChecker = unixChecker{}

// unixChecker: the owner's uid, the group/other write bits, and the
// parents' world-write bit without the sticky bit.
type unixChecker struct{}

func (unixChecker) check(dir string, fi os.FileInfo) error {
	if err := ownedByUser(fi); err != nil {
		return fmt.Errorf("%w; pass --tuf-cache with a directory of your own", err)
	}
	if err := checkMode(fi); err != nil {
		return err
	}
	return checkParents(dir)
}

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
