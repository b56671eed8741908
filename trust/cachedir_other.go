//go:build !unix

package trust

import "os"

// ownedByUser cannot tell owners apart here; the permission bits are
// still checked.
func ownedByUser(os.FileInfo) error { return nil }
