package trust

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// CacheDirError reports a TUF cache directory that is refused or unusable.
type CacheDirError struct {
	Dir string
	Err error
}

// Error names the directory and why it is refused.
func (e *CacheDirError) Error() string { return fmt.Sprintf("TUF cache %s: %v", e.Dir, e.Err) }

// Unwrap returns the reason.
func (e *CacheDirError) Unwrap() error { return e.Err }

// DefaultCacheDir is the TUF cache used when none is given: os.UserCacheDir's
// folder for the platform, with provenant/tuf under it, read through getenv
// (the caller's environment: this package reads none itself):
//
//   - Windows: %LocalAppData%\provenant\tuf
//   - macOS: $HOME/Library/Caches/provenant/tuf
//   - other Unix: $XDG_CACHE_HOME/provenant/tuf (none when it is
//     relative), else $HOME/.cache/provenant/tuf
//
// It is "" when the variables it needs are not set: there is no shared
// default such as /tmp (another user could plant a root there), and trust
// refuses an empty cache folder, asking for --tuf-cache.
func DefaultCacheDir(getenv func(string) string) string {
	return defaultCacheDir(runtime.GOOS, getenv)
}

// defaultCacheDir is DefaultCacheDir for goos: os.UserCacheDir's rules,
// which read os.Getenv and the running platform only.
func defaultCacheDir(goos string, getenv func(string) string) string {
	if getenv == nil {
		return ""
	}
	var base string
	switch goos {
	case "windows":
		base = getenv("LocalAppData")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			base = filepath.Join(h, "Library", "Caches")
		}
	case "plan9":
		if h := getenv("home"); h != "" {
			base = filepath.Join(h, "lib", "cache")
		}
	default:
		if d := getenv("XDG_CACHE_HOME"); d != "" {
			if filepath.IsAbs(d) { // os.UserCacheDir refuses a relative one
				base = d
			}
		} else if h := getenv("HOME"); h != "" {
			base = filepath.Join(h, ".cache")
		}
	}
	if base == "" {
		return ""
	}
	return filepath.Join(base, "provenant", "tuf")
}

// dirChecker decides whether a TUF cache folder is the current user's
// alone, with the platform's own means: the owner uid and mode bits on
// Unix (unixChecker), the owner SID and DACL on Windows (aclChecker over
// the Windows security API). platformChecker is the running platform's.
type dirChecker interface {
	// check refuses dir (an existing directory, fi its Lstat) when
	// another user could write to it or replace it.
	check(dir string, fi os.FileInfo) error
}

// CheckCacheDir creates the TUF cache directory if need be (mode 0700) and
// refuses one another user could plant metadata in: a symbolic link, or a
// directory not owned by the current user or writable by others (Unix: its
// owner uid and group/other write bits, or a parent others may write to
// without the sticky bit; Windows: its owner SID and the write rights its
// DACL grants to anyone but the owner, SYSTEM and Administrators).
// The error is a *CacheDirError.
func CheckCacheDir(dir string) error {
	if err := checkCacheDir(dir, platformChecker); err != nil {
		return &CacheDirError{Dir: dir, Err: err}
	}
	return nil
}

func checkCacheDir(dir string, c dirChecker) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory (a symbolic link is refused)")
	}
	return c.check(dir, fi)
}

func checkMode(fi os.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("writable by others (mode %v): another user could plant a trusted root; chmod go-w it or pass --tuf-cache", fi.Mode().Perm())
	}
	return nil
}

// checkParents refuses a folder inside one anyone may write to without the
// sticky bit (anyone could rename it and put their own in its place).
func checkParents(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		if pi, err := os.Stat(p); err == nil && pi.Mode().Perm()&0o002 != 0 && pi.Mode()&os.ModeSticky == 0 {
			return fmt.Errorf("inside %s, which anyone may write to: pass --tuf-cache with a directory of your own", p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
