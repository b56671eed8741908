//go:build unix

package inputfile

import "syscall"

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }

// missingFileText is how the platform says a file does not exist.
const missingFileText = "no such file"
