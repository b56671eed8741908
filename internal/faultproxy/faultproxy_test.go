package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestModes: each fault reaches a client as the fault it names, and the
// proxy passes everything else through unchanged.
func TestModes(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"path":"`+r.URL.Path+`","auth":"`+r.Header.Get("Authorization")+`"}`)
	}))
	t.Cleanup(backend.Close)
	client := &http.Client{Timeout: 2 * time.Second}
	get := func(p *Proxy, path string) (*http.Response, string, error) {
		req, _ := http.NewRequest("GET", p.URL+path, nil)
		req.Header.Set("Authorization", "Bearer x")
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, resp *http.Response, body string, err error)
	}{
		{"pass", Fault{Mode: Pass}, func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 200 || body != `{"path":"/a","auth":"Bearer x"}` {
				t.Errorf("%v %q", err, body)
			}
		}},
		{"5xx", Fault{Mode: Status, Status: 502}, func(t *testing.T, resp *http.Response, _ string, err error) {
			if err != nil || resp.StatusCode != 502 {
				t.Errorf("%v %v", err, resp)
			}
		}},
		{"429", Fault{Mode: TooMany, RetryAfter: "7"}, func(t *testing.T, resp *http.Response, _ string, err error) {
			if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
				t.Errorf("%v %v", err, resp)
			}
		}},
		{"reset", Fault{Mode: Reset}, func(t *testing.T, _ *http.Response, body string, err error) {
			if err == nil || !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)) {
				t.Errorf("want a reset mid-body, got %v %q", err, body)
			}
		}},
		{"slow", Fault{Mode: Slow, Delay: time.Minute}, func(t *testing.T, _ *http.Response, _ string, err error) {
			var ne interface{ Timeout() bool }
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("want the client's timeout, got %v", err)
			}
		}},
		{"wrong type", Fault{Mode: WrongType}, func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.HasPrefix(body, "<html>") {
				t.Errorf("%v %v %q", err, resp, body)
			}
		}},
		{"drop", Fault{Mode: Drop}, func(t *testing.T, _ *http.Response, _ string, err error) {
			if err == nil {
				t.Error("an answer from a dropped connection")
			}
		}},
		{"endless", Fault{Mode: Endless}, func(t *testing.T, _ *http.Response, body string, err error) {
			if err == nil || len(body) == 0 {
				t.Errorf("want the client's timeout after some bytes, got %v after %d bytes", err, len(body))
			}
		}},
		{"rewrite", Fault{Mode: Pass, Rewrite: func(_ *http.Request, st int, h http.Header, b []byte) (int, []byte) {
			return 201, []byte(strings.ToUpper(string(b)))
		}}, func(t *testing.T, resp *http.Response, body string, err error) {
			if err != nil || resp.StatusCode != 201 || body != `{"PATH":"/A","AUTH":"BEARER X"}` {
				t.Errorf("%v %q", err, body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(t, backend.URL)
			tt.fault.Times = 1
			p.Add(tt.fault)
			resp, body, err := get(p, "/a")
			tt.check(t, resp, body, err)
			// Times 1: the next request passes.
			if resp, body, err := get(p, "/b"); err != nil || resp.StatusCode != 200 || !strings.Contains(body, `"/b"`) {
				t.Errorf("after the fault: %v %q", err, body)
			}
			if n := p.Count("/"); n != 2 {
				t.Errorf("%d requests seen, want 2", n)
			}
		})
	}
	t.Run("burst then up, by path", func(t *testing.T) {
		p := New(t, backend.URL)
		p.Add(Fault{Mode: Status, Path: "/x", Times: 3})
		var codes []int
		for _, path := range []string{"/y", "/x", "/x", "/x", "/x"} {
			resp, _, err := get(p, path)
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, resp.StatusCode)
		}
		if got := fmt.Sprint(codes); got != "[200 503 503 503 200]" {
			t.Errorf("codes %s", got)
		}
	})
	t.Run("refused", func(t *testing.T) {
		p := New(t, backend.URL)
		p.Refuse()
		if _, _, err := get(p, "/a"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("want connection refused, got %v", err)
		}
	})
}
