package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/trust"
)

const attestLong = `Records how artifacts were built as a SLSA v1 in-toto statement and signs it
keylessly with the job's OIDC token through Sigstore, writing a Sigstore
bundle. In a GitHub Actions step every flag can also be given as the action
input of the same name (INPUT_<NAME>; --out is the input bundle-path); a flag
on the command line wins. Inputs are read only when GITHUB_ACTIONS=true.

Subjects come from at least one of --subject-path, --subject-name with
--subject-digest, or --subject-checksums. The predicate is SLSA v1 build
provenance of this workflow run unless --predicate-type names another.
The default output is a fresh folder under $RUNNER_TEMP/provenant in a
workflow (two steps never overwrite each other's bundle), the current folder
elsewhere; an existing file at --out is replaced only with --overwrite.
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

// attestFlags are the parsed flags and inputs of "provenant attest".
type attestFlags struct {
	subjectPath, subjectName, subjectDigest, subjectChecksums string
	predicateType, predicatePath, predicate                   string
	includeInputs, noSign, showSummary, dryRun, overwrite     bool
	sigstore, oidcIssuer, out                                 string
	publish                                                   publishFlags
	oci                                                       ociFlags
	uploadToRelease                                           string // cmd_release.go
}

// inputNames maps flags to action inputs where the names differ.
var inputNames = map[string]string{"out": "bundle-path"}

// defineAttestFlags defines the flags of "provenant attest" on fs.
func defineAttestFlags(fs *pflag.FlagSet, f *attestFlags) {
	fs.StringVar(&f.subjectPath, "subject-path", "", "newline- or comma-separated file `GLOBS` to attest (** allowed)")
	fs.StringVar(&f.subjectName, "subject-name", "", "a subject given by digest: its `NAME` (with --subject-digest)")
	fs.StringVar(&f.subjectDigest, "subject-digest", "", "that subject's digest, `ALG:HEX` (sha256, sha384 or sha512)")
	fs.StringVar(&f.subjectChecksums, "subject-checksums", "", "sha256sum-format `FILE` (or the text itself) listing subjects")
	fs.StringVar(&f.predicateType, "predicate-type", "", "attest this predicate type `URI` instead of SLSA provenance")
	fs.StringVar(&f.predicatePath, "predicate-path", "", "the predicate, a JSON object `FILE` of at most 16 MiB")
	fs.StringVar(&f.predicate, "predicate", "", "the predicate inline, a `JSON` object")
	fs.BoolVar(&f.includeInputs, "include-workflow-inputs", false, "record the workflow_dispatch inputs in the provenance (only for a workflow_dispatch run)")
	fs.BoolVar(&f.noSign, "no-sign", false, "write the unsigned statement (SLSA Build L1); needs no token")
	fs.BoolVar(&f.showSummary, "show-summary", true, "in GitHub Actions, write a step summary of the subjects")
	fs.BoolVar(&f.dryRun, "dry-run", false, "get and verify the token, print the statement that would be signed; sign and write nothing")
	fs.StringVar(&f.sigstore, "sigstore", "auto", "Sigstore instance: auto, public-good, github, or a `FOLDER` with signing_config.json and trusted_root.json")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "expected token issuer `URL` (default: from GITHUB_SERVER_URL)")
	fs.StringVar(&f.out, "out", "", "where to write the bundle: a `PATH` or a folder (action input: bundle-path; default: a fresh folder under $RUNNER_TEMP/provenant in a workflow, the current folder elsewhere)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace a file that exists at --out (refused otherwise)")
	definePublishFlags(fs, &f.publish)
	defineOCIFlags(fs, &f.oci)
	defineReleaseUploadFlag(fs, &f.uploadToRelease)
}

// newAttestCmd is "provenant attest".
func newAttestCmd(e *cmdutil.Factory) *cobra.Command {
	f := &attestFlags{}
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			return asExit(runAttest(cmd.Context(), f, e))
		},
	}
	defineAttestFlags(cmd.Flags(), f)
	cmdutil.BindInputs(cmd, inputNames)
	return cmd
}

// runAttest implements "provenant attest" once flags and inputs are parsed.
func runAttest(ctx context.Context, f *attestFlags, e *cmdutil.Factory) int {
	r := newAttestRun(ctx, f, e)
	// The steps in order. Everything that can be checked is checked before
	// the preflight ends; only signing contacts Sigstore.
	subjects, custom, err := r.inputs()
	if err != nil {
		return r.fail(exitUsage, err)
	}
	if !f.noSign && len(subjects) > provenance.MaxSignedSubjects {
		// Before the token is asked for: Sign would refuse it too.
		return r.fail(exitUsage, fmt.Errorf("%d subjects: %w", len(subjects), provenance.ErrTooManySubjects))
	}
	images, err := ociImages(f.oci, f.noSign, subjects, allowedRegistries(f.oci, e.Getenv))
	if err != nil {
		return r.fail(exitUsage, err)
	}
	job, err := r.job()
	if err != nil {
		return r.fail(exitFailed, err)
	}
	st, err := r.statement(subjects, custom, job)
	if err != nil {
		return r.fail(exitUsage, err)
	}
	if f.dryRun {
		fmt.Fprintf(e.Stdout, "%s\n", st.JSON)
		return exitOK
	}
	dst, err := r.preflight(subjects)
	if err != nil {
		return r.fail(exitUsage, err)
	}
	content, outputs, err := r.sign(job, st)
	if err != nil {
		dst.discard()
		return r.fail(exitFailed, err)
	}
	abs, err := r.write(dst, content, st)
	if err != nil {
		return r.fail(exitFailed, err)
	}
	if err := r.setOutputs(abs, outputs, st); err != nil {
		return r.fail(exitFailed, err)
	}
	code := publishToGitHub(ctx, e, r.action, f.publish, abs, content, !f.noSign)
	code = max(code, pushToRegistries(ctx, e, r.action, images, abs, content, st.PredicateType))
	return max(code, uploadToRelease(ctx, e, r.action, f, abs, subjects))
}

// attestRun is one run of "provenant attest": its flags, environment and
// log, shared by its steps.
type attestRun struct {
	ctx       context.Context
	f         *attestFlags
	e         *cmdutil.Factory
	inActions bool
	action    *githubactions.Action
	dir       string
}

func newAttestRun(ctx context.Context, f *attestFlags, e *cmdutil.Factory) *attestRun {
	r := &attestRun{ctx: ctx, f: f, e: e, inActions: builder.InActions(e.Getenv)}
	// In a workflow, logs and workflow commands go to stdout where the
	// runner reads them; elsewhere stdout stays clean.
	logTo := e.Stderr
	if r.inActions {
		logTo = e.Stdout
	}
	r.action = githubactions.New(githubactions.WithGetenv(e.Getenv), githubactions.WithWriter(logTo))
	r.dir, _ = os.Getwd()
	return r
}

// fail reports err and returns code. Every message may hold a file name or
// another value a user chose: it is made printable so it cannot start a log
// line of its own.
func (r *attestRun) fail(code int, err error) int {
	if r.ctx.Err() != nil {
		// A signal (SIGINT, SIGTERM) ended the run.
		code, err = exitFailed, fmt.Errorf("interrupted, stopping: %w", err)
	}
	msg := builder.Printable(err.Error())
	if r.inActions {
		r.action.Errorf("provenant attest: %s", msg)
	} else {
		fmt.Fprintf(r.e.Stderr, "provenant attest: %s\n", msg)
	}
	return code
}

// logf logs one printable line.
func (r *attestRun) logf(format string, args ...any) {
	r.action.Infof("%s", builder.Printable(fmt.Sprintf(format, args...)))
}

// warn logs a warning (an annotation in a workflow).
func (r *attestRun) warn(msg string) {
	if r.inActions {
		r.action.Warningf("%s", builder.Printable(msg))
	} else {
		fmt.Fprintf(r.e.Stderr, "provenant attest: warning: %s\n", builder.Printable(msg))
	}
}

// inputs reads the predicate and the subject inputs and hashes the files,
// before any network call, so a bad input fails fast. custom is the custom
// predicate's JSON, nil for SLSA provenance.
func (r *attestRun) inputs() (subjects []provenance.Subject, custom []byte, err error) {
	f := r.f
	custom, err = provenance.ReadPredicate(r.ctx, provenance.PredicateInput{Type: f.predicateType, Path: f.predicatePath, Inline: f.predicate})
	if err != nil {
		return nil, nil, err
	}
	opts := provenance.SubjectOptions{
		Paths: provenance.SplitList(f.subjectPath),
		Name:  f.subjectName, Digest: f.subjectDigest, Dir: r.dir, Warn: r.warn,
	}
	if f.subjectChecksums != "" {
		text, source, err := provenance.ReadChecksums(r.ctx, f.subjectChecksums, r.dir)
		if err != nil {
			return nil, nil, err
		}
		opts.Checksums, opts.ChecksumsSource = text, source
	}
	start := time.Now()
	subjects, err = provenance.CollectSubjects(r.ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	r.logf("%d subject(s) hashed in %s", len(subjects), time.Since(start).Round(time.Millisecond))
	return subjects, custom, nil
}

// job finds out who is building: the verified token's claims, or with
// --no-sign the environment (or the local checkout).
func (r *attestRun) job() (*builder.Job, error) {
	if r.f.noSign {
		job, err := builder.FromEnvironment(r.e.Getenv, localFacts(r.dir))
		if err != nil {
			return nil, err
		}
		if job.Local {
			r.logf("--no-sign outside GitHub Actions: provenance of a local build (builder %s), unsigned: SLSA Build L1 at most", job.BuilderID())
		} else {
			r.logf("--no-sign: provenance from the GITHUB_* environment, unsigned: SLSA Build L1 (provenance exists, nothing proves who made it)")
		}
		return job, nil
	}
	job, err := builder.FromToken(r.ctx, builder.Options{
		Getenv:     r.e.Getenv,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Issuer:     r.f.oidcIssuer,
	})
	if err != nil {
		return nil, err
	}
	if r.inActions {
		// The runner hides the token in the log from now on. Outside a
		// runner the mask command would only print it.
		r.action.AddMask(job.Token)
	}
	return job, nil
}

// statement builds the in-toto statement: SLSA provenance of the job, or
// the custom predicate.
func (r *attestRun) statement(subjects []provenance.Subject, custom []byte, job *builder.Job) (*provenance.Statement, error) {
	f := r.f
	if custom != nil {
		return provenance.NewStatement(subjects, f.predicateType, custom)
	}
	var opts provenance.PredicateOptions
	if f.includeInputs {
		var err error
		if opts.WorkflowInputs, err = builder.WorkflowInputs(r.ctx, job, r.e.Getenv("GITHUB_EVENT_PATH")); err != nil {
			return nil, fmt.Errorf("include-workflow-inputs: %w", err)
		}
	}
	return provenance.NewProvenanceStatement(subjects, job, opts)
}

// preflight settles where to write and checks that the attestation and the
// step's outputs can be written, before anything is signed.
func (r *attestRun) preflight(subjects []provenance.Subject) (*output, error) {
	if err := checkReleaseUpload(r.f, r.e, subjects); err != nil {
		return nil, err
	}
	ext := ".sigstore.json"
	if r.f.noSign {
		ext = ".intoto.json"
	}
	dst, err := prepareOutput(r.f, r.e, subjects, ext)
	if err != nil {
		return nil, err
	}
	if r.inActions {
		if err := checkCommandFiles(r.e, r.f.showSummary); err != nil {
			dst.discard()
			return nil, fmt.Errorf("before signing: %w", err)
		}
	}
	return dst, nil
}

// sign signs the statement into a Sigstore bundle with the instance the
// sigstore flag names and logs the certificate identity and log entry; with
// --no-sign it returns the statement itself.
func (r *attestRun) sign(job *builder.Job, st *provenance.Statement) (content []byte, outputs map[string]string, err error) {
	if r.f.noSign {
		return append(st.JSON, '\n'), map[string]string{}, nil
	}
	start := time.Now()
	signed, inst, err := signAsJob(r.ctx, r.e, r.f.sigstore, job, st)
	if err != nil {
		return nil, nil, err
	}
	r.logf("signed with Sigstore instance %s in %s", inst.Name, time.Since(start).Round(time.Millisecond))
	r.logf("certificate identity: %s (issuer %s)", signed.CertificateIdentity, signed.CertificateIssuer)
	outputs = map[string]string{"certificate-identity": signed.CertificateIdentity}
	if signed.LogIndex >= 0 {
		where := ""
		if inst.Name == trust.PublicGood {
			where = fmt.Sprintf(": https://search.sigstore.dev/?logIndex=%d", signed.LogIndex)
		}
		r.logf("transparency log entry %d%s", signed.LogIndex, where)
		outputs["log-index"] = strconv.FormatInt(signed.LogIndex, 10)
	} else {
		r.logf("no transparency log entry: signing time from an RFC 3161 timestamp")
	}
	return signed.JSON, outputs, nil
}

// write writes the attestation (keeping it elsewhere if that fails) and
// returns its absolute path.
func (r *attestRun) write(dst *output, content []byte, st *provenance.Statement) (string, error) {
	saved, err := r.e.WriteOrRescue(dst.path, content)
	if err != nil {
		if saved == "" {
			dst.discard()
		}
		return "", err
	}
	abs, _ := filepath.Abs(saved)
	fmt.Fprintf(r.e.Stderr, "wrote %s (%d subject(s), predicate %s)\n", builder.Printable(abs), len(st.Subjects), builder.Printable(st.PredicateType))
	return abs, nil
}

// setOutputs sets the step outputs and writes the step summary, in a
// workflow.
func (r *attestRun) setOutputs(abs string, outputs map[string]string, st *provenance.Statement) error {
	if !r.inActions {
		return nil
	}
	outputs["bundle-path"] = abs
	outputs["subject-count"] = strconv.Itoa(len(st.Subjects))
	files := &builder.FileCommands{Getenv: r.e.Getenv}
	if err := files.SetOutputs(outputs); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
		return fmt.Errorf("the attestation is written to %s, but setting the step outputs failed: %w", abs, err)
	}
	if r.f.showSummary {
		if err := files.AppendSummary(subjectSummary(st, !r.f.noSign)); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
			return fmt.Errorf("the attestation is written to %s, but writing the step summary failed: %w", abs, err)
		}
	}
	return nil
}

// loadInstance loads the Sigstore instance's trust material. TUF updates take
// no context, so the load runs aside and a signal ends the wait at once.
func loadInstance(ctx context.Context, name string, e *cmdutil.Factory) (*trust.Instance, error) {
	type result struct {
		inst *trust.Instance
		err  error
	}
	done := make(chan result, 1)
	go func() {
		inst, err := trust.Load(name, trust.Options{CacheDir: e.TUFCacheDir("")})
		done <- result{inst, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-done:
		return r.inst, r.err
	}
}

// output is where an attestation is written.
type output struct {
	// path is the file to write.
	path string
	// fresh is the folder made for this run, removed when nothing is
	// written; empty for a folder the user named.
	fresh string
}

// discard removes the fresh folder of a run that wrote nothing.
func (o *output) discard() {
	if o.fresh != "" {
		os.Remove(o.fresh)
	}
}

// prepareOutput settles where to write: the flag's path, the default name
// inside it when it names a folder, or the default name in a folder made
// for this run under $RUNNER_TEMP/provenant (in a workflow; the current
// folder elsewhere), so two attest steps never write the same file. A file
// that exists is replaced only with --overwrite.
func prepareOutput(f *attestFlags, e *cmdutil.Factory, subjects []provenance.Subject, ext string) (*output, error) {
	o := &output{path: f.out}
	switch {
	case f.out == "" && builder.InActions(e.Getenv) && e.Getenv("RUNNER_TEMP") != "":
		parent := filepath.Join(e.Getenv("RUNNER_TEMP"), "provenant")
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
		dir, err := os.MkdirTemp(parent, "run-")
		if err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
		o.fresh, o.path = dir, filepath.Join(dir, defaultName(subjects, ext))
	case f.out == "":
		o.path = defaultName(subjects, ext)
	default:
		if fi, err := os.Stat(f.out); (err == nil && fi.IsDir()) || strings.HasSuffix(f.out, string(filepath.Separator)) {
			o.path = filepath.Join(f.out, defaultName(subjects, ext))
		}
	}
	if err := cmdutil.CheckFileName(filepath.Base(o.path)); err != nil {
		o.discard()
		return nil, fmt.Errorf("bundle-path %q: %w", o.path, err)
	}
	if o.fresh == "" {
		if fi, err := os.Lstat(o.path); err == nil {
			if fi.IsDir() {
				return nil, fmt.Errorf("bundle-path %q is a folder that holds a folder of the same name as the attestation", o.path)
			}
			if !f.overwrite {
				return nil, fmt.Errorf("bundle-path %q exists: refusing to replace another attestation (say overwrite: true, or --overwrite, to replace it)", o.path)
			}
		}
	}
	if err := cmdutil.ProbeFolder(filepath.Dir(o.path)); err != nil {
		o.discard()
		return nil, fmt.Errorf("bundle-path %q: the folder is not writable: %w", o.path, err)
	}
	return o, nil
}

// checkCommandFiles makes sure, before anything is signed, that the step's
// outputs and summary can be written (when the runner names them).
func checkCommandFiles(e *cmdutil.Factory, summary bool) error {
	files := &builder.FileCommands{Getenv: e.Getenv}
	vars := []string{"GITHUB_OUTPUT"}
	if summary {
		vars = append(vars, "GITHUB_STEP_SUMMARY")
	}
	for _, v := range vars {
		if err := files.CheckWritable(v); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
			return err
		}
	}
	return nil
}

// defaultName is <subject><ext> for one subject, attestation<ext> for
// several.
func defaultName(subjects []provenance.Subject, ext string) string {
	if len(subjects) == 1 && !strings.ContainsAny(subjects[0].Name, `/\`) && cmdutil.CheckFileName(subjects[0].Name+ext) == nil {
		return subjects[0].Name + ext
	}
	return "attestation" + ext
}

// maxSummaryRows bounds the step summary (GitHub caps it at 1 MiB).
const maxSummaryRows = 500

// subjectSummary is the step summary: every value in it (names come from
// file names and checksums files) is escaped for Markdown and HTML, so a
// name cannot become a link, an image or a cell of its own. Digests are
// checked hex.
func subjectSummary(st *provenance.Statement, signed bool) string {
	var b strings.Builder
	state := "signed"
	if !signed {
		state = "unsigned (SLSA Build L1)"
	}
	fmt.Fprintf(&b, "### provenant attest\n\nPredicate %s, %s, %d subject(s).\n\n| name | digest |\n|---|---|\n", builder.EscapeMarkdown(st.PredicateType), state, len(st.Subjects))
	for i, s := range st.Subjects {
		if i == maxSummaryRows {
			fmt.Fprintf(&b, "| … and %d more | |\n", len(st.Subjects)-i)
			break
		}
		var ds []string
		for _, alg := range s.SortedDigestAlgorithms() {
			ds = append(ds, "`"+alg+":"+s.Digest[alg]+"`")
		}
		fmt.Fprintf(&b, "| %s | %s |\n", builder.EscapeMarkdown(s.Name), strings.Join(ds, "<br>"))
	}
	return b.String()
}

// localFacts asks git about the checkout in dir, for provenance of a local
// build.
func localFacts(dir string) builder.LocalFacts {
	host, _ := os.Hostname()
	facts := builder.GitFacts(dir, host)
	if facts.Dir == "" {
		// Not a git checkout: the folder built in is the source
		// (file://<folder>), which the provenance must name.
		if abs, err := filepath.Abs(dir); err == nil {
			facts.Dir = abs
		}
	}
	return facts
}
