package main

import (
	"strings"
	"testing"

	"github.com/provenant/provenant/remote/githubtest"
)

// TestVerify_GHETenantTrustDomain: for <tenant>.ghe.com verify asks GET
// /meta for the trust domain and loads GitHub's TUF target
// <trust domain>.trusted_root.json; offline with nothing cached, the error
// says so and names the trust domain. The tenant's issuer is the default.
func TestVerify_GHETenantTrustDomain(t *testing.T) {
	bundle := attackDir + "/mixed-digests.sigstore.json"
	tests := []struct {
		name        string
		trustDomain string
		vars        map[string]string
		args        []string
		code        int
		want        []string
		meta        bool // GET /meta asked
	}{
		{name: "trust domain from /meta, offline, not cached", trustDomain: "acme-td",
			args: []string{"--hostname", "acme.ghe.com", "--offline"}, code: exitFailed, meta: true,
			want: []string{"trust domain acme-td (GitHub's TUF target acme-td.trusted_root.json), issuer https://token.actions.acme.ghe.com",
				"GitHub trust domain acme-td: offline, and its trusted root (TUF target acme-td.trusted_root.json) is not usable from the cache"}},
		{name: "no trust domain in /meta", args: []string{"--hostname", "acme.ghe.com", "--offline"}, code: exitFailed, meta: true,
			want: []string{"GitHub Enterprise tenant acme.ghe.com: GET /meta of acme.ghe.com names no domains.artifact_attestations.trust_domain"}},
		{name: "a hostile trust domain", trustDomain: "../../x", args: []string{"--hostname", "acme.ghe.com", "--offline"}, code: exitFailed, meta: true,
			want: []string{`trust domain "../../x": want lower-case letters`}},
		{name: "tenant from GITHUB_API_URL, trusted root given: no /meta, the tenant's server",
			vars: map[string]string{"GITHUB_API_URL": "https://api.acme.ghe.com"}, args: []string{"--trusted-root", attackRoot},
			code: exitFailed, want: []string{`expected SAN value to match regex "^(?i:https://acme\.ghe\.com/provenant/demo/).+$"`}},
		{name: "github.com: no /meta", args: []string{"--trusted-root", attackRoot}, code: exitOK, want: []string{"VERIFIED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := githubtest.New(t)
			s.SetTrustDomain(tt.trustDomain)
			vars := map[string]string{"GITHUB_API_URL": s.URL, "GITHUB_SERVER_URL": "https://acme.ghe.com"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			args := append([]string{"--tuf-cache", t.TempDir(), "--repo", demoRepo, "--bundle", bundle, attackArtifact}, tt.args...)
			code, stdout, stderr := runVerifyIn(t, vars, args...)
			for _, w := range tt.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("no %q", w)
				}
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			asked := false
			for _, r := range s.Requests() {
				asked = asked || r.Path == "/meta"
			}
			if asked != tt.meta {
				t.Errorf("GET /meta asked: %v, want %v", asked, tt.meta)
			}
			if t.Failed() {
				t.Logf("stdout:%s\nstderr:%s", stdout, stderr)
			}
		})
	}
}
