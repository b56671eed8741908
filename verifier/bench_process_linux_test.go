//go:build linux

package verifier

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Whole-process rows (issue 25): users run a process, not Verify, so these
// benchmarks run the provenant binary and the floor's programs as
// processes, side by side in one run, and report wall time and peak RSS
// as metrics (scripts/bench prints them; nothing here is asserted of
// time). The binaries are PROVENANT_BIN and PROVENANT_BAREFLOOR_BIN when
// set (scripts/bench builds them once), else built here.

// processBinaries returns provenant's and barefloor's binaries.
func processBinaries(b *testing.B) (prov, floor string) {
	b.Helper()
	prov, floor = os.Getenv("PROVENANT_BIN"), os.Getenv("PROVENANT_BAREFLOOR_BIN")
	dir := b.TempDir()
	build := func(pkg, out string) string {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = ".."
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
		}
		return out
	}
	if prov == "" {
		prov = build(".", filepath.Join(dir, "provenant"))
	}
	if floor == "" {
		floor = build("./scripts/internal/barefloor", filepath.Join(dir, "barefloor"))
	}
	return prov, floor
}

// processRun is one process's wall time and peak RSS.
type processRun struct {
	wall   time.Duration
	rssKiB int64
}

// runProcess runs a command to its end (it must succeed unless mayFail)
// and measures it. Peak RSS comes from GNU time when it is installed: the
// rusage of a child of this (Go) process counts this process's own memory,
// which the child shared until its exec.
func runProcess(b *testing.B, mayFail bool, name string, args ...string) processRun {
	b.Helper()
	rssFile := filepath.Join(b.TempDir(), "rss")
	cmd := exec.Command(name, args...)
	if gnuTime, err := exec.LookPath("/usr/bin/time"); err == nil {
		cmd = exec.Command(gnuTime, append([]string{"-f", "%M", "-o", rssFile, name}, args...)...)
	}
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(t0)
	if err != nil && !mayFail {
		b.Fatalf("%s: %v\n%.2000s", filepath.Base(name), err, out)
	}
	var rss int64
	if data, err := os.ReadFile(rssFile); err == nil {
		fmt.Sscan(strings.TrimSpace(string(data)), &rss)
	}
	return processRun{wall, rss}
}

// BenchmarkProcessSharedBundle is issue 25's first row as processes:
// `provenant verify` of 1,000 artifacts against one bundle with 1,000
// subjects, against the floor of one bare sigstore-go process verifying
// that bundle once plus `sha256sum` of the 1,000 files. Target ≤ 1.5×.
func BenchmarkProcessSharedBundle(b *testing.B) {
	const n = 1000
	prov, floor := processBinaries(b)
	s, bundlePath, paths := sharedBundleSetup(b, n)
	rootPath := s.writeTrustedRoot(b, b.TempDir())
	ext := defaultRun().extensions()
	verifyArgs := append([]string{"verify", "--trusted-root", rootPath, "--repo", "provenant/demo", "--bundle", bundlePath}, paths...)
	sumArgs := append([]string{}, paths...)
	var fl, pr time.Duration
	var flRSS, prRSS int64
	for b.Loop() {
		f1 := runProcess(b, false, floor, "--trusted-root", rootPath, "--san", ext.BuildSignerURI, "--issuer", ext.Issuer, paths[0]+"="+bundlePath)
		f2 := runProcess(b, false, "sha256sum", sumArgs...)
		p := runProcess(b, false, prov, verifyArgs...)
		fl, pr = fl+f1.wall+f2.wall, pr+p.wall
		flRSS, prRSS = max(flRSS, f1.rssKiB, f2.rssKiB), max(prRSS, p.rssKiB)
	}
	reportProcessRatio(b, fl, pr, flRSS, prRSS)
}

// BenchmarkProcessSingleVerify is one bundle, one artifact, offline, as
// a process: `provenant verify` against a bare sigstore-go process.
// Target ≤ 1.1× in wall time and in RSS.
func BenchmarkProcessSingleVerify(b *testing.B) {
	prov, floor := processBinaries(b)
	s, bundlePath, paths := sharedBundleSetup(b, 1)
	rootPath := s.writeTrustedRoot(b, b.TempDir())
	ext := defaultRun().extensions()
	var fl, pr time.Duration
	var flRSS, prRSS int64
	for b.Loop() {
		f := runProcess(b, false, floor, "--trusted-root", rootPath, "--san", ext.BuildSignerURI, "--issuer", ext.Issuer, paths[0]+"="+bundlePath)
		p := runProcess(b, false, prov, "verify", "--trusted-root", rootPath, "--repo", "provenant/demo", "--bundle", bundlePath, paths[0])
		fl, pr = fl+f.wall, pr+p.wall
		flRSS, prRSS = max(flRSS, f.rssKiB), max(prRSS, p.rssKiB)
	}
	reportProcessRatio(b, fl, pr, flRSS, prRSS)
}

// BenchmarkProcessStart is `provenant version` against barefloor's own
// start (-h: flags parsed, nothing verified). Target ≤ 1.05×.
func BenchmarkProcessStart(b *testing.B) {
	prov, floor := processBinaries(b)
	var fl, pr time.Duration
	var flRSS, prRSS int64
	for b.Loop() {
		// -h exits 2 with flag's usage: the start is what is measured.
		f := runProcess(b, true, floor, "-h")
		p := runProcess(b, false, prov, "version")
		fl, pr = fl+f.wall, pr+p.wall
		flRSS, prRSS = max(flRSS, f.rssKiB), max(prRSS, p.rssKiB)
	}
	reportProcessRatio(b, fl, pr, flRSS, prRSS)
}

// reportProcessRatio reports both sides' mean wall time, peak RSS and
// their ratios (not asserted: the figures are for BENCHMARKS.md).
func reportProcessRatio(b *testing.B, floor, prov time.Duration, floorRSS, provRSS int64) {
	n := float64(b.N)
	b.ReportMetric(float64(floor.Microseconds())/1000/n, "floor-ms")
	b.ReportMetric(float64(prov.Microseconds())/1000/n, "provenant-ms")
	b.ReportMetric(float64(prov)/float64(floor), "wall-ratio")
	b.ReportMetric(float64(floorRSS)/1024, "floor-MiB")
	b.ReportMetric(float64(provRSS)/1024, "provenant-MiB")
	if floorRSS > 0 {
		b.ReportMetric(float64(provRSS)/float64(floorRSS), "rss-ratio")
	}
	b.Logf("%s", fmt.Sprintf("floor %.1f ms %.1f MiB, provenant %.1f ms %.1f MiB", float64(floor.Microseconds())/1000/n, float64(floorRSS)/1024, float64(prov.Microseconds())/1000/n, float64(provRSS)/1024))
}
