// Command provenant records how a release artifact was built as a SLSA v1
// in-toto statement, signs it keylessly through Sigstore, and verifies such
// attestations.
//
// main.go only parses the subcommand and wires the process environment into
// the packages; each subcommand lives in its own cmd_*.go file.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

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

const usage = `provenant: verifiable build provenance for every release

Usage:
  provenant attest [flags]              record (and sign) SLSA provenance for artifacts
  provenant verify [flags] [ARTIFACT...] verify attestations for artifacts
  provenant version                     print the version

Run "provenant COMMAND --help" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "attest":
		return runAttest(ctx, args[1:], e)
	case "verify":
		return runVerify(ctx, args[1:], e)
	case "version", "--version":
		fmt.Fprintf(e.stdout, "provenant %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(e.stderr, "provenant: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// applyInputs sets every flag not given on the command line from the action
// input of the same name (INPUT_<NAME>), or of the name renames gives it.
// Every subcommand reads its action inputs this way.
func applyInputs(fs *flag.FlagSet, e env, renames map[string]string) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var err error
	fs.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] || err != nil {
			return
		}
		name := fl.Name
		if n, ok := renames[name]; ok {
			name = n
		}
		if v := strings.TrimSpace(e.getenv("INPUT_" + strings.ToUpper(name))); v != "" {
			if serr := fs.Set(fl.Name, v); serr != nil {
				err = fmt.Errorf("input %s: %w", name, serr)
			}
		}
	})
	return err
}

// newFlagSet is a subcommand's flag set that prints nothing itself: the
// subcommand prints its help to stdout on --help and one line for a bad flag.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}
