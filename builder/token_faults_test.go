package builder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provenant/provenant/builder/oidctest"
	"github.com/provenant/provenant/internal/faultproxy"
)

// TestFromToken_Faults puts a fault proxy in front of the whole token
// service (token endpoint, discovery, keys): each fault recovers within
// the retry budget or ends in a *TokenError that says which step failed,
// never echoing a token. The attempts are counted by what the proxy saw.
// Nothing depends on how fast the machine is: a slow answer is held by the
// proxy until the client gives up, and the client gives up on exactly the
// requests the proxy holds (stallCutter) instead of after a short timeout
// that a busy machine could also hit on a good answer.
func TestFromToken_Faults(t *testing.T) {
	other, err := oidctest.New("http://127.0.0.1:1") // another key: valid-looking tokens, wrong signer
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		faults  []faultproxy.Fault
		wantErr string // "" recovers
		tokens  int    // token requests the proxy must see
	}{
		{"slow beyond the timeout, then up", []faultproxy.Fault{{Mode: faultproxy.Slow, Delay: time.Hour, Path: "/token", Times: 1}}, "", 2},
		{"slow for good", []faultproxy.Fault{{Mode: faultproxy.Slow, Delay: time.Hour, Path: "/token"}}, "requesting the job's OIDC token", 3},
		{"endless answer", []faultproxy.Fault{{Mode: faultproxy.Endless, Path: "/token"}}, "requesting the job's OIDC token", 3},
		{"429 then up", []faultproxy.Fault{{Mode: faultproxy.TooMany, Path: "/token", Times: 2}}, "", 3},
		{"5xx burst beyond the budget", []faultproxy.Fault{{Mode: faultproxy.Status, Status: 502, Path: "/token", Times: 4}}, "HTTP 502 (after 3 attempts)", 3},
		{"reset then up", []faultproxy.Fault{{Mode: faultproxy.Reset, Path: "/token", Times: 1}}, "", 2},
		{"token signed by another key", []faultproxy.Fault{{Mode: faultproxy.Pass, Path: "/token", Rewrite: func(_ *http.Request, st int, _ http.Header, b []byte) (int, []byte) {
			var v struct{ Value string }
			json.Unmarshal(b, &v)
			tok, err := other.Token("sigstore", map[string]any{"iss": issuerOf(t, v.Value)})
			if err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(map[string]any{"count": 1, "value": tok})
			return st, out
		}}}, "verifying the job's OIDC token", 1},
		{"keys endpoint down", []faultproxy.Fault{{Mode: faultproxy.Status, Path: "/jwks", Status: 503}}, "verifying the job's OIDC token", 1},
		{"discovery answers HTML", []faultproxy.Fault{{Mode: faultproxy.WrongType, Path: "/.well-known/openid-configuration"}}, "verifying the job's OIDC token", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The issuer is the proxy, so discovery and keys pass it too.
			front := faultproxy.New(t, "http://placeholder.invalid")
			srv, err := oidctest.New(front.URL)
			if err != nil {
				t.Fatal(err)
			}
			backend := startHandler(t, srv.Handler())
			front.SetBackend(backend)
			for _, f := range tt.faults {
				front.Add(f)
			}
			env := srv.Env()
			// A safety net only: a run that hangs fails instead.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err = FromToken(ctx, Options{
				Getenv: func(k string) string { return env[k] }, Issuer: srv.Issuer,
				HTTPClient: &http.Client{Transport: &stallCutter{proxy: front, next: http.DefaultTransport}}, Backoff: time.Millisecond,
			})
			if ctx.Err() != nil {
				t.Fatalf("still running after the safety net: %v", err)
			}
			if n := front.Count("/token"); n != tt.tokens {
				t.Errorf("%d token requests, want %d", n, tt.tokens)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("did not recover: %v", err)
				}
				return
			}
			var te *TokenError
			if err == nil || !errors.As(err, &te) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want a *TokenError with %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), srv.RequestToken) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error leaks a token or is not one line: %v", err)
			}
		})
	}
}

// stallCutter is the client's timeout without a clock: it gives up on a
// request (cancels it, as http.Client.Timeout would) once the proxy reports
// holding it (faultproxy.Slow), and never on one the proxy is answering,
// however slowly a busy machine runs. Each request carries an id header so
// that the proxy's record of it can be found.
type stallCutter struct {
	proxy *faultproxy.Proxy
	next  http.RoundTripper
	n     atomic.Int64
}

const stallHeader = "X-Stall-Cutter"

var errStalled = errors.New("stallCutter: the proxy holds the answer back (the client's timeout)")

func (s *stallCutter) RoundTrip(r *http.Request) (*http.Response, error) {
	id := strconv.FormatInt(s.n.Add(1), 10)
	ctx, cancel := context.WithCancelCause(r.Context())
	r = r.Clone(ctx)
	r.Header.Set(stallHeader, id)
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if s.held(id) {
					cancel(errStalled)
					return
				}
			}
		}
	}()
	resp, err := s.next.RoundTrip(r)
	close(done) // the answer's headers came (faultproxy.Slow holds them back)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, func() { cancel(nil) }}
	return resp, nil
}

// held: the proxy received request id and is holding it back.
func (s *stallCutter) held(id string) bool {
	for _, seen := range s.proxy.Seen() {
		if seen.Header.Get(stallHeader) == id {
			return seen.Mode == faultproxy.Slow
		}
	}
	return false
}

type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// issuerOf reads a token's iss claim without verifying it.
func issuerOf(t *testing.T, tok string) string {
	iss, err := tokenIssuer(tok, "")
	if err == nil {
		return iss
	}
	// tokenIssuer refuses any issuer but the expected one; it says which.
	_, after, _ := strings.Cut(err.Error(), `token issued by "`)
	iss, _, _ = strings.Cut(after, `"`)
	return iss
}

func startHandler(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestFromToken_EndlessAnswerIsCut: an answer that never ends is cut long
// before the client's timeout (a minute here): discovery and keys at
// MaxTokenAnswerSize, which the error names; the token answer by
// go-githubactions itself (it reads 64 kB at most), which then does not
// parse.
func TestFromToken_EndlessAnswerIsCut(t *testing.T) {
	for path, want := range map[string]string{
		"/token":                            "requesting the job's OIDC token from the Actions runtime: failed to process response as JSON",
		"/.well-known/openid-configuration": "larger than the 1 MiB limit",
		"/jwks":                             "larger than the 1 MiB limit",
	} {
		t.Run(path, func(t *testing.T) {
			front := faultproxy.New(t, "http://placeholder.invalid")
			srv, err := oidctest.New(front.URL)
			if err != nil {
				t.Fatal(err)
			}
			front.SetBackend(startHandler(t, srv.Handler()))
			front.Add(faultproxy.Fault{Mode: faultproxy.Endless, Path: path, Prefix: []byte(`{"value":"`), Chunk: bytes.Repeat([]byte("a"), 4096)})
			env := srv.Env()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			_, err = FromToken(ctx, Options{
				Getenv: func(k string) string { return env[k] }, Issuer: srv.Issuer,
				HTTPClient: &http.Client{Timeout: time.Minute}, Backoff: time.Millisecond,
			})
			var te *TokenError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), want) || ctx.Err() != nil {
				t.Fatalf("error %v, want a *TokenError saying %q", err, want)
			}
		})
	}
}
