package githubtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/golang/snappy"
)

// maxBulkDigests is the most subject digests one bulk-list request takes.
const maxBulkDigests = 1024

// upload is POST /repos/{owner}/{repo}/attestations.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	write, authed, _ := s.auth(r)
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	s.mu.Lock()
	rp := s.repos[full]
	s.mu.Unlock()
	if denyWrite(w, authed, rp != nil, write) {
		return
	}
	var body struct {
		Bundle json.RawMessage `json:"bundle"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", nil)
		return
	}
	s.mu.Lock()
	id, err := s.store(rp, body.Bundle, "user")
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed",
			[]map[string]string{{"resource": "Attestation", "field": "bundle", "code": "invalid", "message": err.Error()}})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
}

// listRepo is GET /repos/{owner}/{repo}/attestations/{digest}.
func (s *Server) listRepo(w http.ResponseWriter, r *http.Request) {
	_, authed, _ := s.auth(r)
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	s.mu.Lock()
	rp := s.repos[full]
	s.mu.Unlock()
	if rp == nil || (rp.private && !authed) {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	s.list(w, r, func(a *stored) bool { return a.repo == rp })
}

// listOwner is GET /{orgs|users}/{owner}/attestations/{digest}.
func (s *Server) listOwner(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, authed, _ := s.auth(r)
		owner := r.PathValue("owner")
		s.mu.Lock()
		k := s.owners[owner]
		s.mu.Unlock()
		if k != kind {
			writeError(w, http.StatusNotFound, "Not Found", nil)
			return
		}
		s.list(w, r, func(a *stored) bool { return a.repo.owner == owner && (!a.repo.private || authed) })
	}
}

// list answers a digest query: per_page (max 100), after cursors in a
// Link header, predicate_type; 404 when nothing matches.
func (s *Server) list(w http.ResponseWriter, r *http.Request, in func(*stored) bool) {
	digest := r.PathValue("digest")
	q := r.URL.Query()
	perPage, ok := pageSize(q.Get("per_page"))
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"field": "per_page", "code": "invalid"}})
		return
	}
	start, ok := decodeCursor(q.Get("after"))
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid cursor", nil)
		return
	}
	matches := s.matching(digest, q.Get("predicate_type"), in)
	if len(matches) == 0 {
		writeError(w, http.StatusNotFound, "Not Found", nil)
		return
	}
	end := min(start+perPage, len(matches))
	if start > len(matches) {
		start = end
	}
	if end < len(matches) {
		next := url.Values{"per_page": {strconv.Itoa(perPage)}, "after": {encodeCursor(end)}}
		if pt := q.Get("predicate_type"); pt != "" {
			next.Set("predicate_type", pt)
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, s.link(r.URL.Path, next)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"attestations": s.entries(matches[start:end])})
}

// bulk is POST /{orgs|users}/{owner}/attestations/bulk-list.
func (s *Server) bulk(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, authed, _ := s.auth(r)
		owner := r.PathValue("owner")
		s.mu.Lock()
		k := s.owners[owner]
		s.mu.Unlock()
		if k != kind {
			writeError(w, http.StatusNotFound, "Not Found", nil)
			return
		}
		var body struct {
			SubjectDigests []string `json:"subject_digests"`
			PredicateType  string   `json:"predicate_type"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON", nil)
			return
		}
		if len(body.SubjectDigests) == 0 || len(body.SubjectDigests) > maxBulkDigests {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"field": "subject_digests", "code": "invalid"}})
			return
		}
		q := r.URL.Query()
		perPage, ok := pageSize(q.Get("per_page"))
		start, ok2 := decodeCursor(q.Get("after"))
		if !ok || !ok2 {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", nil)
			return
		}
		type pair struct {
			digest string
			att    *stored
		}
		var pairs []pair
		for _, d := range body.SubjectDigests {
			for _, a := range s.matching(d, body.PredicateType, func(a *stored) bool { return a.repo.owner == owner && (!a.repo.private || authed) }) {
				pairs = append(pairs, pair{d, a})
			}
		}
		start = min(start, len(pairs))
		end := min(start+perPage, len(pairs))
		byDigest := map[string][]map[string]any{}
		for _, p := range pairs[start:end] {
			byDigest[p.digest] = append(byDigest[p.digest], s.entries([]*stored{p.att})...)
		}
		info := map[string]any{"has_next": end < len(pairs), "has_previous": start > 0}
		if end < len(pairs) {
			info["next"] = encodeCursor(end)
		}
		writeJSON(w, http.StatusOK, map[string]any{"attestations_subject_digests": byDigest, "page_info": info})
	}
}

// matching lists the stored attestations of a digest that pass in and the
// predicate filter (a URI, or GitHub's names provenance, sbom, release).
func (s *Server) matching(digest, predicateType string, in func(*stored) bool) []*stored {
	digest = strings.ToLower(digest)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*stored
	for _, a := range s.atts {
		if !contains(a.digests, digest) || !in(a) || !predicateMatches(predicateType, a.predicateType) {
			continue
		}
		out = append(out, a)
	}
	return out
}

func predicateMatches(filter, pt string) bool {
	switch filter {
	case "":
		return true
	case "provenance":
		return strings.HasPrefix(pt, "https://slsa.dev/provenance/")
	case "sbom":
		return strings.HasPrefix(pt, "https://spdx.dev/") || strings.HasPrefix(pt, "https://cyclonedx.org/")
	case "release":
		return strings.HasPrefix(pt, "https://in-toto.io/attestation/release/")
	}
	return filter == pt
}

// entries renders attestations as the API lists them: bundle null and a
// signed bundle_url, or the bundle inline.
func (s *Server) entries(atts []*stored) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(atts))
	for _, a := range atts {
		e := map[string]any{"repository_id": a.repo.id, "initiator": a.initiator, "bundle": nil}
		if s.inline {
			e["bundle"] = json.RawMessage(a.bundle)
		} else {
			e["bundle_url"] = fmt.Sprintf("%sblobs/%d.json.sn?sv=2025-01-05&se=soon&sig=%s", s.URL, a.id, s.sig)
		}
		out = append(out, e)
	}
	return out
}

// blob serves a bundle_url: raw-snappy bundle JSON, for a valid signature
// and no Authorization header (a signed URL refuses other credentials).
func (s *Server) blob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(strings.TrimSuffix(r.PathValue("name"), ".json.sn"), 10, 64)
	s.mu.Lock()
	sig := s.sig
	var a *stored
	for _, x := range s.atts {
		if x.id == id {
			a = x
		}
	}
	s.mu.Unlock()
	switch {
	case r.Header.Get("Authorization") != "":
		http.Error(w, "AuthenticationFailed: Authorization header not allowed with a SAS", http.StatusBadRequest)
	case err != nil || a == nil:
		http.Error(w, "BlobNotFound", http.StatusNotFound)
	case r.URL.Query().Get("sig") != sig:
		http.Error(w, "AuthenticationFailed: Signature did not match or expired", http.StatusForbidden)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(snappy.Encode(nil, a.bundle))
	}
}

func pageSize(v string) (int, bool) {
	if v == "" {
		return 30, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= 100
}

func encodeCursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i)))
}

func decodeCursor(c string) (int, bool) {
	if c == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "cursor:v2:") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:v2:"))
	return n, err == nil && n >= 0
}

// denyWrite answers a write request as GitHub does when it may not write:
// 401 without a token, 404 for a repository the token cannot see (or a
// bad path), 403 for a read-only token. It reports whether it answered.
func denyWrite(w http.ResponseWriter, authed, found, write bool) bool {
	switch {
	case !authed:
		writeError(w, http.StatusUnauthorized, "Requires authentication", nil)
	case !found:
		writeError(w, http.StatusNotFound, "Not Found", nil)
	case !write:
		writeError(w, http.StatusForbidden, "Resource not accessible by integration", nil)
	default:
		return false
	}
	return true
}
