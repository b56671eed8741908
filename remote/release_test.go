package remote

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/remote/githubtest"
)

const relRepo = "octo-org/octo-repo"

// releaseServer is a stand-in with a public repository, a write and a
// read token, and a release v1.0.0.
func releaseServer(t *testing.T) *githubtest.Server {
	t.Helper()
	s := githubtest.New(t)
	s.AddRepo(relRepo, true, false)
	s.AddToken(writeToken, true)
	s.AddToken(readToken, false)
	if _, err := s.AddRelease(relRepo, "v1.0.0"); err != nil {
		t.Fatal(err)
	}
	return s
}

func releaseClient(t *testing.T, s *githubtest.Server, token string) *GitHub {
	t.Helper()
	g, err := NewGitHub(GitHubOptions{HTTPClient: s.Client(), APIURL: s.URL, Token: token, Sleep: (&recordSleep{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func tempFile(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bundle.sigstore.json")
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAttachToRelease(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		tag       string
		existing  string // an asset already there
		overwrite bool
		setup     func(*githubtest.Server)
		wantErr   string
		wantNames []string // the release's assets afterwards
	}{
		{name: "two assets", token: writeToken, tag: "v1.0.0", wantNames: []string{"a.tgz.sigstore.json", "b.tgz.sigstore.json"}},
		{name: "existing refused, nothing uploaded", token: writeToken, tag: "v1.0.0", existing: "b.tgz.sigstore.json",
			wantErr: "asset b.tgz.sigstore.json already exists", wantNames: []string{"b.tgz.sigstore.json"}},
		{name: "existing replaced with overwrite", token: writeToken, tag: "v1.0.0", existing: "b.tgz.sigstore.json", overwrite: true,
			wantNames: []string{"a.tgz.sigstore.json", "b.tgz.sigstore.json"}},
		{name: "unknown tag", token: writeToken, tag: "v9", wantErr: "answered 404 Not Found (Not Found): no release tagged v9"},
		{name: "read-only token", token: readToken, tag: "v1.0.0", wantErr: "permissions: contents: write"},
		{name: "no token", tag: "v1.0.0", wantErr: "answered 401"},
		{name: "upload_url on another host", token: writeToken, tag: "v1.0.0",
			setup: func(s *githubtest.Server) {
				s.SetUploadURL(func(u string) string { return strings.Replace(u, "127.0.0.1", "evil.example", 1) })
			}, wantErr: "on another host than the API"},
		{name: "upload_url for another release", token: writeToken, tag: "v1.0.0",
			setup: func(s *githubtest.Server) {
				s.SetUploadURL(func(u string) string { return strings.Replace(u, "/octo-org/", "/other/", 1) })
			}, wantErr: "is not for release"},
		{name: "upload_url with credentials", token: writeToken, tag: "v1.0.0",
			setup: func(s *githubtest.Server) {
				s.SetUploadURL(func(u string) string { return strings.Replace(u, "http://", "http://x:y@", 1) })
			}, wantErr: "carries credentials"},
		{name: "uploads failing", token: writeToken, tag: "v1.0.0",
			setup:   func(s *githubtest.Server) { s.Fail(githubtest.Fault{Path: "/api/uploads/", Status: 502}) },
			wantErr: "answered 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := releaseServer(t)
			if tt.existing != "" {
				s.AddAsset(relRepo, "v1.0.0", tt.existing, []byte("old"))
			}
			if tt.setup != nil {
				tt.setup(s)
			}
			g := releaseClient(t, s, tt.token)
			path := tempFile(t, `{"new":true}`)
			up, err := g.AttachToRelease(context.Background(), AttachOptions{Repo: relRepo, Tag: tt.tag,
				Names: []string{"a.tgz.sigstore.json", "b.tgz.sigstore.json", "a.tgz.sigstore.json"}, Path: path,
				MediaType: "application/json", Overwrite: tt.overwrite})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), writeToken) || strings.Contains(err.Error(), readToken) {
					t.Error("a token in the message")
				}
			} else if err != nil || len(up) != 2 {
				t.Fatalf("uploaded %v, %v", up, err)
			}
			got := s.Assets(relRepo, "v1.0.0")
			if len(got) != len(tt.wantNames) {
				t.Fatalf("assets %v, want %v", keys(got), tt.wantNames)
			}
			for _, n := range tt.wantNames {
				want := `{"new":true}`
				if err != nil {
					want = "old"
				}
				if string(got[n]) != want {
					t.Errorf("%s = %q, want %q", n, got[n], want)
				}
			}
		})
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSameUploadHost(t *testing.T) {
	tests := []struct {
		upload, api string
		want        bool
	}{
		{"uploads.github.com", "api.github.com", true},
		{"uploads.acme.ghe.com", "api.acme.ghe.com", true},
		{"ghes.example", "ghes.example", true},
		{"127.0.0.1:8080", "127.0.0.1:8080", true},
		{"UPLOADS.github.com", "api.github.com", true},
		{"uploads.github.com.evil", "api.github.com", false},
		{"evil.github.com", "api.github.com", false},
		{"uploads.ghes.example", "ghes.example", false},
		{"127.0.0.1:8081", "127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		if got := sameUploadHost(tt.upload, tt.api); got != tt.want {
			t.Errorf("sameUploadHost(%q, %q) = %v", tt.upload, tt.api, got)
		}
	}
}

func TestReleaseAssets_PaginationPast100(t *testing.T) {
	s := releaseServer(t)
	for i := 0; i < 250; i++ {
		s.AddAsset(relRepo, "v1.0.0", fmt.Sprintf("f%03d", i), []byte{byte(i)})
	}
	g := releaseClient(t, s, "")
	rel, err := g.ReleaseByTag(context.Background(), relRepo, "v1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	before := s.APIRequests()
	assets, err := g.ReleaseAssets(context.Background(), rel)
	if err != nil {
		t.Fatal(err)
	}
	if len(assets) != 250 || assets[0].Name != "f000" || assets[249].Name != "f249" {
		t.Fatalf("%d assets", len(assets))
	}
	if n := s.APIRequests() - before; n != 3 {
		t.Errorf("%d list requests for 250 assets, want 3", n)
	}
}

func TestDownloadReleaseAsset(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		data    string
		max     int64
		size    int64 // as listed
		setup   func(*githubtest.Server)
		wantErr string
	}{
		{name: "through the redirect, no token to storage", token: readToken, data: "asset bytes"},
		{name: "larger than allowed", data: strings.Repeat("x", 100), max: 10, wantErr: "more than the 10 bytes allowed"},
		{name: "listed as larger than allowed", data: "x", size: 11, max: 10, wantErr: "listed as 11 bytes, more than the 10 allowed"},
		{name: "storage sends another size than listed", data: "0123456789", size: 5, wantErr: "got 10 bytes, the release lists 5"},
		{name: "storage refuses", data: "x",
			setup: func(s *githubtest.Server) {
				s.SetStorageRedirect(func(u string) string { return strings.Replace(u, "/storage/", "/storage/9", 1) })
			}, wantErr: "answered 404 Not Found: the asset's storage refused"},
		{name: "redirect to a non-http scheme", data: "x",
			setup: func(s *githubtest.Server) {
				s.SetStorageRedirect(func(string) string { return "file:///etc/passwd" })
			}, wantErr: "downloading asset"},
		{name: "storage signature expired", data: "x",
			setup: func(s *githubtest.Server) {
				s.SetStorageRedirect(func(u string) string { return strings.Replace(u, "sig=", "sig=stale", 1) })
			}, wantErr: "answered 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := releaseServer(t)
			id, _ := s.AddAsset(relRepo, "v1.0.0", "app.tgz", []byte(tt.data))
			if tt.setup != nil {
				tt.setup(s)
			}
			g := releaseClient(t, s, tt.token)
			rel, err := g.ReleaseByTag(context.Background(), relRepo, "v1.0.0")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n, err := g.DownloadReleaseAsset(context.Background(), rel, Asset{ID: id, Name: "app.tgz", Size: tt.size}, &buf, DownloadOptions{Client: s.Client(), MaxSize: tt.max})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || buf.String() != tt.data || n != int64(len(tt.data)) {
				t.Fatalf("got %q (%d), %v", buf.String(), n, err)
			}
			sawStorage := false
			for _, r := range s.Requests() {
				if strings.HasPrefix(r.Path, "/storage/") {
					sawStorage = true
					if r.Authorization {
						t.Error("the token went to the storage URL")
					}
				}
			}
			if !sawStorage {
				t.Error("no redirect to storage was followed")
			}
		})
	}
}

func TestCheckReleaseTag(t *testing.T) {
	for _, tag := range []string{"", "v1 2", "a..b", "../x", "/v1", "v1?x=1", "v1\n", "x.lock", "v1:2"} {
		if checkReleaseTag(tag) == nil {
			t.Errorf("tag %q accepted", tag)
		}
	}
	for _, tag := range []string{"v1.0.0", "release/2024-01", "v1.0.0-rc.1+build"} {
		if err := checkReleaseTag(tag); err != nil {
			t.Errorf("tag %q: %v", tag, err)
		}
	}
}
