package main

// cmd_download.go: "provenant download", as gh attestation download: the
// attestations GitHub holds for artifacts, written as JSON Lines for
// verifying offline later.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/remote"
)

const downloadLong = `Downloads the attestations GitHub holds for artifacts, by digest, from a
repository (--repo) or an owner (--owner), and writes them as JSON Lines, one
bundle a line, to <digest>.jsonl (sha256:<hex>.jsonl, as gh attestation
download names it) in --out-dir. Nothing is verified: verify the file
offline later with provenant verify ARTIFACT --bundle sha256:<hex>.jsonl.

Several artifacts of one owner cost a few requests (GitHub's bulk-list
endpoint), not one each. Public repositories need no token; for private ones
set GH_TOKEN (or GITHUB_TOKEN). GitHub Enterprise: --hostname, or
GITHUB_API_URL; a GitHub Enterprise Server --hostname gets GH_ENTERPRISE_TOKEN
(or GITHUB_ENTERPRISE_TOKEN), never GH_TOKEN, as gh does.

Exit status: 0 every artifact had attestations, 1 one had none or GitHub
failed, 2 bad usage.`

const downloadExample = `  provenant download dist/app.tgz --repo octo-org/octo-repo
  provenant verify dist/app.tgz --bundle sha256:<hex>.jsonl --repo octo-org/octo-repo`

// downloadFlags are the flags of "provenant download".
type downloadFlags struct {
	repo, owner, hostname, predicateType, digestAlg, outDir string
	digests                                                 cmdutil.ListFlag
	fetch                                                   fetchFlags
}

// newDownloadCmd is "provenant download".
func newDownloadCmd(e *cmdutil.Factory) *cobra.Command {
	f := &downloadFlags{}
	cmd := &cobra.Command{
		Use:     "download [ARTIFACT...] [flags]",
		Short:   "Download attestations from GitHub for offline verification",
		Long:    downloadLong,
		Example: downloadExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (f.repo == "") == (f.owner == "") {
				return fmt.Errorf("give --repo or --owner (one of them)")
			}
			if f.digestAlg != "sha256" && f.digestAlg != "sha512" {
				return fmt.Errorf("--digest-alg %q: want sha256 or sha512", f.digestAlg)
			}
			digests := artifactDigests(args, f.digests, f.digestAlg)
			if len(digests) < len(args)+len(f.digests) {
				return fmt.Errorf("an artifact could not be read or a --digest is not ALG:HEX")
			}
			if len(digests) == 0 {
				return errNoDigest
			}
			return asExit(runDownload(cmd, f, digests, e))
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.repo, "repo", "R", "", "repository `OWNER/NAME` to ask")
	fs.StringVarP(&f.owner, "owner", "o", "", "organization or user `OWNER` to ask")
	fs.Var(&f.digests, "digest", "an artifact by digest, `ALG:HEX` (repeatable)")
	fs.StringVarP(&f.digestAlg, "digest-alg", "d", "sha256", "digest `ALG` of the artifact files: sha256 or sha512")
	fs.StringVar(&f.hostname, "hostname", "github.com", "GitHub `HOST` (GitHub Enterprise)")
	fs.StringVar(&f.predicateType, "predicate-type", "", "only attestations of this predicate type `URI` (default: every type)")
	fs.StringVar(&f.outDir, "out-dir", ".", "`DIR` to write the .jsonl files to")
	defineFetchFlags(fs, &f.fetch)
	return cmd
}

// runDownload fetches and writes one file per digest.
func runDownload(cmd *cobra.Command, f *downloadFlags, digests []string, e *cmdutil.Factory) int {
	g, err := e.GitHub(f.hostname)
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant download: %v\n", err)
		return exitUsage
	}
	q := remote.Query{Repo: f.repo, Owner: f.owner, PredicateType: f.predicateType, Limit: f.fetch.limit}
	got, notes, err := fetchByDigest(cmd.Context(), g, q, digests)
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant download: %v\n", err)
		return exitFailed
	}
	for _, n := range notes {
		fmt.Fprintf(e.Stderr, "provenant download: %s\n", n)
	}
	code := exitOK
	for _, d := range digests {
		atts := got[d]
		if len(atts) == 0 {
			fmt.Fprintf(e.Stderr, "provenant download: %s: no attestation found\n", d)
			code = exitFailed
			continue
		}
		var b bytes.Buffer
		for _, a := range atts {
			var line bytes.Buffer
			if err := json.Compact(&line, a.Bundle); err != nil {
				fmt.Fprintf(e.Stderr, "provenant download: %s: %v\n", a.Source, err)
				return exitFailed
			}
			b.Write(line.Bytes())
			b.WriteByte('\n')
		}
		path := filepath.Join(f.outDir, downloadName(d))
		if err := cmdutil.WriteAtomic(path, b.Bytes()); err != nil {
			fmt.Fprintf(e.Stderr, "provenant download: writing %s: %v\n", path, err)
			return exitFailed
		}
		fmt.Fprintf(e.Stdout, "%s: %d attestation(s) written to %s\n", d, len(atts), path)
	}
	return code
}

// downloadName is the file gh attestation download writes: the digest with
// .jsonl, and ':' as '-' where file names cannot hold it.
func downloadName(digest string) string {
	if os.PathSeparator == '\\' {
		digest = strings.ReplaceAll(digest, ":", "-")
	}
	return digest + ".jsonl"
}
