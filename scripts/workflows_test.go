package scripts_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// workflowFile is the part of a workflow the checks read.
type workflowFile struct {
	On struct {
		WorkflowCall struct {
			Inputs  map[string]map[string]any `yaml:"inputs"`
			Outputs map[string]map[string]any `yaml:"outputs"`
		} `yaml:"workflow_call"`
	} `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Outputs     map[string]string `yaml:"outputs"`
		Steps       []struct {
			actionStep `yaml:",inline"`
			With       map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func readWorkflow(t *testing.T, name string) workflowFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", ".github", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflowFile
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w
}

// TestProvenanceL3_SigningIsAJobOfItsOwn checks the reusable workflow's
// shape: the subjects are its only inputs from the caller, the attest job has
// exactly the permissions signing needs, the action comes from the commit
// the token names (not the caller's workspace), and the bundle is uploaded.
func TestProvenanceL3_SigningIsAJobOfItsOwn(t *testing.T) {
	w := readWorkflow(t, "provenance-l3.yml")
	for _, in := range []string{"subjects-artifact", "base64-subjects", "bundle-name"} {
		if _, ok := w.On.WorkflowCall.Inputs[in]; !ok {
			t.Errorf("workflow_call has no input %s", in)
		}
	}
	if v := w.On.WorkflowCall.Outputs["bundle-name"]["value"]; v != "${{ jobs.attest.outputs.bundle-name }}" {
		t.Errorf("output bundle-name = %v", v)
	}
	if len(w.Jobs) != 1 {
		t.Fatalf("%d jobs, want the attest job alone", len(w.Jobs))
	}
	job := w.Jobs["attest"]
	want := map[string]string{"id-token": "write", "attestations": "write", "contents": "read"}
	if fmt.Sprint(job.Permissions) != fmt.Sprint(want) {
		t.Errorf("attest permissions = %v, want %v", job.Permissions, want)
	}
	var checkout, attest, upload bool
	for _, s := range job.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "actions/checkout@"):
			checkout = s.With["ref"] == "${{ steps.self.outputs.sha }}" &&
				s.With["repository"] == "${{ steps.self.outputs.repository }}" && s.With["path"] == ".provenant-action"
		case s.Uses == "./.provenant-action":
			attest = s.ID == "attest"
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			upload = s.With["name"] == "${{ inputs.bundle-name }}" && s.With["path"] == "${{ steps.attest.outputs.bundle-path }}"
		case s.Uses == "./" || strings.HasPrefix(s.Uses, "provenant/provenant@"):
			t.Errorf("step uses %s: the caller's workspace or another ref than this workflow's", s.Uses)
		}
	}
	if !checkout || !attest || !upload {
		t.Errorf("checkout of this workflow's commit %v, attest with it %v, upload of the bundle %v", checkout, attest, upload)
	}
}

// TestProvenanceL3_LocateReadsTheTokenClaims runs the step that finds this
// workflow's repository and commit against a loopback token service, for
// every base64url padding length and for tokens that must be refused.
func TestProvenanceL3_LocateReadsTheTokenClaims(t *testing.T) {
	needTool(t, "jq")
	needBash(t)
	script := stepRun(t, "provenance-l3.yml", "attest", "self")
	sha := strings.Repeat("0123456789", 4)
	tests := []struct {
		name, ref, sha, pad string // pad lengthens the payload to vary its length mod 4
		wantRepo, wantErr   string
	}{
		{"no padding", "provenant/provenant/.github/workflows/provenance-l3.yml@refs/tags/v1", sha, "", "provenant/provenant", ""},
		{"one pad char", "provenant/provenant/.github/workflows/provenance-l3.yml@refs/tags/v1", sha, "x", "provenant/provenant", ""},
		{"two pad chars", "provenant/provenant/.github/workflows/provenance-l3.yml@refs/tags/v1", sha, "xx", "provenant/provenant", ""},
		{"fork", "someone/fork/.github/workflows/provenance-l3.yml@refs/heads/main", sha, "xxx", "someone/fork", ""},
		{"no job_workflow_sha", "provenant/provenant/.github/workflows/provenance-l3.yml@v1", "", "", "", "cannot read this workflow's repository"},
		{"injected repository", "a/b\nsha=evil/.github/workflows/x.yml@v1", sha, "", "", "cannot read this workflow's repository"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]string{"job_workflow_ref": tc.ref, "pad": tc.pad}
			if tc.sha != "" {
				claims["job_workflow_sha"] = tc.sha
			}
			payload, _ := json.Marshal(claims)
			token := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "bearer request-token" || r.URL.Query().Get("audience") == "" {
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return
				}
				fmt.Fprintf(w, `{"value":%q}`, token)
			}))
			defer srv.Close()
			out := filepath.Join(t.TempDir(), "output")
			cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
			cmd.Env = append(os.Environ(), "ACTIONS_ID_TOKEN_REQUEST_URL="+srv.URL+"/token?api-version=2.0",
				"ACTIONS_ID_TOKEN_REQUEST_TOKEN=request-token", "GITHUB_OUTPUT="+out)
			stdout, err := cmd.CombinedOutput()
			got, _ := os.ReadFile(out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(string(stdout), tc.wantErr) || len(got) != 0 {
					t.Fatalf("err %v, output %q, GITHUB_OUTPUT %q; want failure %q and no outputs", err, stdout, got, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if want := "repository=" + tc.wantRepo + "\nsha=" + tc.sha + "\n"; string(got) != want {
				t.Errorf("GITHUB_OUTPUT = %q, want %q", got, want)
			}
		})
	}
}

// stepRun returns the run: script of the step with that id.
func stepRun(t *testing.T, workflow, job, id string) string {
	t.Helper()
	for _, s := range readWorkflow(t, workflow).Jobs[job].Steps {
		if s.ID == id {
			return s.Run
		}
	}
	t.Fatalf("%s: job %s has no step %s", workflow, job, id)
	return ""
}

// TestRelease_AttestsWithItsOwnActionAndVerifiesLast checks release.yml's
// order: build with the shared script, refuse binaries that differ from the
// committed checksums, attest binaries and SBOM with `uses: ./`, upload, and
// verify the downloaded assets as the last step.
func TestRelease_AttestsWithItsOwnActionAndVerifiesLast(t *testing.T) {
	w := readWorkflow(t, "release.yml")
	steps := w.Jobs["release"].Steps
	var order []string
	for _, s := range steps {
		switch {
		case strings.Contains(s.Run, `scripts/build-release "$TAG" dist`):
			order = append(order, "build")
		case strings.Contains(s.Run, "git diff --exit-code -- dist/checksums.txt"):
			order = append(order, "checksums")
		case s.Uses == "./" && s.With["predicate-type"] == "https://cyclonedx.org/bom":
			order = append(order, "attest-sbom")
		case s.Uses == "./" && s.With["subject-path"] == "dist/provenant-*":
			order = append(order, "attest")
		case strings.Contains(s.Run, "gh release create"):
			order = append(order, "upload")
		case strings.Contains(s.Run, "gh release download") && strings.Contains(s.Run, "scripts/install-binary") &&
			strings.Contains(s.Run, `"$provenant" verify`):
			order = append(order, "verify")
		}
	}
	want := "[build checksums attest attest-sbom upload verify]"
	if fmt.Sprint(order) != want {
		t.Errorf("release steps = %v, want %s", order, want)
	}
	if !strings.Contains(steps[len(steps)-1].Run, "verify") {
		t.Errorf("the last step does not verify: %q", steps[len(steps)-1].Run)
	}
}
