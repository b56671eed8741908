package main

// files.go is where package main writes files and finds its cache: the one
// atomic write attest and verify use, and the default TUF cache.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeAtomic writes data to path through a temporary file in the same
// folder, so a reader never sees a half-written file.
func writeAtomic(path string, data []byte) error {
	return writeAtomicWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomicWith is writeAtomic for content written by write as it is
// made (a report of thousands of artifacts is not held whole in memory).
func writeAtomicWith(path string, write func(io.Writer) error) error {
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

// writeOrRescue writes the attestation to path. When that fails after
// signing, the signed bundle (with its log entry already made) is not lost:
// it is written to a fresh file in $RUNNER_TEMP (or the system's temporary
// folder), and the error says where.
func writeOrRescue(path string, content []byte, e env) (saved string, err error) {
	werr := writeAtomic(path, content)
	if werr == nil {
		return path, nil
	}
	dir := e.getenv("RUNNER_TEMP")
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "provenant-rescued-*"+filepath.Ext(path))
	if err == nil {
		_, err = f.Write(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			return f.Name(), fmt.Errorf("writing %s: %w; the attestation is kept in %s", path, werr, f.Name())
		}
		os.Remove(f.Name())
	}
	return "", fmt.Errorf("writing %s: %w (and keeping it elsewhere failed too: %v)", path, werr, err)
}

// probeFolder makes the folder if needed and creates and removes a file in
// it, so an unwritable folder fails before anything is signed.
func probeFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".provenant-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// tufCacheDir is the TUF cache: the flag, else $XDG_CACHE_HOME/provenant/tuf,
// else ~/.cache/provenant/tuf.
func tufCacheDir(flagValue string, e env) string {
	if flagValue != "" {
		return flagValue
	}
	if d := e.getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "provenant", "tuf")
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "provenant", "tuf")
	}
	// No shared default such as /tmp (another user could plant a root
	// there): trust refuses an empty cache folder and asks for --tuf-cache.
	return ""
}

// defaultTUFCache is the TUF cache signing uses: verify's default, so both
// share one copy of each instance's trusted root.
func defaultTUFCache(e env) string { return tufCacheDir("", e) }
