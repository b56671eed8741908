package verify

import (
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/cmdutil/cmdtest"
	"github.com/provenant/provenant/verifier"
)

// TestNewCmdVerify: flags, aliases and arguments parse into Options, and
// a command line verify cannot run is refused before Run.
func TestNewCmdVerify(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		wantErr string
		check   func(t *testing.T, o *Options)
	}{
		{name: "gh's command line", args: "app.tgz -b app.sigstore.json -R octo/app --custom-trusted-root root.json --format json",
			check: func(t *testing.T, o *Options) {
				if o.Policy.Repo != "octo/app" || o.Trust.TrustedRoot != "root.json" || o.Format != "json" ||
					strings.Join(o.Bundles, ",") != "app.sigstore.json" || strings.Join(o.Artifacts, ",") != "app.tgz" {
					t.Errorf("options %+v", o)
				}
				if o.Policy.GitHubServer != "https://github.com" || o.Policy.CertOIDCIssuer != verifier.GitHubActionsIssuer {
					t.Errorf("server %q issuer %q", o.Policy.GitHubServer, o.Policy.CertOIDCIssuer)
				}
			}},
		{name: "slsa-verifier's", args: "a --provenance-path a.intoto.jsonl --source-uri github.com/o/r --build-workflow-input k=v",
			check: func(t *testing.T, o *Options) {
				if o.Policy.SourceURI != "github.com/o/r" || o.Policy.WorkflowInputs["k"] != "v" || strings.Join(o.Bundles, ",") != "a.intoto.jsonl" {
					t.Errorf("options %+v", o)
				}
			}},
		{name: "cosign's type", args: "a --type spdx --certificate-identity x --certificate-oidc-issuer https://i",
			check: func(t *testing.T, o *Options) {
				if o.Policy.PredicateType != "https://spdx.dev/Document" || o.Policy.CertIdentity != "x" || o.Policy.CertOIDCIssuer != "https://i" {
					t.Errorf("policy %+v", o.Policy)
				}
			}},
		{name: "enterprise host", args: "a --hostname ghe.example/ --repo o/r",
			check: func(t *testing.T, o *Options) {
				if o.Policy.GitHubServer != "https://ghe.example" {
					t.Errorf("server %q", o.Policy.GitHubServer)
				}
			}},
		{name: "type and predicate-type", args: "a --type spdx --predicate-type https://x", wantErr: `--type "spdx" and --predicate-type "https://x": give one`},
		{name: "unknown type", args: "a --type nope", wantErr: "not a type cosign names"},
		{name: "format", args: "a --format yaml", wantErr: `--format "yaml"`},
		{name: "digest-alg", args: "a -d md5", wantErr: `--digest-alg "md5"`},
		{name: "min-level", args: "a --min-level 4", wantErr: "--min-level 4"},
		{name: "workflow-input", args: "a --workflow-input novalue", wantErr: `--workflow-input "novalue": want KEY=VALUE`},
		{name: "release without repo", args: "--release v1", wantErr: "--release needs --repo"},
		{name: "release with an artifact", args: "a --release v1 --repo o/r", wantErr: "give no ARTIFACT or --digest"},
		{name: "release with bundle-dir", args: "--release v1 --repo o/r --bundle-dir d", wantErr: "give no --bundle or --bundle-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Options
			cmd := NewCmdVerify(cmdtest.Factory(), func(o *Options) error { got = o; return nil })
			if !cmdtest.Execute(t, cmd, tt.args, tt.wantErr) {
				return
			}
			tt.check(t, got)
		})
	}
}
