package remote

import (
	"net/http"
	"net/url"
	"strings"
)

// authTransport adds the token to the requests it carries that go to the
// API's own host or its uploads host (uploads.X for api.X; the same host
// for GitHub Enterprise Server, whose uploads are under /api/uploads), over
// the API's scheme, and to no other. go-github's WithAuthToken adds it to
// every request, so a redirect an API answer gives to another host would
// take the token there: Go's http.Client drops an Authorization header set
// on the first request when a redirect leaves its host, but not one a
// RoundTripper adds to every hop. Every GitHub client of this package
// carries its token through this transport and nothing else.
type authTransport struct {
	next   http.RoundTripper
	token  string
	scheme string // the API's
	host   string // the API's, lower case, default port dropped
}

// newAuthTransport returns the transport adding token to requests for the
// host of api and its uploads host; nil next means http.DefaultTransport.
func newAuthTransport(next http.RoundTripper, token string, api *url.URL) *authTransport {
	if next == nil {
		next = http.DefaultTransport
	}
	return &authTransport{next: next, token: token, scheme: strings.ToLower(api.Scheme), host: canonicalHost(api)}
}

// RoundTrip sends r, with the token when r is for the API's host or its
// uploads host, and without any Authorization header otherwise.
func (t *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	if t.allowed(r.URL) {
		r2.Header.Set("Authorization", "Bearer "+t.token)
	} else {
		r2.Header.Del("Authorization")
	}
	return t.next.RoundTrip(r2)
}

// allowed reports whether the token may go to u: same scheme as the API
// (never https to http) and the API's host or its uploads host.
func (t *authTransport) allowed(u *url.URL) bool {
	return u != nil && strings.EqualFold(u.Scheme, t.scheme) && sameUploadHost(canonicalHost(u), t.host)
}

// canonicalHost is u's host:port in lower case, without the scheme's
// default port.
func canonicalHost(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch strings.ToLower(u.Scheme) {
	case "https":
		h = strings.TrimSuffix(h, ":443")
	case "http":
		h = strings.TrimSuffix(h, ":80")
	}
	return h
}
