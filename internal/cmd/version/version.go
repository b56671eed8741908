// Package version is "provenant version": what identifies this binary's
// source and build — its version, the source digest or commit it was built
// from, its module and its Go toolchain.
package version

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
)

// Options are what "provenant version" prints from.
type Options struct {
	// Facts are the binary's build facts.
	Facts cmdutil.BuildFacts
	f     *cmdutil.Factory
}

// NewCmdVersion is "provenant version"; runF, when not nil, runs instead
// of Run (tests).
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, source and Go version of this binary",
		Long: `Prints what identifies this binary's source and build, one fact a line:

  provenant  the version (a release's tag, go install's module version, else dev)
  source     a release binary's source digest: the release commit's
             dist/source-digest, the sha256 over its tracked files
             (scripts/install-binary --source-digest DIR of a checkout of the
             tag prints it). Release builds cannot stamp their commit, which
             holds their checksums; this names the source exactly instead.
  commit     the commit (and "modified" for uncommitted changes), when the
             toolchain recorded it: a build in a git checkout
  module     the main module and its version, as the toolchain recorded them
  go         the Go toolchain and platform

so a binary can be matched to its release, its source and that release's
provenance.`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, func(context.Context, []string) error {
			o.Facts = cmdutil.ReadBuildFacts(f.Build)
			return nil
		}, Run, runF),
	}
	cmdutil.NormalizeFlags(cmd)
	return cmd
}

// Run prints the version lines.
func Run(o *Options) error {
	w := o.f.Stdout
	facts := o.Facts
	fmt.Fprintf(w, "provenant %s\n", facts.Version)
	if facts.SourceDigest != "" {
		fmt.Fprintf(w, "source:  sha256:%s\n", facts.SourceDigest)
	}
	if facts.Commit != "" {
		state := ""
		if facts.Modified {
			state = " (modified)"
		}
		line := facts.Commit + state
		if facts.CommitTime != "" {
			line += " " + facts.CommitTime
		}
		fmt.Fprintf(w, "commit:  %s\n", line)
	}
	if facts.Module != "" {
		fmt.Fprintf(w, "module:  %s %s\n", facts.Module, facts.ModuleVersion)
	}
	fmt.Fprintf(w, "go:      %s %s\n", facts.GoVersion, facts.Platform)
	return nil
}
