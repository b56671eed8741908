//go:build !unix && !windows

package trust

import "os"

// Neither Unix nor Windows (wasip1, js): owners cannot be told apart; the
// permission bits and the parents are still checked.
var platformChecker dirChecker = otherChecker{}

type otherChecker struct{}

func (otherChecker) check(dir string, fi os.FileInfo) error {
	if err := checkMode(fi); err != nil {
		return err
	}
	return checkParents(dir)
}
