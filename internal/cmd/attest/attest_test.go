package attest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/cmdutil"
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
			f := &cmdutil.Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
			var got *Options
			cmd := NewCmdAttest(f, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}
