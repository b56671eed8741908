// Package builder finds out who and what is building: the GitHub Actions job,
// its OIDC token and claims, and the runner.
//
// In a workflow the trustworthy facts are the claims of the job's OIDC token,
// the same ones Fulcio copies into the signing certificate. FromToken requests
// that token from the Actions runtime and verifies it against the issuer's
// discovery document and keys. FromEnvironment reads the same facts from the
// GITHUB_* and RUNNER_* variables, for unsigned (SLSA Build L1) provenance.
//
// Nothing here reads the process environment or opens connections on its own:
// the environment and the HTTP client are injected through Options.
package builder

import (
	"errors"
	"fmt"
	"github.com/provenant/provenant/trust"
	"net/url"
	"strings"
)

// DefaultServerURL is the GitHub server when GITHUB_SERVER_URL is unset.
const DefaultServerURL = "https://github.com"

// Claims are the facts of a job as its OIDC token states them. The JSON
// names are GitHub's claim names.
type Claims struct {
	Issuer               string `json:"iss"`
	Subject              string `json:"sub,omitempty"`
	Ref                  string `json:"ref"`
	SHA                  string `json:"sha"`
	Repository           string `json:"repository"`
	RepositoryID         string `json:"repository_id"`
	RepositoryOwner      string `json:"repository_owner"`
	RepositoryOwnerID    string `json:"repository_owner_id"`
	RepositoryVisibility string `json:"repository_visibility,omitempty"`
	EventName            string `json:"event_name"`
	Workflow             string `json:"workflow,omitempty"`
	WorkflowRef          string `json:"workflow_ref"`
	WorkflowSHA          string `json:"workflow_sha,omitempty"`
	JobWorkflowRef       string `json:"job_workflow_ref"`
	JobWorkflowSHA       string `json:"job_workflow_sha,omitempty"`
	RunnerEnvironment    string `json:"runner_environment"`
	RunID                string `json:"run_id"`
	RunAttempt           string `json:"run_attempt"`
}

// requiredClaims lists the claims provenance is built from; a token without
// any of them is rejected.
var requiredClaims = []struct {
	name string
	get  func(*Claims) string
}{
	{"iss", func(c *Claims) string { return c.Issuer }},
	{"ref", func(c *Claims) string { return c.Ref }},
	{"sha", func(c *Claims) string { return c.SHA }},
	{"repository", func(c *Claims) string { return c.Repository }},
	{"repository_id", func(c *Claims) string { return c.RepositoryID }},
	{"repository_owner", func(c *Claims) string { return c.RepositoryOwner }},
	{"repository_owner_id", func(c *Claims) string { return c.RepositoryOwnerID }},
	{"event_name", func(c *Claims) string { return c.EventName }},
	{"workflow_ref", func(c *Claims) string { return c.WorkflowRef }},
	{"job_workflow_ref", func(c *Claims) string { return c.JobWorkflowRef }},
	{"runner_environment", func(c *Claims) string { return c.RunnerEnvironment }},
	{"run_id", func(c *Claims) string { return c.RunID }},
	{"run_attempt", func(c *Claims) string { return c.RunAttempt }},
}

// MissingClaimsError reports the required facts a token or environment lacks.
type MissingClaimsError struct {
	// Source is "OIDC token" or "environment".
	Source string
	// Names are the missing claim (or variable) names.
	Names []string
}

func (e *MissingClaimsError) Error() string {
	return fmt.Sprintf("%s lacks %s", e.Source, strings.Join(e.Names, ", "))
}

func (c *Claims) missing() []string {
	var names []string
	for _, r := range requiredClaims {
		if r.get(c) == "" {
			names = append(names, r.name)
		}
	}
	return names
}

// Job is who and what is building.
type Job struct {
	// ServerURL is the GitHub server, for example https://github.com.
	ServerURL string
	// Claims are the facts of the job.
	Claims Claims
	// Token is the raw OIDC token the claims were verified from, for
	// signing. It is empty for a job built from the environment. It is a
	// secret: never print or write it.
	Token string
	// Verified is true when Claims come from a verified OIDC token.
	Verified bool
	// Local is true outside GitHub Actions: the facts are those of a
	// developer's checkout and the builder is this machine.
	Local bool
	// LocalBuilder names the machine of a local build ("local:<host>").
	LocalBuilder string
	// LocalDir is the checkout of a local build.
	LocalDir string
	// LocalSource is the source of a local build: the checkout's remote
	// URL as git has it, file://<checkout> without a remote, or empty
	// outside a git checkout.
	LocalSource string
}

// BuilderID is runDetails.builder.id: the server URL and the job workflow
// ref (for a reusable workflow this is the called workflow). Outside Actions
// it is "local:" and the host name.
func (j *Job) BuilderID() string {
	if j.Local {
		return j.LocalBuilder
	}
	return j.ServerURL + "/" + j.Claims.JobWorkflowRef
}

// RepositoryURL is the server URL and the repository.
func (j *Job) RepositoryURL() string {
	if j.Local {
		return j.LocalSource
	}
	return j.ServerURL + "/" + j.Claims.Repository
}

// WorkflowPath is the path of the top-level workflow inside its repository:
// workflow_ref without the leading "<repository>/" and without "@<ref>".
func (j *Job) WorkflowPath() string {
	p := j.Claims.WorkflowRef
	if i := strings.LastIndex(p, "@"); i >= 0 {
		p = p[:i]
	}
	return strings.TrimPrefix(p, j.Claims.Repository+"/")
}

// InvocationID is the URL of this run attempt.
func (j *Job) InvocationID() string {
	return fmt.Sprintf("%s/actions/runs/%s/attempts/%s", j.RepositoryURL(), j.Claims.RunID, j.Claims.RunAttempt)
}

// IssuerFor returns the OIDC issuer of the Actions runtime of a GitHub
// server: https://token.actions.githubusercontent.com for github.com (and
// GitHub Enterprise Server, which uses its own host), and
// https://token.actions.<tenant>.ghe.com for GitHub Enterprise Cloud with
// data residency.
func IssuerFor(serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("GITHUB_SERVER_URL %q is not a URL", serverURL)
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "github.com":
		return trust.GitHubActionsIssuer, nil
	case strings.HasSuffix(host, ".ghe.com"):
		tenant := strings.TrimSuffix(host, ".ghe.com")
		if tenant == "" || strings.Contains(tenant, ".") {
			return "", fmt.Errorf("GITHUB_SERVER_URL %q: cannot tell the tenant of this ghe.com host", serverURL)
		}
		return "https://token.actions." + tenant + ".ghe.com", nil
	default:
		// GitHub Enterprise Server serves its runtime tokens itself.
		return "https://" + u.Host + "/_services/token", nil
	}
}

// ErrNoIDTokenPermission means the job cannot request an OIDC token.
var ErrNoIDTokenPermission = errors.New("this job cannot request an OIDC token: " +
	"add `permissions: id-token: write` to the job (or the workflow), or run with --no-sign for unsigned provenance")

func serverURL(getenv func(string) string) string {
	if s := strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/"); s != "" {
		return s
	}
	return DefaultServerURL
}
