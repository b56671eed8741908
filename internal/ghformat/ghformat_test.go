package ghformat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"
	"github.com/provenant/provenant/verifier"
)

const fixtures = "../../testdata/fixtures/"

func npmReport(t *testing.T, keep bool) *verifier.Report {
	t.Helper()
	roots, err := trust.LoadTrustedRoots(fixtures + "trusted-roots/public-good-cli.json")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verifier.Verify(context.Background(), verifier.Options{
		TrustedRoots: roots, Artifacts: []string{fixtures + "npm/sigstore-js-2.1.0.tgz"},
		BundleFiles: []string{fixtures + "npm/sigstore-js-2.1.0_with_2_bundles.jsonl"},
		Policy:      verifier.Policy{Repo: "sigstore/sigstore-js"}, KeepEvidence: keep,
	})
	if err != nil || !rep.Verified {
		t.Fatalf("verify: %v, verified %v", err, rep != nil && rep.Verified)
	}
	return rep
}

// TestWrite: gh's shape, and gh's --jq and --template over it.
func TestWrite(t *testing.T) {
	results, err := Results(npmReport(t, true))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results, want one per verified bundle (2)", len(results))
	}
	var plain bytes.Buffer
	if err := Write(&plain, results, Options{}); err != nil {
		t.Fatal(err)
	}
	var decoded []struct {
		Attestation struct {
			Bundle map[string]any `json:"bundle"`
		} `json:"attestation"`
		VerificationResult struct {
			MediaType string `json:"mediaType"`
			Statement struct {
				PredicateType string `json:"predicateType"`
			} `json:"statement"`
			Signature struct {
				Certificate map[string]any `json:"certificate"`
			} `json:"signature"`
			VerifiedTimestamps []map[string]any `json:"verifiedTimestamps"`
		} `json:"verificationResult"`
	}
	if err := json.Unmarshal(plain.Bytes(), &decoded); err != nil {
		t.Fatalf("%v\n%s", err, plain.String())
	}
	d := decoded[0]
	if d.Attestation.Bundle["mediaType"] == nil || d.VerificationResult.Statement.PredicateType != "https://slsa.dev/provenance/v1" ||
		d.VerificationResult.Signature.Certificate["sourceRepositoryURI"] != "https://github.com/sigstore/sigstore-js" ||
		len(d.VerificationResult.VerifiedTimestamps) == 0 || !strings.HasPrefix(d.VerificationResult.MediaType, "application/vnd.dev.sigstore.verificationresult+json") {
		t.Errorf("not gh's shape:\n%s", plain.String())
	}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"jq", Options{JQ: ".[0].verificationResult.signature.certificate.sourceRepositoryURI"}, "https://github.com/sigstore/sigstore-js\n"},
		{"jq length", Options{JQ: "length"}, "2\n"},
		{"template", Options{Template: `{{range .}}{{.verificationResult.statement.predicateType}}{{"\n"}}{{end}}`}, "https://slsa.dev/provenance/v1\nhttps://slsa.dev/provenance/v1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Write(&out, results, tc.o); err != nil || out.String() != tc.want {
				t.Errorf("Write = %q, %v; want %q", out.String(), err, tc.want)
			}
		})
	}
	for _, o := range []Options{{JQ: ".[", Template: ""}, {Template: "{{"}, {JQ: ".", Template: "x"}} {
		if err := Write(&bytes.Buffer{}, results, o); err == nil {
			t.Errorf("Write(%+v) accepted", o)
		}
	}
}

// TestResults_NeedsEvidence: without KeepEvidence there is nothing to print
// in gh's shape, and Results says so rather than printing less.
func TestResults_NeedsEvidence(t *testing.T) {
	if _, err := Results(npmReport(t, false)); !errors.Is(err, ErrNoEvidence) {
		t.Errorf("Results = %v, want ErrNoEvidence", err)
	}
}
