package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
)

func newVersionCmd(e *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Long: `Prints the version of this binary, the commit it was built from and the Go
toolchain that built it, from the build information the toolchain embeds, so
a binary can be matched to its release and that release's provenance.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			f := cmdutil.ReadBuildFacts(e.Build)
			fmt.Fprintf(e.Stdout, "provenant %s\n", f.Version)
			if f.Commit != "" {
				state := ""
				if f.Modified {
					state = " (modified)"
				}
				fmt.Fprintf(e.Stdout, "commit:  %s%s %s\n", f.Commit, state, f.CommitTime)
			}
			fmt.Fprintf(e.Stdout, "go:      %s %s\n", f.GoVersion, f.Platform)
			return nil
		},
	}
}
