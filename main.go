// Command provenant records how a release artifact was built as a SLSA v1
// in-toto statement, signs it keylessly through Sigstore, and verifies such
// attestations.
//
// main.go builds the command tree (github.com/spf13/cobra, as gh, cosign and
// slsa-verifier do), applies GitHub Actions inputs to flags and maps the
// outcome to an exit code; each subcommand lives in its own cmd_*.go file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/builder"
)

// Exit codes shared by every subcommand.
const (
	exitOK     = 0 // the command did what was asked
	exitFailed = 1 // a check failed or the work could not be done
	exitUsage  = 2 // bad flags, bad input, unreadable files
)

// env is what a subcommand may take from the process: its streams and its
// environment. Tests build one by hand.
type env struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// exitCode is what a subcommand's RunE returns once it has said what went
// wrong itself: run only turns it into the process exit code.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// asExit turns a subcommand's exit code into RunE's error.
func asExit(code int) error {
	if code == exitOK {
		return nil
	}
	return exitCode(code)
}

// run executes the command line and returns the process exit code. Errors
// the commands did not report themselves (bad flags, unknown commands,
// wrong arguments) are printed as one line and exit with exitUsage.
func run(ctx context.Context, args []string, e env) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	var code exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	}
	name := "provenant"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	// A flag's name comes from the user: control characters are escaped.
	fmt.Fprintf(e.stderr, "%s: %s (see %s --help)\n", name, builder.Printable(err.Error()), name)
	return exitUsage
}

// newRootCmd is the whole command tree, writing to e's streams.
func newRootCmd(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "provenant",
		Short: "Verifiable build provenance for every release",
		Long: `provenant records how release artifacts were built as SLSA v1 provenance,
signs it keylessly with the job's OIDC token through Sigstore, and verifies
such attestations (its own and those of GitHub's attest action,
slsa-github-generator, npm and cosign) link by link.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Without a subcommand: the help, on stderr, and a usage exit.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(e.stderr)
			_ = cmd.Help()
			return exitCode(exitUsage)
		},
		DisableAutoGenTag: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(newAttestCmd(e), newVerifyCmd(e), newDownloadCmd(e), newVersionCmd(e), newPolicyCmd(e))
	root.Version = versionString()
	root.SetVersionTemplate("provenant {{.Version}}\n")
	// Made now rather than at Execute, so the generated docs list it.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			sub.DisableAutoGenTag = true
		}
	}
	return root
}

// applyInputs sets every flag of cmd not given on the command line from the
// action input of the same name (INPUT_<NAME>), or of the name renames gives
// it, and names the inputs it applied on stderr. It reads inputs only in a
// GitHub Actions step (GITHUB_ACTIONS=true): elsewhere an INPUT_* variable
// left in a shell would silently loosen a policy or swap the trust.
func applyInputs(cmd *cobra.Command, e env, renames map[string]string) error {
	if e.getenv("GITHUB_ACTIONS") != "true" {
		return nil
	}
	fs := cmd.Flags()
	var applied []string
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || fl.Hidden || err != nil {
			return
		}
		name := fl.Name
		if n, ok := renames[name]; ok {
			name = n
		}
		v := strings.TrimSpace(e.getenv("INPUT_" + strings.ToUpper(name)))
		if v == "" {
			return
		}
		if serr := fs.Set(fl.Name, v); serr != nil {
			err = fmt.Errorf("input %s: %w", name, serr)
			return
		}
		applied = append(applied, name)
	})
	if len(applied) > 0 {
		sort.Strings(applied)
		fmt.Fprintf(e.stderr, "%s: action inputs applied: %s\n", cmd.CommandPath(), strings.Join(applied, ", "))
	}
	return err
}

// aliases returns a flag-name normaliser that maps each alias to its flag,
// so --provenance-path is --bundle to pflag: parsing, "was it given" and
// completion all see one flag.
func aliases(m map[string]string) func(*pflag.FlagSet, string) pflag.NormalizedName {
	return func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := m[name]; ok {
			return pflag.NormalizedName(to)
		}
		return pflag.NormalizedName(name)
	}
}
