package main

import (
	"strings"
	"testing"
)

// TestUsageErrorsArePrintable: a flag named with a newline or a terminal
// escape is reported on one line, escaped, never raw.
func TestUsageErrorsArePrintable(t *testing.T) {
	for _, args := range [][]string{{"verify", "--a\x1b[31mb\nc"}, {"attest", "--x\r::error::forged"}, {"verify", "--min-level", "1\n::error::x"}} {
		code, stdout, stderr := runIn(t, nil, args...)
		if code != exitUsage || strings.Count(stderr, "\n") != 1 || strings.ContainsAny(strings.TrimSuffix(stderr, "\n"), "\n\r\x1b") || stdout != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}
