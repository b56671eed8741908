//go:build unix

package provenance

import "syscall"

// mkfifo makes a named pipe at p, for the cases that need one.
func mkfifo(p string) error { return syscall.Mkfifo(p, 0o644) }
