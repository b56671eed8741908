package httplimit

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTransport: an answer of exactly the limit is read whole; one byte
// more fails with a *TooLargeError that names the limit and is
// ErrTooLarge.
func TestTransport(t *testing.T) {
	const body = "0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		limit int64
		want  string // "" reads the body whole
	}{
		{int64(len(body)), ""},
		{int64(len(body)) + 1, ""},
		{int64(len(body)) - 1, "larger than the 9-byte limit"},
		{0, "larger than the 0-byte limit"},
	} {
		resp, err := Client(nil, tc.limit).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tc.want == "" {
			if err != nil || string(got) != body {
				t.Errorf("limit %d: %q, %v", tc.limit, got, err)
			}
			continue
		}
		var tl *TooLargeError
		if !errors.Is(err, ErrTooLarge) || !errors.As(err, &tl) || tl.Limit != tc.limit || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("limit %d: %v, want %q", tc.limit, err, tc.want)
		}
	}
	if got := (&TooLargeError{Limit: 16 << 20}).Error(); got != "the answer is larger than the 16 MiB limit" {
		t.Errorf("16 MiB: %q", got)
	}
}
