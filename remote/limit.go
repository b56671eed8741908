package remote

import (
	"errors"
	"io"
	"net/http"
)

// MaxAPIResponseSize bounds what is read of one API answer (a page of
// attestations, an upload's answer): 64 MiB, as a bundle file. A server
// that answers forever, or with more, fails with ErrAnswerTooLarge instead
// of filling memory until the client's timeout.
const MaxAPIResponseSize = 64 << 20

// ErrAnswerTooLarge is an API answer longer than MaxAPIResponseSize.
var ErrAnswerTooLarge = errors.New("the answer is larger than the 64 MiB limit")

// limitTransport cuts every answer's body at limit bytes.
type limitTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t *limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.limit}
	return resp, nil
}

// limitedBody reads at most left bytes, then fails with ErrAnswerTooLarge.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more says whether the answer ends exactly here.
		var one [1]byte
		if n, _ := b.ReadCloser.Read(one[:]); n > 0 {
			return 0, ErrAnswerTooLarge
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

// limited returns a copy of c whose answers are cut at limit bytes.
func limited(c *http.Client, limit int64) *http.Client {
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cc := *c
	cc.Transport = &limitTransport{next: next, limit: limit}
	return &cc
}
