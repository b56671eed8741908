package cmdutil

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// getenv is an environment of vars alone.
func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestAPIURL(t *testing.T) {
	tests := []struct {
		name     string
		hostname string
		vars     map[string]string
		want     string
	}{
		{name: "github.com", hostname: "github.com", want: "https://api.github.com/"},
		{name: "github.com in a runner of GHES", hostname: "github.com", vars: map[string]string{"GITHUB_API_URL": "https://ghes.example/api/v3"}, want: "https://ghes.example/api/v3"},
		{name: "GHES", hostname: "https://ghes.example/", want: "https://ghes.example/api/v3/"},
		{name: "another GHES than the runner's", hostname: "other.example", vars: map[string]string{"GITHUB_API_URL": "https://ghes.example/api/v3", "GITHUB_SERVER_URL": "https://ghes.example"}, want: "https://other.example/api/v3/"},
		{name: "the runner's own GHES", hostname: "GHES.example", vars: map[string]string{"GITHUB_API_URL": "https://ghes.example/api/v3", "GITHUB_SERVER_URL": "https://ghes.example"}, want: "https://ghes.example/api/v3"},
		{name: "a tenant", hostname: "acme.ghe.com", want: "https://api.acme.ghe.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Factory{Getenv: getenv(tt.vars)}
			if got := f.APIURL(tt.hostname); got != tt.want {
				t.Errorf("APIURL(%q) = %q, want %q", tt.hostname, got, tt.want)
			}
		})
	}
}

func TestWorkflowAPIURL(t *testing.T) {
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"GITHUB_API_URL": "https://api.example/"}, "https://api.example/"},
		{map[string]string{"GITHUB_SERVER_URL": "https://ghes.example"}, "https://ghes.example/api/v3/"},
		{nil, "https://api.github.com/"},
	}
	for _, tt := range tests {
		if got := (&Factory{Getenv: getenv(tt.vars)}).WorkflowAPIURL(); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.vars, got, tt.want)
		}
	}
}

func TestToken(t *testing.T) {
	all := map[string]string{"GH_TOKEN": "gh", "GITHUB_TOKEN": "github", "GH_ENTERPRISE_TOKEN": "ghe", "GITHUB_ENTERPRISE_TOKEN": "githube"}
	tests := []struct {
		host string
		vars map[string]string
		want string
	}{
		{"github.com", all, "gh"},
		{"", map[string]string{"GITHUB_TOKEN": "github"}, "github"},
		{"acme.ghe.com", all, "gh"},
		{"github.localhost", all, "gh"},
		{"ghes.example", all, "ghe"},
		{"ghes.example", map[string]string{"GITHUB_ENTERPRISE_TOKEN": "githube", "GH_TOKEN": "gh"}, "githube"},
		{"ghes.example", map[string]string{"GH_TOKEN": "gh"}, ""},
	}
	for _, tt := range tests {
		if got := (&Factory{Getenv: getenv(tt.vars)}).Token(tt.host); got != tt.want {
			t.Errorf("Token(%q) with %v = %q, want %q", tt.host, tt.vars, got, tt.want)
		}
	}
}

func TestTenantHost(t *testing.T) {
	tests := []struct {
		host string
		vars map[string]string
		want string
	}{
		{"acme.ghe.com", nil, "acme.ghe.com"},
		{"https://Acme.ghe.com/", nil, "acme.ghe.com"},
		{"github.com", map[string]string{"GITHUB_API_URL": "https://api.acme.ghe.com"}, "acme.ghe.com"},
		{"github.com", nil, ""},
		{"a.b.ghe.com", nil, ""},
		{"ghes.example", nil, ""},
	}
	for _, tt := range tests {
		if got := (&Factory{Getenv: getenv(tt.vars)}).TenantHost(tt.host); got != tt.want {
			t.Errorf("TenantHost(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestTUFCacheDir(t *testing.T) {
	tests := []struct {
		flag string
		vars map[string]string
		want string
	}{
		{"d", map[string]string{"HOME": "/h"}, "d"},
		{"", map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"}, filepath.Join("/x", "provenant", "tuf")},
		{"", map[string]string{"HOME": "/h"}, filepath.Join("/h", ".cache", "provenant", "tuf")},
		{"", nil, ""},
	}
	for _, tt := range tests {
		if got := (&Factory{Getenv: getenv(tt.vars)}).TUFCacheDir(tt.flag); got != tt.want {
			t.Errorf("TUFCacheDir(%q) with %v = %q, want %q", tt.flag, tt.vars, got, tt.want)
		}
	}
}

// TestLogger: an annotation in Actions when asked, the command's prefix on
// stderr elsewhere, and every message escaped whole.
func TestLogger(t *testing.T) {
	tests := []struct {
		name              string
		actions, annotate bool
		log               func(*Logger)
		stdout, stderr    string
	}{
		{name: "error", log: func(l *Logger) { l.Error("bad") }, stderr: "provenant x: bad\n"},
		{name: "error, a name with a line break", log: func(l *Logger) { l.Error("a\n::error::b") }, stderr: `provenant x: a\n::error::b` + "\n"},
		{name: "error in Actions, annotated", actions: true, annotate: true, log: func(l *Logger) { l.Error("bad") }, stdout: "::error::provenant x: bad\n"},
		{name: "error in Actions, not annotated", actions: true, log: func(l *Logger) { l.Error("bad") }, stderr: "provenant x: bad\n"},
		{name: "warning", log: func(l *Logger) { l.Warn("old") }, stderr: "provenant x: warning: old\n"},
		{name: "warning in Actions", actions: true, annotate: true, log: func(l *Logger) { l.Warn("old") }, stdout: "::warning::old\n"},
		{name: "printf", log: func(l *Logger) { l.Printf("%d read", 2) }, stderr: "provenant x: 2 read\n"},
		{name: "plain", log: func(l *Logger) { l.Plainf("wrote %s", "a\rb") }, stderr: `wrote a\rb` + "\n"},
		{name: "mask outside Actions", log: func(l *Logger) { l.Mask("s3cret") }},
		{name: "mask in Actions", actions: true, log: func(l *Logger) { l.Mask("s3cret") }, stdout: "::add-mask::s3cret\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			vars := map[string]string{}
			if tt.actions {
				vars["GITHUB_ACTIONS"] = "true"
			}
			f := &Factory{Stdout: &out, Stderr: &errOut, Getenv: getenv(vars)}
			tt.log(f.Logger("provenant x", tt.annotate))
			if out.String() != tt.stdout || errOut.String() != tt.stderr {
				t.Errorf("stdout %q stderr %q, want %q and %q", out.String(), errOut.String(), tt.stdout, tt.stderr)
			}
		})
	}
}

func TestWriteOrRescue_KeepsTheSignedBundle(t *testing.T) {
	temp := t.TempDir()
	f := &Factory{Getenv: getenv(map[string]string{"RUNNER_TEMP": temp})}
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	saved, err := f.WriteOrRescue(filepath.Join(blocker, "a.sigstore.json"), []byte("bundle"))
	if err == nil || saved == "" || !strings.Contains(err.Error(), "kept in "+saved) {
		t.Fatalf("saved %q, err %v: want the error to say where the bundle is", saved, err)
	}
	if got, _ := os.ReadFile(saved); string(got) != "bundle" || filepath.Dir(saved) != temp {
		t.Errorf("rescued %q in %s", got, filepath.Dir(saved))
	}
}
