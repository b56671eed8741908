// Package githubtest is a loopback stand-in for GitHub's artifact
// attestations REST API, for tests only: it answers as GitHub's REST
// documentation says (status codes, Link and page_info pagination,
// x-ratelimit-* headers with 403 and 429 and retry-after, 422 for an invalid
// bundle, unauthenticated access to public repositories only) and serves
// bundles behind short-lived signed bundle_url links, raw-snappy
// compressed, as GitHub does today. It is not linked into the binary.
package githubtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SupportedAPIVersions are the X-GitHub-Api-Version values answered; any
// other is refused with 400, as GitHub does.
var SupportedAPIVersions = []string{"2022-11-28", "2026-03-10"}

// Server is the stand-in API. Its exported methods set it up and inspect
// what it was asked; they are safe for concurrent use.
type Server struct {
	// URL is the API root, with a trailing slash.
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	repos    map[string]*repo  // "owner/name"
	owners   map[string]string // owner → "orgs" or "users"
	tokens   map[string]bool   // token → may write attestations
	atts     []*stored
	faults   []Fault
	requests []Request
	inline   bool
	limit    int // primary limit an hour, unauthenticated
	used     int
	reset    time.Time
	sig      string
	nextID   int64

	releases    releaseStore // releases.go
	trustDomain string       // GET /meta
}

type repo struct {
	owner, name string
	id          int64
	private     bool
}

type stored struct {
	id            int64
	repo          *repo
	digests       []string
	predicateType string
	bundle        []byte
	initiator     string
}

// Request is one request the server saw.
type Request struct {
	Method, Path string
	// Authorization is whether the request carried an Authorization header.
	Authorization bool
	// APIVersion is its X-GitHub-Api-Version header.
	APIVersion string
}

// Fault is an answer the server gives instead of the real one, to the
// next Times requests whose path contains Path.
type Fault struct {
	// Path selects requests by a substring of their path ("" any).
	Path string
	// Status is the answer's status: 403, 429, 500, 503…
	Status int
	// RetryAfter, when set, is sent as the retry-after header (seconds).
	RetryAfter string
	// Secondary marks a secondary rate limit (message and documentation_url).
	Secondary bool
	// Primary marks an exhausted primary rate limit (x-ratelimit-remaining: 0).
	Primary bool
	// Delay holds the answer back, for timeouts.
	Delay time.Duration
	// Times is how many requests get it (default 1).
	Times int
}

// New starts a server; it stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{repos: map[string]*repo{}, owners: map[string]string{}, tokens: map[string]bool{},
		limit: 60, sig: randomHex(), nextID: 1000}
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL + "/"
	t.Cleanup(s.srv.Close)
	return s
}

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// AddRepo creates OWNER/NAME (owner an organization when org) and returns
// its id. Private repositories are seen only with a token.
func (s *Server) AddRepo(fullName string, org, private bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, name, _ := strings.Cut(fullName, "/")
	kind := "users"
	if org {
		kind = "orgs"
	}
	s.owners[owner] = kind
	s.nextID++
	s.repos[fullName] = &repo{owner: owner, name: name, id: s.nextID, private: private}
	return s.nextID
}

// AddToken makes a token valid; write lets it upload attestations.
func (s *Server) AddToken(token string, write bool) {
	s.mu.Lock()
	s.tokens[token] = write
	s.mu.Unlock()
}

// SetInline serves bundles inline (the older answer) instead of through
// bundle_url.
func (s *Server) SetInline(inline bool) {
	s.mu.Lock()
	s.inline = inline
	s.mu.Unlock()
}

// SetRateLimit sets the unauthenticated requests an hour (default 60).
func (s *Server) SetRateLimit(n int) {
	s.mu.Lock()
	s.limit = n
	s.mu.Unlock()
}

// ExpireBundleURLs makes every bundle_url handed out so far invalid.
func (s *Server) ExpireBundleURLs() {
	s.mu.Lock()
	s.sig = randomHex()
	s.mu.Unlock()
}

// Fail queues a fault.
func (s *Server) Fail(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// Add stores a bundle as an attestation of a repository, as an upload
// would, with an initiator ("user" or "github"). It returns the id.
func (s *Server) Add(fullName string, bundle []byte, initiator string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[fullName]
	if !ok {
		return 0, fmt.Errorf("no repository %s", fullName)
	}
	return s.store(r, bundle, initiator)
}

func (s *Server) store(r *repo, bundle []byte, initiator string) (int64, error) {
	digests, pt, err := subjects(bundle)
	if err != nil {
		return 0, err
	}
	s.nextID++
	s.atts = append(s.atts, &stored{id: s.nextID, repo: r, digests: digests, predicateType: pt, bundle: bundle, initiator: initiator})
	return s.nextID, nil
}

// Requests returns the requests seen so far, blob downloads included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// APIRequests counts the requests seen that were not bundle or asset
// storage downloads.
func (s *Server) APIRequests() int {
	n := 0
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.Path, "/blobs/") && !strings.HasPrefix(r.Path, "/storage/") {
			n++
		}
	}
	return n
}

// subjects reads what GitHub indexes a bundle by: its DSSE statement's
// subject digests and predicate type. Anything else is an invalid bundle.
func subjects(bundle []byte) ([]string, string, error) {
	var b struct {
		MediaType    string `json:"mediaType"`
		DSSEEnvelope *struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
		VerificationMaterial json.RawMessage `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		return nil, "", fmt.Errorf("bundle is not a JSON object: %w", err)
	}
	if !strings.HasPrefix(b.MediaType, "application/vnd.dev.sigstore.bundle") || b.DSSEEnvelope == nil || len(b.VerificationMaterial) == 0 {
		return nil, "", fmt.Errorf("not a Sigstore bundle with a DSSE envelope")
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		return nil, "", fmt.Errorf("DSSE payload: %w", err)
	}
	var st struct {
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil || len(st.Subject) == 0 || st.PredicateType == "" {
		return nil, "", fmt.Errorf("DSSE payload is not an in-toto statement with subjects")
	}
	var out []string
	for _, sub := range st.Subject {
		for alg, h := range sub.Digest {
			out = append(out, alg+":"+strings.ToLower(h))
		}
	}
	return out, st.PredicateType, nil
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// routes is the API, behind the checks every request goes through.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repos/{owner}/{repo}/attestations", s.upload)
	mux.HandleFunc("GET /repos/{owner}/{repo}/attestations/{digest}", s.listRepo)
	mux.HandleFunc("GET /orgs/{owner}/attestations/{digest}", s.listOwner("orgs"))
	mux.HandleFunc("GET /users/{owner}/attestations/{digest}", s.listOwner("users"))
	mux.HandleFunc("POST /orgs/{owner}/attestations/bulk-list", s.bulk("orgs"))
	mux.HandleFunc("POST /users/{owner}/attestations/bulk-list", s.bulk("users"))
	mux.HandleFunc("GET /blobs/{name}", s.blob)
	mux.HandleFunc("GET /repos/{owner}/{repo}/releases/tags/{tag}", s.getReleaseByTag)
	mux.HandleFunc("GET /repos/{owner}/{repo}/releases/{a}/{b}", s.releaseGet)
	mux.HandleFunc("POST /api/uploads/repos/{owner}/{repo}/releases/{id}/assets", s.uploadAsset)
	mux.HandleFunc("DELETE /repos/{owner}/{repo}/releases/assets/{id}", s.deleteAsset)
	mux.HandleFunc("GET /storage/{id}", s.storageBlob)
	mux.HandleFunc("GET /meta", s.meta)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path,
			Authorization: r.Header.Get("Authorization") != "", APIVersion: r.Header.Get("X-GitHub-Api-Version")})
		s.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/blobs/") || strings.HasPrefix(r.URL.Path, "/storage/") {
			mux.ServeHTTP(w, r)
			return
		}
		if !s.admit(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// admit applies faults, the API version, the token and the rate limit.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	if f, ok := s.popFault(r.URL.Path); ok {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return false
			}
		}
		s.answerFault(w, f)
		return false
	}
	if v := r.Header.Get("X-GitHub-Api-Version"); v != "" && !contains(SupportedAPIVersions, v) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Unsupported 'X-GitHub-Api-Version' header: %q", v), nil)
		return false
	}
	if _, _, ok := s.auth(r); !ok {
		writeError(w, http.StatusUnauthorized, "Bad credentials", nil)
		return false
	}
	_, authed, _ := s.auth(r)
	s.mu.Lock()
	now := time.Now()
	if s.reset.Before(now) {
		s.reset, s.used = now.Add(time.Hour), 0
	}
	limit := s.limit
	if authed {
		limit = 5000
	}
	over := !authed && s.used >= limit
	if !over && !authed {
		s.used++
	}
	used, reset := s.used, s.reset
	s.mu.Unlock()
	if authed {
		used = 1
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	if over {
		writeError(w, http.StatusForbidden, "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)", nil)
		return false
	}
	return true
}

func (s *Server) popFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if strings.Contains(path, f.Path) {
			s.faults[i].Times--
			if s.faults[i].Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f, true
		}
	}
	return Fault{}, false
}

func (s *Server) answerFault(w http.ResponseWriter, f Fault) {
	h := w.Header()
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	switch {
	case f.Primary:
		h.Set("X-RateLimit-Limit", "60")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", "60")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(30*time.Minute).Unix(), 10))
		writeError(w, f.Status, "API rate limit exceeded for 127.0.0.1.", nil)
	case f.Secondary:
		writeErrorDoc(w, f.Status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
	default:
		writeError(w, f.Status, http.StatusText(f.Status), nil)
	}
}

// auth returns the request's token, whether it carries a valid one, and
// false for a token the server does not know.
func (s *Server) auth(r *http.Request) (write, authed, ok bool) {
	a := r.Header.Get("Authorization")
	if a == "" {
		return false, false, true
	}
	tok := strings.TrimPrefix(strings.TrimPrefix(a, "Bearer "), "token ")
	s.mu.Lock()
	defer s.mu.Unlock()
	w, known := s.tokens[tok]
	return w, known, known
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string, errs []map[string]string) {
	body := map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)}
	if errs != nil {
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}

func writeErrorDoc(w http.ResponseWriter, status int, msg, doc string) {
	writeJSON(w, status, map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}

// link builds an absolute URL on the server for a Link header.
func (s *Server) link(path string, q url.Values) string {
	return strings.TrimSuffix(s.URL, "/") + path + "?" + q.Encode()
}

// Close stops the server before the test ends (to test an unreachable API).
func (s *Server) Close() { s.srv.Close() }
