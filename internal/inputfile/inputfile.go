// Package inputfile is how provenant reads a file a user names (a predicate,
// a checksums file, the workflow's event file): a regular file only, read
// through a size limit and stopped when the context ends.
//
// A device such as /dev/zero reports a size of 0 and never ends; a named pipe
// blocks its reader until a writer comes. Both are refused before they are
// read, so a bad path fails at once instead of exhausting memory or hanging.
package inputfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular means the path names something other than a regular file.
var ErrNotRegular = errors.New("is not a regular file")

// TooLargeError is a file larger than the limit it is read with.
type TooLargeError struct {
	// Limit is the largest size accepted, in bytes.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("larger than the %s limit", size(e.Limit))
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d byte", n)
}

// Read reads the regular file at path, at most limit bytes of it, stopping
// when ctx ends. Anything else (a folder, a device, a named pipe, a socket)
// is ErrNotRegular; a longer file is a *TooLargeError.
func Read(ctx context.Context, path string, limit int64) ([]byte, error) {
	// Stat first: opening a named pipe would block until a writer comes.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The path may have been replaced between Stat and Open.
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi)
	}
	if fi.Size() > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	data, err := io.ReadAll(io.LimitReader(&Reader{Ctx: ctx, R: f}, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return data, nil
}

func notRegular(fi os.FileInfo) error {
	what := "a special file"
	switch m := fi.Mode(); {
	case m.IsDir():
		what = "a folder"
	case m&os.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&os.ModeDevice != 0:
		what = "a device"
	case m&os.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("%w (%s)", ErrNotRegular, what)
}

// Reader is a reader that fails with the context's error once it ends, so a
// long read (hashing a large file, say) stops promptly on a signal.
type Reader struct {
	Ctx context.Context
	R   io.Reader
}

// Read reads from R unless the context has ended.
func (r *Reader) Read(p []byte) (int, error) {
	if err := r.Ctx.Err(); err != nil {
		return 0, err
	}
	return r.R.Read(p)
}
