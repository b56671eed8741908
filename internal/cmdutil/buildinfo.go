package cmdutil

import (
	"runtime"
	"runtime/debug"
)

// BuildFacts is what a binary knows about its own build.
type BuildFacts struct {
	Version, Commit, CommitTime, GoVersion, Platform string
	Modified                                         bool
	// SourceDigest is the source digest a release build stamps (hex; the
	// release commit's dist/source-digest), "" otherwise.
	SourceDigest string
	// Module and ModuleVersion are the main module's path and version as
	// the toolchain recorded them ("(devel)" for a build in a checkout);
	// "" without build info.
	Module, ModuleVersion string
}

// ReadBuildFacts reads the build info the Go toolchain embeds, after the
// version, commit and source digest release builds stamp.
func ReadBuildFacts(b BuildInfo) BuildFacts {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return buildFacts(b, bi, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// buildFacts is ReadBuildFacts of the stamp b and the build info bi (nil
// when the binary has none).
func buildFacts(b BuildInfo, bi *debug.BuildInfo, goVersion, platform string) BuildFacts {
	f := BuildFacts{Version: b.Version, Commit: b.Commit, SourceDigest: b.SourceDigest, GoVersion: goVersion, Platform: platform}
	if bi != nil {
		f.Module, f.ModuleVersion = bi.Main.Path, bi.Main.Version
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
	}
	if f.Version == "" {
		f.Version = "dev"
	}
	return f
}

// VersionString is the one-line version: the version and, when known, the
// commit it was built from, else the source digest a release build
// stamps.
func VersionString(b BuildInfo) string { return ReadBuildFacts(b).String() }

// String is the one-line version (VersionString).
func (f BuildFacts) String() string {
	s := f.Version
	switch {
	case f.Commit != "":
		s += " (commit " + f.Commit
		if f.Modified {
			s += ", modified"
		}
		s += ")"
	case f.SourceDigest != "":
		s += " (source sha256:" + f.SourceDigest + ")"
	}
	return s
}
