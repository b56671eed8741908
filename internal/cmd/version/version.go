// Package version is "provenant version": the version, commit and Go
// toolchain of this binary.
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
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Long: `Prints the version of this binary, the commit it was built from and the Go
toolchain that built it, from the build information the toolchain embeds, so
a binary can be matched to its release and that release's provenance.`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, func(context.Context, []string) error {
			o.Facts = cmdutil.ReadBuildFacts(f.Build)
			return nil
		}, Run, runF),
	}
}

// Run prints the version lines.
func Run(o *Options) error {
	w := o.f.Stdout
	fmt.Fprintf(w, "provenant %s\n", o.Facts.Version)
	if o.Facts.Commit != "" {
		state := ""
		if o.Facts.Modified {
			state = " (modified)"
		}
		fmt.Fprintf(w, "commit:  %s%s %s\n", o.Facts.Commit, state, o.Facts.CommitTime)
	}
	fmt.Fprintf(w, "go:      %s %s\n", o.Facts.GoVersion, o.Facts.Platform)
	return nil
}
