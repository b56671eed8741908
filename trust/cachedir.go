package trust

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// CheckCacheDir creates the TUF cache directory if need be (mode 0700) and
// refuses one another user could plant metadata in: a symbolic link, a
// directory not owned by the current user or writable by group or others,
// or one inside a directory others may write to without the sticky bit.
// The error is a *CacheDirError.
func CheckCacheDir(dir string) error {
	if err := checkCacheDir(dir); err != nil {
		return &CacheDirError{Dir: dir, Err: err}
	}
	return nil
}

func checkCacheDir(dir string) error {
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
	if err := ownedByUser(fi); err != nil {
		return fmt.Errorf("%w; pass --tuf-cache with a directory of your own", err)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("writable by others (mode %v): another user could plant a trusted root; chmod go-w it or pass --tuf-cache", fi.Mode().Perm())
	}
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
