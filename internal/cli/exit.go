package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/verifier"
)

// ExitCode is the process exit code of a command's error, the one mapping
// there is: nil 0; a *cmdutil.SilentError its code; a *cmdutil.UsageError,
// a *verifier.InputError or a *verifier.PolicyError 2; a
// *cmdutil.FailedError 1; any other error 2: cobra's (a flag, an
// argument) or a command's refusal of its flags before it runs.
func ExitCode(err error) int {
	var se *cmdutil.SilentError
	var ue *cmdutil.UsageError
	var fe *cmdutil.FailedError
	var ie *verifier.InputError
	var pe *verifier.PolicyError
	switch {
	case err == nil:
		return cmdutil.ExitOK
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &ue), errors.As(err, &ie), errors.As(err, &pe):
		return cmdutil.ExitUsage
	case errors.As(err, &fe):
		return cmdutil.ExitFailed
	}
	return cmdutil.ExitUsage
}

// Exit reports err, the outcome of cmd, and returns its exit code. A typed
// error is the command's own and is logged as such (see cmdutil.Logger);
// any other comes from cobra (bad flags, unknown commands, wrong
// arguments) and is printed as one line pointing at --help.
func Exit(f *cmdutil.Factory, cmd *cobra.Command, err error) int {
	code := ExitCode(err)
	var se *cmdutil.SilentError
	var ue *cmdutil.UsageError
	var fe *cmdutil.FailedError
	var ie *verifier.InputError
	var pe *verifier.PolicyError
	name := "provenant"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	switch {
	case err == nil, errors.As(err, &se):
	case errors.As(err, &ue), errors.As(err, &fe), errors.As(err, &ie), errors.As(err, &pe):
		f.Logger(name, cmd != nil && cmd.Annotations[cmdutil.AnnotateAnnotation] == "true").Error(err.Error())
	default:
		// A flag's name comes from the user: control characters are escaped.
		fmt.Fprintf(f.Stderr, "%s: %s (see %s --help)\n", name, builder.Printable(err.Error()), name)
	}
	return code
}
