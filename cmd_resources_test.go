package main

// Resources: huge and deep inputs end in a clear error with bounded memory.
// Each case runs the binary as a child process and reports its peak RSS
// (getrusage's ru_maxrss); the bound asserted is loose, no time is.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runRSS runs the binary in dir with args and returns its exit code,
// combined output and peak RSS in KiB.
func runRSS(t *testing.T, dir string, env []string, args ...string) (int, string, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The child's peak RSS as getrusage reports it counts the memory of
	// the process it was forked from until it execs: this test process,
	// hundreds of MiB once other tests ran. A fresh copy of the test
	// binary, small, forks the child instead and reports its figure.
	report := filepath.Join(t.TempDir(), "maxrss")
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{binary}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, rssLauncherEnv + "=" + report}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v: killed after 2 minutes", args)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("%v: no peak RSS reported: %v\n%s", args, err, out.String())
	}
	rss, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), rss
}

// rssLauncherEnv makes the test binary, started by runRSS, run its
// arguments as a command and write the command's peak RSS (KiB) to the
// file the variable names, exiting with the command's status.
const rssLauncherEnv = "PROVENANT_TEST_RSS_REPORT"

func launchForRSS(args []string) int {
	report := os.Getenv(rssLauncherEnv)
	cmd := exec.Command(args[0], args[1:]...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, rssLauncherEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "rss launcher:", err)
		return 125
	}
	maxrss := childMaxRSS(cmd.ProcessState.SysUsage())
	if werr := os.WriteFile(report, []byte(strconv.FormatInt(maxrss, 10)), 0o644); werr != nil {
		fmt.Fprintln(os.Stderr, "rss launcher:", werr)
		return 125
	}
	return cmd.ProcessState.ExitCode()
}

// jsonlOf1GiB is a 1 GiB JSON Lines file: real bundle lines first, then
// (sparse, taking no disk) the rest; the reader must stop at its limit.
func jsonlOf1GiB(t *testing.T, p string) string {
	t.Helper()
	line := bytes.ReplaceAll(bytes.TrimSpace(readFixture(t, npmBundle)), []byte("\n"), nil)
	var b bytes.Buffer
	for i := 0; i < 100; i++ {
		b.Write(line)
		b.WriteByte('\n')
	}
	writeFile(t, p, b.Bytes())
	if err := os.Truncate(p, 1<<30); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResources_HugeAndDeepInputs(t *testing.T) {
	const maxRSS = 256 << 10 // KiB: far above what refusing or parsing needs, far below reading 1 GiB
	tgz, root := absFixture(t, npmTgz), absFixture(t, pgRoot)
	verifyArgs := func(bundle, artifact string) []string {
		return []string{"verify", "--trusted-root", root, "--repo", "sigstore/sigstore-js", "--bundle", bundle, artifact}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, d string) []string
		want  []string // in the output
	}{
		{"bundle of 100 MiB", func(t *testing.T, d string) []string {
			return verifyArgs(sparseFile(t, filepath.Join(d, "big.sigstore.json"), 100<<20), tgz)
		}, []string{"big.sigstore.json", "larger than the 64 MiB limit"}},
		{"JSON Lines of 1 GiB", func(t *testing.T, d string) []string {
			return verifyArgs(jsonlOf1GiB(t, filepath.Join(d, "huge.intoto.jsonl")), tgz)
		}, []string{"huge.intoto.jsonl", "larger than the 64 MiB limit"}},
		{"bundle nested 100,000 deep", func(t *testing.T, d string) []string {
			return verifyArgs(writeFile(t, filepath.Join(d, "deep.json"), nested(100000)), tgz)
		}, []string{"deep.json", "exceeded max depth"}},
		{"predicate nested 100,000 deep", func(t *testing.T, d string) []string {
			writeFile(t, filepath.Join(d, "a.bin"), []byte("a"))
			return []string{"attest", "--no-sign", "--subject-path", "a.bin", "--predicate-type", "https://example.com/p/v1",
				"--predicate-path", writeFile(t, filepath.Join(d, "deep.json"), []byte(strings.Repeat(`{"a":`, 100000)+"1"+strings.Repeat("}", 100000)))}
		}, []string{"predicate-path", "deep.json", "exceeded max depth"}},
		{"predicate of 1 GiB", func(t *testing.T, d string) []string {
			writeFile(t, filepath.Join(d, "a.bin"), []byte("a"))
			return []string{"attest", "--no-sign", "--subject-path", "a.bin", "--predicate-type", "https://example.com/p/v1",
				"--predicate-path", sparseFile(t, filepath.Join(d, "p.json"), 1<<30)}
		}, []string{"predicate-path", "p.json", "larger than the 16 MiB limit"}},
		{"checksums of 1 GiB", func(t *testing.T, d string) []string {
			return []string{"attest", "--no-sign", "--subject-checksums", sparseFile(t, filepath.Join(d, "SHA256SUMS"), 1<<30)}
		}, []string{"subject-checksums", "SHA256SUMS", "larger than the 16 MiB limit"}},
		{"policy file of 1 GiB", func(t *testing.T, d string) []string {
			return append(verifyArgs(absFixture(t, npmBundle), tgz), "--policy", sparseFile(t, filepath.Join(d, "policy.yaml"), 1<<30))
		}, []string{"--policy", "policy.yaml", "larger than the 16 MiB limit"}},
		{"policy file a device", func(t *testing.T, d string) []string {
			return append(verifyArgs(absFixture(t, npmBundle), tgz), "--policy", "/dev/zero")
		}, []string{"--policy", "/dev/zero", "not a regular file"}},
		{"checksums line of 2 MiB", func(t *testing.T, d string) []string {
			return []string{"attest", "--no-sign", "--subject-checksums",
				writeFile(t, filepath.Join(d, "SUMS"), []byte(strings.Repeat("a", 64)+"  "+strings.Repeat("n", 2<<20)+"\n"))}
		}, []string{"subject-checksums", "SUMS", "line 1 is longer than the 1 MiB line limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			args := tc.setup(t, d)
			env := []string{}
			if args[0] == "attest" {
				env = append(env, "GITHUB_ACTIONS=", "RUNNER_TEMP="+d)
			}
			code, out, rss := runRSS(t, d, env, args...)
			t.Logf("exit %d, peak RSS %d MiB: %s", code, rss>>10, firstLine(out))
			if code == 0 {
				t.Fatalf("exit 0:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%.2000s", w, out)
				}
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("a panic:\n%.2000s", out)
			}
			if rss > maxRSS {
				t.Errorf("peak RSS %d MiB, more than %d MiB", rss>>10, maxRSS>>10)
			}
		})
	}
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "limit") || strings.Contains(l, "depth") || strings.Contains(l, "too long") {
			return l
		}
	}
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestResources_BundleDirRSS measures the peak RSS of one verify
// --bundle-dir over 100, 1,000 and 10,000 assets: each asset a copy (hard
// link) of one small artifact with its own bundle (a hard link of one
// real bundle of GitHub's attest action). It prints the figures and
// asserts only that 10,000 assets take at most 4 times the RSS of 100.
// Heavy (tens of thousands of files): it runs only with
// PROVENANT_BENCH_RSS=1, as scripts/bench-rss and scripts/test do.
func TestResources_BundleDirRSS(t *testing.T) {
	if os.Getenv("PROVENANT_BENCH_RSS") != "1" {
		// scripts/test sets it: in CI a missing variable would make the
		// memory claim untested while the run stays green.
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but PROVENANT_BENCH_RSS is not 1: scripts/test sets it for the unit tests")
		}
		t.Skip("set PROVENANT_BENCH_RSS=1 (scripts/bench-rss)")
	}
	// A child process of its own whose peak RSS is measured, not time:
	// it runs beside the package's other tests.
	t.Parallel()
	const fx = "testdata/fixtures/github-attest/"
	bundle, artifact := absFixture(t, fx+"reusable-workflow-attestation.sigstore.json"), absFixture(t, fx+"reusable-workflow-artifact")
	root := absFixture(t, "testdata/fixtures/trusted-roots/public-good-cli.json")
	rss := map[int]int64{}
	for _, n := range []int{100, 1000, 10000} {
		dir := t.TempDir()
		rel := filepath.Join(dir, "release")
		os.Mkdir(rel, 0o755)
		for i := 0; i < n; i++ {
			name := filepath.Join(rel, "asset-"+strconv.Itoa(i)+".whl")
			if err := os.Link(artifact, name); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(bundle, name+".sigstore.json"); err != nil {
				t.Fatal(err)
			}
		}
		code, out, r := runRSS(t, dir, nil, "verify", "--trusted-root", root, "--repo", "malancas/attest-demo",
			"--signer-repo", "github/artifact-attestations-workflows", "--bundle-dir", rel)
		if code != 0 {
			t.Fatalf("%d assets: exit %d\n%.3000s", n, code, out)
		}
		if got := strings.Count(out, "\n"); got < n {
			t.Errorf("%d assets: %d report lines", n, got)
		}
		rss[n] = r
		fmt.Printf("verify --bundle-dir, %5d assets (a bundle each): peak RSS %4d MiB\n", n, r>>10)
	}
	// The report grows by about 1.9 KiB an asset and Go's GC lets the heap
	// reach twice the live size, so 2.4–2.6× is expected here, and where
	// the GC happens to run moves it. 4× leaves room for that and still
	// fails for any retention of a few KiB an asset (bundles kept to the
	// end of the run were 70 KiB an asset: 20×).
	if rss[10000] > 4*rss[100] {
		t.Errorf("not flat: %d MiB at 10,000 assets, %d MiB at 100", rss[10000]>>10, rss[100]>>10)
	}
}

// TestResources_FourGiBFile is issue 12's target 5: one 4 GiB file (sparse:
// zeros that take no disk) hashed by attest --no-sign stays under 64 MiB
// of peak RSS, with the right digest. It runs with PROVENANT_BENCH_RSS=1
// (scripts/test sets it), as it reads 4 GiB.
func TestResources_FourGiBFile(t *testing.T) {
	if os.Getenv("PROVENANT_BENCH_RSS") != "1" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but PROVENANT_BENCH_RSS is not 1: scripts/test sets it for the unit tests")
		}
		t.Skip("set PROVENANT_BENCH_RSS=1 (scripts/test does)")
	}
	// A child process of its own whose peak RSS is measured, not time:
	// it runs beside the package's other tests.
	t.Parallel()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, out, rss := runRSS(t, dir, nil, "attest", "--no-sign", "--subject-path", "disk.img", "--out", "disk.intoto.json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "disk.intoto.json"))
	if err != nil {
		t.Fatal(err)
	}
	// sha256sum of 4 GiB of zeros.
	const want = "8479e43911dc45e89f934fe48d01297e16f51d17aa561d4d1c216b1ae0fcddca"
	if !strings.Contains(string(data), want) {
		t.Errorf("the statement does not carry the file's sha256 %s:\n%.500s", want, data)
	}
	fmt.Printf("attest --no-sign, one 4 GiB file: peak RSS %d MiB\n", rss>>10)
	if rss > 64<<10 {
		t.Errorf("peak RSS %d MiB, over 64 MiB", rss>>10)
	}
}
