// Package httplimit cuts HTTP answers at a byte limit. A server that
// answers forever, or with more than any real answer holds, must fail the
// read instead of filling memory until the client's timeout. Its own
// package because two packages need it and neither may import the other:
// remote (GitHub's API, registries) and provenance and builder (Fulcio,
// Rekor, the timestamp authority, the OIDC token service).
package httplimit

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrTooLarge matches every *TooLargeError (errors.Is).
var ErrTooLarge = errors.New("the answer is larger than its limit")

// TooLargeError is an answer longer than Limit bytes.
type TooLargeError struct{ Limit int64 }

// Error names the limit.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the answer is larger than the %s limit", sizeText(e.Limit))
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// Transport returns a RoundTripper whose answers' bodies fail with a
// *TooLargeError once more than limit bytes were read; nil next means
// http.DefaultTransport.
func Transport(next http.RoundTripper, limit int64) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, limit: limit}
}

// Client returns a copy of c whose answers are cut at limit bytes (see
// Transport); nil c means a zero http.Client.
func Client(c *http.Client, limit int64) *http.Client {
	var cc http.Client
	if c != nil {
		cc = *c
	}
	cc.Transport = Transport(cc.Transport, limit)
	return &cc
}

type transport struct {
	next  http.RoundTripper
	limit int64
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &body{ReadCloser: resp.Body, left: t.limit, limit: t.limit}
	return resp, nil
}

// body reads at most left bytes, then fails with a *TooLargeError.
type body struct {
	io.ReadCloser
	left, limit int64
}

func (b *body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more says whether the answer ends exactly here.
		var one [1]byte
		if n, _ := b.ReadCloser.Read(one[:]); n > 0 {
			return 0, &TooLargeError{Limit: b.limit}
		}
		return b.ReadCloser.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
