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
		Needs       any               `yaml:"needs"`
		Uses        string            `yaml:"uses"`
		With        map[string]string `yaml:"with"`
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
// exactly the permissions signing needs, the code comes from the commit the
// token names (not the caller's workspace), runs as a binary checked against
// that commit's dist/checksums.txt, and the bundle is uploaded.
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
	var checkout, install, attest, upload bool
	for _, s := range job.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "actions/checkout@"):
			checkout = s.With["ref"] == "${{ steps.self.outputs.sha }}" &&
				s.With["repository"] == "${{ steps.self.outputs.repository }}" && s.With["path"] == ".provenant-action"
		case s.ID == "install":
			install = checkout && s.Run == "bash .provenant-action/scripts/install-binary --require-checksum" &&
				s.Env["PROVENANT_ACTION_REF"] == "${{ steps.self.outputs.sha }}" &&
				s.Env["PROVENANT_ACTION_REPOSITORY"] == "${{ steps.self.outputs.repository }}"
		case s.ID == "attest":
			attest = install && s.Uses == "" && s.Run == `"$PROVENANT_BIN" attest` &&
				s.Env["PROVENANT_BIN"] == "${{ steps.install.outputs.path }}"
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			upload = s.With["name"] == "${{ inputs.bundle-name }}" && s.With["path"] == "${{ steps.attest.outputs.bundle-path }}"
		case strings.HasPrefix(s.Uses, "./") || strings.HasPrefix(s.Uses, "provenant/provenant@"):
			// ./ is the caller's workspace; ./.provenant-action is the
			// composite action, whose fallback builds through setup-go.
			t.Errorf("step uses %s: a composite action instead of the checked binary", s.Uses)
		}
	}
	if !checkout || !install || !attest || !upload {
		t.Errorf("checkout of this workflow's commit %v, then the checked install %v, attest with that binary %v, upload of the bundle %v",
			checkout, install, attest, upload)
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
// shape: a build job (contents: read only) builds with the shared script,
// refuses binaries that differ from the committed checksums, makes an SBOM
// per binary and outputs every asset as a subject; the provenance job is
// provenance-l3.yml (L3, the builder provenant offers its users) over those
// subjects; a release job with contents: write and no token creates the
// release; the last job verifies the downloaded assets with gh attestation
// verify, cosign and the released provenant.
func TestRelease_AttestsWithItsOwnActionAndVerifiesLast(t *testing.T) {
	w := readWorkflow(t, "release.yml")
	if len(w.Permissions) != 0 {
		t.Errorf("workflow permissions %v, want {} (each job its own)", w.Permissions)
	}
	perms := map[string]string{
		"build":      "map[contents:read]",
		"provenance": "map[attestations:write contents:read id-token:write]",
		"release":    "map[contents:write]",
		"verify":     "map[contents:read]",
	}
	if len(w.Jobs) != len(perms) {
		t.Errorf("jobs %d, want build, provenance, release, verify", len(w.Jobs))
	}
	for name, want := range perms {
		if got := fmt.Sprint(w.Jobs[name].Permissions); got != want {
			t.Errorf("job %s permissions %s, want %s", name, got, want)
		}
	}
	needs := map[string]string{"provenance": "build", "release": "[build provenance]", "verify": "release"}
	for name, want := range needs {
		if got := fmt.Sprint(w.Jobs[name].Needs); got != want {
			t.Errorf("job %s needs %s, want %s", name, got, want)
		}
	}

	var order []string
	for _, s := range w.Jobs["build"].Steps {
		switch {
		case strings.Contains(s.Run, `scripts/build-release "$TAG" dist`):
			order = append(order, "build")
		case strings.Contains(s.Run, "git diff --exit-code -- dist/checksums.txt dist/source-digest"):
			order = append(order, "checksums")
		case strings.Contains(s.Run, "cyclonedx-gomod@v1.10.0") && strings.Contains(s.Run, `cyclonedx-gomod" app `) &&
			strings.Contains(s.Run, "GOOS=") && strings.Contains(s.Run, "GOARCH="):
			order = append(order, "sbom-per-binary")
		case s.ID == "subjects" && strings.Contains(s.Run, "provenant-* checksums.txt") && strings.Contains(s.Run, "base64 -w0"):
			order = append(order, "subjects")
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			order = append(order, "upload")
		}
	}
	if want := "[build checksums sbom-per-binary subjects upload]"; fmt.Sprint(order) != want {
		t.Errorf("build steps = %v, want %s", order, want)
	}
	if w.Jobs["build"].Outputs["subjects"] != "${{ steps.subjects.outputs.subjects }}" {
		t.Errorf("build outputs %v", w.Jobs["build"].Outputs)
	}

	p := w.Jobs["provenance"]
	if p.Uses != "./.github/workflows/provenance-l3.yml" || p.With["base64-subjects"] != "${{ needs.build.outputs.subjects }}" {
		t.Errorf("provenance job uses %q with %v, want provenance-l3.yml over the build's subjects", p.Uses, p.With)
	}

	// No SBOM tool, Go build or third-party code where a token can sign or
	// write: the build job alone runs them.
	for name, job := range w.Jobs {
		for _, s := range job.Steps {
			if name != "build" && (strings.Contains(s.Run, "cyclonedx") || strings.Contains(s.Run, "build-release")) {
				t.Errorf("job %s (permissions %v) runs %q", name, job.Permissions, s.Run)
			}
		}
	}

	var created bool
	for _, s := range w.Jobs["release"].Steps {
		if strings.Contains(s.Run, "gh release create") {
			created = strings.Contains(s.Run, "dist/provenant-* dist/checksums.txt bundle/multiple.intoto.jsonl")
		}
	}
	if !created {
		t.Error("the release job does not create the release with the assets and the bundle")
	}

	steps := w.Jobs["verify"].Steps
	var cosignInstalled bool
	for _, s := range steps[:len(steps)-1] {
		cosignInstalled = cosignInstalled || strings.HasPrefix(s.Uses, "sigstore/cosign-installer@")
	}
	last := steps[len(steps)-1].Run
	for _, want := range []string{
		"gh release download",
		"signer=$GITHUB_REPOSITORY/.github/workflows/provenance-l3.yml",
		`gh attestation verify "$f" --bundle multiple.intoto.jsonl --repo "$GITHUB_REPOSITORY"`,
		`--signer-workflow "$signer"`,
		"cosign verify-blob-attestation --new-bundle-format",
		`--certificate-identity "https://github.com/$signer@refs/tags/$TAG"`,
		"scripts/install-binary\" --require-checksum",
		`"$RUNNER_TEMP/released/provenant" verify`,
	} {
		if !strings.Contains(last, want) {
			t.Errorf("the last step lacks %q", want)
		}
	}
	if !cosignInstalled {
		t.Error("cosign is not installed (sigstore/cosign-installer) before the last step")
	}
}
