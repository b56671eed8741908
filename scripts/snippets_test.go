package scripts_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/provenant/provenant/scripts/internal/snippets"
)

// snippetJob is the part of a job the permission check reads.
type snippetJob struct {
	Permissions any               `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Uses        string            `yaml:"uses"`
	Steps       []struct {
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]any    `yaml:"with"`
		Env  map[string]string `yaml:"env"`
	} `yaml:"steps"`
}

// TestDocSnippets_PermissionsCoverWhatTheyUse: every workflow snippet of
// README.md and docs/*.md, made a whole workflow as a reader pastes it,
// grants each job the permissions what it uses needs on GitHub, and names
// what its run: lines use: signing needs id-token: write; the attestations
// API (github-token, on by default) attestations: write; a release upload
// (upload-to-release, gh release upload/create) contents: write and gh a
// GH_TOKEN; a registry push (push-to-registry, docker push) packages: write;
// the L3 reusable workflow the three it declares. scripts/actionlint lints
// the same workflows.
func TestDocSnippets_PermissionsCoverWhatTheyUse(t *testing.T) {
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, d := range docs {
		files = append(files, strings.TrimPrefix(d, "../"))
	}
	list, err := snippets.Find("..", files)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 8 {
		t.Fatalf("%d workflow snippets found, want the 8 or more the docs hold: the finder lost some", len(list))
	}
	for _, s := range list {
		t.Run(s.Name(), func(t *testing.T) {
			for _, problem := range snippetProblems(t, s.Workflow) {
				t.Errorf("%s:%d: %s\n%s", s.File, s.Line, problem, s.Text)
			}
		})
	}
}

// TestDocSnippets_CheckCanFail: the permission check finds each missing
// permission in a snippet made to lack it.
func TestDocSnippets_CheckCanFail(t *testing.T) {
	tests := []struct{ text, want string }{
		{"permissions: {id-token: write, contents: read}\nsteps:\n  - uses: provenant/provenant@v1\n    with: {subject-path: dist/*}\n", "attestations: write"},
		{"permissions: {attestations: write}\nsteps:\n  - uses: provenant/provenant@v1\n    with: {subject-path: dist/*}\n", "id-token: write"},
		{"permissions: {id-token: write, attestations: write}\nsteps:\n  - uses: provenant/provenant@v1\n    with: {subject-path: dist/*, upload-to-release: v1}\n", "contents: write"},
		{"permissions: {id-token: write, attestations: write}\nsteps:\n  - uses: provenant/provenant@v1\n    with: {subject-name: ghcr.io/o/a, subject-digest: 'sha256:00', push-to-registry: true}\n", "packages: write"},
		{"permissions: {contents: write}\nsteps:\n  - run: gh release upload \"$TAG\" x\n", "GH_TOKEN"},
		{"permissions: {contents: write}\nsteps:\n  - run: gh release upload \"$TAG\" x\n    env: {GH_TOKEN: t}\n", "$TAG"},
		{"- uses: provenant/provenant@v1\n  with: {subject-path: dist/*}\n", "id-token: write"},
		{"jobs:\n  p:\n    permissions: {id-token: write}\n    uses: provenant/provenant/.github/workflows/provenance-l3.yml@v1.2.3\n", "attestations: write"},
	}
	for _, tc := range tests {
		wf, err := snippets.Wrap(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(snippetProblems(t, wf), "; "); !strings.Contains(got, tc.want) {
			t.Errorf("problems of %q = %q, want one naming %q", tc.text, got, tc.want)
		}
	}
}

var bareTag = regexp.MustCompile(`\$\{?TAG\b`)

func snippetProblems(t *testing.T, workflow []byte) []string {
	t.Helper()
	var wf struct {
		Permissions any                   `yaml:"permissions"`
		Env         map[string]string     `yaml:"env"`
		Jobs        map[string]snippetJob `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(workflow, &wf); err != nil {
		t.Fatal(err)
	}
	var out []string
	for name, job := range wf.Jobs {
		perms := grants(job.Permissions)
		if job.Permissions == nil {
			perms = grants(wf.Permissions)
		}
		need := func(scope, level, why string) {
			if have := perms[scope]; have != level && !(level == "read" && have == "write") {
				out = append(out, fmt.Sprintf("job %s: %s needs permissions %s: %s (has %q)", name, why, scope, level, have))
			}
		}
		if strings.Contains(job.Uses, "/.github/workflows/provenance-l3.yml@") {
			need("id-token", "write", "the L3 workflow (it signs)")
			need("attestations", "write", "the L3 workflow (it uploads to the attestations API)")
			need("contents", "read", "the L3 workflow (it checks out its own commit)")
		}
		for _, st := range job.Steps {
			with := func(k string) string { return fmt.Sprint(st.With[k]) }
			set := func(k string) bool { _, ok := st.With[k]; return ok && with(k) != "" && with(k) != "false" }
			switch {
			case regexp.MustCompile(`^(provenant/provenant|\./?)@?[^/]*$`).MatchString(st.Uses) && !strings.Contains(st.Uses, "/verify"):
				if with("no-sign") != "true" {
					need("id-token", "write", "attest (keyless signing)")
					if with("github-token") != "false" {
						need("attestations", "write", "attest's upload to the attestations API (github-token is on by default)")
					}
				}
				if set("push-to-registry") {
					need("packages", "write", "push-to-registry")
				}
				if set("upload-to-release") {
					need("contents", "write", "upload-to-release")
				}
			case strings.HasPrefix(st.Uses, "docker/build-push-action@") && with("push") == "true":
				need("packages", "write", "docker/build-push-action push")
			}
			if regexp.MustCompile(`\bgh release (upload|create)\b`).MatchString(st.Run) {
				need("contents", "write", "gh release upload/create")
				if st.Env["GH_TOKEN"] == "" && job.Env["GH_TOKEN"] == "" && wf.Env["GH_TOKEN"] == "" {
					out = append(out, fmt.Sprintf("job %s: gh needs GH_TOKEN in its env (gh does not read the job token by itself)", name))
				}
			}
			if bareTag.MatchString(st.Run) && st.Env["TAG"] == "" && job.Env["TAG"] == "" && wf.Env["TAG"] == "" {
				out = append(out, fmt.Sprintf("job %s: $TAG is used but never set", name))
			}
		}
	}
	return out
}

// grants reads a permissions value: a mapping of scope → level, or
// read-all / write-all.
func grants(p any) map[string]string {
	out := map[string]string{}
	switch v := p.(type) {
	case map[string]any:
		for k, l := range v {
			out[k] = fmt.Sprint(l)
		}
	case string:
		level := strings.TrimSuffix(v, "-all")
		for _, k := range []string{"id-token", "attestations", "contents", "packages"} {
			out[k] = level
		}
	}
	return out
}
