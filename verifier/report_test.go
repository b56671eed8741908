package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// TestWriteJSONIsTheEncoders pins the streamed JSON report to the bytes
// json.Encoder (SetIndent("", "  ")) writes for the whole report, on
// reports of every shape: no artifact (nil and empty), one, several, with
// and without MinLevel and warnings, and strings JSON escapes.
func TestWriteJSONIsTheEncoders(t *testing.T) {
	signer := &certificate.Summary{SubjectAlternativeName: "https://github.com/o/r/.github/workflows/<b>&.yml@refs/heads/main"}
	verified := ArtifactResult{Artifact: "a.tgz", Digest: "sha256:00", Verified: true, Level: 2, Bundles: []BundleResult{{
		Source: "a.tgz.sigstore.json", Signer: signer, Timestamps: []Timestamp{{Kind: "Tlog", URI: "https://rekor", Time: time.Unix(1700000000, 0).UTC()}},
		Checks: []CheckResult{pass(CheckBundle, "ok"), fail(CheckSubject, errors.New("line\nbreak \"quoted\" \u2028"))}, Level: 2, Verified: true,
	}}}
	failed := ArtifactResult{Artifact: "b\tc", Digest: "sha512:ff", Error: "no attestation found"}
	for name, rep := range map[string]Report{
		"nil artifacts":   {},
		"no artifacts":    {Artifacts: []ArtifactResult{}},
		"one":             {Verified: true, Artifacts: []ArtifactResult{verified}},
		"several":         {Artifacts: []ArtifactResult{verified, failed, verified}},
		"min level":       {MinLevel: 3, Artifacts: []ArtifactResult{failed}},
		"warnings":        {Artifacts: []ArtifactResult{verified}, Warnings: []string{"offline: cached root", "<html>"}},
		"empty warnings":  {Artifacts: []ArtifactResult{failed}, Warnings: []string{}},
		"all, no results": {MinLevel: 1, Warnings: []string{"w"}},
	} {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode(&rep); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := rep.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("streamed:\n%s\nencoder:\n%s", got.String(), want.String())
			}
		})
	}
}
