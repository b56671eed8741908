// Package cmdtest runs a command in a test, through the runF its NewCmdX
// takes (the GitHub CLI's TestNewXCmd style): flags parsed into options,
// validation errors, nothing run.
package cmdtest

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
)

// Factory is a factory with an empty environment whose streams are
// discarded.
func Factory() *cmdutil.Factory {
	return &cmdutil.Factory{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
}

// Execute runs cmd with args (split at spaces), its own output discarded,
// and checks its error: none when wantErr is "", else one holding
// wantErr. It reports whether the command ran to its runF without error,
// so the caller goes on checking the options.
func Execute(t *testing.T, cmd *cobra.Command, args, wantErr string) bool {
	t.Helper()
	cmd.SetArgs(strings.Fields(args))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	switch {
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("err %v, want %q", err, wantErr)
	case wantErr == "" && err != nil:
		t.Fatal(err)
	}
	return wantErr == ""
}
