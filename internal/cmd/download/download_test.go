package download

import (
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/cmdutil/cmdtest"
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
			var got *Options
			cmd := NewCmdDownload(cmdtest.Factory(), func(o *Options) error { got = o; return nil })
			if !cmdtest.Execute(t, cmd, tt.args, tt.wantErr) {
				return
			}
			if got.Repo != tt.want.Repo || got.Owner != tt.want.Owner || got.DigestAlg != tt.want.DigestAlg || got.OutDir != tt.want.OutDir ||
				strings.Join(got.Digests, ",") != strings.Join(tt.want.Digests, ",") {
				t.Errorf("options %+v, want %+v", got, tt.want)
			}
		})
	}
}
