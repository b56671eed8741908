package builder

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// FileCommands writes the GitHub Actions file commands of a step: its
// outputs (GITHUB_OUTPUT), environment (GITHUB_ENV) and step summary
// (GITHUB_STEP_SUMMARY).
//
// It exists because go-githubactions v1.3.2 writes outputs and environment
// variables as "name<<_GitHubActionsFileCommandDelimeter_" blocks with that
// fixed delimiter: a value holding a line "_GitHubActionsFileCommandDelimeter_"
// (a file name, say) ends the value early and sets outputs of its own. It
// also panics when the file cannot be written. Like @actions/core, this
// writer uses a fresh random delimiter ("ghadelimiter_<uuid>") for every
// value and refuses a name or value that holds it, and it returns errors.
// Everything else (log lines, masks, annotations) goes through
// go-githubactions, which escapes workflow command data correctly.
type FileCommands struct {
	// Getenv reads GITHUB_OUTPUT, GITHUB_ENV and GITHUB_STEP_SUMMARY.
	Getenv func(string) string
	// Random is the source of delimiters; nil means crypto/rand.
	Random io.Reader
}

// ErrNoCommandFile means the variable naming a command file is unset.
var ErrNoCommandFile = errors.New("not set")

// SetOutputs appends the outputs to GITHUB_OUTPUT in one write, in name
// order. Without GITHUB_OUTPUT it does nothing and returns ErrNoCommandFile.
func (w *FileCommands) SetOutputs(outputs map[string]string) error {
	return w.setAll("GITHUB_OUTPUT", outputs)
}

// SetEnv appends environment variables for the next steps to GITHUB_ENV.
func (w *FileCommands) SetEnv(vars map[string]string) error {
	return w.setAll("GITHUB_ENV", vars)
}

func (w *FileCommands) setAll(variable string, values map[string]string) error {
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		block, err := w.block(k, values[k])
		if err != nil {
			return fmt.Errorf("%s: %w", variable, err)
		}
		b.WriteString(block)
	}
	return w.appendTo(variable, b.String())
}

// block is one "name<<delimiter\nvalue\ndelimiter\n" entry.
func (w *FileCommands) block(name, value string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\r\n=") || strings.Contains(name, "<<") {
		return "", fmt.Errorf("name %q cannot be written as a file command", name)
	}
	if !utf8.ValidString(value) {
		return "", fmt.Errorf("%s: value is not valid UTF-8", name)
	}
	delim, err := w.delimiter()
	if err != nil {
		return "", err
	}
	if strings.Contains(name, delim) {
		return "", fmt.Errorf("name %q holds the delimiter %s", name, delim)
	}
	if strings.Contains(value, delim) {
		return "", fmt.Errorf("%s: value holds the delimiter %s", name, delim)
	}
	return name + "<<" + delim + "\n" + value + "\n" + delim + "\n", nil
}

// delimiter is "ghadelimiter_" and a random UUID, as @actions/core makes it.
func (w *FileCommands) delimiter() (string, error) {
	r := w.Random
	if r == nil {
		r = rand.Reader
	}
	u := make([]byte, 16)
	if _, err := io.ReadFull(r, u); err != nil {
		return "", fmt.Errorf("random delimiter: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(u)
	return "ghadelimiter_" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// AppendSummary appends Markdown to the step summary. The caller escapes
// every value in it (see EscapeMarkdown).
func (w *FileCommands) AppendSummary(markdown string) error {
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	return w.appendTo("GITHUB_STEP_SUMMARY", markdown)
}

// CheckWritable opens the command file a variable names for appending,
// writing nothing, so a step finds out before it contacts any service that
// it could not set its outputs. An unset variable is ErrNoCommandFile.
func (w *FileCommands) CheckWritable(variable string) error {
	return w.appendTo(variable, "")
}

func (w *FileCommands) appendTo(variable, text string) error {
	path := w.Getenv(variable)
	if path == "" {
		return fmt.Errorf("%s: %w", variable, ErrNoCommandFile)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", variable, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("%s: writing %s: %w", variable, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: writing %s: %w", variable, path, err)
	}
	return nil
}

// Printable returns s with every control character (C0 including newline,
// carriage return, ESC and NUL; DEL; C1) and every invalid UTF-8 byte
// written as a Go escape (\n, \x1b, \u0085). Anything a user supplies goes
// through it before it is logged: it then cannot start a log line (so "::"
// never begins a workflow command we did not mean) nor carry a terminal
// escape.
func Printable(s string) string {
	if isPrintable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case IsControl(r):
			q := strconvQuoteRune(r)
			b.WriteString(q)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func isPrintable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if IsControl(r) {
			return false
		}
	}
	return true
}

// IsControl reports whether r is a C0 control, DEL or a C1 control.
func IsControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f)
}

// strconvQuoteRune is the Go escape of a control rune without quotes.
func strconvQuoteRune(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	if r < 0x80 {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// EscapeMarkdown makes s literal text in GitHub-flavoured Markdown and
// HTML: HTML's special characters become entities, Markdown's punctuation is
// backslash-escaped, and control characters are shown as escapes (see
// Printable), so a value in a step summary cannot become a link, an image,
// a tag or a table cell of its own.
func EscapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range Printable(s) {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == '|':
			b.WriteString("&#124;")
		case strings.ContainsRune("\\`*_{}[]()#+-.!~:@=", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseFileCommands reads a GITHUB_OUTPUT or GITHUB_ENV file as the runner
// does: name<<DELIM lines, each value the lines up to the delimiter
// (whatever follows "<<"). Empty lines between blocks are skipped; any
// other line, or a value that never ends, is an error. It reads what
// FileCommands writes, for the tests of every command that writes outputs.
func ParseFileCommands(text string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			return nil, fmt.Errorf("line %d is not a name<<delimiter line: %q", i+1, lines[i])
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("the value of %s never ends (no line %q)", name, delim)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out, nil
}
