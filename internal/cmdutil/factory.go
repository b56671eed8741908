// Package cmdutil is what every provenant command is built from: the
// Factory that owns the process's streams, environment, working folder,
// clock and network clients; the Actions-aware Logger; the typed errors a
// command returns instead of an exit code; the flag groups several
// commands share; and the file writes attest, verify and policy use.
//
// It follows the GitHub CLI's pkg/cmdutil: a command takes a *Factory and
// asks it for what it needs, so a test builds one by hand.
package cmdutil

import (
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/trust"
)

// Timeouts of the HTTP clients the factory makes, one per kind of work.
const (
	// TimeoutShort bounds a request for a token, a key or TUF metadata.
	TimeoutShort = 30 * time.Second
	// TimeoutAPI bounds one GitHub API request.
	TimeoutAPI = 60 * time.Second
	// TimeoutRegistry bounds one registry push, fetch or resolve.
	TimeoutRegistry = 2 * time.Minute
	// TimeoutDownload bounds the download of one release asset.
	TimeoutDownload = 10 * time.Minute
)

// BuildInfo is what the binary knows of its own version (set by main from
// its -ldflags variables).
type BuildInfo struct {
	// Version is the version release builds stamp ("" otherwise).
	Version string
	// Commit is the commit a build without VCS information may stamp (""
	// otherwise; release builds cannot: see SourceDigest).
	Commit string
	// SourceDigest is the source digest release builds stamp (hex): the
	// digest scripts/build-release writes to dist/source-digest, of every
	// tracked file outside dist/ (scripts/install-binary --source-digest).
	// A release commit cannot name itself in its binaries (its
	// dist/checksums.txt holds their checksums), so this is what ties a
	// release binary to its source exactly.
	SourceDigest string
}

// Factory is what a command may take from the process: its streams, its
// environment, its working folder, its clock, and the network clients,
// made here and nowhere else. Tests build one by hand.
type Factory struct {
	// Stdout receives results (reports, policies, statements).
	Stdout io.Writer
	// Stderr receives the log.
	Stderr io.Writer
	// Getenv reads the environment.
	Getenv func(string) string
	// Getwd is the working folder; nil means os.Getwd.
	Getwd func() (string, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Build is the binary's stamped version and commit.
	Build BuildInfo
	// Transport, when set, carries every HTTP request the factory's
	// clients make (tests); nil is http.DefaultTransport.
	Transport http.RoundTripper
}

// System is the factory of the running process: os streams and
// environment, the real clock.
func System(build BuildInfo) *Factory {
	return &Factory{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd, Now: time.Now, Build: build}
}

// Dir is the working folder ("" when it cannot be read).
func (f *Factory) Dir() string {
	getwd := f.Getwd
	if getwd == nil {
		getwd = os.Getwd
	}
	d, _ := getwd()
	return d
}

// Time is the factory's clock's now.
func (f *Factory) Time() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// InActions reports whether the process runs as a GitHub Actions step.
func (f *Factory) InActions() bool { return builder.InActions(f.Getenv) }

// HTTPClient is an HTTP client whose requests end after timeout.
func (f *Factory) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: f.Transport}
}

// UserAgent names provenant to the services it calls.
func (f *Factory) UserAgent() string { return "provenant/" + ReadBuildFacts(f.Build).Version }

// OCI is the registry client of the commands: credentials from the Docker
// config and its credential helpers (docker login, or docker/login-action
// in a workflow).
func (f *Factory) OCI() *remote.OCI {
	return remote.NewOCI(remote.OCIOptions{Keychain: authn.DefaultKeychain, Transport: f.Transport, Timeout: TimeoutRegistry, UserAgent: f.UserAgent()})
}

// TUFCacheDir is the TUF cache: flagValue, else the platform's user cache
// folder with provenant/tuf under it (trust.DefaultCacheDir, os.UserCacheDir's
// rules: %LocalAppData% on Windows, ~/Library/Caches on macOS,
// $XDG_CACHE_HOME or ~/.cache elsewhere). Signing and verifying share it, so
// both keep one copy of each instance's root. It is "" when none can be
// worked out: no shared default such as /tmp (another user could plant a
// root there); trust refuses an empty cache folder and asks for --tuf-cache.
func (f *Factory) TUFCacheDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return trust.DefaultCacheDir(f.Getenv)
}

// trimHost is a --hostname without its scheme and trailing slash.
func trimHost(hostname string) string {
	return strings.TrimSuffix(strings.TrimPrefix(hostname, "https://"), "/")
}
