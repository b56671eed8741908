package builder

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provenant/provenant/builder/oidctest"
)

func TestIssuerFor(t *testing.T) {
	tests := []struct {
		server, want, wantErr string
	}{
		{"https://github.com", "https://token.actions.githubusercontent.com", ""},
		{"https://GitHub.com/", "https://token.actions.githubusercontent.com", ""},
		{"https://octocorp.ghe.com", "https://token.actions.octocorp.ghe.com", ""},
		{"https://ghes.example.com", "https://ghes.example.com/_services/token", ""},
		{"not a url", "", "is not a URL"},
		{"https://a.b.ghe.com", "", "tenant"},
	}
	for _, tt := range tests {
		got, err := IssuerFor(tt.server)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("IssuerFor(%q) error = %v, want %q", tt.server, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("IssuerFor(%q) = %q, %v; want %q", tt.server, got, err, tt.want)
		}
	}
}

// startTokenService starts the token service on loopback and returns it with
// a getenv for a job that may request tokens from it.
func startTokenService(t *testing.T) (*oidctest.Server, func(string) string) {
	t.Helper()
	srv, stop, err := oidctest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	env := srv.Env()
	env["GITHUB_SERVER_URL"] = "https://github.com"
	return srv, func(k string) string { return env[k] }
}

func TestFromToken(t *testing.T) {
	srv, getenv := startTokenService(t)
	job, err := FromToken(context.Background(), Options{Getenv: getenv, Issuer: srv.Issuer, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := job.Claims
	want := Claims{
		Issuer: srv.Issuer, Ref: oidctest.DefaultRef, SHA: oidctest.DefaultSHA,
		Repository: oidctest.DefaultRepository, RepositoryID: oidctest.DefaultRepositoryID,
		RepositoryOwner: oidctest.DefaultRepositoryOwner, RepositoryOwnerID: oidctest.DefaultRepositoryOwnerID,
		EventName: "push", WorkflowRef: oidctest.DefaultWorkflowRef, JobWorkflowRef: oidctest.DefaultWorkflowRef,
		RunnerEnvironment: "github-hosted", RunID: oidctest.DefaultRunID, RunAttempt: oidctest.DefaultRunAttempt,
		RepositoryVisibility: "public",
	}
	for _, f := range []struct{ name, got, want string }{
		{"iss", c.Issuer, want.Issuer}, {"ref", c.Ref, want.Ref}, {"sha", c.SHA, want.SHA},
		{"repository", c.Repository, want.Repository}, {"repository_id", c.RepositoryID, want.RepositoryID},
		{"repository_owner", c.RepositoryOwner, want.RepositoryOwner},
		{"repository_owner_id", c.RepositoryOwnerID, want.RepositoryOwnerID},
		{"event_name", c.EventName, want.EventName}, {"workflow_ref", c.WorkflowRef, want.WorkflowRef},
		{"job_workflow_ref", c.JobWorkflowRef, want.JobWorkflowRef},
		{"runner_environment", c.RunnerEnvironment, want.RunnerEnvironment},
		{"run_id", c.RunID, want.RunID}, {"run_attempt", c.RunAttempt, want.RunAttempt},
		{"repository_visibility", c.RepositoryVisibility, want.RepositoryVisibility},
	} {
		if f.got != f.want {
			t.Errorf("claim %s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if !job.Verified || job.Token == "" {
		t.Errorf("job not marked verified or token missing")
	}
	if got, want := job.BuilderID(), "https://github.com/"+oidctest.DefaultWorkflowRef; got != want {
		t.Errorf("BuilderID = %q, want %q", got, want)
	}
	if got := job.WorkflowPath(); got != ".github/workflows/release.yml" {
		t.Errorf("WorkflowPath = %q", got)
	}
	if got, want := job.InvocationID(), "https://github.com/octo-org/octo-repo/actions/runs/"+oidctest.DefaultRunID+"/attempts/1"; got != want {
		t.Errorf("InvocationID = %q, want %q", got, want)
	}
}

func TestFromTokenFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(srv *oidctest.Server, env map[string]string, opts *Options)
		wantErr string
		is      error
	}{
		{"no id-token permission", func(_ *oidctest.Server, env map[string]string, _ *Options) {
			delete(env, "ACTIONS_ID_TOKEN_REQUEST_URL")
		}, "permissions: id-token: write", ErrNoIDTokenPermission},
		{"wrong request token", func(_ *oidctest.Server, env map[string]string, _ *Options) {
			env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "nope"
		}, "refused the request token", ErrNoIDTokenPermission},
		{"wrong issuer", func(_ *oidctest.Server, _ map[string]string, o *Options) {
			o.Issuer = "http://127.0.0.1:1"
		}, "verifying the job's OIDC token", nil},
		{"issuer claim differs", func(srv *oidctest.Server, _ map[string]string, _ *Options) {
			srv.SetClaims(map[string]any{"iss": "https://evil.example"})
		}, `token issued by "https://evil.example"`, nil},
		{"issuer prefix without a slash", func(srv *oidctest.Server, _ map[string]string, _ *Options) {
			srv.SetClaims(map[string]any{"iss": srv.Issuer + "evil"})
		}, "or an enterprise issuer below it", nil},
		{"expired token", func(srv *oidctest.Server, _ map[string]string, _ *Options) {
			srv.SetClaims(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
		}, "expired", nil},
		{"missing claims", func(srv *oidctest.Server, _ map[string]string, _ *Options) {
			srv.SetClaims(map[string]any{"job_workflow_ref": nil, "run_attempt": nil})
		}, "OIDC token lacks job_workflow_ref, run_attempt", nil},
		{"token endpoint down", func(srv *oidctest.Server, _ map[string]string, _ *Options) {
			srv.FailNext(503, 503, 503)
		}, "HTTP 503 (after 3 attempts)", nil},
		{"token endpoint 400", func(srv *oidctest.Server, _ map[string]string, _ *Options) {
			srv.FailNext(400)
		}, "HTTP 400", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, stop, err := oidctest.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			env := srv.Env()
			opts := Options{Issuer: srv.Issuer, Backoff: time.Millisecond}
			tt.setup(srv, env, &opts)
			opts.Getenv = func(k string) string { return env[k] }
			_, err = FromToken(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			var te *TokenError
			if !errors.As(err, &te) {
				t.Errorf("error %T is not a *TokenError", err)
			}
			if strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error leaks a token: %v", err)
			}
		})
	}
}

func TestFromTokenRetries(t *testing.T) {
	srv, getenv := startTokenService(t)
	srv.FailNext(503, 502)
	if _, err := FromToken(context.Background(), Options{Getenv: getenv, Issuer: srv.Issuer, Backoff: time.Millisecond}); err != nil {
		t.Fatalf("FromToken after two server errors: %v", err)
	}
	if got := srv.Requests(); got != 3 {
		t.Errorf("token requests = %d, want 3", got)
	}
}

func TestFromTokenTimeout(t *testing.T) {
	srv, getenv := startTokenService(t)
	client := &http.Client{Timeout: time.Nanosecond}
	_, err := FromToken(context.Background(), Options{Getenv: getenv, Issuer: srv.Issuer, HTTPClient: client, Attempts: 2, Backoff: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Fatalf("error = %v, want a bounded retry failure", err)
	}
}

func TestFromEnvironment(t *testing.T) {
	full := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_REF": "refs/tags/v1.0.0", "GITHUB_SHA": oidctest.DefaultSHA,
		"GITHUB_REPOSITORY": "octo-org/octo-repo", "GITHUB_REPOSITORY_ID": "1",
		"GITHUB_REPOSITORY_OWNER": "octo-org", "GITHUB_REPOSITORY_OWNER_ID": "2",
		"GITHUB_EVENT_NAME": "push", "GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/r.yml@refs/tags/v1.0.0",
		"RUNNER_ENVIRONMENT": "self-hosted", "GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "2",
	}
	job, err := FromEnvironment(func(k string) string { return full[k] }, LocalFacts{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Verified || job.Local {
		t.Errorf("job from environment: verified=%v local=%v", job.Verified, job.Local)
	}
	if got := job.BuilderID(); got != "https://github.com/octo-org/octo-repo/.github/workflows/r.yml@refs/tags/v1.0.0" {
		t.Errorf("BuilderID = %q", got)
	}
	if job.Claims.Issuer != "https://token.actions.githubusercontent.com" {
		t.Errorf("issuer = %q", job.Claims.Issuer)
	}

	delete(full, "GITHUB_RUN_ATTEMPT")
	delete(full, "GITHUB_REPOSITORY_ID")
	_, err = FromEnvironment(func(k string) string { return full[k] }, LocalFacts{})
	if err == nil || err.Error() != "environment lacks GITHUB_REPOSITORY_ID, GITHUB_RUN_ATTEMPT" {
		t.Errorf("error = %v", err)
	}

	local, err := FromEnvironment(func(string) string { return "" }, LocalFacts{Host: "box", Commit: oidctest.DefaultSHA, Ref: "refs/heads/dev", Dir: "/src/x"})
	if err != nil {
		t.Fatal(err)
	}
	if !local.Local || local.BuilderID() != "local:box" || local.RepositoryURL() != "file:///src/x" || local.Claims.Ref != "refs/heads/dev" {
		t.Errorf("local job = %+v", local)
	}
}

func TestWorkflowInputs(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "event.json")
	os.WriteFile(ev, []byte(`{"inputs":{"version":"1.2.3","dry_run":false},"ref":"refs/heads/main"}`), 0o644)
	dispatch := &Job{Claims: Claims{EventName: "workflow_dispatch"}, Verified: true}
	in, err := WorkflowInputs(context.Background(), dispatch, ev)
	if err != nil {
		t.Fatal(err)
	}
	if in["version"] != "1.2.3" || in["dry_run"] != false {
		t.Errorf("inputs = %v", in)
	}
	noInputs := filepath.Join(dir, "noinputs.json")
	os.WriteFile(noInputs, []byte(`{"ref":"refs/heads/main"}`), 0o644)
	if in, err := WorkflowInputs(context.Background(), dispatch, noInputs); err != nil || len(in) != 0 {
		t.Errorf("dispatch event without inputs = %v, %v", in, err)
	}
	if _, err := WorkflowInputs(context.Background(), dispatch, ""); err == nil {
		t.Error("no event path: want an error")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{`), 0o644)
	if _, err := WorkflowInputs(context.Background(), dispatch, bad); err == nil {
		t.Error("bad event JSON: want an error")
	}
}

func TestWorkflowInputs_ForgedInputsOfAnotherEventAreRefused(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "event.json")
	os.WriteFile(ev, []byte(`{"inputs":{"approved_by":"security-team"}}`), 0o644)
	tests := []struct {
		name string
		job  *Job
		want string
	}{
		{"push, verified", &Job{Claims: Claims{EventName: "push"}, Verified: true}, `"push" (the verified token's event_name)`},
		{"pull_request from the environment", &Job{Claims: Claims{EventName: "pull_request"}}, `"pull_request" (GITHUB_EVENT_NAME)`},
		{"workflow_call is never in the event file", &Job{Claims: Claims{EventName: "workflow_call"}, Verified: true}, "workflow_call"},
		{"local build", &Job{Local: true, Claims: Claims{EventName: "workflow_dispatch"}}, "outside a GitHub Actions run"},
	}
	for _, tt := range tests {
		in, err := WorkflowInputs(context.Background(), tt.job, ev)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: inputs %v, err %v; want a refusal naming %q", tt.name, in, err, tt.want)
		}
	}
}

// TestFromTokenEnterpriseIssuer: an enterprise's tokens carry an issuer of
// its own below the expected one, served with its own discovery and keys.
func TestFromTokenEnterpriseIssuer(t *testing.T) {
	mux := http.NewServeMux()
	front := httptest.NewServer(mux)
	defer front.Close()
	srv, err := oidctest.New(front.URL + "/octo-enterprise")
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/octo-enterprise/", http.StripPrefix("/octo-enterprise", srv.Handler()))
	env := srv.Env()
	env["ACTIONS_ID_TOKEN_REQUEST_URL"] = front.URL + "/octo-enterprise/token?api-version=2.0"
	job, err := FromToken(context.Background(), Options{Getenv: func(k string) string { return env[k] }, Issuer: front.URL})
	if err != nil {
		t.Fatal(err)
	}
	if job.Claims.Issuer != front.URL+"/octo-enterprise" {
		t.Errorf("issuer = %q", job.Claims.Issuer)
	}
}
