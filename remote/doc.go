// Package remote is where attestations are kept away from the runner:
// GitHub's attestations API, GitHub release assets (release.go) and OCI
// registries (a bundle as an OCI 1.1 referrer of its image, oci.go). It
// uploads Sigstore bundles to those homes and fetches them back by subject
// digest or, for releases, with the assets.
//
// It never reads the environment: the caller gives the HTTP client, the
// API URL and the token. The token goes only to the API's host and its
// uploads host, through one transport (auth.go), never to a host an
// answer redirects to. GitHub is spoken to through
// github.com/google/go-github (NewRequest and Do, as the attestations
// endpoints have no typed methods there), so rate limits and error types
// are go-github's; this package only adds a bounded pause on secondary
// rate limits and messages that name the remote and what to do.
package remote
