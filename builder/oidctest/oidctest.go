// Package oidctest is a stand-in for GitHub Actions' OIDC token service, for
// tests and for the local Sigstore stack.
//
// It is its own package (and not part of builder) because it is the other side
// of the wire: it issues tokens that builder requests and verifies, and that a
// local Fulcio trusts. It serves, like GitHub does:
//
//   - the Actions token endpoint (GET with a bearer request token and an
//     optional audience parameter), answering {"count":1,"value":"<jwt>"};
//   - OIDC discovery at /.well-known/openid-configuration;
//   - the signing keys at /.well-known/jwks.
//
// Tokens carry every claim GitHub sets. The defaults (DefaultClaims) describe a
// push to refs/heads/main of octo-org/octo-repo by .github/workflows/release.yml
// on a GitHub-hosted runner. A test changes them for every token with
// Server.SetClaims, or for one token by appending a "claims" query parameter
// (URL-encoded JSON object) to the token request URL; a null value removes
// that claim.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Default facts of the simulated job. They are exported so tests can compare
// a statement's fields with the claims that produced it.
const (
	DefaultRepository        = "octo-org/octo-repo"
	DefaultRepositoryID      = "567891234"
	DefaultRepositoryOwner   = "octo-org"
	DefaultRepositoryOwnerID = "123456789"
	DefaultRef               = "refs/heads/main"
	DefaultSHA               = "a5e3d5bc0e4e0bd7bbb2c2b8c1fd0e6a2fd1b1c9"
	DefaultWorkflowRef       = DefaultRepository + "/.github/workflows/release.yml@" + DefaultRef
	DefaultRunID             = "9876543210"
	DefaultRunAttempt        = "1"
	DefaultAudience          = "https://github.com/octo-org"
)

// DefaultClaims returns the claims of a token for the default job, without
// the registered claims (iss, aud, iat, nbf, exp, jti) that the server adds.
func DefaultClaims() map[string]any {
	return map[string]any{
		"sub":                   "repo:" + DefaultRepository + ":ref:" + DefaultRef,
		"ref":                   DefaultRef,
		"ref_type":              "branch",
		"ref_protected":         "true",
		"sha":                   DefaultSHA,
		"repository":            DefaultRepository,
		"repository_id":         DefaultRepositoryID,
		"repository_owner":      DefaultRepositoryOwner,
		"repository_owner_id":   DefaultRepositoryOwnerID,
		"repository_visibility": "public",
		"actor":                 "octocat",
		"actor_id":              "583231",
		"event_name":            "push",
		"workflow":              "Release",
		"workflow_ref":          DefaultWorkflowRef,
		"workflow_sha":          DefaultSHA,
		"job_workflow_ref":      DefaultWorkflowRef,
		"job_workflow_sha":      DefaultSHA,
		"runner_environment":    "github-hosted",
		"run_id":                DefaultRunID,
		"run_number":            "42",
		"run_attempt":           DefaultRunAttempt,
		"head_ref":              "",
		"base_ref":              "",
	}
}

// Server is the token service. Create it with New; serve Handler with any
// http.Server, or use Start for a listener on loopback.
type Server struct {
	// Issuer is the token issuer and the base URL of discovery and JWKS.
	Issuer string
	// RequestToken is the bearer token the token endpoint requires, the
	// value of ACTIONS_ID_TOKEN_REQUEST_TOKEN.
	RequestToken string

	key   *rsa.PrivateKey
	keyID string

	mu       sync.Mutex
	claims   map[string]any
	failures []int // status codes answered before the next success
	now      func() time.Time
	requests int
}

// New returns a server for the given issuer URL with a fresh RSA key.
func New(issuer string) (*Server, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("oidctest: generating key: %w", err)
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("oidctest: request token: %w", err)
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	return &Server{
		Issuer:       strings.TrimSuffix(issuer, "/"),
		RequestToken: hex.EncodeToString(tok),
		key:          key,
		keyID:        hex.EncodeToString(sum[:8]),
		claims:       DefaultClaims(),
		now:          time.Now,
	}, nil
}

// Start listens on addr (for example "127.0.0.1:0"), serves in the background
// and returns the server, with Issuer set to http://<listen address>. Call the
// returned stop function to shut it down.
func Start(addr string) (*Server, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("oidctest: listen %s: %w", addr, err)
	}
	s, err := New("http://" + ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // returns when stopped
	return s, func() { hs.Close() }, nil
}

// TokenRequestURL is the value of ACTIONS_ID_TOKEN_REQUEST_URL for this
// server. Like GitHub's, it already carries a query string.
func (s *Server) TokenRequestURL() string {
	return s.Issuer + "/token?api-version=2.0"
}

// Env returns the variables a job sees: ACTIONS_ID_TOKEN_REQUEST_URL,
// ACTIONS_ID_TOKEN_REQUEST_TOKEN and OIDC_ISSUER.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   s.TokenRequestURL(),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": s.RequestToken,
		"OIDC_ISSUER":                    s.Issuer,
	}
}

// SetClaims merges claims into the claims of every later token (registered
// claims such as iss and exp included); a nil value removes a claim.
func (s *Server) SetClaims(claims map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mergeClaims(s.claims, claims)
}

// FailNext makes the token endpoint answer the given HTTP status codes, one
// per request, before it answers normally again.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, statuses...)
}

// Requests returns how many token requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Token mints a token for audience with the current claims merged with
// extra, as the token endpoint would.
func (s *Server) Token(audience string, extra map[string]any) (string, error) {
	s.mu.Lock()
	configured := maps.Clone(s.claims)
	now := s.now()
	s.mu.Unlock()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	if audience == "" {
		audience = DefaultAudience
	}
	claims := map[string]any{
		"iss": s.Issuer,
		"aud": audience,
		"iat": now.Unix(),
		"nbf": now.Add(-5 * time.Second).Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"jti": hex.EncodeToString(jti),
	}
	// Configured and per-token claims may override the registered ones.
	mergeClaims(claims, configured)
	mergeClaims(claims, extra)

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.keyID))
	if err != nil {
		return "", fmt.Errorf("oidctest: signer: %w", err)
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

func mergeClaims(dst, src map[string]any) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

// Handler serves the token endpoint, discovery and JWKS.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", s.serveToken)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks", s.serveJWKS)
	return mux
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var fail int
	if len(s.failures) > 0 {
		fail, s.failures = s.failures[0], s.failures[1:]
	}
	s.mu.Unlock()
	if fail != 0 {
		http.Error(w, http.StatusText(fail), fail)
		return
	}
	auth := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "bearer") || tok != s.RequestToken {
		http.Error(w, `{"message":"Unauthorized: bad or missing request token"}`, http.StatusUnauthorized)
		return
	}
	var extra map[string]any
	if c := r.URL.Query().Get("claims"); c != "" {
		if err := json.Unmarshal([]byte(c), &extra); err != nil {
			http.Error(w, "claims parameter: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	token, err := s.Token(r.URL.Query().Get("audience"), extra)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"count": 1, "value": token})
}

func (s *Server) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                s.Issuer,
		"jwks_uri":                              s.Issuer + "/.well-known/jwks",
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository", "repository_id", "repository_owner", "repository_owner_id", "run_id", "run_number", "run_attempt", "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name", "ref_type", "environment", "job_workflow_ref", "job_workflow_sha", "repository_visibility", "runner_environment"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
	})
}

func (s *Server) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &s.key.PublicKey, KeyID: s.keyID, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // client gone
}
