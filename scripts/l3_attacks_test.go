package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// runCheckStep runs provenance-l3.yml's check step with bash, as the runner
// does, and returns its output, what it wrote to GITHUB_OUTPUT and its error.
func runCheckStep(t *testing.T, script string, env ...string) (string, string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "output")
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "GITHUB_OUTPUT=" + out}, env...)
	stdout, err := cmd.CombinedOutput()
	got, _ := os.ReadFile(out)
	return string(stdout), string(got), err
}

// TestAttack_CallerChoosesFulcio: provenance-l3.yml passed inputs.sigstore to
// the action, which takes a folder holding signing_config.json; a caller
// uploaded one naming its own "Fulcio" in the subjects artifact, set sigstore
// to <runner temp>/subjects, and the L3 job sent its OIDC token there. The
// check step now accepts auto, public-good and github only, exactly.
func TestAttack_CallerChoosesFulcio(t *testing.T) {
	needBash(t)
	script := stepRun(t, "provenance-l3.yml", "attest", "check")
	ok := []string{"ARTIFACT=", "B64=c2hh", "NAME=multiple.intoto.jsonl"}
	for _, v := range []string{"auto", "public-good", "github"} {
		t.Run("accepted "+v, func(t *testing.T) {
			stdout, got, err := runCheckStep(t, script, append(ok, "SIGSTORE="+v)...)
			if err != nil || got != "sigstore="+v+"\n" {
				t.Errorf("err %v, GITHUB_OUTPUT %q, output %s; want sigstore=%s", err, got, stdout, v)
			}
		})
	}
	for _, v := range []string{
		"/home/runner/work/_temp/subjects", // the caller's artifact, where its signing_config.json is
		"${{ runner.temp }}/subjects",
		"../x", "./x", "x", "subjects",
		"public-good\n/home/runner/work/_temp/subjects",
		"auto\nsigstore=/home/runner/work/_temp/subjects", // a second GITHUB_OUTPUT line
		"github\n::add-mask::x",
		"public-good ", " auto", "Public-Good", "GITHUB", "auto/", "public-good/..", "",
	} {
		t.Run("refused "+strings.ReplaceAll(v, "\n", `\n`), func(t *testing.T) {
			stdout, got, err := runCheckStep(t, script, append(ok, "SIGSTORE="+v)...)
			if err == nil || got != "" || !strings.Contains(stdout, "::error::sigstore must be auto, public-good or github") {
				t.Fatalf("err %v, GITHUB_OUTPUT %q, output %s; want refused with no output", err, got, stdout)
			}
			for _, line := range strings.Split(stdout, "\n") {
				if strings.HasPrefix(line, "::") && !strings.HasPrefix(line, "::error::sigstore must be") {
					t.Errorf("the input reached the log as a workflow command: %q", line)
				}
			}
		})
	}
	// The bundle name becomes a path and an artifact name: a plain name only.
	for _, v := range []string{"../x", "a/b", ".x", "a\nb", "", "a b", `a\b`} {
		_, got, err := runCheckStep(t, script, "ARTIFACT=", "B64=c2hh", "NAME="+v, "SIGSTORE=auto")
		if err == nil || got != "" {
			t.Errorf("bundle-name %q accepted (GITHUB_OUTPUT %q)", v, got)
		}
	}
}

// TestAttack_CallerChoosesFulcio_CheckedBeforeAnyToken: the check is the
// first step, before every step that can request an OIDC token (any step of
// the job can: the self step does, the attest step signs); the sigstore
// input reaches nothing but the check, the attest step gets the checked
// value, and the caller's artifact lands in a folder only the subject globs
// read.
func TestAttack_CallerChoosesFulcio_CheckedBeforeAnyToken(t *testing.T) {
	w := readWorkflow(t, "provenance-l3.yml")
	steps := w.Jobs["attest"].Steps
	if len(steps) == 0 || steps[0].ID != "check" || steps[0].Env["SIGSTORE"] != "${{ inputs.sigstore }}" ||
		!strings.Contains(steps[0].Run, "auto | public-good | github) ;;") {
		t.Fatalf("the first step is not the check of inputs.sigstore: %+v", steps[0])
	}
	for i, s := range steps {
		all := s.Run + s.If + s.Uses + fmtMap(s.Env) + fmtMap(s.With)
		if i > 0 && strings.Contains(all, "inputs.sigstore") {
			t.Errorf("step %d (%s) reads inputs.sigstore, not the checked steps.check.outputs.sigstore", i, s.ID+s.Uses)
		}
		if strings.Contains(all, "provenant-l3-subjects") && !strings.HasPrefix(s.Uses, "actions/download-artifact@") &&
			s.ID != "attest" && !strings.Contains(s.Run, "base64 -d") {
			t.Errorf("step %d (%s) uses the subjects folder", i, s.ID+s.Uses)
		}
		if s.ID == "attest" {
			if s.Env["INPUT_SIGSTORE"] != "${{ steps.check.outputs.sigstore }}" {
				t.Errorf("attest INPUT_SIGSTORE = %q", s.Env["INPUT_SIGSTORE"])
			}
			for k, v := range s.Env {
				if strings.Contains(v, "provenant-l3-subjects") && k != "INPUT_SUBJECT-PATH" && k != "INPUT_SUBJECT-CHECKSUMS" {
					t.Errorf("attest %s = %q: the subjects folder is read as something else than subjects", k, v)
				}
			}
		}
		if strings.HasPrefix(s.Uses, "actions/download-artifact@") && s.With["path"] != "${{ runner.temp }}/provenant-l3-subjects" {
			t.Errorf("the subjects artifact goes to %q, want a folder of its own", s.With["path"])
		}
	}
}

func fmtMap(m map[string]string) string {
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k + "=" + v + "\n")
	}
	return b.String()
}

// anyWorkflow is a workflow read loosely: permissions may be a map or a
// string (write-all), steps any shape.
type anyWorkflow struct {
	Permissions any `yaml:"permissions"`
	Jobs        map[string]struct {
		Permissions any    `yaml:"permissions"`
		Uses        string `yaml:"uses"`
		Steps       []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func holdsIDToken(perm any) bool {
	switch p := perm.(type) {
	case string:
		return p == "write-all"
	case map[string]any:
		return p["id-token"] == "write"
	}
	return false
}

// TestAttack_CallerWritesTheBuildCache: setup-go's default cache: true
// restored GOMODCACHE and GOCACHE from the repository's Actions cache, which
// any job of the repository (a pull request's, the caller's) can write, into
// the job that then built provenant and signed with it. No job holding
// id-token: write in any workflow, and no step of either composite action
// (they run in such jobs), restores an Actions cache: no actions/cache, and
// every setup-go has cache: false.
func TestAttack_CallerWritesTheBuildCache(t *testing.T) {
	files, _ := filepath.Glob("../.github/workflows/*.yml")
	signing := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var w anyWorkflow
		if err := yaml.Unmarshal(data, &w); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for name, job := range w.Jobs {
			perm := job.Permissions
			if perm == nil {
				perm = w.Permissions
			}
			if !holdsIDToken(perm) {
				continue
			}
			signing++
			for _, s := range job.Steps {
				if strings.HasPrefix(s.Uses, "actions/cache") {
					t.Errorf("%s job %s (id-token: write) restores an Actions cache: %s", f, name, s.Uses)
				}
				if strings.HasPrefix(s.Uses, "actions/setup-go@") && s.With["cache"] != "false" {
					t.Errorf("%s job %s (id-token: write): setup-go without cache: false", f, name)
				}
			}
		}
	}
	if signing == 0 {
		t.Fatal("no job with id-token: write found")
	}
	for _, f := range []string{"../action.yml", "../verify/action.yml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var a struct {
			Runs struct {
				Steps []struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"runs"`
		}
		if err := yaml.Unmarshal(data, &a); err != nil {
			t.Fatal(err)
		}
		for _, s := range a.Runs.Steps {
			if strings.HasPrefix(s.Uses, "actions/cache") ||
				strings.HasPrefix(s.Uses, "actions/setup-go@") && s.With["cache"] != "false" {
				t.Errorf("%s: step %s restores an Actions cache (with %v)", f, s.Uses, s.With)
			}
		}
	}
}

// TestProvenanceL3_AttestStepIsTheActionsAttestStep: the L3 job runs the
// binary directly with the same INPUT_ variables as action.yml's attest
// step, so it signs as the action would, with this workflow's values.
func TestProvenanceL3_AttestStepIsTheActionsAttestStep(t *testing.T) {
	data, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, s := range a.Runs.Steps {
		if s.ID == "attest" {
			for k := range s.Env {
				want = append(want, k)
			}
		}
	}
	for _, s := range readWorkflow(t, "provenance-l3.yml").Jobs["attest"].Steps {
		if s.ID == "attest" {
			for k := range s.Env {
				got = append(got, k)
			}
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("L3 attest env %v, want action.yml's %v", got, want)
	}
}
