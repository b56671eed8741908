//go:build !unix

package inputfile

import "errors"

// mkfifo: named pipes outside the file system only (Windows' \\.\pipe\).
func mkfifo(string) error { return errors.ErrUnsupported }

// missingFileText is how the platform says a file does not exist
// (Windows: "The system cannot find the file specified.").
const missingFileText = "cannot find the file"
