package remote

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/provenant/provenant/remote/githubtest"
)

const (
	writeToken = "ghs_writewritewrite"
	readToken  = "ghp_readreadread"
)

// fakeBundle is a bundle-shaped document GitHub would index (its signature
// is not checked here: this package moves bundles, the verifier checks them).
func fakeBundle(t testing.TB, predicateType string, digests ...string) []byte {
	t.Helper()
	var subjects []map[string]any
	for _, d := range digests {
		alg, h, _ := strings.Cut(d, ":")
		subjects = append(subjects, map[string]any{"name": "f", "digest": map[string]string{alg: h}})
	}
	st, _ := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v1", "subject": subjects, "predicateType": predicateType, "predicate": map[string]any{}})
	b, _ := json.Marshal(map[string]any{
		"mediaType":            "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{"certificate": map[string]string{"rawBytes": "MA=="}},
		"dsseEnvelope":         map[string]any{"payload": base64.StdEncoding.EncodeToString(st), "payloadType": "application/vnd.in-toto+json", "signatures": []any{}},
	})
	return b
}

func digestN(i int) string { return fmt.Sprintf("sha256:%064x", i) }

const slsa = "https://slsa.dev/provenance/v1"

// recordSleep is an injected pause that returns at once and records.
type recordSleep struct {
	mu     sync.Mutex
	pauses []time.Duration
	real   bool
}

func (r *recordSleep) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.pauses = append(r.pauses, d)
	r.mu.Unlock()
	if r.real {
		return sleepCtx(ctx, d)
	}
	return nil
}

func newTestClient(t *testing.T, s *githubtest.Server, token string, o GitHubOptions) *GitHub {
	t.Helper()
	o.HTTPClient, o.APIURL, o.Token = s.Client(), s.URL, token
	g, err := NewGitHub(o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestUpload(t *testing.T) {
	good := fakeBundle(t, slsa, digestN(1))
	tests := []struct {
		name, repo, token string
		bundle            []byte
		want              []string // in the error, or nil for success
	}{
		{"write token", "octo-org/app", writeToken, good, nil},
		{"no token", "octo-org/app", "", good, []string{"401", "authentication required"}},
		{"read-only token", "octo-org/app", readToken, good, []string{"403", "attestations: write"}},
		{"unknown token", "octo-org/app", "ghp_nope", good, []string{"401", "token was refused"}},
		{"no such repository", "octo-org/gone", writeToken, good, []string{"404", "no such repository"}},
		{"invalid bundle", "octo-org/app", writeToken, []byte(`{"mediaType":"text/plain"}`), []string{"422", "bundle was refused", "bundle invalid"}},
		{"not a repository name", "octo-org/app/../x", writeToken, good, []string{"want OWNER/NAME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := githubtest.New(t)
			s.AddRepo("octo-org/app", true, false)
			s.AddToken(writeToken, true)
			s.AddToken(readToken, false)
			g := newTestClient(t, s, tt.token, GitHubOptions{ServerURL: "https://github.com"})
			up, err := g.Upload(context.Background(), tt.repo, tt.bundle)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if up.ID == 0 || up.URL != fmt.Sprintf("https://github.com/octo-org/app/attestations/%d", up.ID) {
					t.Fatalf("uploaded %+v", up)
				}
				got, err := g.ByDigest(context.Background(), Query{Repo: "octo-org/app"}, digestN(1))
				if err != nil || len(got) != 1 || string(got[0].Bundle) != string(good) {
					t.Fatalf("read back %d attestations, %v", len(got), err)
				}
				return
			}
			if err == nil {
				t.Fatalf("uploaded %+v, want an error", up)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q shows the token", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

func TestRequests_SendAPIVersion(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octo-org/app", true, false)
	s.Add("octo-org/app", fakeBundle(t, slsa, digestN(1)), "user")
	g := newTestClient(t, s, "", GitHubOptions{})
	if _, err := g.ByDigest(context.Background(), Query{Repo: "octo-org/app"}, digestN(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Bulk(context.Background(), Query{Owner: "octo-org"}, []string{digestN(1)}); err != nil {
		t.Fatal(err)
	}
	api := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Path, "/blobs/") {
			continue
		}
		api++
		if r.APIVersion != APIVersion {
			t.Errorf("%s %s: X-GitHub-Api-Version %q, want %q", r.Method, r.Path, r.APIVersion, APIVersion)
		}
	}
	if api != 2 {
		t.Fatalf("%d API requests, want 2", api)
	}
}

func TestByDigest_PaginationPast100(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octo-org/app", true, false)
	for i := 0; i < 250; i++ {
		if _, err := s.Add("octo-org/app", fakeBundle(t, slsa, digestN(7), digestN(10000+i)), "user"); err != nil {
			t.Fatal(err)
		}
	}
	s.SetInline(true)
	tests := []struct {
		limit, want, requests int
	}{
		{0, 30, 1},     // gh's default
		{100, 100, 1},  // one full page
		{120, 120, 2},  // past 100
		{1000, 250, 3}, // every page
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			before := s.APIRequests()
			g := newTestClient(t, s, "", GitHubOptions{})
			got, err := g.ByDigest(context.Background(), Query{Repo: "octo-org/app", Limit: tt.limit}, digestN(7))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("%d attestations, want %d", len(got), tt.want)
			}
			if n := s.APIRequests() - before; n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			seen := map[string]bool{}
			for _, a := range got {
				if seen[string(a.Bundle)] {
					t.Fatal("an attestation came twice: pages overlap")
				}
				seen[string(a.Bundle)] = true
			}
		})
	}
	g := newTestClient(t, s, "", GitHubOptions{})
	if _, err := g.ByDigest(context.Background(), Query{Repo: "octo-org/app", Limit: 1001}, digestN(7)); err == nil {
		t.Fatal("limit 1001 accepted")
	}
}

func TestByDigest_BundleURLAndInline(t *testing.T) {
	for _, inline := range []bool{false, true} {
		t.Run(fmt.Sprintf("inline=%v", inline), func(t *testing.T) {
			s := githubtest.New(t)
			s.AddRepo("octo-org/app", true, false)
			s.AddToken(readToken, false)
			b := fakeBundle(t, slsa, digestN(1))
			s.Add("octo-org/app", b, "user")
			s.Add("octo-org/app", fakeBundle(t, "https://in-toto.io/attestation/release/v0.2", digestN(1)), "github")
			s.SetInline(inline)
			g := newTestClient(t, s, readToken, GitHubOptions{})
			got, err := g.ByDigest(context.Background(), Query{Repo: "octo-org/app"}, digestN(1))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || string(got[0].Bundle) != string(b) {
				t.Fatalf("got %d attestations, first %.60s", len(got), got[0].Bundle)
			}
			if got[0].Initiator != InitiatorUser || got[1].Initiator != InitiatorGitHub {
				t.Errorf("initiators %q, %q: GitHub's release attestation must stay marked", got[0].Initiator, got[1].Initiator)
			}
			blobs := 0
			for _, r := range s.Requests() {
				if strings.HasPrefix(r.Path, "/blobs/") {
					blobs++
					if r.Authorization {
						t.Errorf("the token went to the signed bundle URL %s", r.Path)
					}
				} else if !r.Authorization {
					t.Errorf("API request %s without the token", r.Path)
				}
			}
			if want := map[bool]int{false: 2, true: 0}[inline]; blobs != want {
				t.Errorf("%d bundle downloads, want %d", blobs, want)
			}
		})
	}
}

func TestByDigest_ExpiredBundleURL(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octo-org/app", true, false)
	s.Add("octo-org/app", fakeBundle(t, slsa, digestN(1)), "user")
	// A proxy that lets the listing through but expires the URL first.
	g := newTestClient(t, s, "", GitHubOptions{})
	g.dl = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		s.ExpireBundleURLs()
		return s.Client().Transport.RoundTrip(r)
	})}
	_, err := g.ByDigest(context.Background(), Query{Repo: "octo-org/app"}, digestN(1))
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "short-lived") {
		t.Fatalf("err = %v, want a 403 on the bundle URL saying to run again", err)
	}
	if strings.Contains(err.Error(), "sig=") {
		t.Errorf("error %q shows the URL's signature", err)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestByDigest_OwnerOrgThenUser(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octocat/tool", false, false)
	s.Add("octocat/tool", fakeBundle(t, slsa, digestN(1)), "user")
	s.Add("octocat/tool", fakeBundle(t, slsa, digestN(2)), "user")
	s.SetInline(true)
	g := newTestClient(t, s, "", GitHubOptions{})
	for _, d := range []string{digestN(1), digestN(2)} {
		got, err := g.ByDigest(context.Background(), Query{Owner: "octocat"}, d)
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %d attestations, %v", d, len(got), err)
		}
	}
	var paths []string
	for _, r := range s.Requests() {
		paths = append(paths, r.Path)
	}
	want := []string{"/orgs/octocat/attestations/" + digestN(1), "/users/octocat/attestations/" + digestN(1), "/users/octocat/attestations/" + digestN(2)}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("requests %v, want %v (users after one 404, then remembered)", paths, want)
	}
}

func TestByDigest_PrivateRepositoryNeedsToken(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octo-org/secret", true, true)
	s.AddToken(readToken, false)
	s.Add("octo-org/secret", fakeBundle(t, slsa, digestN(1)), "user")
	tests := []struct {
		token string
		want  string // error text, or "" for found
	}{
		{"", "private? give a token (GH_TOKEN)"},
		{readToken, ""},
	}
	for _, tt := range tests {
		g := newTestClient(t, s, tt.token, GitHubOptions{})
		for _, q := range []Query{{Repo: "octo-org/secret"}, {Owner: "octo-org"}} {
			got, err := g.ByDigest(context.Background(), q, digestN(1))
			switch {
			case tt.want == "" && (err != nil || len(got) != 1):
				t.Errorf("token %q, %+v: %d attestations, %v", tt.token, q, len(got), err)
			case tt.want != "" && (err == nil || !IsNotFound(err) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("token %q, %+v: err = %v, want a 404 saying %q", tt.token, q, err, tt.want)
			}
		}
	}
}

func TestBulk_500Digests(t *testing.T) {
	s := githubtest.New(t)
	s.AddRepo("octo-org/app", true, false)
	var digests []string
	for i := 0; i < 500; i++ {
		d := digestN(i)
		digests = append(digests, d)
		s.Add("octo-org/app", fakeBundle(t, slsa, d), "user")
		s.Add("octo-org/app", fakeBundle(t, "https://spdx.dev/Document", d), "user")
	}
	none := digestN(99999)
	digests = append(digests, none)
	g := newTestClient(t, s, "", GitHubOptions{})
	got, err := g.Bulk(context.Background(), Query{Repo: "octo-org/app"}, digests)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range digests[:500] {
		if len(got[d]) != 2 {
			t.Fatalf("%s: %d attestations, want 2", d, len(got[d]))
		}
	}
	if a, ok := got[none]; !ok || a != nil {
		t.Errorf("a digest without attestations: %v, %v; want a nil entry", a, ok)
	}
	// 6 chunks of at most 100 digests; 200 attestations a chunk at 100 a
	// page: 2 pages each but the last (none). Not 500 requests.
	if n := s.APIRequests(); n != 11 {
		t.Errorf("%d API requests for 501 digests, want 11", n)
	}
	// The predicate filter goes to the server.
	before := s.APIRequests()
	got, err = g.Bulk(context.Background(), Query{Owner: "octo-org", PredicateType: "sbom"}, digests[:100])
	if err != nil {
		t.Fatal(err)
	}
	if len(got[digests[0]]) != 1 || s.APIRequests()-before != 1 {
		t.Errorf("sbom filter: %d attestations in %d requests, want 1 in 1", len(got[digests[0]]), s.APIRequests()-before)
	}
}

func TestRemoteFailures(t *testing.T) {
	tests := []struct {
		name     string
		fault    githubtest.Fault
		real     bool     // the pause really waits (go-github holds back requests during a secondary limit)
		pauses   []string // pauses taken
		want     []string // in the error; nil: the retry succeeded
		timeout  time.Duration
		maxPause time.Duration
	}{
		{name: "403 secondary, retry-after 1", fault: githubtest.Fault{Status: 403, Secondary: true, RetryAfter: "1"}, real: true, pauses: []string{"1s"}},
		{name: "429 retry-after 1", fault: githubtest.Fault{Status: 429, RetryAfter: "1"}, pauses: []string{"1s"}},
		{name: "429 without retry-after waits a minute", fault: githubtest.Fault{Status: 429}, pauses: []string{"1m0s"}},
		{name: "429 retry-after past the longest pause", fault: githubtest.Fault{Status: 429, RetryAfter: "3600"}, want: []string{"429", "wait a minute"}},
		{name: "secondary limit that does not lift", fault: githubtest.Fault{Status: 429, RetryAfter: "2", Times: 10}, pauses: []string{"2s", "2s", "2s"}, want: []string{"429"}},
		{name: "403 primary", fault: githubtest.Fault{Status: 403, Primary: true}, want: []string{"403", "rate limit exhausted", "resets at", "a token (GH_TOKEN) raises"}},
		{name: "429 primary", fault: githubtest.Fault{Status: 429, Primary: true}, want: []string{"429", "rate limit exhausted", "resets at"}},
		{name: "500", fault: githubtest.Fault{Status: 500}, want: []string{"500", "failed on its side"}},
		{name: "503", fault: githubtest.Fault{Status: 503}, want: []string{"503"}},
		{name: "timeout", fault: githubtest.Fault{Status: 200, Delay: 5 * time.Second}, timeout: 200 * time.Millisecond, want: []string{"no answer in time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := githubtest.New(t)
			s.AddRepo("octo-org/app", true, false)
			s.Add("octo-org/app", fakeBundle(t, slsa, digestN(1)), "user")
			s.SetInline(true)
			s.Fail(tt.fault)
			rec := &recordSleep{real: tt.real}
			hc := s.Client()
			hc.Timeout = tt.timeout
			g, err := NewGitHub(GitHubOptions{HTTPClient: hc, APIURL: s.URL, Sleep: rec.sleep, MaxPause: tt.maxPause})
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.ByDigest(context.Background(), Query{Repo: "octo-org/app"}, digestN(1))
			var pauses []string
			for _, p := range rec.pauses {
				pauses = append(pauses, p.Round(time.Second).String())
			}
			if strings.Join(pauses, ",") != strings.Join(tt.pauses, ",") {
				t.Errorf("pauses %v, want %v", pauses, tt.pauses)
			}
			if tt.want == nil {
				if err != nil || len(got) != 1 {
					t.Fatalf("after the pause: %d attestations, %v", len(got), err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range append(tt.want, "127.0.0.1") {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestUnreachableNamesTheHost(t *testing.T) {
	s := githubtest.New(t)
	url := s.URL
	g := newTestClient(t, s, "", GitHubOptions{})
	s.Close()
	_, err := g.ByDigest(context.Background(), Query{Repo: "o/r"}, digestN(1))
	if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")) {
		t.Fatalf("err = %v, want it to name the unreachable host", err)
	}
}

func TestDecodeBundle(t *testing.T) {
	doc := []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`)
	huge := snappy.Encode(nil, make([]byte, MaxBundleSize+1))
	tests := []struct {
		name string
		in   []byte
		want string // error text, "" for doc back
	}{
		{"snappy", snappy.Encode(nil, doc), ""},
		{"plain JSON", doc, ""},
		{"decodes past 16 MiB", huge, "larger than 16 MiB"},
		{"snappy of something not JSON", snappy.Encode(nil, []byte("hello")), "not JSON"},
		{"garbage", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "neither JSON nor snappy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBundle(tt.in)
			switch {
			case tt.want == "" && (err != nil || string(got) != string(doc)):
				t.Fatalf("got %q, %v", got, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAPIURLs(t *testing.T) {
	tests := []struct{ host, api, web string }{
		{"github.com", "https://api.github.com/", "https://github.com"},
		{"", "https://api.github.com/", "https://github.com"},
		{"octo.ghe.com", "https://api.octo.ghe.com/", "https://octo.ghe.com"},
		{"ghes.example.com", "https://ghes.example.com/api/v3/", "https://ghes.example.com"},
		{"https://ghes.example.com/", "https://ghes.example.com/api/v3/", "https://ghes.example.com"},
	}
	for _, tt := range tests {
		api := APIURLForHost(tt.host)
		g, err := NewGitHub(GitHubOptions{APIURL: api})
		if err != nil {
			t.Fatal(err)
		}
		if api != tt.api || g.server != tt.web {
			t.Errorf("%q: API %s web %s, want %s %s", tt.host, api, g.server, tt.api, tt.web)
		}
	}
	if _, err := NewGitHub(GitHubOptions{APIURL: "ftp://x"}); err == nil {
		t.Error("ftp API URL accepted")
	}
}
