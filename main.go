// Command provenant records how a release artifact was built as a SLSA v1
// in-toto statement, signs it keylessly through Sigstore, and verifies
// such attestations. The command tree is internal/cli; each command is in
// internal/cmd (ARCHITECTURE.md).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/provenant/provenant/internal/cli"
	"github.com/provenant/provenant/internal/cmdutil"
)

// version is set by release builds with -ldflags "-X main.version=vX.Y.Z";
// otherwise it comes from the build info (a module version for go install,
// the VCS stamp for a build in a checkout).
var version = ""

// commit is set by release builds with -ldflags "-X main.commit=<sha>" where
// the build has no VCS stamp (-buildvcs=false, or a source tarball).
var commit = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cmdutil.System(cmdutil.BuildInfo{Version: version, Commit: commit}))
	stop()
	os.Exit(code)
}
