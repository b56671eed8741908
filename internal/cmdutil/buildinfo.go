package cmdutil

import (
	"runtime"
	"runtime/debug"
)

// BuildFacts is what a binary knows about its own build.
type BuildFacts struct {
	Version, Commit, CommitTime, GoVersion, Platform string
	Modified                                         bool
}

// ReadBuildFacts reads the build info the Go toolchain embeds, after the
// version and commit release builds stamp.
func ReadBuildFacts(b BuildInfo) BuildFacts {
	f := BuildFacts{Version: b.Version, Commit: b.Commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if f.Version == "" {
			f.Version = "dev"
		}
		return f
	}
	if f.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		f.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if f.Commit == "" {
				f.Commit = s.Value
			}
		case "vcs.time":
			f.CommitTime = s.Value
		case "vcs.modified":
			f.Modified = s.Value == "true"
		}
	}
	if f.Version == "" {
		f.Version = "dev"
	}
	return f
}

// VersionString is the one-line version: the version and, when known, the
// commit it was built from.
func VersionString(b BuildInfo) string {
	f := ReadBuildFacts(b)
	s := f.Version
	if f.Commit != "" {
		s += " (commit " + f.Commit
		if f.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s
}
