package main

import (
	"context"
	"fmt"
)

// runAttest implements "provenant attest".
func runAttest(ctx context.Context, args []string, e env) int {
	fmt.Fprintln(e.stderr, "provenant attest: not implemented yet")
	return exitFailed
}
