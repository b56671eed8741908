package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/provenance"
)

const attestUsage = `Usage: provenant attest [flags]

Records how artifacts were built as a SLSA v1 in-toto statement and signs it
keylessly with the job's OIDC token through Sigstore, writing a Sigstore
bundle. In a GitHub Actions step every flag can also be given as the action
input of the same name (INPUT_<NAME>); a flag on the command line wins.

Subjects (at least one form):
  --subject-path GLOBS      newline- or comma-separated file globs (** allowed)
  --subject-name NAME       with --subject-digest: a subject named by digest
  --subject-digest ALG:HEX  sha256, sha384 or sha512
  --subject-checksums FILE  sha256sum-format file (or the text itself)

Predicate (default: SLSA v1 build provenance of this workflow run):
  --predicate-type URI      attest this predicate type instead
  --predicate-path FILE     the predicate, a JSON object (at most 16 MiB)
  --predicate JSON          the predicate inline
  --include-workflow-inputs record the workflow_dispatch inputs in the provenance (only
                            for a workflow_dispatch run; as trustworthy as the job: see
                            the README)

Signing and output:
  --no-sign                 write the unsigned statement (SLSA Build L1); needs no token
  --dry-run                 get and verify the token, print the statement that would be
                            signed to stdout; sign nothing, write nothing
  --sigstore WHICH          auto (default), public-good, github, or a folder holding
                            signing_config.json and trusted_root.json
  --oidc-issuer URL         expected token issuer (default: from GITHUB_SERVER_URL)
  --out PATH                where to write (action input: bundle-path); default: a
                            fresh folder under $RUNNER_TEMP/provenant in a workflow,
                            the current folder elsewhere
  --overwrite               replace a file that exists at --out (refused otherwise)
  --show-summary BOOL       write a step summary of the subjects (default true)

Exit status: 0 written, 1 the work failed (token, signing, a service),
2 bad usage or input. On failure nothing is written.
`

// attestFlags are the parsed flags and inputs of "provenant attest".
type attestFlags struct {
	subjectPath, subjectName, subjectDigest, subjectChecksums string
	predicateType, predicatePath, predicate                   string
	includeInputs, noSign, showSummary, dryRun, overwrite     bool
	sigstore, oidcIssuer, out                                 string
}

// inputNames maps flags to action inputs where the names differ.
var inputNames = map[string]string{"out": "bundle-path"}

// defineAttestFlags defines the flags of "provenant attest" on fs.
func defineAttestFlags(fs *flag.FlagSet, f *attestFlags) {
	fs.StringVar(&f.subjectPath, "subject-path", "", "file globs to attest")
	fs.StringVar(&f.subjectName, "subject-name", "", "subject name (with --subject-digest)")
	fs.StringVar(&f.subjectDigest, "subject-digest", "", "subject digest, ALG:HEX")
	fs.StringVar(&f.subjectChecksums, "subject-checksums", "", "sha256sum-format file or text")
	fs.StringVar(&f.predicateType, "predicate-type", "", "custom predicate type URI")
	fs.StringVar(&f.predicatePath, "predicate-path", "", "custom predicate file (JSON)")
	fs.StringVar(&f.predicate, "predicate", "", "custom predicate inline (JSON)")
	fs.BoolVar(&f.includeInputs, "include-workflow-inputs", false, "record workflow inputs")
	fs.BoolVar(&f.noSign, "no-sign", false, "write the unsigned statement")
	fs.BoolVar(&f.showSummary, "show-summary", true, "write a step summary")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the statement that would be signed; sign and write nothing")
	fs.StringVar(&f.sigstore, "sigstore", "auto", "Sigstore instance: auto, public-good, github or a folder")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "expected OIDC token issuer")
	fs.StringVar(&f.out, "out", "", "output path")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace an existing file at --out")
}

func parseAttestFlags(args []string, e env) (*attestFlags, error) {
	f := &attestFlags{}
	fs := newFlagSet("attest")
	defineAttestFlags(fs, f)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (subjects are given with --subject-path)", fs.Arg(0))
	}
	// Action inputs fill the flags not given on the command line.
	return f, applyInputs(fs, e, inputNames)
}

// runAttest implements "provenant attest".
func runAttest(ctx context.Context, args []string, e env) int {
	f, err := parseAttestFlags(args, e)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, attestUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "provenant attest: %v (see provenant attest --help)\n", err)
		return exitUsage
	}
	inActions := builder.InActions(e.getenv)
	// In a workflow, logs and workflow commands go to stdout where the
	// runner reads them; elsewhere stdout stays clean.
	logTo := e.stderr
	if inActions {
		logTo = e.stdout
	}
	action := githubactions.New(githubactions.WithGetenv(e.getenv), githubactions.WithWriter(logTo))
	// Every message may hold a file name or another value a user chose:
	// it is made printable so it cannot start a log line of its own.
	fail := func(code int, err error) int {
		if ctx.Err() != nil {
			// A signal (SIGINT, SIGTERM) ended the run.
			code, err = exitFailed, fmt.Errorf("interrupted, stopping: %w", err)
		}
		msg := builder.Printable(err.Error())
		if inActions {
			action.Errorf("provenant attest: %s", msg)
		} else {
			fmt.Fprintf(e.stderr, "provenant attest: %s\n", msg)
		}
		return code
	}
	logf := func(format string, args ...any) {
		action.Infof("%s", builder.Printable(fmt.Sprintf(format, args...)))
	}

	// 1. Subjects and the predicate are read before any network call, so a
	// bad input fails fast.
	dir, _ := os.Getwd()
	subjOpts := provenance.SubjectOptions{
		Paths: provenance.SplitList(f.subjectPath),
		Name:  f.subjectName, Digest: f.subjectDigest, Dir: dir,
		Warn: func(msg string) {
			if inActions {
				action.Warningf("%s", builder.Printable(msg))
			} else {
				fmt.Fprintf(e.stderr, "provenant attest: warning: %s\n", builder.Printable(msg))
			}
		},
	}
	if f.subjectChecksums != "" {
		text, source, err := provenance.ReadChecksums(ctx, f.subjectChecksums, dir)
		if err != nil {
			return fail(exitUsage, err)
		}
		subjOpts.Checksums, subjOpts.ChecksumsSource = text, source
	}
	customPredicate, err := provenance.ReadPredicate(ctx, provenance.PredicateInput{Type: f.predicateType, Path: f.predicatePath, Inline: f.predicate})
	if err != nil {
		return fail(exitUsage, err)
	}
	start := time.Now()
	subjects, err := provenance.CollectSubjects(ctx, subjOpts)
	if err != nil {
		return fail(exitUsage, err)
	}
	logf("%d subject(s) hashed in %s", len(subjects), time.Since(start).Round(time.Millisecond))

	// 2. Who is building.
	var job *builder.Job
	if f.noSign {
		job, err = builder.FromEnvironment(e.getenv, localFacts(dir))
		if err != nil {
			return fail(exitFailed, err)
		}
		if job.Local {
			logf("--no-sign outside GitHub Actions: provenance of a local build (builder %s), unsigned: SLSA Build L1 at most", job.BuilderID())
		} else {
			logf("--no-sign: provenance from the GITHUB_* environment, unsigned: SLSA Build L1 (provenance exists, nothing proves who made it)")
		}
	} else {
		job, err = builder.FromToken(ctx, builder.Options{
			Getenv:     e.getenv,
			HTTPClient: &http.Client{Timeout: 30 * time.Second},
			Issuer:     f.oidcIssuer,
		})
		if err != nil {
			return fail(exitFailed, err)
		}
		if inActions {
			// The runner hides the token in the log from now on. Outside
			// a runner the mask command would only print it.
			action.AddMask(job.Token)
		}
	}

	// 3. The statement.
	var st *provenance.Statement
	if customPredicate != nil {
		st, err = provenance.NewStatement(subjects, f.predicateType, customPredicate)
	} else {
		var popts provenance.PredicateOptions
		if f.includeInputs {
			if popts.WorkflowInputs, err = builder.WorkflowInputs(ctx, job, e.getenv("GITHUB_EVENT_PATH")); err != nil {
				return fail(exitUsage, fmt.Errorf("include-workflow-inputs: %w", err))
			}
		}
		st, err = provenance.NewProvenanceStatement(subjects, job, popts)
	}
	if err != nil {
		return fail(exitUsage, err)
	}

	if f.dryRun {
		fmt.Fprintf(e.stdout, "%s\n", st.JSON)
		return exitOK
	}

	// 4. Where to write, settled before anything is signed.
	ext := ".sigstore.json"
	if f.noSign {
		ext = ".intoto.json"
	}
	dst, err := prepareOutput(f, e, subjects, ext)
	if err != nil {
		return fail(exitUsage, err)
	}
	if inActions {
		if err := checkCommandFiles(e, f.showSummary); err != nil {
			dst.discard()
			return fail(exitUsage, fmt.Errorf("before signing: %w", err))
		}
	}
	written := false
	defer func() {
		if !written {
			dst.discard()
		}
	}()

	// 5. Sign (or not) and write.
	out := dst.path
	var content []byte
	outputs := map[string]string{}
	if f.noSign {
		content = append(st.JSON, '\n')
	} else {
		res, err := signStatement(ctx, e, logf, f, job, st)
		if err != nil {
			return fail(exitFailed, err)
		}
		content = res.bundleJSON
		for k, v := range res.outputs {
			outputs[k] = v
		}
	}
	if saved, err := writeOrRescue(out, content, e); err != nil {
		written = saved != ""
		return fail(exitFailed, err)
	}
	written = true
	abs, _ := filepath.Abs(out)
	fmt.Fprintf(e.stderr, "wrote %s (%d subject(s), predicate %s)\n", builder.Printable(abs), len(subjects), builder.Printable(st.PredicateType))

	if inActions {
		outputs["bundle-path"] = abs
		outputs["subject-count"] = strconv.Itoa(len(subjects))
		files := &builder.FileCommands{Getenv: e.getenv}
		if err := files.SetOutputs(outputs); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
			return fail(exitFailed, fmt.Errorf("the attestation is written to %s, but setting the step outputs failed: %w", abs, err))
		}
		if f.showSummary {
			if err := files.AppendSummary(subjectSummary(st, !f.noSign)); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
				return fail(exitFailed, fmt.Errorf("the attestation is written to %s, but writing the step summary failed: %w", abs, err))
			}
		}
	}
	return exitOK
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
func prepareOutput(f *attestFlags, e env, subjects []provenance.Subject, ext string) (*output, error) {
	o := &output{path: f.out}
	switch {
	case f.out == "" && builder.InActions(e.getenv) && e.getenv("RUNNER_TEMP") != "":
		parent := filepath.Join(e.getenv("RUNNER_TEMP"), "provenant")
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
	if err := checkFileName(filepath.Base(o.path)); err != nil {
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
	if err := probeFolder(filepath.Dir(o.path)); err != nil {
		o.discard()
		return nil, fmt.Errorf("bundle-path %q: the folder is not writable: %w", o.path, err)
	}
	return o, nil
}

// maxFileName is the longest file name most file systems take (NAME_MAX).
const maxFileName = 255

// checkFileName refuses a name no file can have.
func checkFileName(name string) error {
	switch {
	case len(name) > maxFileName:
		return fmt.Errorf("a file name of %d bytes is longer than the %d a file system takes", len(name), maxFileName)
	case name == "." || name == ".." || name == string(filepath.Separator):
		return errors.New("names a folder, not a file")
	case strings.ContainsRune(name, 0):
		return errors.New("a file name cannot hold NUL")
	}
	return nil
}

// probeFolder makes the folder if needed and creates and removes a file in
// it, so an unwritable folder fails before anything is signed.
func probeFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".provenant-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkCommandFiles makes sure, before anything is signed, that the step's
// outputs and summary can be written (when the runner names them).
func checkCommandFiles(e env, summary bool) error {
	files := &builder.FileCommands{Getenv: e.getenv}
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
	if len(subjects) == 1 && !strings.ContainsAny(subjects[0].Name, `/\`) && checkFileName(subjects[0].Name+ext) == nil {
		return subjects[0].Name + ext
	}
	return "attestation" + ext
}

// writeAtomic writes data to path through a temporary file in the same
// folder, so a reader never sees a half-written file.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A short temporary name: the final name may be as long as a name gets.
	tmp, err := os.CreateTemp(dir, ".provenant-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeOrRescue writes the attestation to path. When that fails after
// signing, the signed bundle (with its log entry already made) is not lost:
// it is written to a fresh file in $RUNNER_TEMP (or the system's temporary
// folder), and the error says where.
func writeOrRescue(path string, content []byte, e env) (saved string, err error) {
	werr := writeAtomic(path, content)
	if werr == nil {
		return path, nil
	}
	dir := e.getenv("RUNNER_TEMP")
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "provenant-rescued-*"+filepath.Ext(path))
	if err == nil {
		_, err = f.Write(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			return f.Name(), fmt.Errorf("writing %s: %w; the attestation is kept in %s", path, werr, f.Name())
		}
		os.Remove(f.Name())
	}
	return "", fmt.Errorf("writing %s: %w (and keeping it elsewhere failed too: %v)", path, werr, err)
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
	return builder.GitFacts(dir, host)
}
