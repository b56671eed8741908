package remote

// release.go: GitHub release assets through go-github's typed methods
// (GetReleaseByTag, ListReleaseAssets, UploadReleaseAsset,
// DeleteReleaseAsset, DownloadReleaseAsset): where attest puts
// <asset>.sigstore.json beside each asset and verify --release reads them
// back.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"
)

// MaxAssetSize bounds one downloaded release asset: GitHub's own limit
// for a release asset (2 GiB).
const MaxAssetSize = 2 << 30

// maxAssetPages bounds the pages of assets followed (GitHub keeps at most
// 1000 assets a release; 100 a page).
const maxAssetPages = 20

// maxRedirects bounds the redirects followed to an asset's storage.
const maxRedirects = 3

// Release is a GitHub release, as much of it as attest and verify use.
type Release struct {
	// ID is the release's numeric id.
	ID int64
	// Tag is its tag name.
	Tag string
	// Repo is the repository, OWNER/NAME.
	Repo string
	// UploadURL is the upload_url GitHub gave, its template removed.
	UploadURL string
	// RateRemaining is how many API requests the rate limit had left when
	// ReleaseAssets last listed the assets; -1 when GitHub did not say.
	RateRemaining int
}

// Asset is one asset of a release.
type Asset struct {
	// ID is the asset's numeric id.
	ID int64
	// Name is its file name as GitHub holds it (remote data: hostile).
	Name string
	// Size is its size in bytes as GitHub lists it.
	Size int64
}

// ReleaseByTag finds the release of repo (OWNER/NAME) tagged tag.
func (g *GitHub) ReleaseByTag(ctx context.Context, repo, tag string) (*Release, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	if err := checkReleaseTag(tag); err != nil {
		return nil, err
	}
	owner, name, _ := strings.Cut(repo, "/")
	op := fmt.Sprintf("finding release %s of %s", tag, repo)
	var rel *github.RepositoryRelease
	err := g.call(ctx, op, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		rel, resp, err = g.gh.Repositories.GetReleaseByTag(ctx, owner, name, url.PathEscape(tag))
		return resp, err
	})
	if err != nil {
		return nil, g.releaseHint(err, repo, tag, "")
	}
	if rel.GetID() == 0 {
		return nil, &Error{Remote: g.host, Op: op, Reason: "the answer holds no release id"}
	}
	upload, _, _ := strings.Cut(rel.GetUploadURL(), "{")
	return &Release{ID: rel.GetID(), Tag: tag, Repo: repo, UploadURL: upload}, nil
}

// ReleaseAssets lists every asset of a release, 100 a page.
func (g *GitHub) ReleaseAssets(ctx context.Context, rel *Release) ([]Asset, error) {
	owner, name, _ := strings.Cut(rel.Repo, "/")
	op := fmt.Sprintf("listing the assets of release %s of %s", rel.Tag, rel.Repo)
	var out []Asset
	opts := &github.ListOptions{PerPage: perPageMax, Page: 1}
	for pages := 0; ; pages++ {
		if pages == maxAssetPages {
			return nil, &Error{Remote: g.host, Op: op, Reason: fmt.Sprintf("more than %d pages of assets", maxAssetPages)}
		}
		var page []*github.ReleaseAsset
		var resp *github.Response
		err := g.call(ctx, op, func() (*github.Response, error) {
			var err error
			page, resp, err = g.gh.Repositories.ListReleaseAssets(ctx, owner, name, rel.ID, opts)
			return resp, err
		})
		if err != nil {
			return nil, g.releaseHint(err, rel.Repo, rel.Tag, "")
		}
		for _, a := range page {
			out = append(out, Asset{ID: a.GetID(), Name: a.GetName(), Size: int64(a.GetSize())})
		}
		rel.RateRemaining = -1
		if resp.Header.Get("X-RateLimit-Remaining") != "" {
			rel.RateRemaining = resp.Rate.Remaining
		}
		if resp.NextPage == 0 || resp.NextPage <= opts.Page {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// UploadReleaseAsset uploads the file at path as the asset name of rel,
// to the upload_url GitHub gave for it, which must be on the API's host or
// its uploads host (uploads.github.com for api.github.com): the token goes
// with the upload.
func (g *GitHub) UploadReleaseAsset(ctx context.Context, rel *Release, name, path, mediaType string) (Asset, error) {
	op := fmt.Sprintf("uploading %s to release %s of %s", name, rel.Tag, rel.Repo)
	base, err := g.uploadBase(rel)
	if err != nil {
		return Asset{}, &Error{Remote: g.host, Op: op, Reason: err.Error(), Hint: "refusing to send the token there"}
	}
	client, err := g.gh.WithEnterpriseURLs(g.gh.BaseURL.String(), base.String())
	if err != nil {
		return Asset{}, fmt.Errorf("%s: %w", op, err)
	}
	// WithEnterpriseURLs adds GHES's path suffixes: set what was checked.
	client.BaseURL, client.UploadURL = g.gh.BaseURL, base
	owner, repo, _ := strings.Cut(rel.Repo, "/")
	var got *github.ReleaseAsset
	err = g.call(ctx, op, func() (*github.Response, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var resp *github.Response
		got, resp, err = client.Repositories.UploadReleaseAsset(ctx, owner, repo, rel.ID, &github.UploadOptions{Name: name, MediaType: mediaType}, f)
		return resp, err
	})
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return Asset{}, fmt.Errorf("%s: %w", op, err)
		}
		return Asset{}, g.releaseHint(err, rel.Repo, rel.Tag, name)
	}
	return Asset{ID: got.GetID(), Name: got.GetName(), Size: int64(got.GetSize())}, nil
}

// DeleteReleaseAsset deletes an asset of rel.
func (g *GitHub) DeleteReleaseAsset(ctx context.Context, rel *Release, a Asset) error {
	owner, repo, _ := strings.Cut(rel.Repo, "/")
	op := fmt.Sprintf("deleting asset %s of release %s of %s", quoteUnsafe(a.Name), rel.Tag, rel.Repo)
	err := g.call(ctx, op, func() (*github.Response, error) {
		return g.gh.Repositories.DeleteReleaseAsset(ctx, owner, repo, a.ID)
	})
	if err != nil {
		return g.releaseHint(err, rel.Repo, rel.Tag, a.Name)
	}
	return nil
}

// DownloadOptions say how release assets are fetched.
type DownloadOptions struct {
	// Client follows the API's redirect to the asset's storage; nil: one
	// with a 10-minute timeout. The token never goes with it.
	Client *http.Client
	// MaxSize bounds the asset (default MaxAssetSize).
	MaxSize int64
}

// DownloadReleaseAsset streams asset a of rel into w, through the API's
// asset endpoint (Accept: application/octet-stream) and the redirect it
// answers with. The storage it redirects to is trusted with nothing: at
// most MaxSize bytes are read (of an answer or an error), at most three
// redirects, http(s) only, no token. It returns the bytes written.
func (g *GitHub) DownloadReleaseAsset(ctx context.Context, rel *Release, a Asset, w io.Writer, o DownloadOptions) (int64, error) {
	limit := o.MaxSize
	if limit <= 0 {
		limit = MaxAssetSize
	}
	op := fmt.Sprintf("downloading asset %s of release %s of %s", quoteUnsafe(a.Name), rel.Tag, rel.Repo)
	if a.Size > limit {
		return 0, &Error{Remote: g.host, Op: op, Reason: fmt.Sprintf("listed as %d bytes, more than the %d allowed", a.Size, limit)}
	}
	owner, repo, _ := strings.Cut(rel.Repo, "/")
	rc, _, err := g.gh.Repositories.DownloadReleaseAsset(ctx, owner, repo, a.ID, g.storageClient(o.Client, limit))
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.Request != nil &&
			!strings.HasPrefix(er.Response.Request.URL.String(), g.gh.BaseURL.String()+"repos/") {
			// The storage the API redirected to refused, not the API.
			host := er.Response.Request.URL.Host
			return 0, &Error{Remote: host, Op: op, Status: er.Response.StatusCode, Hint: "the asset's storage refused: run again", Err: err}
		}
		return 0, g.releaseHint(g.wrap(op, opRead, nil, err), rel.Repo, rel.Tag, a.Name)
	}
	defer rc.Close()
	n, err := io.Copy(w, io.LimitReader(rc, limit+1))
	switch {
	case errors.Is(err, errAssetTooLarge) || n > limit:
		return n, &Error{Remote: g.host, Op: op, Reason: fmt.Sprintf("more than the %d bytes allowed", limit)}
	case err != nil:
		return n, networkError(g.host, op, err)
	case a.Size > 0 && n != a.Size:
		return n, &Error{Remote: g.host, Op: op, Reason: fmt.Sprintf("got %d bytes, the release lists %d", n, a.Size), Hint: "run again"}
	}
	return n, nil
}

// errAssetTooLarge is a storage answer longer than allowed.
var errAssetTooLarge = errors.New("answer larger than allowed")

// storageClient is the client that follows the redirect to an asset's
// storage: the caller's (or a 10-minute one), its answers cut at limit
// bytes, at most maxRedirects further redirects, to http(s) only (http
// only when the API itself is spoken to over http, as on loopback).
func (g *GitHub) storageClient(c *http.Client, limit int64) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Timeout = 10 * time.Minute
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	allowHTTP := g.gh.BaseURL.Scheme == "http"
	out.Transport = assetTransport(func(req *http.Request) (*http.Response, error) {
		if req.Header.Get("Authorization") != "" {
			return nil, errors.New("refusing to send credentials to an asset's storage")
		}
		resp, err := base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		resp.Body = &cappedBody{r: resp.Body, left: limit + 1}
		return resp, nil
	})
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("more than %d redirects", maxRedirects)
		}
		if req.URL.Scheme != "https" && !(allowHTTP && req.URL.Scheme == "http") {
			return fmt.Errorf("redirect to a %s URL refused", req.URL.Scheme)
		}
		req.Header.Del("Authorization")
		return nil
	}
	return &out
}

// assetTransport is a function as an http.RoundTripper.
type assetTransport func(*http.Request) (*http.Response, error)

// RoundTrip calls the function.
func (f assetTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// cappedBody fails a read past its budget, so neither an asset nor an
// error answer go-github reads whole can be larger than allowed.
type cappedBody struct {
	r    io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errAssetTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.r.Close() }

// uploadBase checks the release's upload_url, an answer of the API and so
// hostile: it must be an http(s) URL on the API's host or its uploads
// host, without credentials, query or fragment, whose path ends in
// repos/OWNER/NAME/releases/ID/assets. It returns the root uploads are
// made under (the part before repos/).
func (g *GitHub) uploadBase(rel *Release) (*url.URL, error) {
	u, err := url.Parse(rel.UploadURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("the release's upload_url is not a URL")
	}
	api := g.gh.BaseURL
	switch {
	case u.Scheme != "https" && !(u.Scheme == "http" && api.Scheme == "http"):
		return nil, fmt.Errorf("the release's upload_url is not https: %s", shownURL(u))
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("the release's upload_url carries credentials, a query or a fragment: %s", shownURL(u))
	case !sameUploadHost(u.Host, api.Host):
		return nil, fmt.Errorf("the release's upload_url %s is on another host than the API (%s)", shownURL(u), api.Host)
	}
	suffix := fmt.Sprintf("repos/%s/releases/%d/assets", rel.Repo, rel.ID)
	if !strings.HasSuffix(u.Path, "/"+suffix) {
		return nil, fmt.Errorf("the release's upload_url %s is not for release %d of %s", shownURL(u), rel.ID, rel.Repo)
	}
	base := *u
	base.Path = strings.TrimSuffix(u.Path, suffix)
	base.RawPath = ""
	return &base, nil
}

// sameUploadHost reports whether an upload host belongs to the API host:
// the same host, or uploads.X for api.X (uploads.github.com,
// uploads.<tenant>.ghe.com).
func sameUploadHost(upload, api string) bool {
	upload, api = strings.ToLower(upload), strings.ToLower(api)
	if upload == api {
		return true
	}
	rest, ok := strings.CutPrefix(api, "api.")
	return ok && upload == "uploads."+rest
}

// shownURL renders a URL without its query or credentials.
func shownURL(u *url.URL) string {
	return quoteUnsafe(u.Scheme + "://" + u.Host + u.EscapedPath())
}

// quoteUnsafe quotes a remote string that holds control characters or is
// not UTF-8, so it cannot forge a line of a log.
func quoteUnsafe(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return strconv.Quote(s)
		}
	}
	return s
}

// checkReleaseTag refuses a tag that cannot be one (git's check-ref-format,
// roughly), so no path or query can be smuggled into a request.
func checkReleaseTag(tag string) error {
	if tag == "" || len(tag) > 255 || strings.ContainsAny(tag, " ~^:?*[\\\x7f") || strings.Contains(tag, "..") ||
		strings.HasPrefix(tag, "/") || strings.HasSuffix(tag, "/") || strings.HasSuffix(tag, ".lock") {
		return fmt.Errorf("release tag %q is not a tag name", tag)
	}
	for _, r := range tag {
		if r < 0x20 {
			return fmt.Errorf("release tag %q is not a tag name", tag)
		}
	}
	return nil
}

// call runs one typed go-github call, pausing and retrying on a secondary
// rate limit as do does, and wraps its error.
func (g *GitHub) call(ctx context.Context, op string, fn func() (*github.Response, error)) error {
	for attempt := 0; ; attempt++ {
		resp, err := fn()
		if err == nil {
			return nil
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return err
		}
		pause, ok := secondaryPause(resp, err)
		if !ok || pause > g.maxPause || attempt >= g.retries || ctx.Err() != nil {
			return g.wrap(op, opRead, resp, err)
		}
		if serr := g.sleep(ctx, pause); serr != nil {
			return g.wrap(op, opRead, resp, err)
		}
	}
}

// releaseHint replaces the hints of attestation reads with those of
// releases: which release is missing, which permission a token lacks,
// which asset exists.
func (g *GitHub) releaseHint(err error, repo, tag, asset string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Status == http.StatusNotFound && asset != "":
		e.Hint = fmt.Sprintf("release %s of %s or its asset is gone, or the token cannot see it", tag, repo)
	case e.Status == http.StatusNotFound && g.authed:
		e.Hint = fmt.Sprintf("no release tagged %s in %s (create it first: gh release create %s), or the token cannot see the repository", tag, repo, tag)
	case e.Status == http.StatusNotFound:
		e.Hint = fmt.Sprintf("no release tagged %s in %s, or the repository is private? give a token (GH_TOKEN)", tag, repo)
	case e.Status == http.StatusForbidden && e.Reason != "rate limit exhausted" && !strings.Contains(e.Hint, "secondary"):
		e.Hint = "the token may not change this release: the job needs permissions: contents: write"
	case e.Status == http.StatusUnprocessableEntity && alreadyExists(e.Err):
		e.Hint = fmt.Sprintf("an asset named %s already exists in release %s: say overwrite: true (--overwrite) to replace it", quoteUnsafe(asset), tag)
	case e.Status == http.StatusUnprocessableEntity:
		e.Hint = "the upload was refused" + strings.TrimPrefix(e.Hint, "the bundle was refused")
	}
	return e
}

// IsAlreadyExists reports whether err is GitHub's 422 already_exists, as
// for an asset name a release already has.
func IsAlreadyExists(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusUnprocessableEntity && alreadyExists(e.Err)
}

func alreadyExists(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	for _, x := range er.Errors {
		if x.Code == "already_exists" {
			return true
		}
	}
	return false
}

// AttachOptions say which file goes to which release under which names.
type AttachOptions struct {
	// Repo is the release's repository, OWNER/NAME.
	Repo string
	// Tag is the release's tag.
	Tag string
	// Names are the asset names to upload the file as (duplicates once).
	Names []string
	// Path is the file to upload.
	Path string
	// MediaType is its Content-Type.
	MediaType string
	// Overwrite replaces assets of the same names; otherwise any of them
	// existing fails the whole attach before anything is uploaded.
	Overwrite bool
}

// AttachToRelease uploads one file as several assets of a release: every
// name is checked against the release's assets first, so a refusal
// changes nothing; with Overwrite an existing asset is deleted before its
// replacement is uploaded (GitHub has no atomic replace). It returns the
// assets uploaded, also those before a failure.
func (g *GitHub) AttachToRelease(ctx context.Context, o AttachOptions) ([]Asset, error) {
	rel, err := g.ReleaseByTag(ctx, o.Repo, o.Tag)
	if err != nil {
		return nil, err
	}
	existing, err := g.ReleaseAssets(ctx, rel)
	if err != nil {
		return nil, err
	}
	byName := map[string]Asset{}
	for _, a := range existing {
		byName[a.Name] = a
	}
	var names, clash []string
	seen := map[string]bool{}
	for _, n := range o.Names {
		if seen[n] {
			continue
		}
		seen[n] = true
		names = append(names, n)
		if _, ok := byName[n]; ok {
			clash = append(clash, quoteUnsafe(n))
		}
	}
	if len(clash) > 0 && !o.Overwrite {
		return nil, &Error{Remote: g.host, Op: fmt.Sprintf("uploading to release %s of %s", o.Tag, o.Repo),
			Reason: fmt.Sprintf("asset %s already exists", strings.Join(clash, ", ")),
			Hint:   "nothing was uploaded; say overwrite: true (--overwrite) to replace it"}
	}
	var out []Asset
	for _, n := range names {
		if old, ok := byName[n]; ok {
			if err := g.DeleteReleaseAsset(ctx, rel, old); err != nil {
				return out, err
			}
		}
		a, err := g.UploadReleaseAsset(ctx, rel, n, o.Path, o.MediaType)
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}
