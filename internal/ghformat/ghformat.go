// Package ghformat writes verify's results in the shape of
// `gh attestation verify --format json`: an array with one entry per
// verified attestation, {"attestation": {"bundle": …}, "verificationResult":
// …}, where verificationResult is sigstore-go's VerificationResult (the
// statement, the certificate summary, the verified timestamps), as gh prints
// it. A script written for gh's JSON, its --jq expressions and its
// --template templates read provenant's unchanged: --jq and --template are
// gh's own implementations (github.com/cli/go-gh/v2's jq, over
// itchyny/gojq, and template), not copies.
package ghformat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cli/go-gh/v2/pkg/jq"
	"github.com/cli/go-gh/v2/pkg/template"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/provenant/provenant/verifier"
)

// Result is one verified attestation, as gh's
// verification.AttestationProcessingResult.
type Result struct {
	Attestation        Attestation                `json:"attestation"`
	VerificationResult *verify.VerificationResult `json:"verificationResult"`
}

// Attestation is the attestation as gh's api.Attestation: the bundle, the
// URL GitHub's API served it from and its initiator (both empty for a local
// file, as gh prints them).
type Attestation struct {
	Bundle    *bundle.Bundle `json:"bundle"`
	BundleURL string         `json:"bundle_url"`
	Initiator string         `json:"initiator"`
}

// ErrNoEvidence is returned by Results for a verified bundle whose evidence
// was not kept (verifier.Options.KeepEvidence was off).
var ErrNoEvidence = errors.New("the verified bundles' evidence was not kept (verifier.Options.KeepEvidence)")

// Results lists the verified attestations of a report, artifact by
// artifact, each once per artifact it verified, as gh lists them.
func Results(rep *verifier.Report) ([]Result, error) {
	out := []Result{}
	for _, a := range rep.Artifacts {
		for _, b := range a.Bundles {
			if !b.Verified {
				continue
			}
			if b.Evidence == nil {
				return nil, ErrNoEvidence
			}
			out = append(out, Result{Attestation: Attestation{Bundle: b.Evidence.Bundle}, VerificationResult: b.Evidence.Result})
		}
	}
	return out, nil
}

// Options are gh's output flags: at most one of JQ and Template.
type Options struct {
	// JQ is a jq expression (--jq/-q) applied to the JSON.
	JQ string
	// Template is a Go template (--template/-t) applied to the JSON, with
	// gh's template functions.
	Template string
	// Width is the terminal width for the template's table functions.
	Width int
}

// Write writes results as gh does: the JSON array (compact, one line),
// or what JQ or Template makes of it.
func Write(w io.Writer, results []Result, o Options) error {
	if o.JQ != "" && o.Template != "" {
		return errors.New("give --jq or --template, not both")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		return fmt.Errorf("encoding the results: %w", err)
	}
	switch {
	case o.JQ != "":
		// gh indents only on a terminal; its output piped to a script is
		// compact, which is how a script reads it.
		if err := jq.EvaluateFormatted(&buf, w, o.JQ, "", false); err != nil {
			return fmt.Errorf("--jq: %w", err)
		}
		return nil
	case o.Template != "":
		width := o.Width
		if width <= 0 {
			width = 80
		}
		t := template.New(w, width, false)
		if err := t.Parse(o.Template); err != nil {
			return fmt.Errorf("--template: %w", err)
		}
		if err := t.Execute(&buf); err != nil {
			return fmt.Errorf("--template: %w", err)
		}
		return t.Flush()
	}
	_, err := w.Write(buf.Bytes())
	return err
}
