package githubtest

// releases.go: GitHub releases and their assets (create, get by tag, list
// with page/per_page pagination and Link headers, upload on the uploads
// path, delete, download through a 302 to a storage URL), and GET /meta,
// as GitHub's REST documentation describes them.

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxUpload bounds one uploaded asset.
const maxUpload = 64 << 20

// releaseStore holds the releases of every repository.
type releaseStore struct {
	byRepo    map[string][]*release // "owner/name"
	uploadURL func(defaultURL string) string
	storage   func(defaultURL string) string
}

type release struct {
	id     int64
	tag    string
	assets []*asset
}

type asset struct {
	id          int64
	name, label string
	contentType string
	data        []byte
}

// AddRelease creates a release of OWNER/NAME tagged tag and returns its id.
func (s *Server) AddRelease(fullName, tag string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repos[fullName] == nil {
		return 0, fmt.Errorf("no repository %s", fullName)
	}
	if s.releases.byRepo == nil {
		s.releases.byRepo = map[string][]*release{}
	}
	for _, r := range s.releases.byRepo[fullName] {
		if r.tag == tag {
			return 0, fmt.Errorf("%s already has a release %s", fullName, tag)
		}
	}
	s.nextID++
	s.releases.byRepo[fullName] = append(s.releases.byRepo[fullName], &release{id: s.nextID, tag: tag})
	return s.nextID, nil
}

// AddAsset adds an asset to a release, as an upload would.
func (s *Server) AddAsset(fullName, tag, name string, data []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.releaseByTag(fullName, tag)
	if r == nil {
		return 0, fmt.Errorf("no release %s in %s", tag, fullName)
	}
	for _, a := range r.assets {
		if a.name == name {
			return 0, fmt.Errorf("asset %s exists", name)
		}
	}
	s.nextID++
	r.assets = append(r.assets, &asset{id: s.nextID, name: name, contentType: "application/octet-stream", data: append([]byte(nil), data...)})
	return s.nextID, nil
}

// Assets returns the assets of a release by name, with their content.
func (s *Server) Assets(fullName, tag string) map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	if r := s.releaseByTag(fullName, tag); r != nil {
		for _, a := range r.assets {
			out[a.name] = append([]byte(nil), a.data...)
		}
	}
	return out
}

// SetUploadURL rewrites the upload_url releases are served with (to test
// a hostile answer); nil restores the stand-in's own.
func (s *Server) SetUploadURL(rewrite func(defaultURL string) string) {
	s.mu.Lock()
	s.releases.uploadURL = rewrite
	s.mu.Unlock()
}

// SetStorageRedirect rewrites the Location asset downloads are redirected
// to (to test a hostile storage); nil restores the stand-in's own.
func (s *Server) SetStorageRedirect(rewrite func(defaultURL string) string) {
	s.mu.Lock()
	s.releases.storage = rewrite
	s.mu.Unlock()
}

// SetTrustDomain sets what GET /meta answers as
// domains.artifact_attestations.trust_domain ("" leaves it out, as
// github.com does).
func (s *Server) SetTrustDomain(td string) {
	s.mu.Lock()
	s.trustDomain = td
	s.mu.Unlock()
}

// releaseByTag is a release; s.mu must be held.
func (s *Server) releaseByTag(fullName, tag string) *release {
	for _, r := range s.releases.byRepo[fullName] {
		if r.tag == tag {
			return r
		}
	}
	return nil
}

// releaseByID is a release of a repository; s.mu must be held.
func (s *Server) releaseByID(fullName string, id int64) *release {
	for _, r := range s.releases.byRepo[fullName] {
		if r.id == id {
			return r
		}
	}
	return nil
}

// visibleRepo is the request's repository when the caller may see it.
func (s *Server) visibleRepo(r *http.Request) (string, *repo, bool) {
	_, authed, _ := s.auth(r)
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	s.mu.Lock()
	rp := s.repos[full]
	s.mu.Unlock()
	if rp == nil || (rp.private && !authed) {
		return full, nil, false
	}
	return full, rp, true
}

// releaseJSON renders a release as the API does; s.mu must be held.
func (s *Server) releaseJSON(full string, r *release) map[string]any {
	api := strings.TrimSuffix(s.URL, "/")
	upload := fmt.Sprintf("%s/api/uploads/repos/%s/releases/%d/assets{?name,label}", api, full, r.id)
	if s.releases.uploadURL != nil {
		upload = s.releases.uploadURL(upload)
	}
	assets := make([]map[string]any, 0, len(r.assets))
	for _, a := range r.assets {
		assets = append(assets, s.assetJSON(full, a))
	}
	return map[string]any{
		"id": r.id, "tag_name": r.tag, "name": r.tag, "draft": false, "prerelease": false,
		"url":        fmt.Sprintf("%s/repos/%s/releases/%d", api, full, r.id),
		"assets_url": fmt.Sprintf("%s/repos/%s/releases/%d/assets", api, full, r.id),
		"upload_url": upload, "assets": assets,
	}
}

func (s *Server) assetJSON(full string, a *asset) map[string]any {
	api := strings.TrimSuffix(s.URL, "/")
	return map[string]any{
		"id": a.id, "name": a.name, "label": a.label, "state": "uploaded", "content_type": a.contentType,
		"size": len(a.data), "download_count": 0,
		"url":                  fmt.Sprintf("%s/repos/%s/releases/assets/%d", api, full, a.id),
		"browser_download_url": fmt.Sprintf("%s/%s/releases/download/%s", api, full, url.PathEscape(a.name)),
	}
}

// releaseGet routes GET /repos/{owner}/{repo}/releases/{id}/assets and
// /releases/assets/{id}, which one mux pattern each would make ambiguous.
func (s *Server) releaseGet(w http.ResponseWriter, r *http.Request) {
	switch a, b := r.PathValue("a"), r.PathValue("b"); {
	case a == "assets":
		r.SetPathValue("id", b)
		s.getAsset(w, r)
	case b == "assets":
		r.SetPathValue("id", a)
		s.listAssets(w, r)
	default:
		writeError(w, http.StatusNotFound, "Not Found", nil)
	}
}

// getReleaseByTag is GET /repos/{owner}/{repo}/releases/tags/{tag}.
func (s *Server) getReleaseByTag(w http.ResponseWriter, r *http.Request) {
	full, _, ok := s.visibleRepo(r)
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	s.mu.Lock()
	rel := s.releaseByTag(full, r.PathValue("tag"))
	var body map[string]any
	if rel != nil {
		body = s.releaseJSON(full, rel)
	}
	s.mu.Unlock()
	if rel == nil {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// listAssets is GET /repos/{owner}/{repo}/releases/{id}/assets: page and
// per_page (at most 100, default 30), Link rel="next" and rel="last".
func (s *Server) listAssets(w http.ResponseWriter, r *http.Request) {
	full, _, ok := s.visibleRepo(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if !ok || err != nil {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	q := r.URL.Query()
	perPage, ok := pageSize(q.Get("per_page"))
	page, err := strconv.Atoi(q.Get("page"))
	if q.Get("page") == "" {
		page, err = 1, nil
	}
	if !ok || err != nil || page < 1 {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"field": "page", "code": "invalid"}})
		return
	}
	s.mu.Lock()
	rel := s.releaseByID(full, id)
	var items []map[string]any
	total := 0
	if rel != nil {
		total = len(rel.assets)
		start, end := min((page-1)*perPage, total), min(page*perPage, total)
		for _, a := range rel.assets[start:end] {
			items = append(items, s.assetJSON(full, a))
		}
	}
	s.mu.Unlock()
	if rel == nil {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	if items == nil {
		items = []map[string]any{}
	}
	last := max((total+perPage-1)/perPage, 1)
	if page < last {
		link := func(p int) string {
			return s.link(r.URL.Path, url.Values{"per_page": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(p)}})
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <%s>; rel="last"`, link(page+1), link(last)))
	}
	writeJSON(w, http.StatusOK, items)
}

// uploadAsset is POST /api/uploads/repos/{owner}/{repo}/releases/{id}/assets?name=&label=:
// a token that may write, a Content-Type, the raw body; 422 already_exists
// for a name the release has.
func (s *Server) uploadAsset(w http.ResponseWriter, r *http.Request) {
	write, authed, _ := s.auth(r)
	full, _, ok := s.visibleRepo(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	name := r.URL.Query().Get("name")
	if denyWrite(w, authed, ok && err == nil, write) {
		return
	}
	switch {
	case name == "":
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"resource": "ReleaseAsset", "field": "name", "code": "missing"}})
		return
	case r.Header.Get("Content-Type") == "":
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"resource": "ReleaseAsset", "field": "content_type", "code": "missing"}})
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpload))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Problems reading the body", nil)
		return
	}
	if r.ContentLength >= 0 && int64(len(data)) != r.ContentLength {
		writeError(w, http.StatusBadRequest, "Content-Length does not match the body", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rel := s.releaseByID(full, id)
	if rel == nil {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	for _, a := range rel.assets {
		if a.name == name {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}})
			return
		}
	}
	s.nextID++
	a := &asset{id: s.nextID, name: name, label: r.URL.Query().Get("label"), contentType: r.Header.Get("Content-Type"), data: data}
	rel.assets = append(rel.assets, a)
	writeJSON(w, http.StatusCreated, s.assetJSON(full, a))
}

// findAsset is a repository's asset by id; s.mu must be held.
func (s *Server) findAsset(full string, id int64) (*release, int) {
	for _, rel := range s.releases.byRepo[full] {
		for i, a := range rel.assets {
			if a.id == id {
				return rel, i
			}
		}
	}
	return nil, -1
}

// deleteAsset is DELETE /repos/{owner}/{repo}/releases/assets/{id}: 204.
func (s *Server) deleteAsset(w http.ResponseWriter, r *http.Request) {
	write, authed, _ := s.auth(r)
	full, _, ok := s.visibleRepo(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if denyWrite(w, authed, ok && err == nil, write) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rel, i := s.findAsset(full, id)
	if rel == nil {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	rel.assets = append(rel.assets[:i], rel.assets[i+1:]...)
	w.WriteHeader(http.StatusNoContent)
}

// getAsset is GET /repos/{owner}/{repo}/releases/assets/{id}: the asset's
// JSON, or with Accept: application/octet-stream a 302 to its storage.
func (s *Server) getAsset(w http.ResponseWriter, r *http.Request) {
	full, _, ok := s.visibleRepo(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if !ok || err != nil {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	s.mu.Lock()
	rel, i := s.findAsset(full, id)
	var body map[string]any
	loc := ""
	if rel != nil {
		body = s.assetJSON(full, rel.assets[i])
		loc = fmt.Sprintf("%sstorage/%d?sig=%s&se=soon", s.URL, id, s.sig)
		if s.releases.storage != nil {
			loc = s.releases.storage(loc)
		}
	}
	s.mu.Unlock()
	switch {
	case rel == nil:
		writeError(w, http.StatusNotFound, "Not Found", nil)
	case r.Header.Get("Accept") == "application/octet-stream":
		http.Redirect(w, r, loc, http.StatusFound)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// storage serves an asset's bytes behind its signed URL, refusing
// Authorization headers as a signed URL does.
func (s *Server) storageBlob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	var data []byte
	found := false
	for _, rels := range s.releases.byRepo {
		for _, rel := range rels {
			for _, a := range rel.assets {
				if a.id == id {
					data, found = a.data, true
				}
			}
		}
	}
	sig := s.sig
	s.mu.Unlock()
	switch {
	case r.Header.Get("Authorization") != "":
		http.Error(w, "AuthenticationFailed: Authorization header not allowed with a SAS", http.StatusBadRequest)
	case err != nil || !found:
		http.Error(w, "BlobNotFound", http.StatusNotFound)
	case r.URL.Query().Get("sig") != sig:
		http.Error(w, "AuthenticationFailed: Signature did not match or expired", http.StatusForbidden)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	}
}

// meta is GET /meta: the domains, with the artifact attestations trust
// domain on a GHE.com tenant.
func (s *Server) meta(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	td := s.trustDomain
	s.mu.Unlock()
	aa := map[string]any{"services": []string{"*.actions.githubusercontent.com"}}
	if td != "" {
		aa["trust_domain"] = td
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"verifiable_password_authentication": false,
		"domains":                            map[string]any{"website": []string{"*.github.com"}, "artifact_attestations": aa},
	})
}
