// Command actionwf turns the runs: steps of a composite action (action.yml)
// into a workflow that actionlint can lint: actionlint lints workflow files,
// and reads an action.yml only for the inputs of a local `uses: ./…`, so the
// expressions and shell scripts of a composite action's steps are otherwise
// unchecked. The workflow has one job whose steps are the action's steps, and
// a workflow_call trigger with the action's inputs so that ${{ inputs.* }}
// type-checks.
//
//	go run ./scripts/internal/actionwf ACTION.yml OUT.yml
package main

import (
	"fmt"
	"os"
	"sort"

	"go.yaml.in/yaml/v3"
)

type action struct {
	Name   string               `yaml:"name"`
	Inputs map[string]yaml.Node `yaml:"inputs"`
	Runs   struct {
		Using string      `yaml:"using"`
		Steps []yaml.Node `yaml:"steps"`
	} `yaml:"runs"`
}

type dispatchInput struct {
	Type     string `yaml:"type"`
	Required bool   `yaml:"required"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: actionwf ACTION.yml OUT.yml")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "actionwf:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("reading the action: %w", err)
	}
	var a action
	if err := yaml.Unmarshal(data, &a); err != nil {
		return fmt.Errorf("parsing %s: %w", in, err)
	}
	if a.Runs.Using != "composite" {
		return fmt.Errorf("%s: runs.using is %q, not composite", in, a.Runs.Using)
	}
	names := make([]string, 0, len(a.Inputs))
	for n := range a.Inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	inputs := yaml.Node{Kind: yaml.MappingNode}
	for _, n := range names {
		var v yaml.Node
		if err := v.Encode(dispatchInput{Type: "string"}); err != nil {
			return fmt.Errorf("input %s: %w", n, err)
		}
		inputs.Content = append(inputs.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: n}, &v)
	}
	wf := map[string]any{
		"name":        fmt.Sprintf("%s (steps of %s, for actionlint)", a.Name, in),
		"on":          map[string]any{"workflow_call": map[string]any{"inputs": &inputs}},
		"permissions": map[string]any{},
		"jobs": map[string]any{"steps": map[string]any{
			"runs-on": "ubuntu-latest",
			"steps":   a.Runs.Steps,
		}},
	}
	b, err := yaml.Marshal(wf)
	if err != nil {
		return fmt.Errorf("writing the workflow: %w", err)
	}
	header := fmt.Sprintf("# Generated from %s by scripts/internal/actionwf for actionlint.\n", in)
	if err := os.WriteFile(out, append([]byte(header), b...), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return nil
}
