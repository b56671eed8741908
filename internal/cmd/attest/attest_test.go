package attest

import (
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/cmdutil/cmdtest"
)

// TestNewCmdAttest: flags parse into Options, and a command line attest
// cannot run is refused before anything is read or signed.
func TestNewCmdAttest(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		wantErr string
		check   func(t *testing.T, o *Options)
	}{
		{name: "defaults", args: "--subject-path dist/*",
			check: func(t *testing.T, o *Options) {
				if o.SubjectPath != "dist/*" || o.Sigstore != "auto" || !o.ShowSummary || o.NoSign || o.PushToRegistry {
					t.Errorf("options %+v", o)
				}
			}},
		{name: "custom predicate, unsigned", args: "--no-sign --predicate-type https://x --predicate {} --out a.json --overwrite",
			check: func(t *testing.T, o *Options) {
				if !o.NoSign || o.PredicateType != "https://x" || o.Predicate != "{}" || o.Out != "a.json" || !o.Overwrite {
					t.Errorf("options %+v", o)
				}
			}},
		{name: "registries", args: "--push-to-registry --allowed-registries ghcr.io/o/ --allowed-registries quay.io/o",
			check: func(t *testing.T, o *Options) {
				if !o.PushToRegistry || strings.Join(o.AllowedRegistries, ",") != "ghcr.io/o/,quay.io/o" {
					t.Errorf("options %+v", o)
				}
			}},
		{name: "release and token", args: "--upload-to-release v1 --github-token false",
			check: func(t *testing.T, o *Options) {
				if o.UploadToRelease != "v1" || o.GitHubToken != "false" {
					t.Errorf("options %+v", o)
				}
			}},
		{name: "an argument", args: "dist/app", wantErr: `unexpected argument "dist/app"`},
		{name: "allowed-registries alone", args: "--allowed-registries ghcr.io/o/", wantErr: "allowed-registries is given without push-to-registry"},
		{name: "unknown flag", args: "--nope", wantErr: "unknown flag: --nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Options
			cmd := NewCmdAttest(cmdtest.Factory(), func(o *Options) error { got = o; return nil })
			if !cmdtest.Execute(t, cmd, tt.args, tt.wantErr) {
				return
			}
			tt.check(t, got)
		})
	}
}
