package main

// harness_test.go runs the command line in process for the black-box
// tests: run and env are what they call.

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/internal/cli"
	"github.com/provenant/provenant/internal/cmd/attest"
	"github.com/provenant/provenant/internal/cmdutil"
)

// env is what a test gives the process: its streams and its environment.
type env struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// factory is the command factory of e.
func (e env) factory() *cmdutil.Factory {
	return &cmdutil.Factory{Stdout: e.stdout, Stderr: e.stderr, Getenv: e.getenv}
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, e env) int {
	return cli.Main(ctx, args, e.factory())
}

// newRootCmd is the whole command tree, writing to e's streams.
func newRootCmd(e env) *cobra.Command { return cli.NewRootCmd(e.factory()) }

// Exit codes, as cli maps errors to them.
const (
	exitOK     = cmdutil.ExitOK
	exitFailed = cmdutil.ExitFailed
	exitUsage  = cmdutil.ExitUsage
)

// attestFlagSet is the flag set of "provenant attest".
func attestFlagSet() *pflag.FlagSet {
	return attest.NewCmdAttest(env{getenv: func(string) string { return "" }}.factory(), nil).Flags()
}

// publisher is attest's publisher in e, logging as attest does.
func publisher(e env, token string, overwrite bool) *attest.Publisher {
	f := e.factory()
	return &attest.Publisher{F: f, Log: f.Logger("provenant attest", true), GitHubToken: token, Overwrite: overwrite}
}

// reported logs err as the CLI logs attest's errors and returns its exit
// code.
func reported(e env, err error) int {
	root := &cobra.Command{Use: "provenant"}
	cmd := &cobra.Command{Use: "attest"}
	root.AddCommand(cmd)
	cmdutil.AnnotateErrors(cmd)
	return cli.Exit(e.factory(), cmd, err)
}
