package cmdutil

// files.go is where the commands write files: the one atomic write attest,
// verify and policy use, the rescue of a signed bundle, the probe of a
// folder before anything is signed.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteAtomic writes data to path through a temporary file in the same
// folder, so a reader never sees a half-written file.
func WriteAtomic(path string, data []byte) error {
	return WriteAtomicWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomicWith is WriteAtomic for content written by write as it is
// made (a report of thousands of artifacts is not held whole in memory).
func WriteAtomicWith(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A short temporary name: the final name may be as long as a name gets.
	tmp, err := os.CreateTemp(dir, ".provenant-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteOrRescue writes the attestation to path. When that fails after
// signing, the signed bundle (with its log entry already made) is not lost:
// it is written to a fresh file in $RUNNER_TEMP (or the system's temporary
// folder), and the error says where.
func (f *Factory) WriteOrRescue(path string, content []byte) (saved string, err error) {
	werr := WriteAtomic(path, content)
	if werr == nil {
		return path, nil
	}
	dir := f.Getenv("RUNNER_TEMP")
	if dir == "" {
		dir = os.TempDir()
	}
	tmp, err := os.CreateTemp(dir, "provenant-rescued-*"+filepath.Ext(path))
	if err == nil {
		_, err = tmp.Write(content)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			return tmp.Name(), fmt.Errorf("writing %s: %w; the attestation is kept in %s", path, werr, tmp.Name())
		}
		os.Remove(tmp.Name())
	}
	return "", fmt.Errorf("writing %s: %w (and keeping it elsewhere failed too: %v)", path, werr, err)
}

// ProbeFolder makes the folder if needed and creates and removes a file in
// it, so an unwritable folder fails before anything is signed.
func ProbeFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".provenant-probe-*")
	if err != nil {
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// MaxFileName is the longest file name most file systems take (NAME_MAX).
const MaxFileName = 255

// CheckFileName refuses a name no file can have.
func CheckFileName(name string) error {
	switch {
	case len(name) > MaxFileName:
		return fmt.Errorf("a file name of %d bytes is longer than the %d a file system takes", len(name), MaxFileName)
	case name == "." || name == ".." || name == string(filepath.Separator):
		return errors.New("names a folder, not a file")
	case strings.ContainsRune(name, 0):
		return errors.New("a file name cannot hold NUL")
	}
	return nil
}
