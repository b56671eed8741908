package verify

// report.go writes verify's report: text or JSON on stdout, the JSON
// report file and, in GitHub Actions, the step outputs and summary.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/ghformat"
	"github.com/provenant/provenant/verifier"
	"google.golang.org/protobuf/encoding/protojson"
)

// writeReport prints the report and writes the report file, outputs and
// summary.
func writeReport(o *Options, rep *verifier.Report) error {
	var err error
	switch {
	case o.PrintProvenance:
		err = printProvenance(o.f.Stdout, rep)
		if err == nil && !rep.Verified {
			// What failed, where slsa-verifier says it: stdout holds only
			// verified statements.
			err = rep.WriteText(o.f.Stderr, false)
		}
	case o.Format == "json" && !rep.Verified:
		// As gh: a failed verification prints no JSON; what failed goes to
		// stderr.
		err = rep.WriteText(o.f.Stderr, false)
	case o.Format == "json":
		// gh attestation verify's shape: the verified attestations, with
		// gh's own --jq and --template over them.
		var results []ghformat.Result
		if results, err = ghformat.Results(rep); err == nil {
			err = ghformat.Write(o.f.Stdout, results, ghformat.Options{JQ: o.JQ, Template: o.Template})
		}
	case o.Format == "report":
		err = rep.WriteJSON(o.f.Stdout)
	default:
		err = rep.WriteText(o.f.Stdout, o.Verbose)
	}
	if err != nil {
		return cmdutil.Failed(err)
	}
	path := o.ReportPath
	inActions := o.f.InActions()
	if path == "" && inActions && o.f.Getenv("RUNNER_TEMP") != "" {
		path = filepath.Join(o.f.Getenv("RUNNER_TEMP"), "provenant", "verify-report.json")
	}
	if path != "" {
		if err := cmdutil.WriteAtomicWith(path, rep.WriteJSON); err != nil {
			return cmdutil.Failedf("writing report: %w", err)
		}
	}
	if !inActions {
		return nil
	}
	// Outputs through builder.FileCommands: a random delimiter per value,
	// so a report path cannot add outputs of its own; errors, not panics.
	files := &builder.FileCommands{Getenv: o.f.Getenv}
	outputs := map[string]string{"verified": strconv.FormatBool(rep.Verified), "level": strconv.Itoa(rep.Level())}
	if path != "" {
		outputs["report-path"] = path
	}
	if err := files.SetOutputs(outputs); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
		return cmdutil.Failed(err)
	}
	if o.Summary {
		var b strings.Builder
		_ = rep.WriteMarkdown(&b)
		if err := files.AppendSummary(capSummary(b.String(), maxSummaryBytes)); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
			return cmdutil.Failed(err)
		}
	}
	return nil
}

// maxSummaryBytes keeps a step summary below GitHub's limit of 1 MiB per
// step (a larger one is refused whole), with room for the closing note.
const maxSummaryBytes = 1<<20 - 4<<10

// capSummary cuts a Markdown summary at the last whole line that fits in
// max bytes and says how many table rows were left out and where they are.
func capSummary(md string, max int) string {
	if len(md) <= max {
		return md
	}
	cut := strings.LastIndexByte(md[:max], '\n') + 1
	left := 0
	for _, line := range strings.Split(md[cut:], "\n") {
		if strings.HasPrefix(line, "|") {
			left++
		}
	}
	return md[:cut] + fmt.Sprintf("\n… %d more rows left out: GitHub refuses a step summary over 1 MiB. The JSON report (output report-path) has every artifact and check.\n", left)
}

// printProvenance writes each verified bundle's in-toto statement, as
// sigstore-go verified it, one JSON a line (slsa-verifier's
// --print-provenance).
func printProvenance(w io.Writer, rep *verifier.Report) error {
	for _, a := range rep.Artifacts {
		for _, b := range a.Bundles {
			if !b.Verified || b.Evidence == nil || b.Evidence.Result == nil || b.Evidence.Result.Statement == nil {
				continue
			}
			// The statement as sigstore-go verified it; its predicate, which
			// the verifier keeps apart (BundleResult.Predicate), put back.
			raw, err := protojson.Marshal(b.Evidence.Result.Statement)
			var st map[string]json.RawMessage
			if err == nil {
				err = json.Unmarshal(raw, &st)
			}
			if err == nil && len(b.Predicate) > 0 {
				st["predicate"] = json.RawMessage(b.Predicate)
			}
			var line []byte
			if err == nil {
				line, err = json.Marshal(st)
			}
			if err != nil {
				return fmt.Errorf("printing the provenance of %s: %w", b.Source, err)
			}
			if _, err := w.Write(append(line, '\n')); err != nil {
				return err
			}
		}
	}
	return nil
}
