package attest

// steps.go: the steps of Run, in order, each returning what it made.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/keyless"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/trust"
)

// run is one run of "provenant attest": its options, log and working
// folder, shared by its steps.
type run struct {
	ctx context.Context
	o   *Options
	log *cmdutil.Logger
	dir string
}

func newRun(o *Options) *run {
	return &run{ctx: o.ctx, o: o, log: o.f.Logger("provenant attest", true), dir: o.f.Dir()}
}

// inputs reads the predicate and the subject inputs and hashes the files,
// before any network call, so a bad input fails fast. custom is the custom
// predicate's JSON, nil for SLSA provenance.
func (r *run) inputs() (subjects []provenance.Subject, custom []byte, err error) {
	o := r.o
	custom, err = provenance.ReadPredicate(r.ctx, provenance.PredicateInput{Type: o.PredicateType, Path: o.PredicatePath, Inline: o.Predicate})
	if err != nil {
		return nil, nil, err
	}
	opts := provenance.SubjectOptions{
		Paths: provenance.SplitList(o.SubjectPath),
		Name:  o.SubjectName, Digest: o.SubjectDigest, Dir: r.dir, Warn: r.log.Warn,
	}
	if o.SubjectChecksums != "" {
		text, source, err := provenance.ReadChecksums(r.ctx, o.SubjectChecksums, r.dir)
		if err != nil {
			return nil, nil, err
		}
		opts.Checksums, opts.ChecksumsSource = text, source
	}
	start := r.o.f.Time()
	subjects, err = provenance.CollectSubjects(r.ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	r.log.Infof("%d subject(s) hashed in %s", len(subjects), r.o.f.Time().Sub(start).Round(time.Millisecond))
	return subjects, custom, nil
}

// job finds out who is building: the verified token's claims, or with
// --no-sign the environment (or the local checkout).
func (r *run) job() (*builder.Job, error) {
	noToken := r.o.f.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == ""
	if !r.o.NoSign && !r.o.DryRun && noToken && !r.o.f.InActions() {
		// Outside Actions there is no job token: say how to go on here,
		// not to add a workflow permission.
		return nil, errors.New("not in a GitHub Actions job (GITHUB_ACTIONS is not true), so there is no job OIDC token to sign with: " +
			"sign in a workflow step with permissions id-token: write, or attest here with --no-sign (unsigned, SLSA Build L1), " +
			"or see the statement with --dry-run")
	}
	if r.o.NoSign || r.o.DryRun && noToken {
		// --dry-run without a token shows the statement of the environment.
		job, err := builder.FromEnvironment(r.o.f.Getenv, localFacts(r.dir))
		if err != nil {
			return nil, err
		}
		if job.Local {
			r.log.Infof("%s outside GitHub Actions: provenance of a local build (builder %s), unsigned: SLSA Build L1 at most", r.unsignedFlag(), job.BuilderID())
		} else {
			r.log.Infof("%s: provenance from the GITHUB_* environment, unsigned: SLSA Build L1 (provenance exists, nothing proves who made it)", r.unsignedFlag())
		}
		return job, nil
	}
	return keyless.JobToken(r.ctx, r.o.f, r.log, r.o.OIDCIssuer)
}

// statement builds the in-toto statement: SLSA provenance of the job, or
// the custom predicate.
func (r *run) statement(subjects []provenance.Subject, custom []byte, job *builder.Job) (*provenance.Statement, error) {
	if custom != nil {
		return provenance.NewStatement(subjects, r.o.PredicateType, custom)
	}
	var opts provenance.PredicateOptions
	if r.o.IncludeInputs {
		var err error
		if opts.WorkflowInputs, err = builder.WorkflowInputs(r.ctx, job, r.o.f.Getenv("GITHUB_EVENT_PATH")); err != nil {
			return nil, fmt.Errorf("include-workflow-inputs: %w", err)
		}
	}
	return provenance.NewProvenanceStatement(subjects, job, opts)
}

// preflight settles where to write and checks that the attestation and the
// step's outputs can be written, before anything is signed.
func (r *run) preflight(subjects []provenance.Subject) (*output, error) {
	ext := ".sigstore.json"
	if r.o.NoSign {
		ext = ".intoto.json"
	}
	dst, err := prepareOutput(r.o, subjects, ext)
	if err != nil {
		return nil, err
	}
	if r.o.f.InActions() {
		if err := checkCommandFiles(r.o.f, r.o.ShowSummary); err != nil {
			dst.discard()
			return nil, fmt.Errorf("before signing: %w", err)
		}
	}
	return dst, nil
}

// sign signs the statement into a Sigstore bundle with the instance the
// sigstore flag names and logs the certificate identity and log entry; with
// --no-sign it returns the statement itself.
func (r *run) sign(job *builder.Job, st *provenance.Statement) (content []byte, outputs map[string]string, err error) {
	if r.o.NoSign {
		return append(st.JSON, '\n'), map[string]string{}, nil
	}
	start := r.o.f.Time()
	signed, inst, err := keyless.SignAsJob(r.ctx, r.o.f, r.o.Sigstore, job, st)
	if err != nil {
		return nil, nil, err
	}
	r.log.Infof("signed with Sigstore instance %s in %s", inst.Name, r.o.f.Time().Sub(start).Round(time.Millisecond))
	r.log.Infof("certificate identity: %s (issuer %s)", signed.CertificateIdentity, signed.CertificateIssuer)
	outputs = map[string]string{"certificate-identity": signed.CertificateIdentity}
	if signed.LogIndex >= 0 {
		where := ""
		if inst.Name == trust.PublicGood {
			where = fmt.Sprintf(": https://search.sigstore.dev/?logIndex=%d", signed.LogIndex)
		}
		r.log.Infof("transparency log entry %d%s", signed.LogIndex, where)
		outputs["log-index"] = strconv.FormatInt(signed.LogIndex, 10)
	} else {
		r.log.Infof("no transparency log entry: signing time from an RFC 3161 timestamp")
	}
	return signed.JSON, outputs, nil
}

// write writes the attestation (keeping it elsewhere if that fails) and
// returns its absolute path.
func (r *run) write(dst *output, content []byte, st *provenance.Statement) (string, error) {
	saved, err := r.o.f.WriteOrRescue(dst.path, content)
	if err != nil {
		if saved == "" {
			dst.discard()
		}
		return "", err
	}
	abs, _ := filepath.Abs(saved)
	r.log.Plainf("wrote %s (%d subject(s), predicate %s)", abs, len(st.Subjects), st.PredicateType)
	return abs, nil
}

// setOutputs sets the step outputs and writes the step summary, in a
// workflow.
func (r *run) setOutputs(abs string, outputs map[string]string, st *provenance.Statement) error {
	if !r.o.f.InActions() {
		return nil
	}
	outputs["bundle-path"] = abs
	outputs["subject-count"] = strconv.Itoa(len(st.Subjects))
	files := &builder.FileCommands{Getenv: r.o.f.Getenv}
	if err := files.SetOutputs(outputs); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
		return fmt.Errorf("the attestation is written to %s, but setting the step outputs failed: %w", abs, err)
	}
	if r.o.ShowSummary {
		if err := files.AppendSummary(subjectSummary(st, !r.o.NoSign)); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
			return fmt.Errorf("the attestation is written to %s, but writing the step summary failed: %w", abs, err)
		}
	}
	return nil
}

// MaxSummaryRows bounds the step summary (GitHub caps it at 1 MiB).
const MaxSummaryRows = 500

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
		if i == MaxSummaryRows {
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

// unsignedFlag names the flag that made the run unsigned.
func (r *run) unsignedFlag() string {
	if r.o.NoSign {
		return "--no-sign"
	}
	return "--dry-run without a job token"
}
