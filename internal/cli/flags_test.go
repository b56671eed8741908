package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/internal/cmdutil"
)

// testRoot is the whole command tree with the help flags cobra adds at
// Execute.
func testRoot(t *testing.T) (*cobra.Command, []*cobra.Command) {
	t.Helper()
	f := &cmdutil.Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	root := NewRootCmd(f)
	var all []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		all = append(all, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root, all
}

// shown is a flag help lists.
func shown(fl *pflag.Flag) bool { return !fl.Hidden && fl.Name != "help" }

// TestOneSpellingPerIdea walks every command (hidden ones too, such as
// "attestation verify") against cmdutil.FlagIdeas: no command names a flag
// with another idea's alias; a shorthand stands for one flag in every
// command and a flag has one shorthand in every command (-v is --verbose,
// not also --version); every alias works as its flag wherever that flag
// is; and no help text (usage, long text, examples) shows an alias or a
// hidden flag.
func TestOneSpellingPerIdea(t *testing.T) {
	root, all := testRoot(t)
	aliasOf := map[string]string{}
	ideaOf := map[string]cmdutil.FlagIdea{}
	for _, idea := range cmdutil.FlagIdeas {
		if _, dup := ideaOf[idea.Name]; dup {
			t.Errorf("idea %q is in the table twice", idea.Name)
		}
		ideaOf[idea.Name] = idea
		for _, a := range idea.Aliases {
			aliasOf[a] = idea.Name
		}
	}
	for a, name := range aliasOf {
		if _, ok := ideaOf[a]; ok {
			t.Errorf("%s is both an idea's name and an alias of %s", a, name)
		}
	}
	nameOfShort := map[string]string{} // shorthand -> flag name
	shortOfName := map[string]string{} // flag name -> shorthand
	where := map[string]string{}       // flag name -> a command that has it
	defined := map[string]bool{}
	for _, c := range all {
		fs := c.Flags()
		path := c.CommandPath()
		fs.VisitAll(func(fl *pflag.Flag) {
			if !shown(fl) {
				return
			}
			defined[fl.Name] = true
			if to, ok := aliasOf[fl.Name]; ok {
				t.Errorf("%s --%s: the idea's one spelling is --%s (cmdutil.FlagIdeas)", path, fl.Name, to)
			}
			if idea, ok := ideaOf[fl.Name]; ok && fl.Shorthand != idea.Shorthand {
				t.Errorf("%s --%s has shorthand %q; the idea's is %q", path, fl.Name, fl.Shorthand, idea.Shorthand)
			}
			if fl.Shorthand != "" {
				if n, ok := nameOfShort[fl.Shorthand]; ok && n != fl.Name {
					t.Errorf("-%s is --%s in %s but --%s in %s", fl.Shorthand, fl.Name, path, n, where[n])
				}
				nameOfShort[fl.Shorthand] = fl.Name
			}
			if s, ok := shortOfName[fl.Name]; ok && s != fl.Shorthand {
				t.Errorf("--%s has shorthand %q in %s but %q in %s", fl.Name, fl.Shorthand, path, s, where[fl.Name])
			}
			shortOfName[fl.Name] = fl.Shorthand
			where[fl.Name] = path
		})
		for a, name := range aliasOf {
			if fl := fs.Lookup(name); fl != nil && fs.Lookup(a) != fl {
				t.Errorf("%s: --%s is not taken as --%s", path, a, name)
			}
		}
		help := c.Long + "\n" + c.Example + "\n" + c.UsageString()
		for a := range aliasOf {
			if flagIn(help, a) {
				t.Errorf("%s --help shows the alias --%s (of --%s)", path, a, aliasOf[a])
			}
		}
		fs.VisitAll(func(fl *pflag.Flag) {
			if fl.Hidden && (flagIn(help, fl.Name) || fl.Shorthand != "" && strings.Contains(c.UsageString(), "-"+fl.Shorthand+",")) {
				t.Errorf("%s --help shows the hidden flag --%s", path, fl.Name)
			}
		})
	}
	for _, idea := range cmdutil.FlagIdeas {
		if !defined[idea.Name] && idea.Name != "version" {
			t.Errorf("no command has --%s (%s): the table is stale", idea.Name, idea.Idea)
		}
	}
	if fl := root.Flags().Lookup("version"); fl == nil || fl.Shorthand != "" {
		t.Errorf("the root's --version: %+v, want it without a shorthand", fl)
	}
}

// flagIn reports whether text names --name (not a longer flag it begins).
func flagIn(text, name string) bool {
	return regexp.MustCompile(`(^|[^a-z0-9-])--` + regexp.QuoteMeta(name) + `($|[^a-z0-9-])`).MatchString(text)
}

// TestAliasesStillWork: each old spelling still parses as its flag, on
// the command lines users have pasted, and the root's -v still prints the
// version.
func TestAliasesStillWork(t *testing.T) {
	for _, args := range [][]string{
		{"attest", "--out", "x"},
		{"download", "--out-dir", "x"},
		{"verify", "--report", "x"},
		{"verify", "--summary=false"},
		{"verify", "--certificate-oidc-issuer", "x"},
		{"verify", "--custom-trusted-root", "x"},
		{"policy", "kyverno", "--certificate-oidc-issuer", "x"},
		{"policy", "kyverno", "--ref", "refs/tags/v*"},
	} {
		root, _ := testRoot(t)
		cmd, flagArgs, err := root.Find(args)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if err := cmd.Flags().Parse(flagArgs); err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		name := strings.TrimPrefix(strings.SplitN(flagArgs[0], "=", 2)[0], "--")
		if !cmd.Flags().Changed(string(cmdutil.NormalizeFlagName(nil, name))) {
			t.Errorf("%v: --%s did not set its flag", args, name)
		}
	}
	var out bytes.Buffer
	f := &cmdutil.Factory{Stdout: &out, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }, Build: cmdutil.BuildInfo{Version: "v1.2.3"}}
	if code := Main(context.Background(), []string{"-v"}, f); code != 0 || !strings.HasPrefix(out.String(), "provenant v1.2.3") {
		t.Errorf("provenant -v: exit %d, %q", code, out.String())
	}
}

// TestDeprecatedInputs: an action's old input name (verify's summary,
// report) fills the flag it is an alias of; the old and the new name
// disagreeing is refused.
func TestDeprecatedInputs(t *testing.T) {
	run := func(vars map[string]string) (*cobra.Command, error) {
		vars["GITHUB_ACTIONS"] = "true"
		f := &cmdutil.Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(k string) string { return vars[k] }}
		root := NewRootCmd(f)
		cmd, _, err := root.Find([]string{"verify"})
		if err != nil {
			t.Fatal(err)
		}
		return cmd, ApplyInputs(cmd, f)
	}
	cmd, err := run(map[string]string{"INPUT_SUMMARY": "false", "INPUT_REPORT": "r.json"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := cmd.Flags().GetBool("show-summary"); v {
		t.Error("INPUT_SUMMARY=false left --show-summary true")
	}
	if v, _ := cmd.Flags().GetString("output"); v != "r.json" {
		t.Errorf("INPUT_REPORT: --output = %q", v)
	}
	if _, err := run(map[string]string{"INPUT_SUMMARY": "false", "INPUT_SHOW-SUMMARY": "true"}); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Errorf("summary and show-summary disagreeing: %v", err)
	}
}

// bareTypes are the type names pflag prints for a value flag whose usage
// names no value.
var bareTypes = map[string]bool{
	"string": true, "strings": true, "stringArray": true, "stringSlice": true, "stringToString": true,
	"int": true, "int32": true, "int64": true, "uint": true, "uint64": true, "ints": true,
	"float": true, "float32": true, "float64": true, "duration": true, "durationSlice": true,
	"bytesHex": true, "bytesBase64": true, "ip": true, "ipNet": true, "value": true, "count": true,
}

// TestValueFlagsNamePlaceholders: every flag that takes a value, in every
// command (hidden ones too), names its value in its usage (pflag's
// backquoted word), so help says --policy FILE, not --policy string.
func TestValueFlagsNamePlaceholders(t *testing.T) {
	_, all := testRoot(t)
	n := 0
	for _, c := range all {
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if fl.Value.Type() == "bool" {
				return
			}
			n++
			name, _ := pflag.UnquoteUsage(fl)
			if bareTypes[name] || name == fl.Value.Type() || name == "" {
				t.Errorf("%s --%s: help says %q; name the value in the usage with a backquoted word, e.g. `FILE`", c.CommandPath(), fl.Name, name)
			}
		})
	}
	if n < 50 {
		t.Errorf("only %d value flags seen", n)
	}
}
