// Package snippets finds the GitHub Actions workflow snippets of the
// project's documentation (```yaml blocks of README.md and docs/*.md that
// hold steps or jobs) and makes each a whole workflow, as a reader would
// paste it into .github/workflows: a block with `jobs:` is a workflow
// already; a block with top-level `permissions:` and `steps:` is one job; a
// block of steps (`- uses:`/`- run:`) is the steps of one job. scripts/actionlint
// lints what it makes, and scripts/snippets_test.go checks that each job's
// permissions cover what its steps use.
package snippets

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Snippet is one workflow snippet of the documentation.
type Snippet struct {
	File string // the document, e.g. README.md
	Line int    // the line of its ```yaml fence
	Text string // the block as written
	// Workflow is the snippet as a whole workflow file.
	Workflow []byte
}

// Name is a file name for the snippet's workflow, unique per snippet.
func (s Snippet) Name() string {
	base := strings.NewReplacer("/", "-", ".md", "").Replace(s.File)
	return fmt.Sprintf("%s-%d.yml", base, s.Line)
}

// Find reads the ```yaml blocks of files (paths relative to root) and
// returns the workflow snippets among them, in order.
func Find(root string, files []string) ([]Snippet, error) {
	var out []Snippet
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		blocks := yamlBlocks(data)
		for _, b := range blocks {
			if !isWorkflowSnippet(b.text) {
				continue
			}
			wf, err := Wrap(b.text)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", f, b.line, err)
			}
			out = append(out, Snippet{File: f, Line: b.line, Text: b.text, Workflow: wf})
		}
	}
	return out, nil
}

type block struct {
	line int
	text string
}

func yamlBlocks(data []byte) []block {
	var out []block
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *block
	var lines []string
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(l) == "```yaml":
			cur, lines = &block{line: n}, nil
		case cur != nil && strings.TrimSpace(l) == "```":
			cur.text = dedent(lines)
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			lines = append(lines, l)
		}
	}
	return out
}

// dedent removes the indentation every non-blank line shares.
func dedent(lines []string) string {
	min := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " ")); min < 0 || n < min {
			min = n
		}
	}
	var b strings.Builder
	for _, l := range lines {
		if len(l) >= min && min > 0 {
			l = l[min:]
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// isWorkflowSnippet tells a workflow snippet from other YAML (a policy
// file, a Kubernetes manifest): it has steps, jobs, or a reusable
// workflow call.
func isWorkflowSnippet(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "steps:") || strings.HasPrefix(l, "jobs:") || strings.HasPrefix(t, "- uses:") ||
			strings.HasPrefix(t, "- run:") || strings.HasPrefix(t, "uses:") && strings.Contains(t, "/.github/workflows/") {
			return true
		}
	}
	return false
}

// Wrap makes a snippet a whole workflow.
func Wrap(text string) ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	var wf map[string]any
	switch d := doc.(type) {
	case []any: // a list of steps
		wf = map[string]any{"jobs": map[string]any{"snippet": map[string]any{"runs-on": "ubuntu-latest", "steps": d}}}
	case map[string]any:
		switch {
		case d["jobs"] != nil:
			wf = d
		case d["steps"] != nil:
			job := map[string]any{"runs-on": "ubuntu-latest"}
			wf = map[string]any{}
			for k, v := range d {
				switch k {
				case "permissions", "on", "env", "name", "concurrency":
					wf[k] = v // workflow-level, as written
				default:
					job[k] = v
				}
			}
			wf["jobs"] = map[string]any{"snippet": job}
		case d["uses"] != nil: // a reusable workflow call alone
			wf = map[string]any{"jobs": map[string]any{"snippet": d}}
		default:
			return nil, fmt.Errorf("neither jobs, steps nor a workflow call")
		}
	default:
		return nil, fmt.Errorf("neither a mapping nor a list of steps")
	}
	if wf["on"] == nil {
		wf["on"] = map[string]any{"push": map[string]any{"tags": []any{"v*"}}}
	}
	return yaml.Marshal(wf)
}
