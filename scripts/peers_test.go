package scripts_test

// The differential test against the peers: every row of
// testdata/peers/rows.json is a command line of `gh attestation verify`
// (GitHub CLI v2.83.1), `cosign verify-blob-attestation` (v2.6.5) or
// `slsa-verifier verify-artifact` (v2.7.1). The peer runs it (gh and cosign
// offline, from scripts/sigstore-stack's cache; slsa-verifier needs the
// public TUF root online, so its verdict is the one its own regression tests
// give, recorded in the row), then provenant runs the very same argv with
// only the program name changed, and the two verdicts (exit 0 or not) must
// agree. A row marked "deliberate" is one where provenant refuses what the
// peer accepts, for the reason given (docs/verify.md lists them): there
// provenant must refuse. A row marked "pending" needs a piece of provenant's
// command line that is not there yet; it is the only kind of row skipped, and
// PROVENANT_PEERS_STRICT=1 fails on any.
//
// Env: PROVENANT_GH_BIN and PROVENANT_COSIGN_BIN (scripts/test sets them from
// `scripts/sigstore-stack tool-path gh|cosign`); unset, the test skips, but
// not under CI=true. PROVENANT_PEERS_EMULATE=1 runs the pending rows with the
// missing aliases rewritten to today's `provenant verify` (the verb replaced,
// --new-bundle-format, --jq/-q and --template/-t dropped), to see what is left
// once they land. `go test ./scripts -run TestPeers -update` rewrites
// testdata/peers/results.md and the copy README.md holds between its peers
// markers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var updatePeers = flag.Bool("update", false, "rewrite testdata/peers/results.md and README.md's peer table from TestPeers' results")

const (
	peersTable    = "testdata/peers/rows.json"
	peersResults  = "testdata/peers/results.md"
	peersRoot     = "testdata/fixtures/trusted-roots/public-good-cli.json"
	peersBegin    = "<!-- peers:begin (generated from testdata/peers/results.md by `go test ./scripts -run TestPeers -update`) -->"
	peersEnd      = "<!-- peers:end -->"
	slsaVerifierM = "github.com/slsa-framework/slsa-verifier/v2"
)

// peerRow is one command line, run by the peer and by provenant.
type peerRow struct {
	Name string `json:"name"`
	// Peer is gh, cosign or slsa-verifier.
	Peer string `json:"peer"`
	// Args is the argv after the program name, {fixtures} standing for
	// testdata/fixtures, {peers} for testdata/peers (bundles/ has links to
	// fixtures under the .json names gh requires) and {slsa-verifier} for
	// slsa-verifier's module (its testdata holds the generic generator's
	// artifacts).
	Args []string `json:"args"`
	// Want is the peer's verdict, pass or fail: checked against gh and
	// cosign as they run (so a peer that refuses everything offline cannot
	// make the rows agree vacuously); slsa-verifier's, from its own tests.
	Want string `json:"want"`
	// JQ: with --format json, expressions whose answers (each peer through
	// its own --jq) must be the same.
	JQ []string `json:"jq,omitempty"`
	// Deliberate: why provenant refuses what the peer accepts.
	Deliberate string `json:"deliberate,omitempty"`
	// Pending: what provenant lacks for this row today.
	Pending string `json:"pending,omitempty"`
	Note    string `json:"note,omitempty"`
}

type peerTable struct {
	Comment []string  `json:"comment"`
	Rows    []peerRow `json:"rows"`
}

var peerCommands = map[string]string{
	"gh":            "gh attestation verify",
	"cosign":        "cosign verify-blob-attestation",
	"slsa-verifier": "slsa-verifier verify-artifact",
}

// peerTrust is what the harness appends to every row's argv: the trusted
// root, offline, for both programs (cosign's bundles are the new format);
// slsa-verifier has no such flag, so only provenant gets --trusted-root.
var peerTrust = map[string][]string{
	"gh":            {"--custom-trusted-root", peersRoot},
	"cosign":        {"--trusted-root", peersRoot, "--new-bundle-format"},
	"slsa-verifier": nil,
}

func readPeerTable(t *testing.T) []peerRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", peersTable))
	if err != nil {
		t.Fatal(err)
	}
	var tab peerTable
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tab); err != nil {
		t.Fatalf("%s: %v", peersTable, err)
	}
	seen := map[string]bool{}
	for _, r := range tab.Rows {
		switch {
		case r.Name == "" || seen[r.Name]:
			t.Fatalf("%s: row name %q empty or repeated", peersTable, r.Name)
		case peerCommands[r.Peer] == "":
			t.Fatalf("%s: row %s: unknown peer %q", peersTable, r.Name, r.Peer)
		case r.Want != "pass" && r.Want != "fail":
			t.Fatalf("%s: row %s: want is pass or fail, not %q", peersTable, r.Name, r.Want)
		case r.Deliberate != "" && r.Want != "pass":
			t.Fatalf("%s: row %s: deliberate, but the peer refuses too", peersTable, r.Name)
		case len(r.JQ) > 0 && r.Peer != "gh":
			t.Fatalf("%s: row %s: jq is for gh rows", peersTable, r.Name)
		}
		seen[r.Name] = true
	}
	return tab.Rows
}

// peerArgs expands the placeholders and appends the trust flags.
func peerArgs(t *testing.T, r peerRow, svDir string) []string {
	var out []string
	for _, a := range r.Args {
		a = strings.ReplaceAll(a, "{fixtures}", "testdata/fixtures")
		a = strings.ReplaceAll(a, "{peers}", "testdata/peers")
		if strings.Contains(a, "{slsa-verifier}") {
			if svDir == "" {
				t.Fatalf("row %s: {slsa-verifier} but `go list -m %s` gave no folder", r.Name, slsaVerifierM)
			}
			a = strings.ReplaceAll(a, "{slsa-verifier}", svDir)
		}
		out = append(out, a)
	}
	return append(out, peerTrust[r.Peer]...)
}

// emulateArgs rewrites a pending row's argv to today's provenant: the peer's
// verb becomes verify, and the flags provenant does not have yet go.
func emulateArgs(peer string, args []string) []string {
	var out []string
	switch peer {
	case "gh":
		args = args[2:] // attestation verify
	default:
		args = args[1:] // verify-blob-attestation, verify-artifact
	}
	out = append(out, "verify")
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--new-bundle-format":
		case a == "--jq" || a == "-q" || a == "--template" || a == "-t":
			i++
		case strings.HasPrefix(a, "--jq=") || strings.HasPrefix(a, "--template="):
		default:
			out = append(out, a)
		}
	}
	return out
}

type peerRun struct {
	code   int
	stdout string
	stderr string
}

// firstLine is stderr's first line; when stderr is empty (provenant's
// failed checks go to its report on stdout), the first failed check.
func (r peerRun) firstLine() string {
	for _, l := range strings.Split(r.stderr, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "FAIL ") {
			return "(stderr empty; stdout) " + strings.Join(strings.Fields(l), " ")
		}
	}
	return "(stderr empty)"
}

// runPeerProgram runs bin with args from the repository's root, in an
// environment of its own: a fresh HOME and caches, no GitHub token, and a
// proxy that refuses every connection, so that neither program can reach
// the network without it showing.
func runPeerProgram(t *testing.T, bin string, args []string) peerRun {
	t.Helper()
	tmp := t.TempDir()
	for _, d := range []string{"home", "gh", "tuf", "cache", "config"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = ".."
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(tmp, "home"),
		"TMPDIR=" + tmp,
		"LANG=C.UTF-8",
		"XDG_CACHE_HOME=" + filepath.Join(tmp, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(tmp, "config"),
		// gh: its config, no prompts, no update check, no colour.
		"GH_CONFIG_DIR=" + filepath.Join(tmp, "gh"),
		"GH_PROMPT_DISABLED=1",
		"GH_NO_UPDATE_NOTIFIER=1",
		"NO_COLOR=1",
		// cosign: TUF's cache in the temp dir, and none kept.
		"TUF_ROOT=" + filepath.Join(tmp, "tuf"),
		"SIGSTORE_NO_CACHE=1",
		// No network: every HTTP client of Go's goes to a closed port.
		"HTTPS_PROXY=http://127.0.0.1:9",
		"HTTP_PROXY=http://127.0.0.1:9",
		"https_proxy=http://127.0.0.1:9",
		"http_proxy=http://127.0.0.1:9",
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s: timed out", bin, strings.Join(args, " "))
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", bin, err)
	}
	return peerRun{code: code, stdout: out.String(), stderr: errb.String()}
}

func verdict(code int) string {
	if code == 0 {
		return "pass"
	}
	return "fail"
}

// peerBins gives the peers' binaries, or skips (never under CI=true).
func peerBins(t *testing.T) map[string]string {
	t.Helper()
	bins := map[string]string{"gh": os.Getenv("PROVENANT_GH_BIN"), "cosign": os.Getenv("PROVENANT_COSIGN_BIN")}
	for name, bin := range bins {
		if bin == "" {
			msg := fmt.Sprintf("PROVENANT_%s_BIN is not set (scripts/test sets it from `scripts/sigstore-stack tool-path %s`)", strings.ToUpper(name), name)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("PROVENANT_%s_BIN: %v", strings.ToUpper(name), err)
		}
	}
	return bins
}

func buildProvenant(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "provenant")
	cmd := exec.Command("go", "build", "-C", "..", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func slsaVerifierDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-C", "..", "-m", "-f", "{{.Dir}}", slsaVerifierM).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", slsaVerifierM, err)
	}
	return strings.TrimSpace(string(out))
}

// rowStatus is a row's outcome: agree, deliberate or pending.
func rowStatus(r peerRow) string {
	switch {
	case r.Pending != "":
		return "pending"
	case r.Deliberate != "":
		return "deliberate"
	}
	return "agree"
}

func TestPeers(t *testing.T) {
	rows := readPeerTable(t)
	strict := os.Getenv("PROVENANT_PEERS_STRICT") == "1"
	emulate := os.Getenv("PROVENANT_PEERS_EMULATE") == "1"
	if strict {
		var pending []string
		for _, r := range rows {
			if r.Pending != "" {
				pending = append(pending, r.Name+" ("+r.Pending+")")
			}
		}
		if len(pending) > 0 {
			t.Errorf("PROVENANT_PEERS_STRICT=1: %d rows still pending:\n  %s", len(pending), strings.Join(pending, "\n  "))
		}
	}
	bins := peerBins(t)
	prov := buildProvenant(t)
	svDir := slsaVerifierDir(t)

	status := map[string]string{}
	for _, r := range rows {
		ok := t.Run(r.Name, func(t *testing.T) {
			if r.Pending != "" && !strict && !emulate {
				status[r.Name] = "pending"
				t.Skipf("pending: provenant lacks %s", r.Pending)
			}
			args := peerArgs(t, r, svDir)
			short := func(argv []string) string {
				return strings.ReplaceAll(strings.Join(argv, " "), svDir, "{slsa-verifier}")
			}
			cmdline := peerCommands[r.Peer] + " " + short(args[len(strings.Fields(peerCommands[r.Peer]))-1:])

			// The peer's verdict: run (gh, cosign) or recorded (slsa-verifier).
			peerVerdict, peer := r.Want, peerRun{code: -1, stderr: "(slsa-verifier: verdict from its own tests)"}
			if bin := bins[r.Peer]; bin != "" {
				peer = runPeerProgram(t, bin, args)
				peerVerdict = verdict(peer.code)
				if peerVerdict != r.Want {
					t.Fatalf("the table says %s should %s, but it gave exit %d: %s\n  %s", r.Peer, r.Want, peer.code, peer.firstLine(), cmdline)
				}
			}

			provArgs := args
			if r.Pending != "" && emulate {
				provArgs = emulateArgs(r.Peer, args)
			}
			if r.Peer == "slsa-verifier" {
				provArgs = append(provArgs, "--trusted-root", peersRoot)
			}
			got := runPeerProgram(t, prov, provArgs)
			gotVerdict := verdict(got.code)

			switch {
			case r.Deliberate != "" && gotVerdict == "pass":
				t.Errorf("deliberate difference (%s), but provenant accepts what it should refuse:\n  %s\n  provenant exit 0", r.Deliberate, cmdline)
			case r.Deliberate != "":
				// provenant refuses, the peer accepts: as documented.
			case gotVerdict != peerVerdict:
				t.Errorf("verdicts differ:\n  %s\n  %s: exit %d: %s\n  provenant %s: exit %d: %s",
					cmdline, r.Peer, peer.code, peer.firstLine(), short(provArgs), got.code, got.firstLine())
			}
			if t.Failed() && r.Note != "" {
				t.Log("note: " + r.Note)
			}
			if !t.Failed() && !(r.Pending != "" && strict) {
				status[r.Name] = rowStatus(r) // the verdicts agree (or differ as marked)
			}
			if t.Failed() || gotVerdict != "pass" || peerVerdict != "pass" || (r.Pending != "" && emulate) {
				return
			}
			for _, expr := range r.JQ {
				p := runPeerProgram(t, bins["gh"], append(slices.Clone(args), "--jq", expr))
				q := runPeerProgram(t, prov, append(slices.Clone(provArgs), "--jq", expr))
				if p.code != 0 || q.code != 0 || p.stdout != q.stdout {
					t.Errorf("--jq %q differs:\n  %s\n  gh: exit %d: %q %s\n  provenant: exit %d: %q %s",
						expr, cmdline, p.code, p.stdout, p.firstLine(), q.code, q.stdout, q.firstLine())
				}
			}
		})
		if !ok {
			status[r.Name] = "failed"
		}
	}
	if t.Failed() || emulate {
		return
	}
	got := renderPeerResults(rows, status)
	path := filepath.Join("..", peersResults)
	if *updatePeers {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		readme, err := os.ReadFile("../README.md")
		if err != nil {
			t.Fatal(err)
		}
		before, rest, ok1 := strings.Cut(string(readme), peersBegin+"\n")
		_, after, ok2 := strings.Cut(rest, peersEnd)
		if !ok1 || !ok2 {
			t.Fatalf("README.md lacks the markers %q ... %q", peersBegin, peersEnd)
		}
		if err := os.WriteFile("../README.md", []byte(before+peersBegin+"\n"+got+peersEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want, _ := os.ReadFile(path); string(want) != got {
		t.Errorf("%s is stale: run `go test ./scripts -run TestPeers -update` (with PROVENANT_GH_BIN and PROVENANT_COSIGN_BIN)", peersResults)
	}
}

// renderPeerResults is the README's peer table: per peer, its rows and how
// they came out, and the flags they exercise.
func renderPeerResults(rows []peerRow, status map[string]string) string {
	var b strings.Builder
	b.WriteString("| peer | rows | peer accepts / refuses | same verdict, run | provenant refuses, deliberately (run or pending) | pending: skipped until provenant has what they need | flags exercised |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, peer := range []string{"gh", "cosign", "slsa-verifier"} {
		var n, accepts, refuses int
		count := map[string]int{}
		flags := map[string]bool{}
		for _, r := range rows {
			if r.Peer != peer {
				continue
			}
			n++
			if r.Want == "pass" {
				accepts++
			} else {
				refuses++
			}
			count[status[r.Name]]++
			if r.Deliberate != "" {
				count["deliberate-marked"]++
			}
			if len(r.JQ) > 0 {
				flags["`--jq`"] = true
			}
			for _, a := range append(slices.Clone(r.Args), peerTrust[peer]...) {
				if strings.HasPrefix(a, "-") {
					flags["`"+strings.SplitN(a, "=", 2)[0]+"`"] = true
				}
			}
		}
		names := make([]string, 0, len(flags))
		for f := range flags {
			names = append(names, f)
		}
		sort.Strings(names)
		cmd := "`" + peerCommands[peer] + "`"
		if peer == "slsa-verifier" {
			cmd += " (verdicts from its own tests: it needs TUF online)"
		}
		fmt.Fprintf(&b, "| %s | %d | %d / %d | %d | %d | %d | %s |\n",
			cmd, n, accepts, refuses, count["agree"], count["deliberate-marked"], count["pending"], strings.Join(names, " "))
	}
	var delib []string
	for _, r := range rows {
		if r.Deliberate != "" {
			delib = append(delib, fmt.Sprintf("- `%s`: %s", r.Name, r.Deliberate))
		}
	}
	if len(delib) > 0 {
		b.WriteString("\nWhere provenant refuses what the peer accepts (docs/verify.md, \"Deliberate differences from the peers\"):\n\n")
		b.WriteString(strings.Join(delib, "\n") + "\n")
	}
	return b.String()
}

// TestPeersREADME: README.md holds testdata/peers/results.md between its
// markers, and results.md is what TestPeers writes for the table as it is
// (when TestPeers passes, each row's outcome is the one the table marks).
func TestPeersREADME(t *testing.T) {
	rows := readPeerTable(t)
	status := map[string]string{}
	for _, r := range rows {
		status[r.Name] = rowStatus(r)
	}
	want := renderPeerResults(rows, status)
	results, err := os.ReadFile(filepath.Join("..", peersResults))
	if err != nil {
		t.Fatal(err)
	}
	if string(results) != want {
		t.Errorf("%s does not match %s: run `go test ./scripts -run TestPeers -update`", peersResults, peersTable)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok1 := strings.Cut(string(readme), peersBegin+"\n")
	section, _, ok2 := strings.Cut(after, peersEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the markers %q ... %q", peersBegin, peersEnd)
	}
	if section != string(results) {
		t.Errorf("README.md's peer table differs from %s: run `go test ./scripts -run TestPeers -update`", peersResults)
	}
	doc, err := os.ReadFile("../docs/verify.md")
	if err != nil {
		t.Fatal(err)
	}
	_, diffs, ok := strings.Cut(string(doc), "## Deliberate differences from the peers")
	if !ok {
		t.Fatal("docs/verify.md lacks the section \"Deliberate differences from the peers\"")
	}
	if i := strings.Index(diffs, "\n## "); i >= 0 {
		diffs = diffs[:i]
	}
	for _, r := range rows {
		if r.Deliberate != "" && !strings.Contains(diffs, "`"+r.Name+"`") {
			t.Errorf("docs/verify.md's deliberate differences do not name row %s (%s)", r.Name, r.Deliberate)
		}
	}
}
