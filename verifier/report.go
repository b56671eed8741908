package verifier

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Report is the outcome of Verify.
type Report struct {
	// Verified is true when every artifact is verified.
	Verified bool `json:"verified"`
	// MinLevel is the SLSA Build level required (0: the default per predicate type).
	MinLevel int `json:"minLevel,omitempty"`
	// Artifacts holds one result per artifact, in input order.
	Artifacts []ArtifactResult `json:"artifacts"`
	// Warnings are notes that do not fail verification (e.g. a cached
	// trusted root used offline).
	Warnings []string `json:"warnings,omitempty"`
}

// WriteJSON writes the report as indented JSON, the bytes of a
// json.Encoder with SetIndent("", "  "), one artifact at a time: the
// encoder would hold the whole text of a release's report (kilobytes per
// artifact) in memory before writing any of it.
func (r *Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "{\n  \"verified\": %t,\n", r.Verified)
	if r.MinLevel != 0 {
		fmt.Fprintf(bw, "  \"minLevel\": %d,\n", r.MinLevel)
	}
	bw.WriteString(`  "artifacts": `)
	switch {
	case r.Artifacts == nil:
		bw.WriteString("null")
	case len(r.Artifacts) == 0:
		bw.WriteString("[]")
	default:
		bw.WriteString("[\n")
		for i, a := range r.Artifacts {
			data, err := json.MarshalIndent(a, "    ", "  ")
			if err != nil {
				return err
			}
			bw.WriteString("    ")
			bw.Write(data)
			if i < len(r.Artifacts)-1 {
				bw.WriteString(",")
			}
			bw.WriteString("\n")
		}
		bw.WriteString("  ]")
	}
	if len(r.Warnings) > 0 {
		data, err := json.MarshalIndent(r.Warnings, "  ", "  ")
		if err != nil {
			return err
		}
		bw.WriteString(",\n  \"warnings\": ")
		bw.Write(data)
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// WriteText writes the report for a human: one line per verified artifact
// (name, digest, level, signer), the checks of every bundle of an artifact
// that failed, and a closing summary line. With verbose, every artifact gets
// the detail, one line per check with its status and reason.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	// Written as it is made: a release's report is a line per artifact.
	b := bufio.NewWriter(w)
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(b, "warning: %s\n", wmsg)
	}
	ok := 0
	for _, a := range r.Artifacts {
		if a.Verified {
			ok++
		}
		writeArtifactText(b, a, verbose)
	}
	fmt.Fprintf(b, "%d of %d artifacts verified", ok, len(r.Artifacts))
	if lvl := r.Level(); lvl > 0 {
		fmt.Fprintf(b, ", SLSA Build L%d", lvl)
	}
	b.WriteString("\n")
	return b.Flush()
}

// writeArtifactText writes one artifact: a line, and the detail of its
// bundles when it failed or verbose is set.
func writeArtifactText(b io.Writer, a ArtifactResult, verbose bool) {
	if a.Verified && !verbose {
		signer := ""
		if br := bestBundle(a); br != nil && br.Signer != nil {
			signer = ", signer " + br.Signer.SubjectAlternativeName
		}
		fmt.Fprintf(b, "%s (%s): VERIFIED at SLSA Build L%d%s\n", a.Artifact, a.Digest, a.Level, signer)
		return
	}
	verdict := "FAILED"
	if a.Verified {
		verdict = fmt.Sprintf("VERIFIED at SLSA Build L%d", a.Level)
	}
	fmt.Fprintf(b, "%s (%s): %s\n", a.Artifact, a.Digest, verdict)
	if a.Error != "" {
		fmt.Fprintf(b, "  %s\n", a.Error)
	}
	for _, br := range a.Bundles {
		status := "failed"
		switch {
		case br.Verified:
			status = "verified"
		case br.Refused != "":
			status = "refused by the policy file: " + br.Refused
		}
		fmt.Fprintf(b, "  bundle %s: %s\n", br.Source, status)
		if br.Signer != nil {
			fmt.Fprintf(b, "    signer: %s (issuer %s)\n", br.Signer.SubjectAlternativeName, br.Signer.Extensions.Issuer)
		}
		for _, c := range br.Checks {
			fmt.Fprintf(b, "    %-9s %d %-11s %s\n", strings.ToUpper(string(c.Status)), c.Number, c.Name, c.Reason)
		}
	}
}

// bestBundle is the verified bundle of the highest level, or nil.
func bestBundle(a ArtifactResult) *BundleResult {
	var best *BundleResult
	for i := range a.Bundles {
		if br := &a.Bundles[i]; br.Verified && (best == nil || br.Level > best.Level) {
			best = br
		}
	}
	return best
}

// Level is the SLSA Build level every artifact reached (the lowest among
// them), or 0 when one is not verified.
func (r *Report) Level() int {
	lvl := 0
	for i, a := range r.Artifacts {
		if !a.Verified {
			return 0
		}
		if i == 0 || a.Level < lvl {
			lvl = a.Level
		}
	}
	return lvl
}

// WriteMarkdown writes the report as a GitHub step summary: a table with
// one row per artifact and check.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	verdict := "❌ not verified"
	if r.Verified {
		verdict = fmt.Sprintf("✅ verified, SLSA Build L%d", r.Level())
	}
	fmt.Fprintf(&b, "### provenant verify: %s\n\n", verdict)
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "> warning: %s\n\n", mdCell(wmsg))
	}
	b.WriteString("| artifact | bundle | check | result | reason |\n|---|---|---|---|---|\n")
	for _, a := range r.Artifacts {
		name := mdCell(filepath.Base(a.Artifact))
		if a.Error != "" {
			fmt.Fprintf(&b, "| %s | | | fail | %s |\n", name, mdCell(a.Error))
		}
		for _, br := range a.Bundles {
			for _, c := range br.Checks {
				fmt.Fprintf(&b, "| %s | %s | %d %s | %s | %s |\n", name, mdCell(filepath.Base(br.Source)), c.Number, c.Name, c.Status, mdCell(c.Reason))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
