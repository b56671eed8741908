package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/provenance"
)

const attestLong = `Records how artifacts were built as a SLSA v1 in-toto statement and signs it
keylessly with the job's OIDC token through Sigstore, writing a Sigstore
bundle. In a GitHub Actions step every flag can also be given as the action
input of the same name (INPUT_<NAME>; --out is the input bundle-path); a flag
on the command line wins. Inputs are read only when GITHUB_ACTIONS=true.

Subjects come from at least one of --subject-path, --subject-name with
--subject-digest, or --subject-checksums. The predicate is SLSA v1 build
provenance of this workflow run unless --predicate-type names another.

Exit status: 0 written, 1 the work failed (token, signing, a service),
2 bad usage or input. On failure nothing is written.`

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
	includeInputs, noSign, showSummary, dryRun                bool
	sigstore, oidcIssuer, out                                 string
	publish                                                   publishFlags
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
	fs.BoolVar(&f.includeInputs, "include-workflow-inputs", false, "record the workflow_dispatch inputs in the provenance")
	fs.BoolVar(&f.noSign, "no-sign", false, "write the unsigned statement (SLSA Build L1); needs no token")
	fs.BoolVar(&f.showSummary, "show-summary", true, "in GitHub Actions, write a step summary of the subjects")
	fs.BoolVar(&f.dryRun, "dry-run", false, "get and verify the token, print the statement that would be signed; sign and write nothing")
	fs.StringVar(&f.sigstore, "sigstore", "auto", "Sigstore instance: auto, public-good, github, or a `FOLDER` with signing_config.json and trusted_root.json")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "expected token issuer `URL` (default: from GITHUB_SERVER_URL)")
	fs.StringVar(&f.out, "out", "", "where to write the bundle: a `PATH` or a folder (action input: bundle-path)")
	definePublishFlags(fs, &f.publish)
}

// newAttestCmd is "provenant attest".
func newAttestCmd(e env) *cobra.Command {
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
			// Action inputs fill the flags not given on the command line.
			applied, err := applyInputs(cmd.Flags(), e, inputNames)
			if err != nil {
				return err
			}
			if len(applied) > 0 {
				fmt.Fprintf(e.stderr, "provenant attest: action inputs applied: %s\n", strings.Join(applied, ", "))
			}
			return asExit(runAttest(cmd.Context(), f, e))
		},
	}
	defineAttestFlags(cmd.Flags(), f)
	return cmd
}

// runAttest implements "provenant attest" once flags and inputs are parsed.
func runAttest(ctx context.Context, f *attestFlags, e env) int {
	inActions := builder.InActions(e.getenv)
	// In a workflow, logs and workflow commands go to stdout where the
	// runner reads them; elsewhere stdout stays clean.
	logTo := e.stderr
	if inActions {
		logTo = e.stdout
	}
	action := githubactions.New(githubactions.WithGetenv(e.getenv), githubactions.WithWriter(logTo))
	fail := func(code int, err error) int {
		if inActions {
			action.Errorf("provenant attest: %v", err)
		} else {
			fmt.Fprintf(e.stderr, "provenant attest: %v\n", err)
		}
		return code
	}

	// 1. Subjects and the predicate are read before any network call, so a
	// bad input fails fast.
	dir, _ := os.Getwd()
	subjOpts := provenance.SubjectOptions{
		Paths: provenance.SplitList(f.subjectPath),
		Name:  f.subjectName, Digest: f.subjectDigest, Dir: dir,
	}
	if f.subjectChecksums != "" {
		text, source, err := readChecksums(f.subjectChecksums, dir)
		if err != nil {
			return fail(exitUsage, err)
		}
		subjOpts.Checksums, subjOpts.ChecksumsSource = text, source
	}
	customPredicate, err := readPredicate(f)
	if err != nil {
		return fail(exitUsage, err)
	}
	start := time.Now()
	subjects, err := provenance.CollectSubjects(ctx, subjOpts)
	if err != nil {
		return fail(exitUsage, err)
	}
	action.Infof("%d subject(s) hashed in %s", len(subjects), time.Since(start).Round(time.Millisecond))

	// 2. Who is building.
	var job *builder.Job
	if f.noSign {
		job, err = builder.FromEnvironment(e.getenv, localFacts(dir))
		if err != nil {
			return fail(exitFailed, err)
		}
		if job.Local {
			action.Infof("--no-sign outside GitHub Actions: provenance of a local build (builder %s), unsigned: SLSA Build L1 at most", job.BuilderID())
		} else {
			action.Infof("--no-sign: provenance from the GITHUB_* environment, unsigned: SLSA Build L1 (provenance exists, nothing proves who made it)")
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
			if popts.WorkflowInputs, err = builder.WorkflowInputs(e.getenv("GITHUB_EVENT_PATH")); err != nil {
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

	// 4. Sign (or not) and write.
	out := f.out
	var content []byte
	outputs := map[string]string{}
	if f.noSign {
		content = append(st.JSON, '\n')
		out = outPath(out, e, subjects, ".intoto.json")
	} else {
		res, err := signStatement(ctx, e, action, f, job, st)
		if err != nil {
			return fail(exitFailed, err)
		}
		content = res.bundleJSON
		for k, v := range res.outputs {
			outputs[k] = v
		}
		out = outPath(out, e, subjects, ".sigstore.json")
	}
	if err := writeAtomic(out, content); err != nil {
		return fail(exitFailed, fmt.Errorf("writing %s: %w", out, err))
	}
	abs, _ := filepath.Abs(out)
	fmt.Fprintf(e.stderr, "wrote %s (%d subject(s), predicate %s)\n", abs, len(subjects), st.PredicateType)

	if inActions {
		outputs["bundle-path"] = abs
		outputs["subject-count"] = strconv.Itoa(len(subjects))
		if e.getenv("GITHUB_OUTPUT") != "" { // go-githubactions panics without it
			for k, v := range outputs {
				action.SetOutput(k, v)
			}
		}
		if f.showSummary && e.getenv("GITHUB_STEP_SUMMARY") != "" {
			action.AddStepSummary(subjectSummary(st, !f.noSign))
		}
	}
	return publishToGitHub(ctx, e, action, f.publish, abs, content, !f.noSign)
}

// readChecksums returns the checksum text: the file the value names, or the
// value itself when it is checksum text rather than a path.
func readChecksums(v, dir string) (text, source string, err error) {
	if strings.Contains(v, "\n") || looksLikeChecksumLine(v) {
		return v, "subject-checksums (inline)", nil
	}
	p := v
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", "", &provenance.InputError{Input: "subject-checksums", Value: v, Err: err}
	}
	return string(data), v, nil
}

func looksLikeChecksumLine(v string) bool {
	sum, name, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || strings.TrimSpace(name) == "" {
		return false
	}
	for _, c := range sum {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return len(sum) >= 64
}

// readPredicate returns the custom predicate's JSON, or nil for SLSA
// provenance.
func readPredicate(f *attestFlags) ([]byte, error) {
	switch {
	case f.predicatePath != "" && f.predicate != "":
		return nil, errors.New("give predicate-path or predicate, not both")
	case f.predicateType == "" && (f.predicatePath != "" || f.predicate != ""):
		return nil, errors.New("predicate-path and predicate need a predicate-type")
	case f.predicateType != "" && f.predicatePath == "" && f.predicate == "":
		if f.predicateType == provenance.SLSAProvenanceType {
			return nil, nil
		}
		return nil, fmt.Errorf("predicate-type %s needs predicate-path or predicate", f.predicateType)
	case f.predicate != "":
		return []byte(f.predicate), nil
	case f.predicatePath != "":
		fi, err := os.Stat(f.predicatePath)
		if err != nil {
			return nil, &provenance.InputError{Input: "predicate-path", Value: f.predicatePath, Err: err}
		}
		if fi.IsDir() {
			return nil, &provenance.InputError{Input: "predicate-path", Value: f.predicatePath, Err: errors.New("is a directory")}
		}
		if fi.Size() > provenance.MaxPredicateSize {
			return nil, &provenance.InputError{Input: "predicate-path", Value: f.predicatePath,
				Err: fmt.Errorf("%d bytes, larger than the 16 MiB limit", fi.Size())}
		}
		data, err := os.ReadFile(f.predicatePath)
		if err != nil {
			return nil, &provenance.InputError{Input: "predicate-path", Value: f.predicatePath, Err: err}
		}
		return data, nil
	}
	return nil, nil
}

// outPath is where to write: the flag's path, the default name inside it
// when it names a folder, or the default path.
func outPath(flagValue string, e env, subjects []provenance.Subject, ext string) string {
	if flagValue == "" {
		return defaultOutPath(e, subjects, ext)
	}
	if fi, err := os.Stat(flagValue); (err == nil && fi.IsDir()) || strings.HasSuffix(flagValue, string(filepath.Separator)) {
		return filepath.Join(flagValue, defaultName(subjects, ext))
	}
	return flagValue
}

// defaultOutPath is the default name under $RUNNER_TEMP/provenant in a
// workflow, in the current folder elsewhere.
func defaultOutPath(e env, subjects []provenance.Subject, ext string) string {
	if t := e.getenv("RUNNER_TEMP"); t != "" && builder.InActions(e.getenv) {
		return filepath.Join(t, "provenant", defaultName(subjects, ext))
	}
	return defaultName(subjects, ext)
}

// defaultName is <subject><ext> for one subject, attestation<ext> for
// several.
func defaultName(subjects []provenance.Subject, ext string) string {
	if len(subjects) == 1 && !strings.ContainsAny(subjects[0].Name, `/\`) {
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
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
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

// maxSummaryRows bounds the step summary (GitHub caps it at 1 MiB).
const maxSummaryRows = 500

func subjectSummary(st *provenance.Statement, signed bool) string {
	var b strings.Builder
	state := "signed"
	if !signed {
		state = "unsigned (SLSA Build L1)"
	}
	fmt.Fprintf(&b, "### provenant attest\n\nPredicate `%s`, %s, %d subject(s).\n\n| name | digest |\n|---|---|\n", st.PredicateType, state, len(st.Subjects))
	for i, s := range st.Subjects {
		if i == maxSummaryRows {
			fmt.Fprintf(&b, "| … and %d more | |\n", len(st.Subjects)-i)
			break
		}
		var ds []string
		for _, alg := range s.SortedDigestAlgorithms() {
			ds = append(ds, "`"+alg+":"+s.Digest[alg]+"`")
		}
		fmt.Fprintf(&b, "| %s | %s |\n", strings.NewReplacer("|", `\|`, "\n", " ").Replace(s.Name), strings.Join(ds, "<br>"))
	}
	return b.String()
}

// localFacts asks git about the checkout in dir, for provenance of a local
// build. Missing facts stay empty.
func localFacts(dir string) builder.LocalFacts {
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	host, _ := os.Hostname()
	return builder.LocalFacts{
		Host:       host,
		Dir:        git("rev-parse", "--show-toplevel"),
		Commit:     git("rev-parse", "HEAD"),
		Ref:        git("symbolic-ref", "-q", "HEAD"),
		Repository: repoFromRemote(git("config", "--get", "remote.origin.url")),
	}
}

// repoFromRemote turns a remote URL into owner/name.
func repoFromRemote(u string) string {
	u = strings.TrimSuffix(strings.TrimSpace(u), ".git")
	if u == "" {
		return ""
	}
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.Index(u, "/"); j >= 0 {
			u = u[j+1:]
		}
	} else if i := strings.Index(u, ":"); i >= 0 {
		u = u[i+1:]
	}
	return u
}
