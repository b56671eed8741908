package download

import (
	"bytes"
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/cmdutil"
)

// TestNewCmdDownload: flags parse into Options, and a command line
// download cannot run is refused before anything is fetched.
func TestNewCmdDownload(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		wantErr string
		want    Options
	}{
		{name: "repo and digest", args: "--repo o/r --digest sha256:" + strings.Repeat("a", 64),
			want: Options{Repo: "o/r", DigestAlg: "sha256", OutDir: ".", Digests: []string{"sha256:" + strings.Repeat("a", 64)}}},
		{name: "owner, out-dir, limit", args: "-o octo --out-dir d -L 5 --digest sha512:" + strings.Repeat("b", 128),
			want: Options{Owner: "octo", DigestAlg: "sha256", OutDir: "d", Digests: []string{"sha512:" + strings.Repeat("b", 128)}}},
		{name: "neither repo nor owner", args: "--digest sha256:" + strings.Repeat("a", 64), wantErr: "give --repo or --owner"},
		{name: "both", args: "--repo o/r --owner o", wantErr: "give --repo or --owner"},
		{name: "bad digest-alg", args: "--repo o/r -d md5", wantErr: `--digest-alg "md5"`},
		{name: "bad digest", args: "--repo o/r --digest nope", wantErr: "not ALG:HEX"},
		{name: "nothing", args: "--repo o/r", wantErr: "nothing to look up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &cmdutil.Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
			var got *Options
			cmd := NewCmdDownload(f, func(o *Options) error { got = o; return nil })
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
			if got.Repo != tt.want.Repo || got.Owner != tt.want.Owner || got.DigestAlg != tt.want.DigestAlg || got.OutDir != tt.want.OutDir ||
				strings.Join(got.Digests, ",") != strings.Join(tt.want.Digests, ",") {
				t.Errorf("options %+v, want %+v", got, tt.want)
			}
		})
	}
}
