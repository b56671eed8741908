package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/verifier"
)

// TestExit: each kind of error has its exit code and its line.
func TestExit(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		actions   bool
		annotate  bool
		code      int
		wantOut   string
		wantError string
	}{
		{name: "nil", code: 0},
		{name: "silent", err: &cmdutil.SilentError{Code: 1}, code: 1},
		{name: "usage", err: cmdutil.Usagef("bad %s", "x"), code: 2, wantError: "provenant x: bad x\n"},
		{name: "failed", err: cmdutil.Failed(errors.New("down")), code: 1, wantError: "provenant x: down\n"},
		{name: "input error wrapped", err: fmt.Errorf("reading: %w", &verifier.InputError{Err: errors.New("gone")}), code: 2, wantError: "provenant x: reading: gone\n"},
		{name: "policy error", err: &verifier.PolicyError{Err: errors.New("conflict")}, code: 2, wantError: "provenant x: conflict\n"},
		{name: "cobra's", err: errors.New("unknown flag: --nope\x1b"), code: 2, wantError: `provenant x: unknown flag: --nope\x1b (see provenant x --help)` + "\n"},
		{name: "escaped", err: cmdutil.Failed(errors.New("a\rb")), code: 1, wantError: `provenant x: a\rb` + "\n"},
		{name: "annotation in Actions", err: cmdutil.Failed(errors.New("down")), actions: true, annotate: true, code: 1, wantOut: "::error::provenant x: down\n"},
		{name: "stderr in Actions without annotate", err: cmdutil.Failed(errors.New("down")), actions: true, code: 1, wantError: "provenant x: down\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			f := &cmdutil.Factory{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
				if k == "GITHUB_ACTIONS" && tt.actions {
					return "true"
				}
				return ""
			}}
			root := &cobra.Command{Use: "provenant"}
			cmd := &cobra.Command{Use: "x"}
			root.AddCommand(cmd)
			if tt.annotate {
				cmdutil.AnnotateErrors(cmd)
			}
			if code := Exit(f, cmd, tt.err); code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if out.String() != tt.wantOut || errOut.String() != tt.wantError {
				t.Errorf("stdout %q stderr %q, want %q and %q", out.String(), errOut.String(), tt.wantOut, tt.wantError)
			}
		})
	}
}
