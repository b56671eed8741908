package cmdutil

// github.go is the one place that works out which GitHub API a command
// speaks to and with which token.

import (
	"net/url"
	"strings"

	"github.com/provenant/provenant/remote"
)

// GitHub is the API client for a --hostname: the API of that host, else
// (for github.com, the default, or the runner's own server)
// GITHUB_API_URL, else api.github.com; the token for that host (see
// Token), none if there is none (public repositories need none).
func (f *Factory) GitHub(hostname string) (*remote.GitHub, error) {
	return remote.NewGitHub(remote.GitHubOptions{
		HTTPClient: f.HTTPClient(TimeoutAPI),
		APIURL:     f.APIURL(hostname),
		Token:      f.Token(trimHost(hostname)),
	})
}

// APIURL is the REST API root for a --hostname: GITHUB_API_URL for
// github.com (the default) or for the runner's own server, else the API
// of the host. With WorkflowAPIURL it is the one place the API URL is
// worked out.
func (f *Factory) APIURL(hostname string) string {
	apiURL := f.Getenv("GITHUB_API_URL")
	h := trimHost(hostname)
	// GITHUB_API_URL serves --hostname when it is the runner's own server.
	runnerHost := trimHost(f.Getenv("GITHUB_SERVER_URL"))
	if h != "" && h != "github.com" && !strings.EqualFold(h, runnerHost) || apiURL == "" {
		apiURL = remote.APIURLForHost(h)
	}
	return apiURL
}

// WorkflowAPIURL is the API of the workflow's own GitHub: GITHUB_API_URL,
// else from GITHUB_SERVER_URL.
func (f *Factory) WorkflowAPIURL() string {
	if u := f.Getenv("GITHUB_API_URL"); u != "" {
		return u
	}
	return remote.APIURLForHost(strings.TrimPrefix(f.Getenv("GITHUB_SERVER_URL"), "https://"))
}

// WorkflowGitHub is the API client of the workflow's own GitHub
// (GITHUB_API_URL, else from GITHUB_SERVER_URL) with the token given: the
// one attest writes to.
func (f *Factory) WorkflowGitHub(token string) (*remote.GitHub, error) {
	return remote.NewGitHub(remote.GitHubOptions{
		HTTPClient: f.HTTPClient(TimeoutAPI),
		APIURL:     f.WorkflowAPIURL(),
		ServerURL:  f.Getenv("GITHUB_SERVER_URL"),
		Token:      token,
	})
}

// Token is the token for the GitHub host named by --hostname, read as gh
// reads it: for GitHub Enterprise Server (any host but github.com, its
// subdomains, github.localhost and <tenant>.ghe.com) GH_ENTERPRISE_TOKEN
// then GITHUB_ENTERPRISE_TOKEN, and never GH_TOKEN or GITHUB_TOKEN, which
// are github.com's (or the tenant's); for the others GH_TOKEN then
// GITHUB_TOKEN. For github.com, the default, the client speaks to
// GITHUB_API_URL when set: the runner's own server, whose token GH_TOKEN
// or GITHUB_TOKEN then is.
func (f *Factory) Token(hostname string) string {
	names := []string{"GH_TOKEN", "GITHUB_TOKEN"}
	if EnterpriseServer(hostname) {
		names = []string{"GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"}
	}
	for _, n := range names {
		if t := f.Getenv(n); t != "" {
			return t
		}
	}
	return ""
}

// EnterpriseServer reports whether a --hostname is a GitHub Enterprise
// Server, as gh tells them apart: not github.com nor a subdomain of it,
// not github.localhost, not a <tenant>.ghe.com tenant; "" is github.com.
func EnterpriseServer(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://"), "/"))
	switch {
	case h == "" || h == "github.com" || strings.HasSuffix(h, ".github.com"):
		return false
	case h == "github.localhost" || strings.HasSuffix(h, ".github.localhost"):
		return false
	case strings.HasSuffix(h, ".ghe.com"):
		return false
	}
	return true
}

// TenantHost is the <tenant>.ghe.com host a command is about: --hostname's,
// else GITHUB_API_URL's (api.<tenant>.ghe.com); "" for any other GitHub.
func (f *Factory) TenantHost(hostname string) string {
	h := strings.ToLower(trimHost(hostname))
	if h == "" || h == "github.com" {
		if u, err := url.Parse(f.Getenv("GITHUB_API_URL")); err == nil {
			h = strings.TrimPrefix(strings.ToLower(u.Hostname()), "api.")
		}
	}
	tenant, ok := strings.CutSuffix(h, ".ghe.com")
	if !ok || tenant == "" || strings.Contains(tenant, ".") {
		return ""
	}
	return h
}
