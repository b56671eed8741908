package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/provenant/provenant/internal/httplimit"
)

// Error is a remote's refusal or failure, said in one line that names the
// remote, the status and what to do. It never holds a token or a signed URL.
type Error struct {
	// Remote is the host that answered (or did not).
	Remote string
	// Op is what was being done, e.g. "uploading attestation to o/r".
	Op string
	// Status is the HTTP status; 0 when there was no answer.
	Status int
	// Reason is what the remote said, or what went wrong.
	Reason string
	// Hint says what to do about it.
	Hint string
	// Err is the underlying error, if any.
	Err error
}

// Error renders "OP: REMOTE answered STATUS (REASON): HINT".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Op, e.Remote)
	if e.Status != 0 {
		fmt.Fprintf(&b, " answered %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, ": %s", e.Hint)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsNotFound reports whether err is a remote's 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// opKind says which hints fit a failed request.
type opKind int

const (
	opRead opKind = iota
	opUpload
)

// do sends one API request through go-github, pausing and retrying on a
// secondary rate limit whose pause is at most MaxPause.
func (g *GitHub) do(ctx context.Context, op string, kind opKind, method, path string, body, v any) (*github.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := g.gh.NewRequest(method, path, body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		req.Header.Set("X-GitHub-Api-Version", APIVersion)
		resp, err := g.gh.Do(ctx, req, v)
		if err == nil {
			return resp, nil
		}
		pause, ok := secondaryPause(resp, err)
		if !ok || pause > g.maxPause || attempt >= g.retries || ctx.Err() != nil {
			return resp, g.wrap(op, kind, resp, err)
		}
		if serr := g.sleep(ctx, pause); serr != nil {
			return resp, g.wrap(op, kind, resp, err)
		}
	}
}

// secondaryPause is how long to wait before retrying after a secondary
// rate limit (403 or 429 without an exhausted primary limit), as GitHub's
// REST documentation says: retry-after when given, else a minute.
func secondaryPause(resp *github.Response, err error) (time.Duration, bool) {
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return max(*abuse.RetryAfter, 0), true
		}
		return time.Minute, true
	}
	var er *github.ErrorResponse
	if !errors.As(err, &er) || resp == nil || resp.Response == nil {
		return 0, false
	}
	h := resp.Header
	if h.Get("X-RateLimit-Remaining") == "0" {
		return 0, false // the primary limit: hours, not seconds
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && (resp.StatusCode == 429 || resp.StatusCode == 403) {
		return time.Duration(max(s, 0)) * time.Second, true
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return time.Minute, true
	}
	return 0, false
}

// wrap turns a go-github error into an *Error with a hint. A server that
// echoes the token in its message (a proxy's error page, a careless
// mirror) does not get it printed: it is cut from the reason and hint.
func (g *GitHub) wrap(op string, kind opKind, resp *github.Response, err error) error {
	err = g.explain(op, kind, resp, err)
	var e *Error
	if g.token != "" && errors.As(err, &e) {
		e.Reason = strings.ReplaceAll(e.Reason, g.token, "***")
		e.Hint = strings.ReplaceAll(e.Hint, g.token, "***")
	}
	return err
}

// explain turns a go-github error into an *Error with a hint.
func (g *GitHub) explain(op string, kind opKind, resp *github.Response, err error) error {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return &Error{Remote: g.host, Op: op, Status: statusOf(resp, http.StatusForbidden), Reason: "rate limit exhausted", Hint: g.resetHint(rl.Rate), Err: err}
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		hint := "secondary rate limit: wait a minute and run again"
		if abuse.RetryAfter != nil {
			hint = fmt.Sprintf("secondary rate limit: retry after %s", abuse.RetryAfter.Round(time.Second))
		}
		return &Error{Remote: g.host, Op: op, Status: statusOf(resp, http.StatusForbidden), Reason: abuse.Message, Hint: hint, Err: err}
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return g.statusError(op, kind, er)
	}
	return networkError(g.host, op, err)
}

func statusOf(resp *github.Response, def int) int {
	if resp != nil && resp.Response != nil && resp.StatusCode != 0 {
		return resp.StatusCode
	}
	return def
}

// statusError explains an API answer by its status.
func (g *GitHub) statusError(op string, kind opKind, er *github.ErrorResponse) error {
	status := er.Response.StatusCode
	e := &Error{Remote: g.host, Op: op, Status: status, Reason: er.Message, Err: er}
	noToken := "private? give a token (GH_TOKEN)"
	switch {
	case (status == 403 || status == 429) && er.Response.Header.Get("X-RateLimit-Remaining") == "0":
		e.Reason, e.Hint = "rate limit exhausted", g.resetHint(parseRate(er.Response.Header))
	case status == 429:
		e.Hint = "too many requests: wait a minute and run again"
	case status == 401 && g.authed:
		e.Hint = "the token was refused (expired or revoked?)"
	case status == 401:
		e.Hint = "authentication required: " + noToken
	case status == 403 && kind == opUpload:
		e.Hint = "the token may not write attestations: the job needs permissions: attestations: write (and id-token: write)"
	case status == 403:
		e.Hint = "the token may not read these attestations (attestations: read, and access to the repository)"
	case status == 404 && kind == opUpload:
		e.Hint = "no such repository, or the token cannot see it"
	case status == 404 && !g.authed:
		e.Hint = "no attestation there, or the repository is " + noToken
	case status == 404:
		e.Hint = "no attestation there, or the token cannot see the repository"
	case status == 409:
		e.Hint = "conflict: the attestation already exists or the repository changed; run again"
	case status == 422:
		e.Hint = "the bundle was refused" + validationDetail(er)
	case status >= 500:
		e.Hint = fmt.Sprintf("%s failed on its side: run again later", g.host)
	}
	return e
}

// validationDetail lists the fields a 422 names.
func validationDetail(er *github.ErrorResponse) string {
	var parts []string
	for _, x := range er.Errors {
		s := strings.TrimSpace(strings.Join(nonEmpty(x.Field, x.Code, x.Message), " "))
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// resetHint says when a primary rate limit resets, and that a token
// raises it when none was given.
func (g *GitHub) resetHint(r github.Rate) string {
	hint := "wait for the rate limit to reset"
	if !r.Reset.IsZero() {
		in := r.Reset.Time.Sub(g.now()).Round(time.Second)
		hint = fmt.Sprintf("%d requests an hour used up; resets at %s (in %s)", r.Limit, r.Reset.UTC().Format("15:04:05 UTC"), max(in, 0))
	}
	if !g.authed {
		hint += "; a token (GH_TOKEN) raises the limit"
	}
	return hint
}

// parseRate reads the x-ratelimit-* headers of an answer go-github did not
// turn into a RateLimitError (a 429).
func parseRate(h http.Header) github.Rate {
	var r github.Rate
	r.Limit, _ = strconv.Atoi(h.Get("X-RateLimit-Limit"))
	r.Remaining, _ = strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
		r.Reset = github.Timestamp{Time: time.Unix(s, 0)}
	}
	return r
}

// networkError names the host that did not answer.
func networkError(host, op string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{Remote: host, Op: op, Reason: "cancelled", Err: err}
	case errors.Is(err, ErrAnswerTooLarge):
		return &Error{Remote: host, Op: op, Reason: tooLargeReason(err), Hint: "not GitHub's API as it answers, or a proxy in the way: check the API URL", Err: err}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &Error{Remote: host, Op: op, Reason: "no answer in time", Hint: "is " + host + " reachable? run again", Err: err}
	}
	return &Error{Remote: host, Op: op, Reason: "unreachable: " + rootCause(err), Hint: "is " + host + " reachable?", Err: err}
}

// rootCause is the innermost error's text (a *url.Error repeats the URL).
func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// tooLargeReason is the limit an answer went over, as its error names it.
func tooLargeReason(err error) string {
	var tl *httplimit.TooLargeError
	if errors.As(err, &tl) {
		return tl.Error()
	}
	return ErrAnswerTooLarge.Error()
}
