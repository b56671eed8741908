package version

import (
	"bytes"
	"testing"

	"github.com/provenant/provenant/internal/cmdutil"
)

// TestRun: what "provenant version" prints for a release build (the
// version and source digest scripts/build-release stamps, no VCS
// information: -buildvcs=false) and for a build in a checkout (no stamp,
// the commit the toolchain recorded).
func TestRun(t *testing.T) {
	digest := "4f6a0c1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"
	tests := []struct {
		name  string
		facts cmdutil.BuildFacts
		want  string
	}{
		{"release build: stamped, no VCS", cmdutil.BuildFacts{Version: "v1.2.3", SourceDigest: digest, Module: "github.com/provenant/provenant", ModuleVersion: "(devel)", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"provenant v1.2.3\nsource:  sha256:" + digest + "\nmodule:  github.com/provenant/provenant (devel)\ngo:      go1.26.8 linux/amd64\n"},
		{"build in a checkout: no stamp, the commit", cmdutil.BuildFacts{Version: "dev", Commit: "0123456789abcdef0123456789abcdef01234567", CommitTime: "2026-12-04T18:00:00Z", Modified: true, Module: "github.com/provenant/provenant", ModuleVersion: "(devel)", GoVersion: "go1.26.8", Platform: "darwin/arm64"},
			"provenant dev\ncommit:  0123456789abcdef0123456789abcdef01234567 (modified) 2026-12-04T18:00:00Z\nmodule:  github.com/provenant/provenant (devel)\ngo:      go1.26.8 darwin/arm64\n"},
		{"go install: the module version", cmdutil.BuildFacts{Version: "v1.2.3", Module: "github.com/provenant/provenant", ModuleVersion: "v1.2.3", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"provenant v1.2.3\nmodule:  github.com/provenant/provenant v1.2.3\ngo:      go1.26.8 linux/amd64\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Run(&Options{Facts: tt.facts, f: &cmdutil.Factory{Stdout: &out}}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}
