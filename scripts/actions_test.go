package scripts_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// actionFile is the part of an action.yml the runs: checks read.
type actionFile struct {
	Inputs map[string]any `yaml:"inputs"`
	Runs   struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Uses  string            `yaml:"uses"`
	Run   string            `yaml:"run"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
}

const fromSource = "steps.install.outputs.build-from-source == 'true'"

// TestActionRuns checks the runs: section of both composite actions: the
// binary is installed by scripts/install-binary (checked before it runs),
// Go is set up only in the build-from-source fallback, and the step that
// runs the binary maps every input to its INPUT_ variable and nothing else.
func TestActionRuns(t *testing.T) {
	tests := []struct {
		file, command, root string
	}{
		{"../action.yml", "attest", ""},
		{"../verify/action.yml", "verify", "/.."},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var a actionFile
			if err := yaml.Unmarshal(data, &a); err != nil {
				t.Fatalf("%s: %v", tc.file, err)
			}
			if a.Runs.Using != "composite" || len(a.Runs.Steps) != 4 {
				t.Fatalf("runs: using %q with %d steps, want composite with install, setup-go, build, %s",
					a.Runs.Using, len(a.Runs.Steps), tc.command)
			}
			script := `bash "$GITHUB_ACTION_PATH` + tc.root + `/scripts/install-binary"`
			if _, err := os.Stat(filepath.Join(filepath.Dir(tc.file), tc.root, "scripts", "install-binary")); err != nil {
				t.Errorf("the install script the action runs: %v", err)
			}
			checkInstallSteps(t, a.Runs.Steps[:3], script)
			checkBinaryStep(t, a.Runs.Steps[3], tc.command, a.Inputs)
		})
	}
}

func checkInstallSteps(t *testing.T, steps []actionStep, script string) {
	t.Helper()
	install, setupGo, build := steps[0], steps[1], steps[2]
	if install.ID != "install" || install.If != "" || install.Run != script || install.Shell != "bash" {
		t.Errorf("step 1 = %+v, want id install, shell bash, run %s", install, script)
	}
	if install.Env["PROVENANT_ACTION_REF"] != "${{ github.action_ref }}" ||
		install.Env["PROVENANT_ACTION_REPOSITORY"] != "${{ github.action_repository }}" {
		t.Errorf("install step env = %v, want the action's ref and repository", install.Env)
	}
	if !strings.HasPrefix(setupGo.Uses, "actions/setup-go@") || setupGo.If != fromSource {
		t.Errorf("step 2 = %+v, want setup-go only if %s", setupGo, fromSource)
	}
	if build.Run != script+" --build" || build.If != fromSource || build.Shell != "bash" {
		t.Errorf("step 3 = %+v, want %s --build only if %s", build, script, fromSource)
	}
}

// envInputs are the inputs a command gets as another environment variable
// than INPUT_<NAME>: verify's github-token is GH_TOKEN, as gh reads it.
var envInputs = map[string]map[string]string{"verify": {"github-token": "GH_TOKEN"}}

func checkBinaryStep(t *testing.T, s actionStep, command string, inputs map[string]any) {
	t.Helper()
	if s.ID != command || s.If != "" || s.Shell != "bash" || s.Run != `"$PROVENANT_BIN" `+command {
		t.Errorf("step 4 = %+v, want id %s running \"$PROVENANT_BIN\" %s", s, command, command)
	}
	if s.Env["PROVENANT_BIN"] != "${{ steps.install.outputs.path }}" {
		t.Errorf("PROVENANT_BIN = %q, want the install step's path", s.Env["PROVENANT_BIN"])
	}
	var mapped []string
	for k, v := range s.Env {
		name, ok := strings.CutPrefix(k, "INPUT_")
		if !ok {
			continue
		}
		in := strings.ToLower(name)
		mapped = append(mapped, in)
		if _, declared := inputs[in]; !declared {
			t.Errorf("env %s maps no declared input", k)
		}
		if want := "${{ inputs." + in + " }}"; v != want {
			t.Errorf("env %s = %q, want %q", k, v, want)
		}
	}
	for in, env := range envInputs[command] {
		if s.Env[env] != "${{ inputs."+in+" }}" {
			t.Errorf("input %s is not given to %s as %s", in, command, env)
		} else {
			mapped = append(mapped, in)
		}
	}
	for in := range inputs {
		if !slices.Contains(mapped, in) {
			t.Errorf("input %s has no INPUT_%s in the %s step's env", in, strings.ToUpper(in), command)
		}
	}
}
