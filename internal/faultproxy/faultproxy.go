// Package faultproxy is a test helper: an HTTP proxy on loopback in front
// of one backend that injects the faults a remote shows on a bad day —
// connection refused, a connection reset in the middle of an answer, an
// answer slower than any client waits, 429 with retry-after, a burst of
// 5xx, the wrong content type, an endless answer, and a rewrite hook for an
// answer that looks valid but is wrong (a certificate for another key, a
// log entry for another body).
//
// It is imported only by tests; nothing in the binary links it.
package faultproxy

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mode is the kind of fault.
type Mode int

// The faults a proxy injects.
const (
	// Pass forwards the request and its answer unchanged.
	Pass Mode = iota
	// Status answers Fault.Status (a 5xx burst when Times > 1) without
	// forwarding.
	Status
	// TooMany answers 429 with Retry-After: Fault.RetryAfter.
	TooMany
	// Reset forwards, then sends the status, the headers and half the
	// body and resets the connection.
	Reset
	// Slow holds the answer back for Fault.Delay (or until the client
	// goes away), then forwards.
	Slow
	// WrongType forwards, and answers the status with Content-Type
	// text/html and an HTML page for a body.
	WrongType
	// Endless answers 200 and streams bytes until the client goes away.
	Endless
	// Drop closes the connection without an answer.
	Drop
)

// Fault is what the proxy does to the next Times requests whose path
// contains Path.
type Fault struct {
	Mode Mode
	// Path selects requests by a substring of the path; "" any.
	Path string
	// Times is how many requests get it; 0 means every one from now on.
	Times int
	// Status is the status of Mode Status (default 503).
	Status int
	// RetryAfter is the Retry-After of Mode TooMany (default "1").
	RetryAfter string
	// Delay is how long Mode Slow waits (default a minute).
	Delay time.Duration
	// Prefix and Chunk are what Mode Endless sends: Prefix once, then
	// Chunk over and over (default: no prefix, `{"a":[` 1,024 times, JSON
	// that nests ever deeper and runs into a parser's depth limit; a
	// prefix `{"value":"` and a chunk of letters make one endless string,
	// which only a size limit stops).
	Prefix, Chunk []byte
	// Rewrite, when set, changes a forwarded answer before it is sent
	// (any mode that forwards): the request, and the answer's status,
	// headers (editable) and body; it returns the status and body to send.
	Rewrite func(r *http.Request, status int, h http.Header, body []byte) (int, []byte)
}

// Seen is one request the proxy received.
type Seen struct {
	Method, Path string
	// Mode is the fault applied (Pass when none).
	Mode Mode
	// Header is the request's headers (tests grep them for secrets sent).
	Header http.Header
	// Took is how long the proxy took to answer: from the request's
	// arrival to the answer's last byte written, the backend's time
	// included (a benchmark subtracts it from a client's wall time).
	Took time.Duration
}

// Proxy is a running fault proxy.
type Proxy struct {
	// URL is the proxy's base URL (http://127.0.0.1:PORT); a request to
	// URL+path goes to the backend's base URL+path.
	URL string

	backend string
	srv     *httptest.Server
	client  *http.Client

	mu     sync.Mutex
	faults []Fault
	seen   []Seen
	stop   chan struct{}
}

// New starts a proxy in front of backend (a base URL such as
// http://127.0.0.1:8080); it stops when the test ends.
func New(t testing.TB, backend string) *Proxy {
	t.Helper()
	p := &Proxy{backend: strings.TrimSuffix(backend, "/"), client: &http.Client{}, stop: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(func() {
		close(p.stop)
		p.srv.Close()
	})
	return p
}

// Add queues a fault; faults apply in the order added.
func (p *Proxy) Add(f Fault) *Proxy {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, f)
	return p
}

// SetBackend points the proxy at another backend, for a backend that must
// know the proxy's URL before it starts (an OIDC issuer whose discovery
// document names it).
func (p *Proxy) SetBackend(backend string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backend = strings.TrimSuffix(backend, "/")
}

// Refuse closes the proxy's port for good: every later connection to URL
// is refused.
func (p *Proxy) Refuse() {
	p.srv.Listener.Close()
}

// Seen lists the requests received so far.
func (p *Proxy) Seen() []Seen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Seen(nil), p.seen...)
}

// Count is how many requests the proxy received whose path contains path.
func (p *Proxy) Count(path string) int {
	n := 0
	for _, s := range p.Seen() {
		if strings.Contains(s.Path, path) {
			n++
		}
	}
	return n
}

// next pops the fault for a path, and returns the index of the request's
// record in p.seen.
func (p *Proxy) next(r *http.Request) (Fault, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := Fault{Mode: Pass}
	for i, c := range p.faults {
		if !strings.Contains(r.URL.Path, c.Path) {
			continue
		}
		f = c
		if c.Times > 0 {
			if p.faults[i].Times--; p.faults[i].Times == 0 {
				p.faults = append(p.faults[:i], p.faults[i+1:]...)
			}
		}
		break
	}
	p.seen = append(p.seen, Seen{Method: r.Method, Path: r.URL.Path, Mode: f.Mode, Header: r.Header.Clone()})
	return f, len(p.seen) - 1
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	f, i := p.next(r)
	defer func() {
		p.mu.Lock()
		p.seen[i].Took = time.Since(start)
		p.mu.Unlock()
	}()
	switch f.Mode {
	case Status:
		st := f.Status
		if st == 0 {
			st = http.StatusServiceUnavailable
		}
		http.Error(w, http.StatusText(st)+" (faultproxy)", st)
		return
	case TooMany:
		ra := f.RetryAfter
		if ra == "" {
			ra = "1"
		}
		w.Header().Set("Retry-After", ra)
		http.Error(w, "too many requests (faultproxy)", http.StatusTooManyRequests)
		return
	case Endless:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := f.Chunk
		if len(chunk) == 0 {
			chunk = bytes.Repeat([]byte(`{"a":[`), 1024)
		}
		if _, err := w.Write(f.Prefix); err != nil {
			return
		}
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-p.stop:
				return
			default:
			}
		}
	case Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	case Slow:
		d := f.Delay
		if d == 0 {
			d = time.Minute
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		case <-p.stop:
			return
		}
	}
	status, h, body, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: backend: "+err.Error(), http.StatusBadGateway)
		return
	}
	if f.Rewrite != nil {
		status, body = f.Rewrite(r, status, h, body)
	}
	switch f.Mode {
	case WrongType:
		h.Set("Content-Type", "text/html; charset=utf-8")
		body = []byte("<html><body><h1>Sign in</h1><p>A captive portal, or a proxy's error page.</p></body></html>")
	case Reset:
		p.reset(w, status, h, body)
		return
	}
	h.Del("Content-Length")
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client may be gone
}

// forward sends the request to the backend and reads the whole answer.
func (p *Proxy) forward(r *http.Request) (int, http.Header, []byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	p.mu.Lock()
	backend := p.backend
	p.mu.Unlock()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, backend+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header.Clone(), data, nil
}

// reset writes the status, the headers with the full Content-Length and
// half the body, then resets the TCP connection (SO_LINGER 0).
func (p *Proxy) reset(w http.ResponseWriter, status int, h http.Header, body []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: the server cannot hijack connections")
	}
	c, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	buf.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	h.Write(buf) //nolint:errcheck
	buf.WriteString("\r\n")
	buf.Write(body[:len(body)/2])
	buf.Flush()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck
	}
}
