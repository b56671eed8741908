package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/golang/snappy"
)

// MaxBundleSize bounds one fetched bundle, compressed and decoded.
const MaxBundleSize = 16 << 20

// downloadParallelism bounds the bundle_url fetches under way at once.
const downloadParallelism = 8

// Query says where to look for attestations and which.
type Query struct {
	// Repo is OWNER/NAME: /repos/OWNER/NAME/attestations/… .
	Repo string
	// Owner is an organization or user: /orgs/… first, /users/… on 404.
	// Used when Repo is empty, and by Bulk, which has no per-repository
	// endpoint (Bulk takes Repo's owner then).
	Owner string
	// PredicateType filters on the server: a URI, or provenance, sbom,
	// release as GitHub names them. Empty: every type.
	PredicateType string
	// Limit bounds the attestations returned per digest (default
	// DefaultLimit, at most MaxLimit).
	Limit int
}

func (q Query) limit() (int, error) {
	switch {
	case q.Limit == 0:
		return DefaultLimit, nil
	case q.Limit < 0 || q.Limit > MaxLimit:
		return 0, fmt.Errorf("limit %d: want 1 to %d", q.Limit, MaxLimit)
	}
	return q.Limit, nil
}

// owner is the owner Bulk asks: Owner, else Repo's owner.
func (q Query) owner() string {
	if q.Owner != "" {
		return q.Owner
	}
	o, _, _ := strings.Cut(q.Repo, "/")
	return o
}

// ByDigest lists the attestations of one subject digest ("sha256:<hex>"),
// following Link pagination up to the limit. An *Error with Status 404
// means GitHub has none there, or cannot show them without a token.
func (g *GitHub) ByDigest(ctx context.Context, q Query, digest string) ([]Attestation, error) {
	limit, err := q.limit()
	if err != nil {
		return nil, err
	}
	if err := checkDigest(digest); err != nil {
		return nil, err
	}
	var prefixes []string
	switch {
	case q.Repo != "":
		if err := checkRepo(q.Repo); err != nil {
			return nil, err
		}
		prefixes = []string{"repos/" + q.Repo}
	case q.Owner != "":
		if err := checkName(q.Owner); err != nil {
			return nil, err
		}
		prefixes = g.ownerPrefixes(q.Owner)
	default:
		return nil, errors.New("attestations by digest: give a repository or an owner")
	}
	var lastErr error
	for _, prefix := range prefixes {
		entries, err := g.listPages(ctx, prefix, digest, q.PredicateType, limit)
		if err == nil {
			g.rememberOwner(q.Owner, prefix)
			return g.resolve(ctx, entries, prefix+"/attestations/"+digest)
		}
		if !IsNotFound(err) {
			return nil, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// listPages follows the pages of one digest query.
func (g *GitHub) listPages(ctx context.Context, prefix, digest, predicateType string, limit int) ([]entry, error) {
	v := url.Values{"per_page": {fmt.Sprint(min(limit, perPageMax))}}
	if predicateType != "" {
		v.Set("predicate_type", predicateType)
	}
	op := fmt.Sprintf("listing attestations of %s in %s", digest, prefix)
	var out []entry
	for page := 0; page < maxPages && len(out) < limit; page++ {
		var body struct {
			Attestations []entry `json:"attestations"`
		}
		resp, err := g.do(ctx, op, opRead, http.MethodGet, prefix+"/attestations/"+digest+"?"+v.Encode(), nil, &body)
		if err != nil {
			return nil, err
		}
		out = append(out, body.Attestations...)
		if resp.After == "" || resp.After == v.Get("after") {
			break
		}
		v.Set("after", resp.After)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Bulk lists the attestations of many digests through the owner's
// bulk-list endpoint: 100 digests a request, following page_info cursors.
// Every digest asked about is a key of the result, with nil for none; at
// most the limit per digest.
func (g *GitHub) Bulk(ctx context.Context, q Query, digests []string) (map[string][]Attestation, error) {
	limit, err := q.limit()
	if err != nil {
		return nil, err
	}
	owner := q.owner()
	if err := checkName(owner); err != nil {
		return nil, fmt.Errorf("bulk attestations: %w", err)
	}
	for _, d := range digests {
		if err := checkDigest(d); err != nil {
			return nil, err
		}
	}
	out := make(map[string][]Attestation, len(digests))
	for _, d := range digests {
		out[d] = nil
	}
	for start := 0; start < len(digests); start += bulkChunk {
		chunk := digests[start:min(start+bulkChunk, len(digests))]
		got, prefix, err := g.bulkChunk(ctx, owner, chunk, q.PredicateType, limit)
		if err != nil {
			return nil, err
		}
		for d, entries := range got {
			if _, asked := out[d]; !asked {
				continue // an answer for a digest nobody asked about
			}
			atts, err := g.resolve(ctx, entries, prefix+"/attestations/bulk-list "+d)
			if err != nil {
				return nil, err
			}
			out[d] = atts
		}
	}
	return out, nil
}

// bulkChunk asks about one chunk of digests, orgs first then users.
func (g *GitHub) bulkChunk(ctx context.Context, owner string, digests []string, predicateType string, limit int) (map[string][]entry, string, error) {
	var lastErr error
	for _, prefix := range g.ownerPrefixes(owner) {
		got, err := g.bulkPages(ctx, prefix, digests, predicateType, limit)
		if err == nil {
			g.rememberOwner(owner, prefix)
			return got, prefix, nil
		}
		if !IsNotFound(err) {
			return nil, "", err
		}
		lastErr = err
	}
	return nil, "", lastErr
}

// bulkPages follows page_info cursors of one bulk-list request.
func (g *GitHub) bulkPages(ctx context.Context, prefix string, digests []string, predicateType string, limit int) (map[string][]entry, error) {
	body := struct {
		SubjectDigests []string `json:"subject_digests"`
		PredicateType  string   `json:"predicate_type,omitempty"`
	}{digests, predicateType}
	out := map[string][]entry{}
	op := fmt.Sprintf("listing attestations of %d digest(s) in %s", len(digests), prefix)
	after := ""
	for page := 0; page < maxPages; page++ {
		v := url.Values{"per_page": {fmt.Sprint(perPageMax)}}
		if after != "" {
			v.Set("after", after)
		}
		var resp struct {
			Digests  map[string][]entry `json:"attestations_subject_digests"`
			PageInfo struct {
				HasNext bool   `json:"has_next"`
				Next    string `json:"next"`
			} `json:"page_info"`
		}
		if _, err := g.do(ctx, op, opRead, http.MethodPost, prefix+"/attestations/bulk-list?"+v.Encode(), body, &resp); err != nil {
			return nil, err
		}
		for d, entries := range resp.Digests {
			if room := limit - len(out[d]); room > 0 {
				out[d] = append(out[d], entries[:min(room, len(entries))]...)
			}
		}
		if !resp.PageInfo.HasNext || resp.PageInfo.Next == "" || resp.PageInfo.Next == after {
			break
		}
		after = resp.PageInfo.Next
	}
	return out, nil
}

// ownerPrefixes are the paths an owner's attestations may be under: the
// one that answered before, else orgs then users (as gh does).
func (g *GitHub) ownerPrefixes(owner string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p, ok := g.owners[owner]; ok {
		return []string{p}
	}
	return []string{"orgs/" + owner, "users/" + owner}
}

func (g *GitHub) rememberOwner(owner, prefix string) {
	if owner == "" || strings.HasPrefix(prefix, "repos/") {
		return
	}
	g.mu.Lock()
	g.owners[owner] = prefix
	g.mu.Unlock()
}

// resolve turns entries into attestations: the inline bundle, or the one
// behind bundle_url, fetched a few at a time.
func (g *GitHub) resolve(ctx context.Context, entries []entry, where string) ([]Attestation, error) {
	out := make([]Attestation, len(entries))
	errs := make([]error, len(entries))
	sem := make(chan struct{}, downloadParallelism)
	var wg sync.WaitGroup
	for i, e := range entries {
		out[i] = Attestation{Initiator: e.Initiator, RepositoryID: e.RepositoryID,
			Source: fmt.Sprintf("%s/%s#%d", g.host, where, i+1)}
		if len(bytes.TrimSpace(e.Bundle)) > 0 && !bytes.Equal(bytes.TrimSpace(e.Bundle), []byte("null")) {
			out[i].Bundle = e.Bundle
			continue
		}
		if e.BundleURL == "" {
			errs[i] = &Error{Remote: g.host, Op: "reading " + where, Reason: fmt.Sprintf("attestation %d has neither bundle nor bundle_url", i+1)}
			continue
		}
		wg.Add(1)
		go func(i int, u string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i].Bundle, errs[i] = g.fetchBundle(ctx, u)
		}(i, e.BundleURL)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// fetchBundle downloads a bundle_url: a short-lived signed URL serving the
// bundle JSON compressed with raw (block) snappy. No Authorization header
// goes with it: the URL carries its own signature.
func (g *GitHub) fetchBundle(ctx context.Context, raw string) (json.RawMessage, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &Error{Remote: g.host, Op: "reading attestations", Reason: "bundle_url is not an http(s) URL"}
	}
	shown := u.Scheme + "://" + u.Host + u.Path // the query holds the signature
	op := "fetching bundle " + shown
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	resp, err := g.dl.Do(req)
	if err != nil {
		return nil, networkError(u.Host, op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{Remote: u.Host, Op: op, Status: resp.StatusCode,
			Hint: "bundle URLs are short-lived: run the command again"}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBundleSize+1))
	if err != nil {
		return nil, networkError(u.Host, op, err)
	}
	if len(data) > MaxBundleSize {
		return nil, &Error{Remote: u.Host, Op: op, Reason: "larger than 16 MiB"}
	}
	doc, err := decodeBundle(data)
	if err != nil {
		return nil, &Error{Remote: u.Host, Op: op, Reason: err.Error()}
	}
	return doc, nil
}

// decodeBundle reads a fetched bundle: raw snappy, or plain JSON (older
// answers and mirrors), at most MaxBundleSize decoded.
func decodeBundle(data []byte) (json.RawMessage, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return t, nil
	}
	n, err := snappy.DecodedLen(data)
	if err != nil {
		return nil, fmt.Errorf("neither JSON nor snappy: %w", err)
	}
	if n > MaxBundleSize {
		return nil, fmt.Errorf("decodes to %d bytes, larger than 16 MiB", n)
	}
	doc, err := snappy.Decode(nil, data)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if !json.Valid(doc) {
		return nil, errors.New("the decoded bundle is not JSON")
	}
	return doc, nil
}

// checkDigest accepts ALG:HEX with a lower-case algorithm and hex digits,
// so a digest can go into a URL path as it is.
func checkDigest(d string) error {
	alg, h, ok := strings.Cut(d, ":")
	if !ok || alg == "" || len(h) < 32 || strings.Trim(alg, "abcdefghijklmnopqrstuvwxyz0123456789") != "" ||
		strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("digest %q: want ALG:HEX, e.g. sha256:<64 hex digits>", d)
	}
	return nil
}
