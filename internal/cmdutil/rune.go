package cmdutil

import (
	"context"

	"github.com/spf13/cobra"
)

// RunE is a command's RunE after the GitHub CLI's pattern: complete the
// options o from the context and arguments and validate them (complete,
// when not nil), then runF when a test gives one, else run.
func RunE[T any](o *T, complete func(ctx context.Context, args []string) error, run, runF func(*T) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if complete != nil {
			if err := complete(cmd.Context(), args); err != nil {
				return err
			}
		}
		if runF != nil {
			return runF(o)
		}
		return run(o)
	}
}
