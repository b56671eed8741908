package verifier

import (
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

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a human: per artifact, per bundle, one
// line per check with its status and reason, then the level reached.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wmsg)
	}
	for _, a := range r.Artifacts {
		verdict := "FAILED"
		if a.Verified {
			verdict = fmt.Sprintf("VERIFIED at SLSA Build L%d", a.Level)
		}
		fmt.Fprintf(&b, "%s (%s): %s\n", a.Artifact, a.Digest, verdict)
		if a.Error != "" {
			fmt.Fprintf(&b, "  %s\n", a.Error)
		}
		for _, br := range a.Bundles {
			status := "failed"
			if br.Verified {
				status = "verified"
			}
			fmt.Fprintf(&b, "  bundle %s: %s\n", br.Source, status)
			if br.Signer != nil {
				fmt.Fprintf(&b, "    signer: %s (issuer %s)\n", br.Signer.SubjectAlternativeName, br.Signer.Extensions.Issuer)
			}
			for _, c := range br.Checks {
				fmt.Fprintf(&b, "    %-9s %d %-11s %s\n", strings.ToUpper(string(c.Status)), c.Number, c.Name, c.Reason)
			}
		}
	}
	n, ok := 0, 0
	for _, a := range r.Artifacts {
		n++
		if a.Verified {
			ok++
		}
	}
	fmt.Fprintf(&b, "%d of %d artifacts verified\n", ok, n)
	_, err := io.WriteString(w, b.String())
	return err
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
