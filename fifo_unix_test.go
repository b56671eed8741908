//go:build unix

package main

import (
	"syscall"
	"testing"
)

// makeFIFO makes a named pipe at p.
func makeFIFO(t testing.TB, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

// childMaxRSS is the peak resident set of a finished child, in KiB.
func childMaxRSS(ru any) int64 { return ru.(*syscall.Rusage).Maxrss }
