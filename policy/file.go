// Package policy judges verified results by a policy file (docs/policy.md):
// the source's numeric ids and refs, the attestations every artifact needs
// with conditions on their predicates, one run for all of them; and pins
// (trust on first use of a source's ids, signer and level). It reads what
// package verifier verified and never verifies anything itself.
package policy

// policyfile.go reads a policy file (docs/policy.md): YAML checked key by
// key against its schema (docs/policy.schema.json), with errors that name
// the line; and judges an artifact's verified bundles against it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/provenant/provenant/verifier"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"go.yaml.in/yaml/v3"
)

// File is a policy file: what the source, the signer and the level
// must be, and the attestations every artifact must carry.
type File struct {
	// Source is the source repository: name, numeric ids, refs.
	Source Source
	// SignerWorkflow is the signing workflow (Policy.SignerWorkflow).
	SignerWorkflow string
	// Level is the SLSA Build level required (Policy.MinLevel); 0: unset.
	Level int
	// Require lists the attestations every artifact must carry; empty:
	// only the predicate type verify asks for.
	Require []Requirement
	// SameRun requires the attestations of Require to come from one run:
	// one Run Invocation URI and one source commit.
	SameRun bool
}

// Source is the "source" section of a policy file.
type Source struct {
	// Repo is "owner/name" (Policy.Repo).
	Repo string
	// RepositoryID and OwnerID are GitHub's numeric ids, compared with the
	// certificate's Source Repository Identifier (1.3.6.1.4.1.57264.1.15)
	// and Source Repository Owner Identifier (1.3.6.1.4.1.57264.1.17).
	RepositoryID, OwnerID string
	// Refs are doublestar globs one of which the certificate's Source
	// Repository Ref must match, e.g. "refs/tags/v*".
	Refs []string
}

// Requirement is one entry of "require": a predicate type and conditions
// on the predicate.
type Requirement struct {
	// PredicateType is the predicate type of the attestation.
	PredicateType string
	// Where are conditions on the predicate, all of which must hold.
	Where []Condition
}

// Condition is one condition of "where": a path into the predicate and
// an operator with its operand.
type Condition struct {
	// Path is a simple JSON path, e.g. "result" or "a.b[0].c".
	Path string
	// Op is one of eq, ne, in, gt, ge, lt, le, exists.
	Op string
	// Value is the operand: a scalar (string, bool, float64 or nil), a
	// list of scalars for "in", a bool for "exists".
	Value any

	steps []pathStep
}

// pathStep is one step of a path: a key, or an index when key is "".
type pathStep struct {
	key   string
	index int
}

// The keys of each mapping of a policy file, in the order of the docs;
// docs/policy.schema.json lists the same (a test checks).
var (
	policyFileKeys   = []string{"source", "signer", "level", "require", "same-run"}
	policySourceKeys = []string{"repo", "repository-id", "owner-id", "refs"}
	policySignerKeys = []string{"workflow"}
	policyRequireKey = []string{"predicate-type", "where"}
	conditionOps     = []string{"eq", "ne", "in", "gt", "ge", "lt", "le", "exists"}
)

// FileError is a policy file that does not follow the schema; Line
// is where (0 when the YAML itself is unreadable).
type FileError struct {
	Line int
	Msg  string
}

// Error says where and what.
func (e *FileError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func nodeErr(n *yaml.Node, format string, a ...any) error {
	return &FileError{Line: n.Line, Msg: fmt.Sprintf(format, a...)}
}

// ParseFile reads a policy file. Unknown keys, keys given twice,
// values of the wrong kind and unusable globs or paths are errors of type
// *FileError naming the line.
func ParseFile(data []byte) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &FileError{Msg: "not YAML: " + err.Error()}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 ||
		(doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" && doc.Content[0].Value == "") {
		// "---" alone is a document holding nothing, not a mapping on a
		// line the file does not have.
		return nil, &FileError{Msg: "empty policy file"}
	}
	pf := &File{}
	err := eachKey(doc.Content[0], "the policy", policyFileKeys, func(k string, v *yaml.Node) error {
		switch k {
		case "source":
			return pf.parseSource(v)
		case "signer":
			return eachKey(v, "signer", policySignerKeys, func(_ string, v *yaml.Node) error {
				return scalarString(v, "signer.workflow", &pf.SignerWorkflow)
			})
		case "level":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || (v.Value != "1" && v.Value != "2" && v.Value != "3") {
				return nodeErr(v, "level: want 1, 2 or 3, not %q", v.Value)
			}
			pf.Level, _ = strconv.Atoi(v.Value)
			return nil
		case "require":
			return pf.parseRequire(v)
		default: // same-run
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				return nodeErr(v, "same-run: want true or false, not %q", v.Value)
			}
			pf.SameRun = v.Value == "true"
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	if pf.SameRun && len(pf.Require) < 2 {
		return nil, &FileError{Line: 1, Msg: "same-run: needs at least two entries in require"}
	}
	return pf, nil
}

// eachKey calls fn for each key of a mapping node, in order; a key not in
// known, or given twice, is an error.
func eachKey(n *yaml.Node, what string, known []string, fn func(string, *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return nodeErr(n, "%s: want a mapping of %s", what, strings.Join(known, ", "))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(known, k.Value) {
			return nodeErr(k, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return nodeErr(k, "%s: key %q given twice", what, k.Value)
		}
		seen[k.Value] = true
		if err := fn(k.Value, v); err != nil {
			return err
		}
	}
	return nil
}

// scalarString sets *dst from a non-empty string scalar.
func scalarString(n *yaml.Node, what string, dst *string) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Value == "" {
		return nodeErr(n, "%s: want a non-empty string", what)
	}
	*dst = n.Value
	return nil
}

var idPattern = regexp.MustCompile(`^[0-9]+$`)

func (pf *File) parseSource(n *yaml.Node) error {
	s := &pf.Source
	return eachKey(n, "source", policySourceKeys, func(k string, v *yaml.Node) error {
		switch k {
		case "repo":
			if err := scalarString(v, "source.repo", &s.Repo); err != nil {
				return err
			}
			if strings.Count(s.Repo, "/") != 1 || strings.HasPrefix(s.Repo, "/") || strings.HasSuffix(s.Repo, "/") {
				return nodeErr(v, "source.repo %q: want owner/name", s.Repo)
			}
		case "repository-id", "owner-id":
			if v.Kind != yaml.ScalarNode || !idPattern.MatchString(v.Value) {
				return nodeErr(v, "source.%s: want GitHub's numeric id, not %q", k, v.Value)
			}
			if k == "owner-id" {
				s.OwnerID = v.Value
			} else {
				s.RepositoryID = v.Value
			}
		default: // refs
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				return nodeErr(v, "source.refs: want a list of globs, e.g. [\"refs/tags/v*\"]")
			}
			for _, g := range v.Content {
				var glob string
				if err := scalarString(g, "source.refs", &glob); err != nil {
					return err
				}
				if !validGlob(glob) {
					return nodeErr(g, "source.refs: %q is not a valid glob", glob)
				}
				s.Refs = append(s.Refs, glob)
			}
		}
		return nil
	})
}

func (pf *File) parseRequire(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nodeErr(n, "require: want a list of {predicate-type, where}")
	}
	for i, item := range n.Content {
		var r Requirement
		what := fmt.Sprintf("require[%d]", i)
		err := eachKey(item, what, policyRequireKey, func(k string, v *yaml.Node) error {
			if k == "predicate-type" {
				return scalarString(v, what+".predicate-type", &r.PredicateType)
			}
			return r.parseWhere(v, what+".where")
		})
		if err != nil {
			return err
		}
		if r.PredicateType == "" {
			return nodeErr(item, "%s: predicate-type is required", what)
		}
		for _, prev := range pf.Require {
			if prev.PredicateType == r.PredicateType {
				return nodeErr(item, "%s: predicate-type %q is required twice (put its conditions in one where)", what, r.PredicateType)
			}
		}
		pf.Require = append(pf.Require, r)
	}
	return nil
}

// validGlob reports whether a ref glob is one doublestar can match with.
func validGlob(g string) bool { return doublestar.ValidatePattern(g) }

// parseWhere reads the conditions of a "where" mapping: path → a scalar
// (equality) or a mapping of one operator to its operand.
func (r *Requirement) parseWhere(n *yaml.Node, what string) error {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return nodeErr(n, "%s: want a mapping of JSON path to condition, e.g. {result: PASSED}", what)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		steps, err := parsePath(k.Value)
		if err != nil {
			return nodeErr(k, "%s: %v", what, err)
		}
		if seen[k.Value] {
			return nodeErr(k, "%s: path %q given twice", what, k.Value)
		}
		seen[k.Value] = true
		c, err := parseCondition(v, what+"."+k.Value)
		if err != nil {
			return err
		}
		c.Path, c.steps = k.Value, steps
		r.Where = append(r.Where, c)
	}
	return nil
}

// parseCondition reads one condition: a scalar, or {OP: OPERAND}.
func parseCondition(n *yaml.Node, what string) (Condition, error) {
	if n.Kind == yaml.ScalarNode {
		v, err := scalarValue(n, what)
		return Condition{Op: "eq", Value: v}, err
	}
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return Condition{}, nodeErr(n, "%s: want a value, or one operator of %s with its operand", what, strings.Join(conditionOps, ", "))
	}
	opNode, arg := n.Content[0], n.Content[1]
	op := opNode.Value
	c := Condition{Op: op}
	var err error
	switch op {
	case "eq", "ne":
		c.Value, err = scalarValue(arg, what+"."+op)
	case "in":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) == 0 {
			return c, nodeErr(arg, "%s.in: want a list of values", what)
		}
		var list []any
		for _, e := range arg.Content {
			v, err := scalarValue(e, what+".in")
			if err != nil {
				return c, err
			}
			list = append(list, v)
		}
		c.Value = list
	case "gt", "ge", "lt", "le":
		var v any
		if v, err = scalarValue(arg, what+"."+op); err == nil {
			if _, ok := v.(float64); !ok {
				err = nodeErr(arg, "%s.%s: want a number, not %q", what, op, arg.Value)
			}
		}
		c.Value = v
	case "exists":
		if arg.Kind != yaml.ScalarNode || arg.Tag != "!!bool" {
			return c, nodeErr(arg, "%s.exists: want true or false", what)
		}
		c.Value = arg.Value == "true"
	default:
		return c, nodeErr(opNode, "%s: unknown operator %q (known: %s)", what, op, strings.Join(conditionOps, ", "))
	}
	return c, err
}

// scalarValue decodes a YAML scalar as JSON would hold it: a string, a
// bool, a float64 or nil.
func scalarValue(n *yaml.Node, what string) (any, error) {
	if n.Kind != yaml.ScalarNode {
		return nil, nodeErr(n, "%s: want a single value (string, number, true, false or null)", what)
	}
	switch n.Tag {
	case "!!str":
		return n.Value, nil
	case "!!bool":
		return n.Value == "true", nil
	case "!!null":
		return nil, nil
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, nodeErr(n, "%s: %q: %v", what, n.Value, err)
		}
		return f, nil
	}
	return nil, nodeErr(n, "%s: unsupported value %q (%s)", what, n.Value, n.Tag)
}

var pathSegment = regexp.MustCompile(`^([^.\[\]]+)((?:\[[0-9]+\])*)$`)

// parsePath parses "a.b[0].c" into steps.
func parsePath(p string) ([]pathStep, error) {
	if p == "" {
		return nil, fmt.Errorf("empty path")
	}
	var steps []pathStep
	for _, seg := range strings.Split(p, ".") {
		m := pathSegment.FindStringSubmatch(seg)
		if m == nil {
			return nil, fmt.Errorf("path %q: want keys separated by dots, each with optional [N] indexes, e.g. a.b[0].c", p)
		}
		steps = append(steps, pathStep{key: m[1]})
		for _, idx := range strings.Split(strings.Trim(m[2], "[]"), "][") {
			if idx == "" {
				continue
			}
			i, err := strconv.Atoi(idx)
			if err != nil {
				return nil, fmt.Errorf("path %q: index %q: %w", p, idx, err)
			}
			steps = append(steps, pathStep{index: i})
		}
	}
	return steps, nil
}

// lookup follows the path in a decoded JSON value.
func (c *Condition) lookup(doc any) (any, bool) {
	cur := doc
	for _, s := range c.steps {
		if s.key != "" {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[s.key]; !ok {
				return nil, false
			}
			continue
		}
		l, ok := cur.([]any)
		if !ok || s.index >= len(l) {
			return nil, false
		}
		cur = l[s.index]
	}
	return cur, true
}

// Holds reports whether the condition holds on a decoded predicate (JSON
// numbers as float64); when not, err says why in words.
func (c *Condition) Holds(predicate any) error {
	got, found := c.lookup(predicate)
	if c.Op == "exists" {
		if found != c.Value.(bool) {
			if found {
				return fmt.Errorf("%s is present, required absent", c.Path)
			}
			return fmt.Errorf("%s is absent, required present", c.Path)
		}
		return nil
	}
	if !found {
		return fmt.Errorf("%s is absent, required %s %s", c.Path, c.Op, show(c.Value))
	}
	ok := false
	switch c.Op {
	case "eq":
		ok = sameScalar(got, c.Value)
	case "ne":
		ok = !sameScalar(got, c.Value)
	case "in":
		ok = slices.ContainsFunc(c.Value.([]any), func(v any) bool { return sameScalar(got, v) })
	default:
		n, isNum := got.(float64)
		want := c.Value.(float64)
		ok = isNum && ((c.Op == "gt" && n > want) || (c.Op == "ge" && n >= want) ||
			(c.Op == "lt" && n < want) || (c.Op == "le" && n <= want))
	}
	if !ok {
		return fmt.Errorf("%s is %s, required %s %s", c.Path, show(got), c.Op, show(c.Value))
	}
	return nil
}

// sameScalar compares two JSON values; an object or a list equals nothing
// (a condition's operand is always a scalar).
func sameScalar(a, b any) bool {
	switch a.(type) {
	case string, bool, float64, nil:
		return a == b
	}
	return false
}

// show prints a JSON value for a message.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Violation is an artifact that does not meet a rule of the policy
// file; Rule names it as the file does, e.g. "source.repository-id",
// "require[2] (https://in-toto.io/attestation/test-result/v0.1).where.result"
// or "same-run".
type Violation struct {
	Rule string
	Err  error
}

// Error names the rule and says why it failed.
func (e *Violation) Error() string { return "policy rule " + e.Rule + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *Violation) Unwrap() error { return e.Err }

// Apply judges one artifact's verified bundles by the policy file and makes
// the verdict stick: a verified bundle of a required predicate type that
// breaks a source rule or its requirement's conditions no longer counts
// (Verified false, Refused says why), so the artifact's level, a VSA's
// level and inputAttestations, and the pins come only from bundles that
// meet the policy. The artifact's Level is recomputed from the remaining
// bundles of defaultType (the type verify asked for). It then returns
// Evaluate's verdict on what is left (a *Violation), or nil.
func (pf *File) Apply(a *verifier.ArtifactResult, defaultType string) error {
	reqs := pf.requirements(defaultType)
	for i := range a.Bundles {
		b := &a.Bundles[i]
		if !b.Verified || b.Signer == nil {
			continue
		}
		for j, r := range reqs {
			if b.PredicateType != r.PredicateType {
				continue
			}
			if err := pf.judge(*b, r, requireRule(j, r)); err != nil {
				b.Verified, b.Refused = false, err.Error()
			}
		}
	}
	level := 0
	for _, b := range a.Bundles {
		if b.Verified && b.PredicateType == defaultType {
			level = max(level, b.Level)
		}
	}
	a.Level = level
	err := pf.Evaluate(a.Bundles, defaultType)
	if err == nil && !anyVerified(a.Bundles) {
		err = &Violation{Rule: "require", Err: errors.New("no verified attestation meets the policy")}
	}
	return err
}

func anyVerified(bundles []verifier.BundleResult) bool {
	for _, b := range bundles {
		if b.Verified {
			return true
		}
	}
	return false
}

// requirements are the policy's Require, or the one predicate type verify
// asked for when it has none.
func (pf *File) requirements(defaultType string) []Requirement {
	if len(pf.Require) == 0 {
		return []Requirement{{PredicateType: defaultType}}
	}
	return pf.Require
}

func requireRule(i int, r Requirement) string {
	return fmt.Sprintf("require[%d] (%s)", i, r.PredicateType)
}

// Evaluate judges the bundles of one artifact (every predicate type; only
// the verified ones count): for each entry of Require (or, without one, the
// predicate type defaultType) a verified bundle must meet the source rules
// and the entry's conditions; with SameRun, one run must have made one of
// each. It returns a *Violation, or nil.
func (pf *File) Evaluate(bundles []verifier.BundleResult, defaultType string) error {
	reqs := pf.requirements(defaultType)
	runsOf := make([][]string, len(reqs))
	for i, r := range reqs {
		rule := requireRule(i, r)
		var first, unverified error
		for _, b := range bundles {
			if !b.Verified && b.PredicateType == r.PredicateType && unverified == nil {
				unverified = whyNotVerified(b)
			}
			if !b.Verified || b.Signer == nil || b.PredicateType != r.PredicateType {
				continue
			}
			if err := pf.judge(b, r, rule); err != nil {
				first = cmpOr(first, err)
				continue
			}
			if k := runKey(b.Signer); !slices.Contains(runsOf[i], k) {
				runsOf[i] = append(runsOf[i], k)
			}
		}
		if len(runsOf[i]) == 0 {
			if first != nil {
				return first
			}
			if unverified != nil {
				// Say why the one found does not count: the failed check
				// names what is wrong (another repository's signer, say).
				return &Violation{Rule: rule, Err: fmt.Errorf("no verified attestation of this predicate type for the artifact; the first found failed: %w", unverified)}
			}
			return &Violation{Rule: rule, Err: errors.New("no verified attestation of this predicate type for the artifact")}
		}
	}
	if pf.SameRun {
		return sameRun(reqs, runsOf)
	}
	return nil
}

// whyNotVerified is the first failed check of a bundle that did not
// verify, or the policy file's refusal; nil when neither says.
func whyNotVerified(b verifier.BundleResult) error {
	if err := b.Err(); err != nil {
		return err
	}
	if b.Refused != "" {
		return fmt.Errorf("refused by the policy file: %s", b.Refused)
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// judge checks one verified bundle against the source rules and one
// requirement's conditions.
func (pf *File) judge(b verifier.BundleResult, r Requirement, rule string) error {
	ext := b.Signer.Extensions
	if err := pf.Source.Check(ext); err != nil {
		return err
	}
	if len(r.Where) == 0 {
		return nil
	}
	var pred any
	if err := json.Unmarshal(b.Predicate, &pred); err != nil {
		return &Violation{Rule: rule + ".where", Err: fmt.Errorf("bundle %s: the predicate is not JSON: %w", b.Source, err)}
	}
	for _, c := range r.Where {
		if err := c.Holds(pred); err != nil {
			return &Violation{Rule: rule + ".where." + c.Path, Err: fmt.Errorf("bundle %s: %w", b.Source, err)}
		}
	}
	return nil
}

// Check holds a verified certificate to the numeric ids and ref globs; it
// returns a *Violation naming the rule broken, or nil.
func (s *Source) Check(ext certificate.Extensions) error {
	ids := []struct{ rule, want, got, name string }{
		{"source.repository-id", s.RepositoryID, ext.SourceRepositoryIdentifier, "Source Repository Identifier (1.3.6.1.4.1.57264.1.15)"},
		{"source.owner-id", s.OwnerID, ext.SourceRepositoryOwnerIdentifier, "Source Repository Owner Identifier (1.3.6.1.4.1.57264.1.17)"},
	}
	for _, id := range ids {
		switch {
		case id.want == "":
		case id.got == "":
			return &Violation{Rule: id.rule, Err: fmt.Errorf("the certificate of %s carries no %s, required %s", ext.SourceRepositoryURI, id.name, id.want)}
		case id.got != id.want:
			return &Violation{Rule: id.rule, Err: fmt.Errorf("the certificate's %s is %s, required %s: %s is not the repository the policy names (deleted and recreated, or renamed?)", id.name, id.got, id.want, ext.SourceRepositoryURI)}
		}
	}
	if len(s.Refs) == 0 {
		return nil
	}
	for _, g := range s.Refs {
		if ok, _ := doublestar.Match(g, ext.SourceRepositoryRef); ok {
			return nil
		}
	}
	return &Violation{Rule: "source.refs", Err: fmt.Errorf("the certificate's Source Repository Ref %q matches none of %s", ext.SourceRepositoryRef, strings.Join(s.Refs, ", "))}
}

// runKey names the run that signed a bundle: its Run Invocation URI and
// source commit.
func runKey(s *certificate.Summary) string {
	uri := s.Extensions.RunInvocationURI
	if uri == "" {
		uri = "(no Run Invocation URI)"
	}
	return uri + " at commit " + s.Extensions.SourceRepositoryDigest
}

// sameRun finds a run that made an accepted bundle of every requirement.
func sameRun(reqs []Requirement, runsOf [][]string) error {
	for _, k := range runsOf[0] {
		if strings.HasPrefix(k, "(no") {
			continue
		}
		all := true
		for _, runs := range runsOf[1:] {
			all = all && slices.Contains(runs, k)
		}
		if all {
			return nil
		}
	}
	var parts []string
	for i, r := range reqs {
		parts = append(parts, fmt.Sprintf("%s from %s", r.PredicateType, strings.Join(runsOf[i], " or ")))
	}
	return &Violation{Rule: "same-run", Err: fmt.Errorf("no one run (Run Invocation URI and source commit) made every required attestation: %s", strings.Join(parts, "; "))}
}
