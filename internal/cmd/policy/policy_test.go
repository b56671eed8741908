package policy

import (
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/cmdutil/cmdtest"
)

// TestNewCmdInit: flags parse into InitOptions, and --repo is required
// before anything is verified.
func TestNewCmdInit(t *testing.T) {
	tests := []struct {
		name, args, wantErr string
		want                InitOptions
	}{
		{name: "bundle dir", args: "-R o/r --bundle-dir dist -O p.yaml --offline", want: InitOptions{Repo: "o/r", BundleDir: "dist", Output: "p.yaml"}},
		{name: "artifacts and bundles", args: "--repo o/r a.tgz -b a.json --signer-workflow o/b/.github/workflows/x.yml", want: InitOptions{Repo: "o/r", SignerWorkflow: "o/b/.github/workflows/x.yml", Artifacts: []string{"a.tgz"}}},
		{name: "no repo", args: "--bundle-dir dist", wantErr: "--repo is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *InitOptions
			cmd := NewCmdInit(cmdtest.Factory(), func(o *InitOptions) error { got = o; return nil })
			if !cmdtest.Execute(t, cmd, tt.args, tt.wantErr) {
				return
			}
			if got.Repo != tt.want.Repo || got.BundleDir != tt.want.BundleDir || got.Output != tt.want.Output || got.SignerWorkflow != tt.want.SignerWorkflow ||
				strings.Join(got.Artifacts, ",") != strings.Join(tt.want.Artifacts, ",") || got.GitHub.Hostname != "github.com" {
				t.Errorf("options %+v", got)
			}
			if opts := got.verifierOptions(nil); opts.Policy.GitHubServer != "https://github.com" || opts.Policy.MinLevel != 1 {
				t.Errorf("verifier options %+v", opts.Policy)
			}
		})
	}
}

// TestNewCmdKyverno: flags parse into KyvernoOptions with their defaults.
func TestNewCmdKyverno(t *testing.T) {
	var got *KyvernoOptions
	cmd := NewCmdKyverno(cmdtest.Factory(), func(o *KyvernoOptions) error { got = o; return nil })
	cmdtest.Execute(t, cmd, "--repo o/r --image ghcr.io/o/* --ref refs/tags/v* --ref refs/heads/main --hostname ghes.example", "")
	k := got.Kyverno
	if k.Repo != "o/r" || strings.Join(k.Images, ",") != "ghcr.io/o/*" || strings.Join(k.Refs, ",") != "refs/tags/v*,refs/heads/main" ||
		k.MinLevel != 2 || k.RekorURL != "https://rekor.sigstore.dev" || got.Hostname != "ghes.example" {
		t.Errorf("options %+v", got)
	}
}
