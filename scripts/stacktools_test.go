package scripts_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// The module scripts/stack-tools builds the stack's servers, the registry and
// ko in one go build (scripts/sigstore-stack build_servers). These tests keep
// its three descriptions of that set in step: the packages tools.go imports
// (what go mod tidy keeps), the SERVERS list the script builds and runs, and
// the versions the documentation and the scripts' comments name.

// serverPackages reads the main packages of SERVERS in scripts/sigstore-stack.
func serverPackages(t *testing.T) map[string]string {
	t.Helper()
	src := readFile(t, "sigstore-stack")
	block := regexp.MustCompile(`(?s)\nSERVERS=\((.*?)\n\)`).FindStringSubmatch(src)
	if block == nil {
		t.Fatal("scripts/sigstore-stack: no SERVERS=( ... ) list")
	}
	bins := map[string]string{}
	for _, m := range regexp.MustCompile(`"([^"|]+)\|([^"|]+)"`).FindAllStringSubmatch(block[1], -1) {
		bins[m[1]] = m[2]
	}
	if len(bins) == 0 {
		t.Fatal("scripts/sigstore-stack: SERVERS lists nothing")
	}
	return bins
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStackTools_ModuleBuildsWhatTheScriptRuns(t *testing.T) {
	var imported []string
	for _, m := range regexp.MustCompile(`(?m)^\t_ "([^"]+)"$`).FindAllStringSubmatch(readFile(t, "stack-tools/tools.go"), -1) {
		imported = append(imported, m[1])
	}
	var listed []string
	for _, pkg := range serverPackages(t) {
		listed = append(listed, pkg)
	}
	slices.Sort(imported)
	slices.Sort(listed)
	if !slices.Equal(imported, listed) {
		t.Errorf("scripts/stack-tools/tools.go imports\n  %v\nbut SERVERS in scripts/sigstore-stack builds\n  %v\n(a package imported but not built is compiled for nothing; one built but not imported is dropped by go mod tidy)", imported, listed)
	}
	// Every binary built is run by something: the stack (tool_bin servers
	// NAME) or a tool-path wrapper script.
	stack := readFile(t, "sigstore-stack")
	for bin := range serverPackages(t) {
		if strings.Contains(stack, "tool_bin servers "+bin+")") || strings.Contains(stack, "tool_bin servers "+bin+"\"") {
			continue
		}
		if _, err := os.Stat(bin); err == nil && strings.Contains(readFile(t, bin), "tool-path "+bin) {
			continue
		}
		t.Errorf("SERVERS builds %s, but neither the stack nor scripts/%s runs it", bin, bin)
	}
}

func TestStackTools_VersionsNamedWhereTheyAreRead(t *testing.T) {
	gomod, err := modfile.Parse("stack-tools/go.mod", []byte(readFile(t, "stack-tools/go.mod")), nil)
	if err != nil {
		t.Fatal(err)
	}
	version := map[string]string{}
	for _, r := range gomod.Require {
		if !r.Indirect {
			version[r.Mod.Path] = r.Mod.Version
		}
	}
	// module -> where its version is named for a reader: a file, and for
	// the stack's table a line of it that must carry the version.
	cases := []struct {
		module, file, line string
	}{
		{"github.com/distribution/distribution/v3", "registry", ""},
		{"github.com/distribution/distribution/v3", "../README.md", "distribution's registry"},
		{"github.com/google/ko", "ko", ""},
		{"github.com/google/ko", "../.ko.yaml", ""},
		{"github.com/sigstore/fulcio", "../docs/sigstore-stack.md", "| Fulcio, "},
		{"github.com/transparency-dev/tesseract", "../docs/sigstore-stack.md", "| TesseraCT POSIX"},
		{"github.com/sigstore/timestamp-authority/v2", "../docs/sigstore-stack.md", "| timestamp-authority, "},
		{"github.com/sigstore/rekor-tiles/v2", "../docs/sigstore-stack.md", "| rekor-tiles POSIX"},
		{"github.com/sigstore/rekor", "../docs/sigstore-stack.md", "| rekor-server (Rekor v1)"},
		{"github.com/google/trillian", "../docs/sigstore-stack.md", "| trillian_log_server"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		v, ok := version[c.module]
		if !ok {
			t.Errorf("scripts/stack-tools/go.mod does not require %s directly", c.module)
			continue
		}
		seen[c.module] = true
		text := readFile(t, c.file)
		if c.line != "" {
			i := strings.Index(text, c.line)
			if i < 0 {
				t.Errorf("%s: no line with %q", c.file, c.line)
				continue
			}
			text, _, _ = strings.Cut(text[i:], "\n")
		}
		if !strings.Contains(text, v) {
			t.Errorf("%s names %s at another version than the %s scripts/stack-tools/go.mod builds", c.file, c.module, v)
		}
	}
	for m := range version {
		if !seen[m] {
			t.Errorf("scripts/stack-tools/go.mod requires %s, which no documentation names the version of (add it to this table)", m)
		}
	}
}
