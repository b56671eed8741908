package policy

import (
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParsePolicyFile: any policy file either fails with a one-line
// *FileError whose line is within the file, or parses into a policy
// that, written back as YAML, parses to the same policy (a round trip), and
// whose every condition can be judged against any predicate without a panic.
// Seeded with the policy files of testdata/policy and docs.
func FuzzParsePolicyFile(f *testing.F) {
	for _, p := range []string{"../testdata/policy/example.yaml", "../testdata/policy/demo.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "---\n", "source: {repo: a/b}\nsource: {repo: c/d}\n", "level: 4\n", "level: 0x3\n",
		"require: [{predicate-type: x, where: {a.b[0]: {in: [1, '1', null, true]}}}]\n",
		"require: [{predicate-type: x, where: {n: {gt: .nan}, m: {le: -.inf}, e: {exists: false}}}]\n",
		"require: [{predicate-type: x}, {predicate-type: y}]\nsame-run: true\n",
		"source: {repository-id: 007, owner-id: '1', refs: ['refs/tags/v*', '{a,b']}\n",
		"&a [*a]\n", "a: &x {b: *x}\n", "source: !!binary aGk=\n", "require: [{predicate-type: x, where: {'a[99999999999999999999]': 1}}]\n",
	} {
		f.Add([]byte(s))
	}
	predicates := []any{nil, map[string]any{}, map[string]any{"a": map[string]any{"b": []any{1.0, "x", nil}}, "n": math.NaN(), "result": "PASSED"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := ParseFile(data)
		if err != nil {
			var pe *FileError
			if !errors.As(err, &pe) {
				t.Fatalf("not a *FileError: %T %v", err, err)
			}
			if lines := yamlLines(string(data)); pe.Line < 0 || pe.Line > lines {
				t.Fatalf("error at line %d of a %d-line file: %v", pe.Line, lines, err)
			}
			if pe.Line > 0 && strings.ContainsAny(pe.Msg, "\n\r") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		for _, r := range pf.Require {
			for i := range r.Where {
				for _, p := range predicates {
					if err := r.Where[i].Holds(p); err != nil && err.Error() == "" {
						t.Fatal("a condition failed without saying why")
					}
				}
			}
		}
		out, err := yaml.Marshal(policyFileYAML(pf))
		if err != nil {
			t.Fatalf("writing the policy back: %v", err)
		}
		again, err := ParseFile(out)
		if err != nil {
			t.Fatalf("the policy written back does not parse: %v\n%s", err, out)
		}
		if !samePolicyFile(pf, again) {
			t.Fatalf("round trip changed the policy:\n%#v\n%#v\n%s", pf, again, out)
		}
	})
}

// policyFileYAML writes a policy as docs/policy.md spells it, keys in order.
func policyFileYAML(pf *File) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(m *yaml.Node, k string, v *yaml.Node) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
	}
	str := func(s string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
	}
	src := &yaml.Node{Kind: yaml.MappingNode}
	if pf.Source.Repo != "" {
		add(src, "repo", str(pf.Source.Repo))
	}
	if pf.Source.RepositoryID != "" {
		add(src, "repository-id", str(pf.Source.RepositoryID))
	}
	if pf.Source.OwnerID != "" {
		add(src, "owner-id", str(pf.Source.OwnerID))
	}
	if len(pf.Source.Refs) > 0 {
		refs := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range pf.Source.Refs {
			refs.Content = append(refs.Content, str(r))
		}
		add(src, "refs", refs)
	}
	if len(src.Content) > 0 {
		add(m, "source", src)
	}
	if pf.SignerWorkflow != "" {
		s := &yaml.Node{Kind: yaml.MappingNode}
		add(s, "workflow", str(pf.SignerWorkflow))
		add(m, "signer", s)
	}
	if pf.Level != 0 {
		add(m, "level", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: string(rune('0' + pf.Level))})
	}
	if len(pf.Require) > 0 {
		reqs := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range pf.Require {
			e := &yaml.Node{Kind: yaml.MappingNode}
			add(e, "predicate-type", str(r.PredicateType))
			if len(r.Where) > 0 {
				w := &yaml.Node{Kind: yaml.MappingNode}
				for _, c := range r.Where {
					cond := &yaml.Node{Kind: yaml.MappingNode}
					add(cond, c.Op, scalarYAML(c.Value))
					w.Content = append(w.Content, str(c.Path), cond)
				}
				add(e, "where", w)
			}
			reqs.Content = append(reqs.Content, e)
		}
		add(m, "require", reqs)
	}
	if pf.SameRun {
		add(m, "same-run", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}
}

// scalarYAML writes an operand: a scalar, or a list for "in".
func scalarYAML(v any) *yaml.Node {
	switch v := v.(type) {
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range v {
			n.Content = append(n.Content, scalarYAML(e))
		}
		return n
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		panic(err)
	}
	if s, ok := v.(string); ok {
		n.Style, n.Tag, n.Value = yaml.DoubleQuotedStyle, "!!str", s
	}
	return &n
}

// samePolicyFile compares two policies, NaN equal to NaN.
func samePolicyFile(a, b *File) bool {
	if !reflect.DeepEqual(a.Source, b.Source) || a.SignerWorkflow != b.SignerWorkflow || a.Level != b.Level ||
		a.SameRun != b.SameRun || len(a.Require) != len(b.Require) {
		return false
	}
	for i := range a.Require {
		ra, rb := a.Require[i], b.Require[i]
		if ra.PredicateType != rb.PredicateType || len(ra.Where) != len(rb.Where) {
			return false
		}
		for j := range ra.Where {
			ca, cb := ra.Where[j], rb.Where[j]
			if ca.Path != cb.Path || ca.Op != cb.Op || !sameOperand(ca.Value, cb.Value) || !reflect.DeepEqual(ca.steps, cb.steps) {
				return false
			}
		}
	}
	return true
}

func sameOperand(a, b any) bool {
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !sameOperand(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb || (math.IsNaN(fa) && math.IsNaN(fb)))
	}
	return reflect.DeepEqual(a, b)
}

// yamlLines counts lines as YAML breaks them: at CR LF, CR, LF, NEL, LS
// and PS.
func yamlLines(s string) int {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	n := 1
	for _, r := range s {
		switch r {
		case '\n', '\r', '\u0085', '\u2028', '\u2029':
			n++
		}
	}
	return n
}
