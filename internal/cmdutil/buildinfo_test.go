package cmdutil

import (
	"runtime/debug"
	"testing"
)

// TestBuildFacts: the stamp of a release build (version, source digest)
// and the toolchain's build info (module version, VCS settings) each fill
// the facts, and the one-line version names the commit, else the source.
func TestBuildFacts(t *testing.T) {
	devel := debug.Module{Path: "github.com/provenant/provenant", Version: "(devel)"}
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-04T18:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name     string
		stamp    BuildInfo
		bi       *debug.BuildInfo
		wantLine string
		want     BuildFacts
	}{
		{"release build: -buildvcs=false, the stamp", BuildInfo{Version: "v1.2.3", SourceDigest: "d1"}, &debug.BuildInfo{Main: devel},
			"v1.2.3 (source sha256:d1)", BuildFacts{Version: "v1.2.3", SourceDigest: "d1", Module: devel.Path, ModuleVersion: "(devel)"}},
		{"checkout build: VCS settings, no stamp", BuildInfo{}, &debug.BuildInfo{Main: devel, Settings: vcs},
			"dev (commit abc123, modified)", BuildFacts{Version: "dev", Commit: "abc123", CommitTime: "2026-12-04T18:00:00Z", Modified: true, Module: devel.Path, ModuleVersion: "(devel)"}},
		{"go install module@v1.2.3", BuildInfo{}, &debug.BuildInfo{Main: debug.Module{Path: devel.Path, Version: "v1.2.3"}},
			"v1.2.3", BuildFacts{Version: "v1.2.3", Module: devel.Path, ModuleVersion: "v1.2.3"}},
		{"no build info", BuildInfo{}, nil, "dev", BuildFacts{Version: "dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildFacts(tt.stamp, tt.bi, "go1.26.8", "linux/amd64")
			tt.want.GoVersion, tt.want.Platform = "go1.26.8", "linux/amd64"
			if got != tt.want {
				t.Errorf("facts = %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.wantLine {
				t.Errorf("line = %q, want %q", got.String(), tt.wantLine)
			}
		})
	}
}
