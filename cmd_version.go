package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set by release builds with -ldflags "-X main.version=vX.Y.Z";
// otherwise it comes from the build info (a module version for go install,
// the VCS stamp for a build in a checkout).
var version = ""

// commit is set by release builds with -ldflags "-X main.commit=<sha>" where
// the build has no VCS stamp (-buildvcs=false, or a source tarball).
var commit = ""

// buildFacts is what a binary knows about its own build.
type buildFacts struct {
	Version, Commit, CommitTime, GoVersion, Platform string
	Modified                                         bool
}

// readBuildFacts reads the build info the Go toolchain embeds.
func readBuildFacts() buildFacts {
	f := buildFacts{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
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

// versionString is the one-line version: the version and, when known, the
// commit it was built from.
func versionString() string {
	f := readBuildFacts()
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

func newVersionCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Long: `Prints the version of this binary, the commit it was built from and the Go
toolchain that built it, from the build information the toolchain embeds, so
a binary can be matched to its release and that release's provenance.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			f := readBuildFacts()
			fmt.Fprintf(e.stdout, "provenant %s\n", f.Version)
			if f.Commit != "" {
				state := ""
				if f.Modified {
					state = " (modified)"
				}
				fmt.Fprintf(e.stdout, "commit:  %s%s %s\n", f.Commit, state, f.CommitTime)
			}
			fmt.Fprintf(e.stdout, "go:      %s %s\n", f.GoVersion, f.Platform)
			return nil
		},
	}
}
