package verify

// report.go writes verify's report: text or JSON on stdout, the JSON
// report file and, in GitHub Actions, the step outputs and summary.

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/verifier"
)

// writeReport prints the report and writes the report file, outputs and
// summary.
func writeReport(o *Options, rep *verifier.Report) error {
	var err error
	if o.Format == "json" {
		err = rep.WriteJSON(o.f.Stdout)
	} else {
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
		if err := files.AppendSummary(b.String()); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
			return cmdutil.Failed(err)
		}
	}
	return nil
}
