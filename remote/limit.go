package remote

import (
	"net/http"

	"github.com/provenant/provenant/internal/httplimit"
)

// MaxAPIResponseSize bounds what is read of one API answer (a page of
// attestations, an upload's answer): 64 MiB, as a bundle file. A server
// that answers forever, or with more, fails with ErrAnswerTooLarge instead
// of filling memory until the client's timeout.
const MaxAPIResponseSize = 64 << 20

// ErrAnswerTooLarge matches an answer cut at its limit (errors.Is); the
// error itself (an *httplimit.TooLargeError) names the limit.
var ErrAnswerTooLarge = httplimit.ErrTooLarge

// limited returns a copy of c whose answers are cut at limit bytes.
func limited(c *http.Client, limit int64) *http.Client { return httplimit.Client(c, limit) }
