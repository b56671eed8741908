package oidctest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

func get(t *testing.T, srv *Server, rawURL, bearer string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func TestTokenEndpoint(t *testing.T) {
	srv, stop, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	if resp, _ := get(t, srv, srv.TokenRequestURL()+"&audience=sigstore", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no bearer: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := get(t, srv, srv.TokenRequestURL()+"&audience=sigstore", "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong bearer: status %d, want 401", resp.StatusCode)
	}

	override := url.QueryEscape(`{"ref":"refs/tags/v2","runner_environment":"self-hosted","run_attempt":null}`)
	resp, body := get(t, srv, srv.TokenRequestURL()+"&audience=sigstore&claims="+override, srv.RequestToken)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	raw, _ := body["value"].(string)

	// The token verifies against discovery and JWKS, as a relying party
	// (Fulcio, builder) checks it.
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, srv.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := provider.Verifier(&oidc.Config{ClientID: "sigstore"}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	tok.Claims(&claims)
	if claims["ref"] != "refs/tags/v2" || claims["runner_environment"] != "self-hosted" {
		t.Errorf("per-token override not applied: %v", claims)
	}
	if _, ok := claims["run_attempt"]; ok {
		t.Errorf("null override did not remove run_attempt")
	}
	for k := range DefaultClaims() {
		if _, ok := claims[k]; !ok && k != "run_attempt" {
			t.Errorf("token lacks default claim %s", k)
		}
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "other"}).Verify(ctx, raw); err == nil {
		t.Error("token for audience sigstore verified for another audience")
	}

	// The next default token no longer carries the per-token override.
	_, body = get(t, srv, srv.TokenRequestURL(), srv.RequestToken)
	tok, err = provider.Verifier(&oidc.Config{ClientID: DefaultAudience}).Verify(ctx, body["value"].(string))
	if err != nil {
		t.Fatal(err)
	}
	tok.Claims(&claims)
	if claims["ref"] != DefaultRef {
		t.Errorf("default token ref = %v", claims["ref"])
	}

	srv.FailNext(503)
	if resp, _ := get(t, srv, srv.TokenRequestURL(), srv.RequestToken); resp.StatusCode != 503 {
		t.Errorf("FailNext: status %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, srv.TokenRequestURL(), srv.RequestToken); resp.StatusCode != 200 {
		t.Errorf("after FailNext: status %d", resp.StatusCode)
	}
}
