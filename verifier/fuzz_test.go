package verifier

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// FuzzCheckPredicate: any predicate, of any type, yields a check result
// and never a panic; a failure always carries an error.
func FuzzCheckPredicate(f *testing.F) {
	for _, p := range []string{
		"github-attest/custom-issuer.sigstore.json",
		"sigstore-go/bundle-provenance.json",
		"slsa-github-generator/gha_delegator-v2.1.0/binary-linux-amd64-workflow_dispatch.build.slsa",
		"slsa-github-generator/gha_container-based-v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.build.slsa",
	} {
		var b struct {
			DSSEEnvelope struct {
				Payload string `json:"payload"`
			} `json:"dsseEnvelope"`
		}
		if err := json.Unmarshal(mustRead(f, fx(p)), &b); err != nil {
			f.Fatal(err)
		}
		payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(payload)
	}
	f.Add([]byte(`{"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1","externalParameters":[],"resolvedDependencies":[{}]}}}`))
	f.Add([]byte(`{"predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"buildType":"https://github.com/npm/cli/gha/v2","invocation":{"environment":{"GITHUB_RUN_ID":{"a":1}}}}}`))
	ext := defaultRun().extensions()
	f.Fuzz(func(t *testing.T, payload []byte) {
		var st statement
		if json.Unmarshal(payload, &st) != nil {
			return
		}
		pc := checkPredicate(&st, ext)
		if pc.result.Name != CheckPredicate || pc.result.Reason == "" {
			t.Fatalf("result %+v", pc.result)
		}
		if pc.result.Status == StatusFail && pc.result.Err() == nil {
			t.Fatal("a failure without an error")
		}
		if pc.result.Status == StatusPass && pc.prov == nil {
			t.Fatal("a pass without provenance facts")
		}
	})
}
