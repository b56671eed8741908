// Package download is "provenant download", as gh attestation download:
// the attestations GitHub holds for artifacts, written as JSON Lines for
// verifying offline later.
package download

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/homes"
	"github.com/provenant/provenant/remote"
)

const downloadLong = `Downloads the attestations GitHub holds for artifacts, by digest, from a
repository (--repo) or an owner (--owner), and writes them as JSON Lines, one
bundle a line, to <digest>.jsonl (sha256:<hex>.jsonl, as gh attestation
download names it) in --output. Nothing is verified: verify the file
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

// ErrNoDigest is download's complaint when given nothing to look up.
var ErrNoDigest = errors.New("nothing to look up: give artifacts or --digest")

// Options are the flags and arguments of "provenant download".
type Options struct {
	Repo, Owner, PredicateType, DigestAlg, OutDir string
	DigestFlags                                   cmdutil.ListFlag
	Artifacts                                     []string
	GitHub                                        cmdutil.GitHubFlags
	Fetch                                         cmdutil.FetchFlags
	// Digests are the digests to look up, set by Validate.
	Digests []string
	f       *cmdutil.Factory
	ctx     context.Context
}

// NewCmdDownload is "provenant download"; runF, when not nil, runs
// instead of Run (tests).
func NewCmdDownload(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "download [ARTIFACT...] [flags]",
		Short:   "Download attestations from GitHub for offline verification",
		Long:    downloadLong,
		Example: downloadExample,
		RunE:    cmdutil.RunE(o, o.complete, Run, runF),
	}
	cmdutil.NormalizeFlags(cmd)
	fs := cmd.Flags()
	fs.StringVarP(&o.Repo, "repo", "R", "", "repository `OWNER/NAME` to ask")
	fs.StringVarP(&o.Owner, "owner", "o", "", "organization or user `OWNER` to ask")
	fs.Var(&o.DigestFlags, "digest", "an artifact by digest, `ALG:HEX` (repeatable)")
	fs.StringVarP(&o.DigestAlg, "digest-alg", "d", "sha256", "digest `ALG` of the artifact files: sha256 or sha512")
	o.GitHub.AddFlags(fs, "GitHub `HOST` (GitHub Enterprise)")
	fs.StringVar(&o.PredicateType, "predicate-type", "", "only attestations of this predicate type `URI` (default: every type)")
	fs.StringVarP(&o.OutDir, "output", "O", ".", "`DIR` to write the .jsonl files to")
	o.Fetch.AddFlags(fs)
	return cmd
}

// complete takes the command's context and arguments and validates the
// options.
func (o *Options) complete(ctx context.Context, args []string) error {
	o.Artifacts, o.ctx = args, ctx
	return o.Validate()
}

// Validate refuses a command line download cannot run (a plain error:
// exit 2 with a pointer to --help) and hashes the artifacts.
func (o *Options) Validate() error {
	if (o.Repo == "") == (o.Owner == "") {
		return fmt.Errorf("give --repo or --owner (one of them)")
	}
	if o.DigestAlg != "sha256" && o.DigestAlg != "sha512" {
		return fmt.Errorf("--digest-alg %q: want sha256 or sha512", o.DigestAlg)
	}
	o.Digests = homes.ArtifactDigests(o.Artifacts, o.DigestFlags, o.DigestAlg)
	if len(o.Digests) < len(o.Artifacts)+len(o.DigestFlags) {
		return fmt.Errorf("an artifact could not be read or a --digest is not ALG:HEX")
	}
	if len(o.Digests) == 0 {
		return ErrNoDigest
	}
	return nil
}

// Run fetches and writes one file per digest; a digest without
// attestations is exit 1 after the others are written.
func Run(o *Options) error {
	log := o.f.Logger("provenant download", false)
	g, err := o.f.GitHub(o.GitHub.Hostname)
	if err != nil {
		return cmdutil.Usage(err)
	}
	q := remote.Query{Repo: o.Repo, Owner: o.Owner, PredicateType: o.PredicateType, Limit: o.Fetch.Limit}
	got, notes, err := homes.FetchByDigest(o.ctx, g, q, o.Digests)
	if err != nil {
		return cmdutil.Failed(err)
	}
	for _, n := range notes {
		log.Printf("%s", n)
	}
	var missing error
	for _, d := range o.Digests {
		atts := got[d]
		if len(atts) == 0 {
			log.Printf("%s: no attestation found", d)
			missing = cmdutil.ErrSilentFailure
			continue
		}
		var b bytes.Buffer
		for _, a := range atts {
			var line bytes.Buffer
			if err := json.Compact(&line, a.Bundle); err != nil {
				return cmdutil.Failedf("%s: %w", a.Source, err)
			}
			b.Write(line.Bytes())
			b.WriteByte('\n')
		}
		path := filepath.Join(o.OutDir, fileName(d))
		if err := cmdutil.WriteAtomic(path, b.Bytes()); err != nil {
			return cmdutil.Failedf("writing %s: %w", path, err)
		}
		fmt.Fprintf(o.f.Stdout, "%s: %d attestation(s) written to %s\n", d, len(atts), path)
	}
	return missing
}

// fileName is the file gh attestation download writes: the digest with
// .jsonl, and ':' as '-' where file names cannot hold it.
func fileName(digest string) string {
	if os.PathSeparator == '\\' {
		digest = strings.ReplaceAll(digest, ":", "-")
	}
	return digest + ".jsonl"
}
