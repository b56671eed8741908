package remote

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAnswerForever: an API that answers a page of attestations forever
// (valid JSON that never ends) ends in ErrAnswerTooLarge naming the host,
// once MaxAPIResponseSize has been read; no client timeout is needed to
// stop it. What is asserted does not depend on the garbage collector's
// pacing or the machine's speed:
//   - the bytes the client read off the connection (a counting transport
//     below the limit): the limit and the one byte that shows it is
//     exceeded, exactly;
//   - the bytes the server wrote: at most socketSlack more (what the
//     loopback socket buffers hold: Linux lets a receive buffer grow to
//     32 MiB), against an answer that never ends;
//   - the bytes allocated while reading (TotalAlloc, which only grows and
//     counts garbage too): at most maxAllocPerLimit times the limit. JSON
//     decoding buffers the whole value, doubling its buffer, so about 4×
//     the limit is allocated (256 MiB measured); an unlimited read of this
//     answer allocates without end.
func TestAnswerForever(t *testing.T) {
	const (
		socketSlack      = 40 << 20
		maxAllocPerLimit = 8
	)
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"attestations":[`))
		entry := []byte(strings.Repeat(`{"bundle":{"mediaType":"x"},"repository_id":1},`, 256))
		for r.Context().Err() == nil {
			n, err := w.Write(entry)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	read := &countingTransport{next: http.DefaultTransport}
	g, err := NewGitHub(GitHubOptions{HTTPClient: &http.Client{Transport: read}, APIURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net only
	defer cancel()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = g.ByDigest(ctx, Query{Repo: "o/r"}, "sha256:"+strings.Repeat("a", 64))
	runtime.ReadMemStats(&after)
	var e *Error
	if !errors.Is(err, ErrAnswerTooLarge) || !errors.As(err, &e) || !strings.Contains(err.Error(), e.Remote) || ctx.Err() != nil {
		t.Fatalf("err = %v, want ErrAnswerTooLarge naming the host before the safety net", err)
	}
	srv.CloseClientConnections()
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("the client read %d bytes (limit %d); the server sent %d MiB; %d MiB allocated while reading", read.n.Load(), int64(MaxAPIResponseSize), sent.Load()>>20, alloc>>20)
	if got := read.n.Load(); got != MaxAPIResponseSize+1 {
		t.Errorf("the client read %d bytes of the answer, want the limit and one byte more (%d)", got, MaxAPIResponseSize+1)
	}
	if sent.Load() > MaxAPIResponseSize+socketSlack {
		t.Errorf("the server sent %d MiB before the client stopped, more than the limit and %d MiB of socket buffers", sent.Load()>>20, socketSlack>>20)
	}
	if alloc > maxAllocPerLimit*MaxAPIResponseSize {
		t.Errorf("%d MiB allocated reading an endless answer, more than %d× the limit", alloc>>20, maxAllocPerLimit)
	}
}

// countingTransport counts the bytes read from its answers' bodies (of
// requests whose path contains only, when set).
type countingTransport struct {
	next http.RoundTripper
	only string
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && resp.Body != nil && strings.Contains(r.URL.Path, c.only) {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// TestAnswerAtTheLimit: an answer of exactly the limit is read whole.
func TestAnswerAtTheLimit(t *testing.T) {
	body := `{"id":7}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(body)) }))
	t.Cleanup(srv.Close)
	c := limited(&http.Client{}, int64(len(body)))
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil || buf.String() != body {
		t.Fatalf("%q, %v", buf.String(), err)
	}
	c = limited(&http.Client{}, int64(len(body)-1))
	resp, err = c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); !errors.Is(err, ErrAnswerTooLarge) {
		t.Fatalf("one byte over: %v", err)
	}
}
