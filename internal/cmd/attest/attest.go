// Package attest is "provenant attest": SLSA provenance (or another
// predicate) of artifacts as an in-toto statement, signed keylessly with
// the job's OIDC token through Sigstore, written as a bundle and published
// to where attestations live (GitHub's API, registries, a release).
//
// attest.go is the command: its Options, filled once from flags and
// action inputs, and Run, which calls each step in order (steps.go,
// output.go) and then the publishers (publish.go). Nothing is signed
// before everything that can be checked was.
package attest

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/homes"
	"github.com/provenant/provenant/provenance"
)

const attestLong = `Records how artifacts were built as a SLSA v1 in-toto statement and signs it
keylessly with the job's OIDC token through Sigstore, writing a Sigstore
bundle. In a GitHub Actions step every flag can also be given as the action
input of the same name (INPUT_<NAME>; --output is the input bundle-path); a flag
on the command line wins. Inputs are read only when GITHUB_ACTIONS=true.

Subjects come from at least one of --subject-path, --subject-name with
--subject-digest, or --subject-checksums. The predicate is SLSA v1 build
provenance of this workflow run unless --predicate-type names another.
The default output is a fresh folder under $RUNNER_TEMP/provenant in a
workflow (two steps never overwrite each other's bundle), the current folder
elsewhere; an existing file at --output is replaced only with --overwrite.
--include-workflow-inputs records inputs only for a workflow_dispatch run, and
they are only as trustworthy as the job (see the README).

Exit status: 0 written, 1 the work failed (token, signing, a service),
2 bad usage or input. A failure before signing writes nothing; after signing
the bundle is kept (a failed upload or output says where it is).`

const attestExample = `  # in a workflow step (id-token: write): sign provenance for the release files
  provenant attest --subject-path 'dist/*'

  # anywhere: unsigned provenance of a local build (SLSA Build L1)
  provenant attest --no-sign --subject-path go.mod,go.sum

  # an SBOM over the same subjects
  provenant attest --subject-path 'dist/*' --predicate-type https://cyclonedx.org/bom --predicate-path sbom.json`

// InputNames maps flags to action inputs where the names differ.
var InputNames = map[string]string{"output": "bundle-path"}

// Options are the flags and action inputs of "provenant attest".
type Options struct {
	SubjectPath, SubjectName, SubjectDigest, SubjectChecksums string
	PredicateType, PredicatePath, Predicate                   string
	IncludeInputs, NoSign, ShowSummary, DryRun, Overwrite     bool
	Sigstore, OIDCIssuer, Out                                 string
	// GitHubToken is --github-token: GitHub's attestations API and the
	// release are written with it.
	GitHubToken string
	// PushToRegistry and AllowedRegistries say which registries get the
	// bundle.
	PushToRegistry    bool
	AllowedRegistries cmdutil.ListFlag
	// UploadToRelease is the tag of the release the bundle goes beside.
	UploadToRelease string

	f   *cmdutil.Factory
	ctx context.Context
}

// NewCmdAttest is "provenant attest"; runF, when not nil, runs instead of
// Run (tests).
func NewCmdAttest(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "attest [flags]",
		Short:   "Record (and sign) SLSA provenance for artifacts",
		Long:    attestLong,
		Example: attestExample,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected argument %q (subjects are given with --subject-path)", args[0])
			}
			return nil
		},
		RunE: cmdutil.RunE(o, o.complete, Run, runF),
	}
	cmdutil.NormalizeFlags(cmd)
	o.AddFlags(cmd.Flags())
	cmdutil.BindInputs(cmd, InputNames)
	cmdutil.AnnotateErrors(cmd)
	return cmd
}

// AddFlags defines the flags of "provenant attest" into o.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.SubjectPath, "subject-path", "", "newline- or comma-separated file `GLOBS` to attest (** allowed)")
	fs.StringVar(&o.SubjectName, "subject-name", "", "a subject given by digest: its `NAME` (with --subject-digest)")
	fs.StringVar(&o.SubjectDigest, "subject-digest", "", "that subject's digest, `ALG:HEX` (sha256, sha384 or sha512)")
	fs.StringVar(&o.SubjectChecksums, "subject-checksums", "", "sha256sum-format `FILE` (or the text itself) listing subjects")
	fs.StringVar(&o.PredicateType, "predicate-type", "", "attest this predicate type `URI` instead of SLSA provenance")
	fs.StringVar(&o.PredicatePath, "predicate-path", "", "the predicate, a JSON object `FILE` of at most 16 MiB")
	fs.StringVar(&o.Predicate, "predicate", "", "the predicate inline, a `JSON` object")
	fs.BoolVar(&o.IncludeInputs, "include-workflow-inputs", false, "record the workflow_dispatch inputs in the provenance (only for a workflow_dispatch run)")
	fs.BoolVar(&o.NoSign, "no-sign", false, "write the unsigned statement (SLSA Build L1); needs no token")
	fs.BoolVar(&o.ShowSummary, "show-summary", true, "in GitHub Actions, write a step summary of the subjects")
	fs.BoolVar(&o.DryRun, "dry-run", false, "get and verify the token, print the statement that would be signed; sign and write nothing")
	fs.StringVar(&o.Sigstore, "sigstore", "auto", "Sigstore instance: auto, public-good, github, or a `FOLDER` with signing_config.json and trusted_root.json")
	fs.StringVar(&o.OIDCIssuer, "oidc-issuer", "", "expected token issuer `URL` (default: from GITHUB_SERVER_URL)")
	fs.StringVarP(&o.Out, "output", "O", "", "where to write the bundle: a `PATH` or a folder (action input: bundle-path; default: a fresh folder under $RUNNER_TEMP/provenant in a workflow, the current folder elsewhere)")
	fs.BoolVar(&o.Overwrite, "overwrite", false, "replace a file that exists at --output (refused otherwise)")
	fs.StringVar(&o.GitHubToken, "github-token", "", "`TOKEN` to upload the bundle to GitHub's attestations API with (attestations: write); default in Actions: GITHUB_TOKEN; false: do not upload")
	fs.BoolVar(&o.PushToRegistry, "push-to-registry", false, "push the signed bundle to each image subject's registry as an OCI 1.1 referrer (subjects named registry/repository, by sha256 digest)")
	fs.Var(&o.AllowedRegistries, "allowed-registries", "with push-to-registry, the `REGISTRY/PATH` prefixes images may be pushed to (repeatable, or one a line; default in GitHub Actions: ghcr.io/<owner>/ of the repository)")
	fs.StringVar(&o.UploadToRelease, "upload-to-release", "", "after signing, upload the bundle as <asset>.sigstore.json beside each file subject of the GitHub release tagged `TAG` in GITHUB_REPOSITORY (token: github-token, contents: write; an existing asset is replaced only with --overwrite)")
}

// complete takes the command's context and validates the options.
func (o *Options) complete(ctx context.Context, _ []string) error {
	o.ctx = ctx
	return o.Validate()
}

// Validate refuses flags that cannot go together, before anything is read
// (a *cmdutil.UsageError: exit 2).
func (o *Options) Validate() error {
	if !o.PushToRegistry && len(o.AllowedRegistries) > 0 {
		return cmdutil.Usagef("allowed-registries is given without push-to-registry: it would not be applied")
	}
	return nil
}

// Run attests, in this order: the inputs are read and hashed, the images
// to push to checked, the job's token verified, the statement built, the
// output and the step's files checked; only then is it signed, written,
// and the step outputs set. Then it is published to every home asked for
// (publish.go), each tried even when another failed.
func Run(o *Options) error {
	r := newRun(o)
	err := r.attest()
	if err != nil && o.ctx.Err() != nil {
		// A signal (SIGINT, SIGTERM) ended the run.
		return cmdutil.Failed(errors.New("interrupted, stopping: " + err.Error()))
	}
	return err
}

// attest is Run's steps.
func (r *run) attest() error {
	o := r.o
	subjects, custom, err := r.inputs()
	if err != nil {
		return cmdutil.Usage(err)
	}
	if !o.NoSign && len(subjects) > provenance.MaxSignedSubjects {
		// Before the token is asked for: Sign would refuse it too.
		return cmdutil.Usagef("%d subjects: %w", len(subjects), provenance.ErrTooManySubjects)
	}
	hs := homesOf(o, r.log, subjects)
	if err := checkHomes(o, hs); err != nil {
		return cmdutil.Usage(err)
	}
	job, err := r.job()
	if err != nil {
		return cmdutil.Failed(err)
	}
	st, err := r.statement(subjects, custom, job)
	if err != nil {
		return cmdutil.Usage(err)
	}
	if o.DryRun {
		fmt.Fprintf(o.f.Stdout, "%s\n", st.JSON)
		return nil
	}
	dst, err := r.preflight(subjects)
	if err != nil {
		return cmdutil.Usage(err)
	}
	content, outputs, err := r.sign(job, st)
	if err != nil {
		dst.discard()
		return cmdutil.Failed(err)
	}
	abs, err := r.write(dst, content, st)
	if err != nil {
		return cmdutil.Failed(err)
	}
	if err := r.setOutputs(abs, outputs, st); err != nil {
		return cmdutil.Failed(err)
	}
	if o.NoSign {
		return nil
	}
	return r.publish(hs, homes.Signed{Path: abs, JSON: content, PredicateType: st.PredicateType})
}
