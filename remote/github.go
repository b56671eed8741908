package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
)

// APIVersion is the X-GitHub-Api-Version this package was tested against.
const APIVersion = "2022-11-28"

// DefaultLimit is how many attestations a digest query returns at most
// unless told otherwise, as gh attestation has it.
const DefaultLimit = 30

// MaxLimit bounds Query.Limit, as gh attestation bounds --limit.
const MaxLimit = 1000

// perPageMax is the largest page GitHub serves.
const perPageMax = 100

// bulkChunk is how many digests one bulk-list request asks about.
const bulkChunk = 100

// maxPages bounds the pages followed for one query, against a server that
// hands out cursors forever.
const maxPages = 100

// Initiators of an attestation on GitHub.
const (
	// InitiatorUser marks an attestation a workflow or a user uploaded.
	InitiatorUser = "user"
	// InitiatorGitHub marks GitHub's own release attestations
	// (predicate https://in-toto.io/attestation/release/v0.2).
	InitiatorGitHub = "github"
)

// GitHubOptions configures a GitHub attestations API client.
type GitHubOptions struct {
	// HTTPClient sends the API requests; nil means one with a 60 s timeout.
	HTTPClient *http.Client
	// DownloadClient fetches bundle_url documents; nil means HTTPClient.
	// The token is never sent with them.
	DownloadClient *http.Client
	// APIURL is the REST API root, e.g. https://api.github.com/ or
	// https://ghes.example/api/v3/ (see APIURLForHost). Empty: api.github.com.
	APIURL string
	// ServerURL is the web root attestation links point to; empty: derived
	// from APIURL.
	ServerURL string
	// Token authenticates requests; empty sends none (public data only).
	Token string
	// Sleep pauses before a retry on a secondary rate limit; nil: a timer.
	Sleep func(context.Context, time.Duration) error
	// Now is the clock rate-limit messages are computed against; nil: time.Now.
	Now func() time.Time
	// MaxPause is the longest secondary-limit pause taken before giving up
	// (default 60 s).
	MaxPause time.Duration
	// MaxRetries bounds the retries of one request (default 3).
	MaxRetries int
}

// GitHub talks to GitHub's artifact attestations REST API.
type GitHub struct {
	gh       *github.Client
	dl       *http.Client
	host     string
	server   string
	authed   bool
	token    string // only to redact it from what a server echoes
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	maxPause time.Duration
	retries  int

	mu     sync.Mutex
	owners map[string]string // owner → "orgs" or "users", once known
}

// Attestation is one attestation GitHub holds for a subject digest.
type Attestation struct {
	// Bundle is the Sigstore bundle JSON.
	Bundle json.RawMessage
	// Initiator is InitiatorUser or InitiatorGitHub ("" when GitHub did
	// not say).
	Initiator string
	// RepositoryID is the numeric id of the repository that holds it.
	RepositoryID int64
	// Source names where it came from, for reports (never a signed URL).
	Source string
}

// entry is one attestation as the API lists it.
type entry struct {
	Bundle       json.RawMessage `json:"bundle"`
	BundleURL    string          `json:"bundle_url"`
	RepositoryID int64           `json:"repository_id"`
	Initiator    string          `json:"initiator"`
}

// NewGitHub builds a client. It fails only on an unusable API URL.
func NewGitHub(o GitHubOptions) (*GitHub, error) {
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	api, _ := url.Parse("https://api.github.com/")
	if o.APIURL != "" {
		u, err := url.Parse(o.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("GitHub API URL %q: want https://HOST/[PATH]", o.APIURL)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		api = u
	}
	ac := limited(hc, MaxAPIResponseSize)
	if o.Token != "" {
		// Not go-github's WithAuthToken: it sends the token to whatever
		// host a redirect names (see authTransport).
		ac.Transport = newAuthTransport(ac.Transport, o.Token, api)
	}
	gh := github.NewClient(ac)
	if o.APIURL != "" {
		gh.BaseURL = api
	}
	g := &GitHub{
		gh: gh, dl: o.DownloadClient, host: gh.BaseURL.Host, server: o.ServerURL, authed: o.Token != "", token: o.Token,
		sleep: o.Sleep, now: o.Now, maxPause: o.MaxPause, retries: o.MaxRetries, owners: map[string]string{},
	}
	if g.dl == nil {
		g.dl = hc // the caller's client: the token is only on the copy the API is spoken to through
	}
	if g.server == "" {
		g.server = ServerURLFor(gh.BaseURL)
	}
	g.server = strings.TrimSuffix(g.server, "/")
	if g.sleep == nil {
		g.sleep = sleepCtx
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.maxPause <= 0 {
		g.maxPause = 60 * time.Second
	}
	if g.retries <= 0 {
		g.retries = 3
	}
	return g, nil
}

// APIURLForHost is the REST API root of a GitHub host: api.github.com for
// github.com, api.<tenant>.ghe.com for GitHub Enterprise Cloud with data
// residency, https://HOST/api/v3/ for GitHub Enterprise Server.
func APIURLForHost(host string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://"), "/")
	switch {
	case host == "" || host == "github.com":
		return "https://api.github.com/"
	case strings.HasSuffix(host, ".ghe.com"):
		return "https://api." + host + "/"
	}
	return "https://" + host + "/api/v3/"
}

// ServerURLFor is the web root of the GitHub an API root belongs to.
func ServerURLFor(api *url.URL) string {
	host := api.Host
	switch {
	case host == "api.github.com":
		host = "github.com"
	case strings.HasPrefix(host, "api.") && strings.HasSuffix(host, ".ghe.com"):
		host = strings.TrimPrefix(host, "api.")
	}
	return api.Scheme + "://" + host
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Uploaded is what GitHub answered to an upload.
type Uploaded struct {
	// ID is the attestation's id.
	ID int64
	// URL is its page, https://github.com/OWNER/REPO/attestations/ID.
	URL string
}

// Upload stores a bundle as an attestation of repo (OWNER/NAME). The token
// needs attestations: write on it.
func (g *GitHub) Upload(ctx context.Context, repo string, bundleJSON []byte) (Uploaded, error) {
	if err := checkRepo(repo); err != nil {
		return Uploaded{}, err
	}
	if !json.Valid(bundleJSON) {
		return Uploaded{}, errors.New("uploading attestation: the bundle is not JSON")
	}
	body := struct {
		Bundle json.RawMessage `json:"bundle"`
	}{bundleJSON}
	var out struct {
		ID int64 `json:"id"`
	}
	op := "uploading attestation to " + repo
	if _, err := g.do(ctx, op, opUpload, http.MethodPost, "repos/"+repo+"/attestations", body, &out); err != nil {
		return Uploaded{}, err
	}
	if out.ID == 0 {
		return Uploaded{}, &Error{Remote: g.host, Op: op, Reason: "the answer holds no attestation id"}
	}
	return Uploaded{ID: out.ID, URL: fmt.Sprintf("%s/%s/attestations/%d", g.server, repo, out.ID)}, nil
}

// checkRepo refuses anything but OWNER/NAME, so no path can be smuggled
// into a request URL.
func checkRepo(repo string) error {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || checkName(owner) != nil || checkName(name) != nil {
		return fmt.Errorf("repository %q: want OWNER/NAME", repo)
	}
	return nil
}

// checkName refuses an owner or repository name that is not one.
func checkName(s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\?#% \t\n") {
		return fmt.Errorf("%q is not a GitHub owner or repository name", s)
	}
	return nil
}
