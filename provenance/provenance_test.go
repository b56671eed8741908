package provenance

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/provenance/provenancetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedJob is a job as its token's claims describe it: a release of
// octo-org/octo-repo by a reusable workflow of another repository.
func fixedJob() *builder.Job {
	return &builder.Job{
		ServerURL: "https://github.com",
		Verified:  true,
		Claims: builder.Claims{
			Issuer:            "https://token.actions.githubusercontent.com",
			Ref:               "refs/tags/v1.4.0",
			SHA:               "7f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
			Repository:        "octo-org/octo-repo",
			RepositoryID:      "567891234",
			RepositoryOwner:   "octo-org",
			RepositoryOwnerID: "123456789",
			EventName:         "push",
			WorkflowRef:       "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.4.0",
			JobWorkflowRef:    "octo-org/shared-workflows/.github/workflows/build.yml@refs/heads/main",
			RunnerEnvironment: "github-hosted",
			RunID:             "9876543210",
			RunAttempt:        "2",
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	pretty.WriteByte('\n')
	if *update {
		os.WriteFile(path, pretty.Bytes(), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from the golden file:\n%s", name, pretty.String())
	}
}

func TestProvenanceStatementGolden(t *testing.T) {
	subjects := []Subject{
		{Name: "octo-linux-amd64.tar.gz", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}},
		{Name: "octo-darwin-arm64.tar.gz", Digest: map[string]string{"sha512": strings.Repeat("cd", 64)}},
	}
	st, err := NewProvenanceStatement(subjects, fixedJob(), PredicateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "provenance-statement.golden.json", st.JSON)

	// The output is byte-for-byte stable (protojson varies its whitespace;
	// the statement must not).
	for i := 0; i < 20; i++ {
		again, _ := NewProvenanceStatement(subjects, fixedJob(), PredicateOptions{})
		if !bytes.Equal(again.JSON, st.JSON) {
			t.Fatalf("statement bytes differ between runs:\n%s\n%s", st.JSON, again.JSON)
		}
	}
}

func TestProvenanceWithInputsGolden(t *testing.T) {
	subjects := []Subject{{Name: "app", Digest: map[string]string{"sha256": strings.Repeat("01", 32)}}}
	job := fixedJob()
	job.Claims.EventName = "workflow_dispatch"
	st, err := NewProvenanceStatement(subjects, job, PredicateOptions{WorkflowInputs: map[string]any{"version": "1.4.0", "dry_run": false, "count": 3.0}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "provenance-inputs.golden.json", st.JSON)
}

// TestProvenanceFields checks each predicate field against the claim it
// comes from, field by field, independently of the golden file.
func TestProvenanceFields(t *testing.T) {
	job := fixedJob()
	st, err := NewProvenanceStatement([]Subject{{Name: "a", Digest: map[string]string{"sha256": strings.Repeat("0", 64)}}}, job, PredicateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := job.Claims
	provenancetest.CheckGitHubPredicate(t, st.JSON, job.ServerURL, map[string]string{
		"ref": c.Ref, "sha": c.SHA, "repository": c.Repository, "repository_id": c.RepositoryID,
		"repository_owner_id": c.RepositoryOwnerID, "event_name": c.EventName, "workflow_ref": c.WorkflowRef,
		"job_workflow_ref": c.JobWorkflowRef, "runner_environment": c.RunnerEnvironment,
		"run_id": c.RunID, "run_attempt": c.RunAttempt,
	})
	// The fixed job is a reusable workflow of another repository: the
	// builder is the called workflow, the path the caller's.
	decoded := provenancetest.Decode(t, st.JSON)
	if got := decoded.Predicate.RunDetails.Builder.ID; got != "https://github.com/octo-org/shared-workflows/.github/workflows/build.yml@refs/heads/main" {
		t.Errorf("builder.id = %q", got)
	}
	if got := decoded.Predicate.BuildDefinition.ExternalParameters.Workflow.Path; got != ".github/workflows/release.yml" {
		t.Errorf("workflow.path = %q", got)
	}
	if decoded.Predicate.BuildDefinition.ExternalParameters.Workflow.Inputs != nil {
		t.Error("inputs recorded without the opt-in")
	}
}

func TestCustomPredicate(t *testing.T) {
	subjects := []Subject{{Name: "sbom-for", Digest: map[string]string{"sha256": strings.Repeat("ef", 32)}}}
	// Big integers and exact decimals must survive unchanged.
	pred := []byte(`{ "bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": 12345678901234567890123, "x": 0.1000000000000000055511151231257827 }`)
	st, err := NewStatement(subjects, "https://cyclonedx.org/bom", pred)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"sbom-for","digest":{"sha256":"` + strings.Repeat("ef", 32) +
		`"}}],"predicateType":"https://cyclonedx.org/bom","predicate":{"bomFormat":"CycloneDX","specVersion":"1.5","serialNumber":12345678901234567890123,"x":0.1000000000000000055511151231257827}}`
	if string(st.JSON) != want {
		t.Errorf("statement:\n%s\nwant\n%s", st.JSON, want)
	}

	bad := []struct {
		name, typ string
		pred      []byte
		wantErr   string
	}{
		{"not JSON", "https://spdx.dev/Document", []byte(`{"a":`), "not valid JSON"},
		{"array", "https://spdx.dev/Document", []byte(`[1,2]`), "must be a JSON object"},
		{"string", "https://spdx.dev/Document", []byte(`"x"`), "must be a JSON object"},
		{"too big", "https://spdx.dev/Document", append(append([]byte(`{"a":"`), bytes.Repeat([]byte("x"), MaxPredicateSize)...), '"', '}'), "16 MiB"},
		{"no type", "", []byte(`{}`), "predicate-type is required"},
	}
	for _, b := range bad {
		if _, err := NewStatement(subjects, b.typ, b.pred); err == nil || !strings.Contains(err.Error(), b.wantErr) {
			t.Errorf("%s: error = %v, want %q", b.name, err, b.wantErr)
		}
	}
	if _, err := NewStatement(nil, "https://spdx.dev/Document", []byte(`{}`)); err == nil {
		t.Error("a statement without subjects was accepted")
	}
}

func TestNewStatement_PredicateErrorsSayWhatIsWrong(t *testing.T) {
	subjects := []Subject{{Name: "a", Digest: map[string]string{"sha256": strings.Repeat("a", 64)}}}
	tests := []struct {
		name, predicateType, predicate, want string
	}{
		{"relative predicate type", "spdx/Document", `{}`, "not an absolute URI"},
		{"predicate type without scheme", "//example.com/p", `{}`, "not an absolute URI"},
		{"predicate type with a space", "https://example.com/a b", `{}`, "not an absolute URI"},
		{"duplicate key", "https://example.com/p", `{"a":1,"a":2}`, `the key "a" appears twice in the object at $`},
		{"nested duplicate key", "https://example.com/p", `{"x":[{"k":1,"k":1}]}`, `the key "k" appears twice in the object at $.x[0]`},
		{"number out of range", "https://example.com/p", `{"n":1e400}`, "the number 1e400 at $.n is out of range"},
		{"an array", "https://example.com/p", `[1]`, "must be a JSON object, not an array"},
		{"a string", "https://example.com/p", `"x"`, "must be a JSON object, not a string"},
		{"two values", "https://example.com/p", `{} {}`, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewStatement(subjects, tt.predicateType, []byte(tt.predicate))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	for _, ok := range []string{"https://slsa.dev/provenance/v1", "urn:example:predicate", "https://cyclonedx.org/bom/v1.6"} {
		if _, err := NewStatement(subjects, ok, []byte(`{"n":18446744073709551615,"u":"\u00e9"}`)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
