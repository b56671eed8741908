package main

// harness_test.go runs the command line in process for the black-box
// tests: run and env are what they call.

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cli"
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
	return cli.Main(ctx, args, e.factory(), commands...)
}

// newRootCmd is the whole command tree, writing to e's streams.
func newRootCmd(e env) *cobra.Command { return cli.NewRootCmd(e.factory(), commands...) }
