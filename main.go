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

// commit may be set with -ldflags "-X main.commit=<sha>" by a build that
// has no VCS stamp (a source tarball); release builds cannot (see
// sourceDigest).
var commit = ""

// sourceDigest is set by release builds (scripts/build-release) with
// -ldflags "-X main.sourceDigest=<hex>": the source digest of the tree they
// were built from, the release commit's dist/source-digest. Release builds
// use -buildvcs=false and cannot stamp their commit, whose
// dist/checksums.txt holds the binaries' checksums; the digest names the
// source exactly instead (scripts/install-binary --source-digest DIR
// computes it for a checkout of the tag).
var sourceDigest = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cmdutil.System(cmdutil.BuildInfo{Version: version, Commit: commit, SourceDigest: sourceDigest}))
	stop()
	os.Exit(code)
}
