package remote

import (
	"bytes"
	"context"
	"errors"
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
// once MaxAPIResponseSize has been read, with the heap bounded; no client
// timeout is needed to stop it. The peak heap is reported.
func TestAnswerForever(t *testing.T) {
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
	g, err := NewGitHub(GitHubOptions{HTTPClient: &http.Client{}, APIURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net only
	defer cancel()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	_, err = g.ByDigest(ctx, Query{Repo: "o/r"}, "sha256:"+strings.Repeat("a", 64))
	close(stop)
	var e *Error
	if !errors.Is(err, ErrAnswerTooLarge) || !errors.As(err, &e) || !strings.Contains(err.Error(), e.Remote) || ctx.Err() != nil {
		t.Fatalf("err = %v, want ErrAnswerTooLarge naming the host before the safety net", err)
	}
	grew := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("server sent %d MiB before the client stopped; heap in use grew by at most %d MiB (limit %d MiB)", sent.Load()>>20, grew>>20, MaxAPIResponseSize>>20)
	if grew > 4*MaxAPIResponseSize {
		t.Errorf("heap grew by %d MiB reading an endless answer", grew>>20)
	}
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
