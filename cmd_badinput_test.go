package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provenant/provenant/internal/otheruser"
)

// Bad input through the command, in process: each gives a clear error that
// names the input, a non-zero exit code, no panic and no partial file.

// badInput is one command line and what it must say.
type badInput struct {
	name  string
	setup func(t *testing.T, dir string) []string // returns the arguments
	code  int
	want  []string // substrings of stdout+stderr
}

// runBadInputs runs each case in a fresh folder, guarded by a timeout so a
// blocking input fails the test instead of hanging it, and checks that no
// file appeared in the folder.
func runBadInputs(t *testing.T, vars func(t *testing.T, dir string) map[string]string, tests []badInput) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := tc.setup(t, dir)
			before := listTree(t, dir)
			var env map[string]string
			if vars != nil {
				env = vars(t, dir)
			}
			type result struct {
				code     int
				out, err string
			}
			done := make(chan result, 1)
			_, other := otherUserCases.LoadAndDelete(t)
			go func() {
				if other && otheruser.Needed() {
					// Root reads any file: the case runs in a child
					// process as another user, the command line and
					// environment being the same.
					otheruser.Traversable(t, dir)
					var list []string
					for k, v := range env {
						list = append(list, k+"="+v)
					}
					r := otheruser.Run(t, otherUserProvenant, dir, list, args...)
					done <- result{r.Code, r.Stdout, r.Stderr}
					return
				}
				code, out, errOut := runIn(t, env, args...)
				done <- result{code, out, errOut}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("provenant %s: no answer in 60 s (blocked on its input?)", strings.Join(args, " "))
			}
			all := r.out + r.err
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.out, r.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.out, r.err)
				}
			}
			if strings.Contains(all, "panic") || strings.Contains(all, "goroutine ") {
				t.Errorf("a panic:\n%s", all)
			}
			if tc.code == exitUsage && strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
				t.Errorf("usage error is not one line:\n%s", r.err)
			}
			if after := listTree(t, dir); after != before {
				t.Errorf("files appeared:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// otherUserCases holds the running cases (by their *testing.T) whose point
// is a permission root does not lack, such as an unreadable file: as root
// (otheruser.Needed) runBadInputs runs them in a child process as another
// user, as the non-root tests run them in process.
var otherUserCases sync.Map

// asOtherUser marks the running case as one of otherUserCases; its setup
// calls it. The case's files must be readable by the other user (under
// dir, or copied there), but for the one it must not read.
func asOtherUser(t *testing.T) {
	t.Helper()
	otheruser.NeedModeBits(t)
	otherUserCases.Store(t, true)
}

// otherUserProvenant is the child's case that runs the command line of its
// arguments (TestMain runs it: runOtherUserCase).
const otherUserProvenant = "provenant"

// runOtherUserCase runs a child's case of otheruser.Run and returns its exit
// code: the command line of its arguments, as runIn runs it, with the
// process's streams and environment.
func runOtherUserCase(name string) int {
	if name != otherUserProvenant {
		fmt.Fprintf(os.Stderr, "unknown case %q\n", name)
		return 3
	}
	return run(context.Background(), os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
}

// listTree lists the names under dir (without following symbolic links).
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		b.WriteString(p + "\n")
		return nil
	})
	return b.String()
}

func sparseFile(t *testing.T, p string, size int64) string {
	t.Helper()
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t *testing.T, p string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustSymlink(t *testing.T, target, p string) string {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustFIFO(t *testing.T, p string) string {
	t.Helper()
	makeFIFO(t, p)
	return p
}

// verifyArgs is a verify command line for the npm fixture with another
// bundle or artifact.
func verifyArgs(bundle, artifact string) []string {
	return []string{"verify", "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", bundle, artifact}
}

func absFixture(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// nested is JSON nested depth deep.
func nested(depth int) []byte {
	return append(bytes.Repeat([]byte("["), depth), bytes.Repeat([]byte("]"), depth)...)
}

func TestVerifyBadInput(t *testing.T) {
	tgz := func(t *testing.T) string { return absFixture(t, npmTgz) }
	bundle := func(t *testing.T) string { return absFixture(t, npmBundle) }
	runBadInputs(t, nil, []badInput{
		{"bundle of 100 MiB", func(t *testing.T, d string) []string {
			return verifyArgs(sparseFile(t, filepath.Join(d, "big.sigstore.json"), 100<<20), tgz(t))
		}, exitUsage, []string{"big.sigstore.json", "larger than the 64 MiB limit"}},
		{"bundle is a folder", func(t *testing.T, d string) []string {
			os.Mkdir(filepath.Join(d, "b.json"), 0o755)
			return verifyArgs(filepath.Join(d, "b.json"), tgz(t))
		}, exitUsage, []string{"b.json", "not a regular file (a folder)"}},
		{"bundle is /dev/zero", func(t *testing.T, d string) []string { return verifyArgs("/dev/zero", tgz(t)) },
			exitUsage, []string{"/dev/zero", "a device"}},
		{"bundle is a named pipe", func(t *testing.T, d string) []string {
			return verifyArgs(mustFIFO(t, filepath.Join(d, "fifo")), tgz(t))
		}, exitUsage, []string{"fifo", "a named pipe"}},
		{"bundle is a dangling symlink", func(t *testing.T, d string) []string {
			return verifyArgs(mustSymlink(t, filepath.Join(d, "gone"), filepath.Join(d, "b.json")), tgz(t))
		}, exitUsage, []string{"b.json", "no such file"}},
		{"bundle is a symlink loop", func(t *testing.T, d string) []string {
			mustSymlink(t, filepath.Join(d, "b"), filepath.Join(d, "a"))
			return verifyArgs(mustSymlink(t, filepath.Join(d, "a"), filepath.Join(d, "b")), tgz(t))
		}, exitUsage, []string{"too many levels of symbolic links"}},
		{"bundle is unreadable", func(t *testing.T, d string) []string {
			asOtherUser(t)
			// The trusted root and the artifact are copies in d, which
			// the other user can read.
			root := writeFile(t, filepath.Join(d, "trusted_root.json"), mustRead(t, pgRoot))
			artifact := writeFile(t, filepath.Join(d, "app.tgz"), mustRead(t, npmTgz))
			p := writeFile(t, filepath.Join(d, "b.json"), []byte("{}"))
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
			args := verifyArgs(p, artifact)
			args[2] = root // after --trusted-root
			return args
		}, exitUsage, []string{"b.json", "permission denied"}},
		{"empty bundle", func(t *testing.T, d string) []string {
			return verifyArgs(writeFile(t, filepath.Join(d, "empty.json"), nil), tgz(t))
		}, exitFailed, []string{"empty.json", "empty file"}},
		{"bundle not JSON", func(t *testing.T, d string) []string {
			return verifyArgs(writeFile(t, filepath.Join(d, "b.json"), []byte("{nope")), tgz(t))
		}, exitFailed, []string{"b.json:1", "not JSON"}},
		{"bundle nested 100,000 deep", func(t *testing.T, d string) []string {
			return verifyArgs(writeFile(t, filepath.Join(d, "deep.json"), nested(100000)), tgz(t))
		}, exitFailed, []string{"deep.json", "exceeded max depth"}},
		{"object nested 100,000 deep", func(t *testing.T, d string) []string {
			deep := append(bytes.Repeat([]byte(`{"a":`), 100000), bytes.Repeat([]byte("}"), 100000)...)
			return verifyArgs(writeFile(t, filepath.Join(d, "deep.json"), deep), tgz(t))
		}, exitFailed, []string{"deep.json", "exceeded max depth"}},
		{"truncated JSON Lines line", func(t *testing.T, d string) []string {
			data := mustRead(t, npmBundle)
			line := bytes.Join(bytes.Fields(data), []byte(" "))
			return verifyArgs(writeFile(t, filepath.Join(d, "b.jsonl"), line[:len(line)/2]), tgz(t))
		}, exitFailed, []string{"b.jsonl:1", "not JSON"}},
		{"a good line and a truncated one", func(t *testing.T, d string) []string {
			data := mustRead(t, npmBundle)
			line := bytes.Join(bytes.Fields(data), []byte(" "))
			all := append(append(bytes.Clone(line), '\n'), line[:len(line)-10]...)
			return append(verifyArgs(writeFile(t, filepath.Join(d, "b.jsonl"), all), tgz(t)), "--verbose")
		}, exitOK, []string{"b.jsonl:2", "not JSON"}},
		{"artifact is a folder", func(t *testing.T, d string) []string {
			os.Mkdir(filepath.Join(d, "app.tgz"), 0o755)
			return verifyArgs(bundle(t), filepath.Join(d, "app.tgz"))
		}, exitUsage, []string{"app.tgz", "not a regular file (a folder)"}},
		{"artifact is /dev/zero", func(t *testing.T, d string) []string { return verifyArgs(bundle(t), "/dev/zero") },
			exitUsage, []string{"/dev/zero", "a device"}},
		{"artifact is a named pipe", func(t *testing.T, d string) []string {
			return verifyArgs(bundle(t), mustFIFO(t, filepath.Join(d, "fifo")))
		}, exitUsage, []string{"fifo", "a named pipe"}},
		{"artifact is a dangling symlink", func(t *testing.T, d string) []string {
			return verifyArgs(bundle(t), mustSymlink(t, filepath.Join(d, "gone"), filepath.Join(d, "a.tgz")))
		}, exitUsage, []string{"a.tgz", "no such file"}},
		{"artifact is a symlink loop", func(t *testing.T, d string) []string {
			mustSymlink(t, filepath.Join(d, "b"), filepath.Join(d, "a"))
			return verifyArgs(bundle(t), mustSymlink(t, filepath.Join(d, "a"), filepath.Join(d, "b")))
		}, exitUsage, []string{"too many levels of symbolic links"}},
		{"artifact name with a newline", func(t *testing.T, d string) []string {
			return verifyArgs(bundle(t), writeFile(t, filepath.Join(d, "a\nVERIFIED"), []byte("x")))
		}, exitFailed, []string{`a\nVERIFIED`}},
		{"artifact name not UTF-8", func(t *testing.T, d string) []string {
			return verifyArgs(bundle(t), writeFile(t, filepath.Join(d, "a\xff\xfe.tgz"), []byte("x")))
		}, exitFailed, []string{`a\xff\xfe.tgz`}},
		{"attestation of 100 MiB in a bundle dir", func(t *testing.T, d string) []string {
			writeFile(t, filepath.Join(d, "app"), []byte("x"))
			sparseFile(t, filepath.Join(d, "app.sigstore.json"), 100<<20)
			return []string{"verify", "--trusted-root", pgRoot, "--repo", "a/b", "--bundle-dir", d}
		}, exitUsage, []string{"app.sigstore.json", "larger than the 64 MiB limit"}},
	})
}

// attestEnv is a workflow step's environment whose workspace, runner
// temporary folder and outputs are all in dir, so that any file attest
// writes shows in dir.
func attestEnv(t *testing.T, dir string) map[string]string {
	env := newStep(t).env
	env["RUNNER_TEMP"], env["GITHUB_WORKSPACE"] = dir, dir
	env["GITHUB_OUTPUT"], env["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	return env
}

func attestArgs(d string, more ...string) []string {
	return append([]string{"attest", "--no-sign", "--out", filepath.Join(d, "out.intoto.json")}, more...)
}

func TestAttestBadInput(t *testing.T) {
	const ptype = "https://example.com/p"
	asset := func(t *testing.T, d string) string { return writeFile(t, filepath.Join(d, "a.bin"), []byte("a")) }
	sum := strings.Repeat("a", 64)
	runBadInputs(t, attestEnv, []badInput{
		{"empty predicate file", func(t *testing.T, d string) []string {
			return attestArgs(d, "--subject-path", asset(t, d), "--predicate-type", ptype, "--predicate-path", writeFile(t, filepath.Join(d, "p.json"), nil))
		}, exitUsage, []string{"predicate-path", "p.json", "empty file"}},
		{"predicate nested 100000 deep", func(t *testing.T, d string) []string {
			deep := append(bytes.Repeat([]byte(`{"a":`), 100000), bytes.Repeat([]byte("}"), 100000)...)
			return attestArgs(d, "--subject-path", asset(t, d), "--predicate-type", ptype, "--predicate-path", writeFile(t, filepath.Join(d, "p.json"), deep))
		}, exitUsage, []string{"p.json", "exceeded max depth"}},
		{"predicate path is a folder", func(t *testing.T, d string) []string {
			os.Mkdir(filepath.Join(d, "p.json"), 0o755)
			return attestArgs(d, "--subject-path", asset(t, d), "--predicate-type", ptype, "--predicate-path", filepath.Join(d, "p.json"))
		}, exitUsage, []string{"p.json", "a folder"}},
		{"predicate path is a dangling symlink", func(t *testing.T, d string) []string {
			p := mustSymlink(t, filepath.Join(d, "gone"), filepath.Join(d, "p.json"))
			return attestArgs(d, "--subject-path", asset(t, d), "--predicate-type", ptype, "--predicate-path", p)
		}, exitUsage, []string{"p.json", "no such file"}},
		{"subject path is a dangling symlink", func(t *testing.T, d string) []string {
			return attestArgs(d, "--subject-path", mustSymlink(t, filepath.Join(d, "gone"), filepath.Join(d, "a.bin")))
		}, exitUsage, []string{"subject-path", "a.bin"}},
		{"subject path is a symlink loop", func(t *testing.T, d string) []string {
			mustSymlink(t, filepath.Join(d, "b"), filepath.Join(d, "a"))
			return attestArgs(d, "--subject-path", mustSymlink(t, filepath.Join(d, "a"), filepath.Join(d, "b")))
		}, exitUsage, []string{"subject-path"}},
		{"subject name not UTF-8", func(t *testing.T, d string) []string {
			return attestArgs(d, "--subject-path", writeFile(t, filepath.Join(d, "a\xff.bin"), []byte("a")))
		}, exitUsage, []string{"not valid UTF-8"}},
		{"subject name with a newline", func(t *testing.T, d string) []string {
			writeFile(t, filepath.Join(d, "a\n::set-output name=x::y"), []byte("a"))
			return attestArgs(d, "--subject-path", filepath.Join(d, "a*")) // --subject-path splits at newlines
		}, exitUsage, []string{"control character U+000A"}},
		{"checksums name with a control character", func(t *testing.T, d string) []string {
			return attestArgs(d, "--subject-checksums", writeFile(t, filepath.Join(d, "SUMS"), []byte(sum+"  a\x1b[2Jb\n")))
		}, exitUsage, []string{"SUMS", "line 1", "control character U+001B"}},
		{"checksums with an unknown digest length among known ones", func(t *testing.T, d string) []string {
			text := sum + "  a\n" + strings.Repeat("b", 128) + "  b\n" + strings.Repeat("c", 40) + "  c\n"
			return attestArgs(d, "--subject-checksums", writeFile(t, filepath.Join(d, "SUMS"), []byte(text)))
		}, exitUsage, []string{"SUMS", "line 3", "40 hex digits"}},
		{"checksums naming one subject with two sha256 digests", func(t *testing.T, d string) []string {
			text := sum + "  a\n" + strings.Repeat("b", 64) + "  a\n"
			return attestArgs(d, "--subject-checksums", writeFile(t, filepath.Join(d, "SUMS"), []byte(text)))
		}, exitUsage, []string{"SUMS"}},
		{"checksums file of 17 MiB", func(t *testing.T, d string) []string {
			return attestArgs(d, "--subject-checksums", sparseFile(t, filepath.Join(d, "SUMS"), 17<<20))
		}, exitUsage, []string{"SUMS", "16 MiB"}},
		{"checksums file is a folder", func(t *testing.T, d string) []string {
			os.Mkdir(filepath.Join(d, "SUMS"), 0o755)
			return attestArgs(d, "--subject-checksums", filepath.Join(d, "SUMS"))
		}, exitUsage, []string{"SUMS", "a folder"}},
	})
}

// TestAttestHundredThousandSubjects: a checksums file of 100,000 lines
// (6.8 MB, under the 16 MiB limit) is a statement of 100,000 subjects.
func TestAttestHundredThousandSubjects(t *testing.T) {
	d := t.TempDir()
	var b strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&b, "%064x  asset-%06d\n", i, i)
	}
	writeFile(t, filepath.Join(d, "SUMS"), []byte(b.String()))
	out := filepath.Join(d, "out.intoto.json")
	code, stdout, stderr := runIn(t, attestEnv(t, d), "attest", "--no-sign", "--out", out, "--subject-checksums", filepath.Join(d, "SUMS"))
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%.2000s\nstderr:\n%.2000s", code, stdout, stderr)
	}
	var st struct {
		Subject []json.RawMessage `json:"subject"`
	}
	if err := json.Unmarshal(mustRead(t, out), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Subject) != 100000 {
		t.Errorf("%d subjects, want 100000", len(st.Subject))
	}
}
