// Package cli is provenant's command tree: the root command, the GitHub
// Actions inputs bound once for every command that takes them, and the one
// mapping of a command's error to the process exit code (exit.go), as the
// GitHub CLI's internal/ghcmd has it.
package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmd/admission"
	"github.com/provenant/provenant/internal/cmd/attest"
	"github.com/provenant/provenant/internal/cmd/download"
	"github.com/provenant/provenant/internal/cmd/policy"
	"github.com/provenant/provenant/internal/cmd/trustedroot"
	"github.com/provenant/provenant/internal/cmd/verify"
	"github.com/provenant/provenant/internal/cmd/version"
	"github.com/provenant/provenant/internal/cmdutil"
)

// Main runs the command line args with the factory f and returns the
// process exit code.
func Main(ctx context.Context, args []string, f *cmdutil.Factory) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return Exit(f, cmd, err)
}

// NewRootCmd is the whole command tree, writing to f's streams.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
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
			if v, _ := cmd.Flags().GetBool("v"); v {
				fmt.Fprintf(f.Stdout, "provenant %s\n", cmd.Version)
				return nil
			}
			cmd.SetOut(f.Stderr)
			_ = cmd.Help()
			return &cmdutil.SilentError{Code: cmdutil.ExitUsage}
		},
		// Action inputs fill the flags not given on the command line, for
		// every command that takes them (see BindInputs).
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return ApplyInputs(cmd, f)
		},
		DisableAutoGenTag: true,
	}
	root.SetOut(f.Stdout)
	root.SetErr(f.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(
		attest.NewCmdAttest(f, nil),
		verify.NewCmdVerify(f, nil),
		download.NewCmdDownload(f, nil),
		version.NewCmdVersion(f, nil),
		policy.NewCmdPolicy(f),
		trustedroot.NewCmdTrustedRoot(f, nil),
		admission.NewCmdAdmission(f, nil),
		newAttestationCmd(f),
	)
	root.Version = cmdutil.VersionString(f.Build)
	root.SetVersionTemplate("provenant {{.Version}}\n")
	// --version, with no letter: -v is --verbose (verify). The root's -v,
	// cobra's default until then, still prints the version, unlisted.
	root.Flags().Bool("version", false, "print the version of provenant")
	root.Flags().BoolP("v", "v", false, "the version, as --version")
	_ = root.Flags().MarkHidden("v")
	// One spelling per idea: every command takes the other spellings of its
	// flags as hidden aliases (cmdutil.FlagIdeas).
	root.SetGlobalNormalizationFunc(cmdutil.NormalizeFlagName)
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

// newAttestationCmd is gh's command group, so that a pasted
// "gh attestation verify …" or "gh attestation trusted-root" line runs with
// only the program name changed. Hidden: the commands are documented under
// their own names.
func newAttestationCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "attestation",
		Short:  "gh's names: attestation verify, attestation trusted-root",
		Args:   cobra.NoArgs,
		Hidden: true,
	}
	cmd.AddCommand(verify.NewCmdVerify(f, nil), trustedroot.NewCmdTrustedRoot(f, nil))
	return cmd
}
