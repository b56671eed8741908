package remote

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// elsewhere is a server on another host:port than the API: it records the
// Authorization headers it is sent and answers every request with an
// empty JSON object.
type elsewhere struct {
	srv *httptest.Server

	mu   sync.Mutex
	seen []string // "METHOD PATH: Authorization" of each request that had one
	hits int
}

func newElsewhere(t *testing.T) *elsewhere {
	t.Helper()
	e := &elsewhere{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.hits++
		if a := r.Header.Get("Authorization"); a != "" {
			e.seen = append(e.seen, r.Method+" "+r.URL.Path+": "+a)
		}
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// redirectingAPI answers every request with a 302 to the same path on to.
func redirectingAPI(t *testing.T, to string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestGitHubToken_NotSentOnCrossHostRedirect: an API answer that
// redirects to another host must not hand that host the token, whichever
// API call follows it.
func TestGitHubToken_NotSentOnCrossHostRedirect(t *testing.T) {
	const token = "ghp_secretsecretsecret"
	file := tempFile(t, "{}")
	tests := []struct {
		name string
		call func(ctx context.Context, g *GitHub, api string) error
	}{
		{"fetch by digest", func(ctx context.Context, g *GitHub, _ string) error {
			_, err := g.ByDigest(ctx, Query{Repo: "o/r"}, digestN(1))
			return err
		}},
		{"fetch by owner", func(ctx context.Context, g *GitHub, _ string) error {
			_, err := g.ByDigest(ctx, Query{Owner: "o"}, digestN(1))
			return err
		}},
		{"bulk", func(ctx context.Context, g *GitHub, _ string) error {
			_, err := g.Bulk(ctx, Query{Owner: "o"}, []string{digestN(1), digestN(2)})
			return err
		}},
		{"GET /meta", func(ctx context.Context, g *GitHub, _ string) error {
			_, err := g.TrustDomain(ctx)
			return err
		}},
		{"release by tag", func(ctx context.Context, g *GitHub, _ string) error {
			_, err := g.ReleaseByTag(ctx, "o/r", "v1")
			return err
		}},
		{"release assets listing", func(ctx context.Context, g *GitHub, _ string) error {
			_, err := g.ReleaseAssets(ctx, &Release{ID: 1, Tag: "v1", Repo: "o/r"})
			return err
		}},
		{"release asset download", func(ctx context.Context, g *GitHub, _ string) error {
			_, err := g.DownloadReleaseAsset(ctx, &Release{ID: 1, Tag: "v1", Repo: "o/r"}, Asset{ID: 2, Name: "a"}, io.Discard, DownloadOptions{})
			return err
		}},
		{"attestation upload", func(ctx context.Context, g *GitHub, _ string) error {
			_, err := g.Upload(ctx, "o/r", []byte("{}"))
			return err
		}},
		{"release asset upload", func(ctx context.Context, g *GitHub, api string) error {
			rel := &Release{ID: 1, Tag: "v1", Repo: "o/r", UploadURL: api + "/repos/o/r/releases/1/assets"}
			_, err := g.UploadReleaseAsset(ctx, rel, "a.sigstore.json", file, "application/json")
			return err
		}},
		{"release asset delete", func(ctx context.Context, g *GitHub, _ string) error {
			return g.DeleteReleaseAsset(ctx, &Release{ID: 1, Tag: "v1", Repo: "o/r"}, Asset{ID: 2, Name: "a"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := newElsewhere(t)
			api := redirectingAPI(t, other.srv.URL)
			g, err := NewGitHub(GitHubOptions{HTTPClient: api.Client(), APIURL: api.URL + "/", Token: token})
			if err != nil {
				t.Fatal(err)
			}
			_ = tt.call(context.Background(), g, api.URL) // the answer does not matter, what was sent does
			other.mu.Lock()
			defer other.mu.Unlock()
			if len(other.seen) > 0 {
				t.Errorf("the other host was sent Authorization: %s", strings.Join(other.seen, "; "))
			}
			if other.hits == 0 {
				t.Errorf("the redirect was not followed: the test tests nothing")
			}
		})
	}
}

// TestAuthTransport_Hosts: the token goes to the API's host and its
// uploads host over the API's scheme, to nothing else (a look-alike host,
// another port, the asset storage, a downgrade to http).
func TestAuthTransport_Hosts(t *testing.T) {
	tests := []struct {
		api, target string
		want        bool
	}{
		{"https://api.github.com/", "https://api.github.com/repos/o/r", true},
		{"https://api.github.com/", "https://API.github.com:443/meta", true},
		{"https://api.github.com/", "https://uploads.github.com/repos/o/r/releases/1/assets", true},
		{"https://api.github.com/", "http://api.github.com/meta", false},
		{"https://api.github.com/", "https://objects.githubusercontent.com/x", false},
		{"https://api.github.com/", "https://release-assets.githubusercontent.com/x", false},
		{"https://api.github.com/", "https://github.com/o/r", false},
		{"https://api.github.com/", "https://api.github.com.evil.example/meta", false},
		{"https://api.github.com/", "https://api.github.com:8443/meta", false},
		{"https://api.acme.ghe.com/", "https://uploads.acme.ghe.com/x", true},
		{"https://api.acme.ghe.com/", "https://uploads.github.com/x", false},
		{"https://ghes.example/api/v3/", "https://ghes.example/api/uploads/x", true},
		{"https://ghes.example/api/v3/", "https://uploads.ghes.example/x", false},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8081/x", false},
		{"http://127.0.0.1:8080/", "http://localhost:8080/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			var got string
			tr := newAuthTransport(roundTrip(func(r *http.Request) (*http.Response, error) {
				got = r.Header.Get("Authorization")
				return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
			}), "tok", mustURL(t, tt.api))
			req, _ := http.NewRequest(http.MethodGet, tt.target, nil)
			req.Header.Set("Authorization", "Bearer stale")
			if _, err := tr.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.want {
				want = "Bearer tok"
			}
			if got != want {
				t.Errorf("Authorization %q, want %q", got, want)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
