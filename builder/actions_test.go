package builder

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseFileCommands reads name<<DELIM blocks the way the runner does.
func parseFileCommands(t *testing.T, text string) map[string]string {
	t.Helper()
	out, err := ParseFileCommands(text)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFileCommands_FixedDelimiterInjectionIsInert(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out")}
	w := &FileCommands{Getenv: func(k string) string { return env[k] }}
	evil := "x\n::warning title=INJECTED::owned\n_GitHubActionsFileCommandDelimeter_\nlog-index=31337\nextra<<EOF\nhi\nEOF"
	if err := w.SetOutputs(map[string]string{"bundle-path": evil, "subject-count": "1"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	got := parseFileCommands(t, string(raw))
	if len(got) != 2 || got["bundle-path"] != evil || got["subject-count"] != "1" {
		t.Errorf("outputs = %q, want exactly bundle-path (the whole value) and subject-count", got)
	}
	if strings.Contains(string(raw), "_GitHubActionsFileCommandDelimeter_\nlog") && !strings.Contains(string(raw), "ghadelimiter_") {
		t.Error("fixed delimiter used")
	}
}

func TestFileCommands_DelimiterIsFreshPerValue(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out")}
	w := &FileCommands{Getenv: func(k string) string { return env[k] }}
	if err := w.SetOutputs(map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	lines := strings.Split(string(raw), "\n")
	if !strings.HasPrefix(lines[0], "a<<ghadelimiter_") || !strings.HasPrefix(lines[3], "b<<ghadelimiter_") {
		t.Fatalf("unexpected layout: %q", raw)
	}
	if lines[0][3:] == lines[3][3:] {
		t.Error("the same delimiter for two values")
	}
}

func TestFileCommands_Refusals(t *testing.T) {
	// A fixed "random" source makes the delimiter predictable, so a value
	// holding it can be built.
	zeros := func() *bytes.Reader { return bytes.NewReader(make([]byte, 64)) }
	delim := "ghadelimiter_00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name, key, value, want string
	}{
		{"value holds the delimiter", "k", "a\n" + delim + "\nb=1", "holds the delimiter"},
		{"name holds the delimiter", "k" + delim, "v", "holds the delimiter"},
		{"name with newline", "a\nb", "v", "cannot be written"},
		{"empty name", "", "v", "cannot be written"},
		{"invalid UTF-8 value", "k", "\xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out")}
			w := &FileCommands{Getenv: func(k string) string { return env[k] }, Random: zeros()}
			err := w.SetOutputs(map[string]string{tt.key: tt.value})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if raw, _ := os.ReadFile(env["GITHUB_OUTPUT"]); len(raw) != 0 {
				t.Errorf("wrote %q despite the error", raw)
			}
		})
	}
}

func TestFileCommands_UnwritableIsAnErrorNotAPanic(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": dir, "GITHUB_STEP_SUMMARY": filepath.Join(dir, "missing", "s")}
	w := &FileCommands{Getenv: func(k string) string { return env[k] }}
	if err := w.CheckWritable("GITHUB_OUTPUT"); err == nil {
		t.Error("a folder as GITHUB_OUTPUT passes the check")
	}
	if err := w.SetOutputs(map[string]string{"a": "b"}); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT") {
		t.Errorf("SetOutputs err = %v", err)
	}
	if err := w.AppendSummary("x"); err == nil || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY") {
		t.Errorf("AppendSummary err = %v", err)
	}
	if err := w.CheckWritable("GITHUB_ENV"); !errors.Is(err, ErrNoCommandFile) {
		t.Errorf("unset GITHUB_ENV: %v", err)
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain name.tgz", "plain name.tgz"},
		{"a\n::warning::x", `a\n::warning::x`},
		{"cr\rlf", `cr\rlf`},
		{"esc\x1b[31mred", `esc\x1b[31mred`},
		{"nul\x00", `nul\x00`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085next", `c1\u0085next`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"ünïcödé ok", "ünïcödé ok"},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.ContainsAny(Printable(tt.in), "\n\r") {
			t.Errorf("Printable(%q) keeps a line break", tt.in)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct{ in, mustNot string }{
		{`<img src=x onerror=alert(1)>`, "<img"},
		{`[Download here](https://evil.example/x)`, "](https"},
		{"a|b", "|"},
		{"line\rbreak", "\r"},
		{"esc\x1b[2J", "\x1b"},
		{"`code`", "`code`"},
		{"www.evil.example", "www.e"},
	}
	for _, tt := range tests {
		got := EscapeMarkdown(tt.in)
		if strings.Contains(got, tt.mustNot) {
			t.Errorf("EscapeMarkdown(%q) = %q still holds %q", tt.in, got, tt.mustNot)
		}
	}
	if got := EscapeMarkdown("app-1.0_linux.tgz"); got != `app\-1\.0\_linux\.tgz` {
		t.Errorf("EscapeMarkdown kept meaning changes: %q", got)
	}
}

// TestParseFileCommands: blocks read as the runner reads them; a stray
// line or a value that never ends is an error, not a silent skip.
func TestParseFileCommands(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		want       map[string]string
		wantErr    string
	}{
		{"two blocks", "a<<D1\nx\ny\nD1\n\nb<<D2\n\nD2\n", map[string]string{"a": "x\ny", "b": ""}, ""},
		{"stray line", "a<<D\nx\nD\nb=1\n", nil, "line 4 is not a name<<delimiter line"},
		{"never ends", "a<<D\nx\n", nil, "the value of a never ends"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFileCommands(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
