package scripts_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// actionFiles are every file whose `uses:` lines run code in provenant's
// jobs or in its users' jobs: the two composite actions and the workflows.
func actionFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"../action.yml", "../verify/action.yml"}
	wf, err := filepath.Glob("../.github/workflows/*.yml")
	if err != nil || len(wf) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	return append(files, wf...)
}

// usesNodes walks a YAML document and returns every value of a `uses` key
// (steps and reusable-workflow jobs), with its line comment.
func usesNodes(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "uses" && n.Content[i+1].Kind == yaml.ScalarNode {
				out = append(out, n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		out = append(out, usesNodes(c)...)
	}
	return out
}

var (
	shaPin     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)
	versionTag = regexp.MustCompile(`^# v\d+\.\d+\.\d+$`)
)

// TestAttack_RetaggedThirdPartyAction: a tag of a third-party action (v4) is
// moved by whoever controls that repository, and every job using it runs the
// new code — with id-token: write in the signing jobs. Every `uses:` of
// another repository's action is pinned by its full commit SHA, with the
// release it is in a trailing comment (OpenSSF Scorecard's Pinned-Dependencies
// rule); only local `./` uses are exempt.
func TestAttack_RetaggedThirdPartyAction(t *testing.T) {
	n := 0
	for _, f := range actionFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, u := range usesNodes(&doc) {
			if strings.HasPrefix(u.Value, "./") {
				continue
			}
			n++
			if !shaPin.MatchString(u.Value) {
				t.Errorf("%s:%d: uses %s: not pinned by a 40-hex commit SHA", f, u.Line, u.Value)
			}
			if !versionTag.MatchString(u.LineComment) {
				t.Errorf("%s:%d: uses %s: trailing comment %q, want the release it is, e.g. # v4.2.2", f, u.Line, u.Value, u.LineComment)
			}
		}
	}
	if n == 0 {
		t.Fatal("found no third-party uses: at all")
	}
}
