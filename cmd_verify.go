package main

import (
	"context"
	"fmt"
)

// runVerify implements "provenant verify".
func runVerify(ctx context.Context, args []string, e env) int {
	fmt.Fprintln(e.stderr, "provenant verify: not implemented yet")
	return exitFailed
}
