package builder

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sethvargo/go-githubactions"

	"github.com/provenant/provenant/internal/httplimit"
)

// SigstoreAudience is the audience of a token meant for Fulcio.
const SigstoreAudience = "sigstore"

// Options say where FromToken finds the token and its issuer.
type Options struct {
	// Getenv reads the job's environment (ACTIONS_ID_TOKEN_REQUEST_URL,
	// ACTIONS_ID_TOKEN_REQUEST_TOKEN, GITHUB_SERVER_URL). Required.
	Getenv func(string) string
	// HTTPClient makes the token, discovery and JWKS requests. Its Timeout
	// bounds each request; nil means a client with a 30 second timeout.
	HTTPClient *http.Client
	// Issuer is the expected token issuer; empty means the one IssuerFor
	// gives for GITHUB_SERVER_URL.
	Issuer string
	// Audience of the token; empty means SigstoreAudience.
	Audience string
	// Attempts is how many times a token request is tried when the token
	// endpoint fails with a server error or the connection fails; 0 means 3.
	Attempts int
	// Backoff is the wait before the second attempt, doubled for each next
	// one; 0 means one second.
	Backoff time.Duration
}

// MaxTokenAnswerSize bounds one answer of the token service, the issuer's
// discovery document or its keys (JWKS): 1 MiB, where each is a few KiB.
const MaxTokenAnswerSize = 1 << 20

// TokenError is a failure to get or verify the job's OIDC token.
type TokenError struct {
	// Step is what failed: "request" (the Actions token endpoint),
	// "verify" (signature, issuer, audience, expiry) or "claims".
	Step string
	Err  error
}

// Error says which step failed, in one line: what a server answered (the
// OIDC library quotes a failed discovery or keys answer's body) has its
// control characters escaped.
func (e *TokenError) Error() string {
	msg := Printable(strings.TrimSpace(e.Err.Error()))
	switch e.Step {
	case "request":
		return "requesting the job's OIDC token from the Actions runtime: " + msg
	case "verify":
		return "verifying the job's OIDC token: " + msg
	default:
		return "the job's OIDC token: " + msg
	}
}

func (e *TokenError) Unwrap() error { return e.Err }

// FromToken requests the job's OIDC token, verifies it against the issuer's
// discovery document and keys, and returns the job its claims describe.
func FromToken(ctx context.Context, opts Options) (*Job, error) {
	getenv := opts.Getenv
	if getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
		return nil, &TokenError{Step: "request", Err: ErrNoIDTokenPermission}
	}
	server := serverURL(getenv)
	issuer := opts.Issuer
	if issuer == "" {
		var err error
		if issuer, err = IssuerFor(server); err != nil {
			return nil, err
		}
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	// go-oidc reads the discovery and JWKS answers without bound: an
	// issuer that answers forever would fill memory until the timeout
	// (go-githubactions cuts the token answer at 64 kB itself).
	client = httplimit.Client(client, MaxTokenAnswerSize)
	audience := opts.Audience
	if audience == "" {
		audience = SigstoreAudience
	}

	raw, err := requestToken(ctx, client, getenv, audience, opts.Attempts, opts.Backoff)
	if err != nil {
		return nil, &TokenError{Step: "request", Err: err}
	}

	// An enterprise can give its tokens an issuer of its own below the
	// expected one (https://token.actions.githubusercontent.com/<slug>);
	// the token is then verified against that issuer's keys.
	issuer, err = tokenIssuer(raw, issuer)
	if err != nil {
		return nil, &TokenError{Step: "verify", Err: err}
	}
	octx := oidc.ClientContext(ctx, client)
	provider, err := oidc.NewProvider(octx, issuer)
	if err != nil {
		return nil, &TokenError{Step: "verify", Err: fmt.Errorf("issuer %s: %w", issuer, err)}
	}
	idToken, err := provider.Verifier(&oidc.Config{ClientID: audience}).Verify(octx, raw)
	if err != nil {
		return nil, &TokenError{Step: "verify", Err: err}
	}
	var claims Claims
	if err := idToken.Claims(&claims); err != nil {
		return nil, &TokenError{Step: "claims", Err: err}
	}
	if m := claims.missing(); len(m) > 0 {
		return nil, &TokenError{Step: "claims", Err: &MissingClaimsError{Source: "OIDC token", Names: m}}
	}
	return &Job{ServerURL: server, Claims: claims, Token: raw, Verified: true}, nil
}

// requestToken asks the Actions runtime for a token, retrying server errors
// and connection failures with exponential back-off.
func requestToken(ctx context.Context, client *http.Client, getenv func(string) string, audience string, attempts int, backoff time.Duration) (string, error) {
	if attempts <= 0 {
		attempts = 3
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	action := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithHTTPClient(client))
	var lastErr error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(backoff << (i - 1)):
			}
		}
		tok, err := action.GetIDToken(ctx, audience)
		if err == nil {
			if tok == "" {
				return "", errors.New("the token endpoint answered without a token")
			}
			return tok, nil
		}
		lastErr = err
		var rf *githubactions.RequestFailedError
		if errors.As(err, &rf) {
			if rf.StatusCode == http.StatusUnauthorized || rf.StatusCode == http.StatusForbidden {
				return "", fmt.Errorf("the token endpoint refused the request token (HTTP %d): %w", rf.StatusCode, ErrNoIDTokenPermission)
			}
			if rf.StatusCode < 500 && rf.StatusCode != http.StatusTooManyRequests {
				return "", fmt.Errorf("HTTP %d", rf.StatusCode)
			}
			// Never echo the body: it could carry a token.
			lastErr = fmt.Errorf("HTTP %d", rf.StatusCode)
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	return "", fmt.Errorf("%w (after %d attempts)", lastErr, attempts)
}

// tokenIssuer returns the issuer to verify the token against: expected, or
// the token's own issuer when it is an enterprise issuer below expected
// (expected + "/<slug>"). Any other issuer is refused before a request is
// made to it.
func tokenIssuer(raw, expected string) (string, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.PS256})
	if err != nil {
		return "", fmt.Errorf("not a signed JWT: %w", err)
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", err
	}
	if c.Issuer == expected {
		return expected, nil
	}
	slug, ok := strings.CutPrefix(c.Issuer, strings.TrimSuffix(expected, "/")+"/")
	if ok && slug != "" && !strings.ContainsAny(slug, "/?#@") {
		return c.Issuer, nil
	}
	return "", fmt.Errorf("token issued by %q, want %q (or an enterprise issuer below it)", c.Issuer, expected)
}
