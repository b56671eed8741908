// Package trustedroot is "provenant trusted-root" (also "provenant
// attestation trusted-root", gh's name): the trusted roots verify would use,
// one trusted_root.json a line (JSON Lines), the file --trusted-root and
// gh's --custom-trusted-root take, so a verification can run offline later
// with exactly these roots.
package trustedroot

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/verifier"
)

// Options are the flags of "provenant trusted-root".
type Options struct {
	// Trust is where the roots come from: TUF (default) or --trusted-root.
	Trust cmdutil.TrustFlags

	f *cmdutil.Factory
}

// NewCmdTrustedRoot is "provenant trusted-root"; runF, when not nil, runs
// instead of Run (tests).
func NewCmdTrustedRoot(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:   "trusted-root [flags]",
		Short: "Print the trusted roots verify uses, as JSON Lines",
		Long: `Prints the trusted roots verify would use — through TUF for the public-good
and GitHub instances, or the --trusted-root file — one trusted_root.json a
line (JSON Lines), as gh attestation trusted-root does. The output is the
file verify --trusted-root takes (as gh attestation verify takes it), for a
later verification offline with exactly these roots.

Exit status: 0 printed, 1 the roots could not be loaded, 2 bad usage.`,
		Example: `  provenant trusted-root > trusted_root.jsonl
  provenant verify --trusted-root trusted_root.jsonl --repo octo-org/octo-repo --bundle app.sigstore.json app.tgz`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, func(context.Context, []string) error { return nil }, Run, runF),
	}
	cmdutil.NormalizeFlags(cmd)
	o.Trust.AddFlags(cmd.Flags())
	return cmd
}

// Run prints the roots.
func Run(o *Options) error {
	log := o.f.Logger("provenant trusted-root", false)
	roots, warnings, err := o.Trust.LoadRoots(o.f, nil)
	for _, w := range warnings {
		log.Warn(w)
	}
	if err != nil {
		return cmdutil.Failed(err)
	}
	return write(o, roots)
}

func write(o *Options, roots []verifier.TrustedRoot) error {
	for _, r := range roots {
		tr, ok := r.Root.(*root.TrustedRoot)
		if !ok {
			return cmdutil.Failedf("the trust of %s is not a trusted_root.json (%T)", r.Name, r.Root)
		}
		raw, err := tr.MarshalJSON()
		if err != nil {
			return cmdutil.Failedf("encoding the trusted root of %s: %w", r.Name, err)
		}
		var line bytes.Buffer
		if err := json.Compact(&line, raw); err != nil {
			return cmdutil.Failedf("encoding the trusted root of %s: %w", r.Name, err)
		}
		line.WriteByte('\n')
		if _, err := o.f.Stdout.Write(line.Bytes()); err != nil {
			return cmdutil.Failed(err)
		}
	}
	return nil
}
