//go:build windows

package main

import "testing"

// makeFIFO skips: Windows has no named pipes in the file system
// (syscall.Mkfifo), so the FIFO cases cannot be made there, by design.
func makeFIFO(t testing.TB, p string) {
	t.Helper()
	t.Skip("no named pipes in the Windows file system (syscall.Mkfifo): this case is Unix's")
}

// childMaxRSS is 0: Windows' process accounting has no peak resident set
// (the RSS tests run on Linux).
func childMaxRSS(any) int64 { return 0 }
