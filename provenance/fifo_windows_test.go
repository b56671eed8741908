//go:build windows

package provenance

import "errors"

// mkfifo fails: Windows has no named pipes in the file system, so the
// pipe case has no file to read there, by design.
func mkfifo(string) error { return errors.New("no named pipes on Windows") }
