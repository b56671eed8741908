package verifier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"
)

// TestAttestationFiles_DroppedAfterLastUse: a bundle directory's file is
// parsed once while items use it (every user gets the same parsed
// bundles) and dropped after its last expected use, which hands back its
// attestations for their verifications to be forgotten; a file no item
// counted (a --bundle file) is kept.
func TestAttestationFiles_DroppedAfterLastUse(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(fx(reusableBundle))
	if err != nil {
		t.Fatal(err)
	}
	p1, p2, shared := filepath.Join(dir, "a.sigstore.json"), filepath.Join(dir, "b.sigstore.json"), filepath.Join(dir, "shared.json")
	for _, p := range []string{p1, p2, shared} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := newAttestationFiles(nil)
	f.expect([]Item{{files: []string{p1}}, {files: []string{p1, p2}}, {}})
	first, err := f.load(p1)
	if err != nil || len(first) != 1 || first[0].Bundle == nil {
		t.Fatalf("load: %v, %d attestations", err, len(first))
	}
	again, _ := f.load(p1)
	if again[0].Bundle != first[0].Bundle {
		t.Error("a file in use was parsed twice: its users hold different bundles")
	}
	if got := f.done(p1); got != nil {
		t.Errorf("first of two uses done: dropped %d attestations", len(got))
	}
	if got := f.done(p1); len(got) != 1 || got[0].Bundle != first[0].Bundle {
		t.Errorf("last use done: handed back %v, want the file's attestation", got)
	}
	if _, kept := f.m[p1]; kept {
		t.Error("the file is still held after its last use")
	}
	if _, err := f.load(shared); err != nil {
		t.Fatal(err)
	}
	if got := f.done(shared); got != nil {
		t.Error("a file no item counted was dropped")
	}
	if _, kept := f.m[shared]; !kept {
		t.Error("a file no item counted is no longer held")
	}
	if f.done(p2) != nil {
		t.Error("a file never loaded handed back attestations")
	}
	if len(f.uses) != 0 {
		t.Errorf("uses left: %v", f.uses)
	}
}

// TestVerify_BundleDirUnreadableBundle: a bundle directory's files are
// read when their assets are verified, yet an unreadable one is still
// unusable input: Verify returns an *InputError naming the first such
// file in the order of the assets (here two files over the size limit,
// among 40 assets verified 4 at a time), and no report.
func TestVerify_BundleDirUnreadableBundle(t *testing.T) {
	roots, err := trust.LoadTrustedRoots(fx("trusted-roots/public-good-cli.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range 40 {
		asset := filepath.Join(dir, fmt.Sprintf("asset-%02d.whl", i))
		if err := os.Link(fx(reusableArtifact), asset); err != nil {
			t.Fatal(err)
		}
		if i == 17 || i == 31 {
			f, err := os.Create(asset + ".sigstore.json")
			if err != nil {
				t.Fatal(err)
			}
			// Sparse: over MaxBundleFileSize without taking the disk.
			if err := f.Truncate(MaxBundleFileSize + 1); err != nil {
				t.Fatal(err)
			}
			f.Close()
			continue
		}
		if err := os.Link(fx(reusableBundle), asset+".sigstore.json"); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{TrustedRoots: roots, BundleDir: dir, Parallelism: 4,
		Policy: Policy{Repo: "malancas/attest-demo", SignerRepo: "github/artifact-attestations-workflows"}}
	rep, err := Verify(context.Background(), opts)
	var ie *InputError
	if !errors.As(err, &ie) || rep != nil {
		t.Fatalf("got report %v, error %v; want an *InputError and no report", rep != nil, err)
	}
	if !strings.Contains(err.Error(), "asset-17.whl.sigstore.json") {
		t.Errorf("error %q does not name the first unreadable bundle, asset-17.whl.sigstore.json", err)
	}
	// The control: the same release without them verifies.
	for _, i := range []int{17, 31} {
		p := filepath.Join(dir, fmt.Sprintf("asset-%02d.whl.sigstore.json", i))
		os.Remove(p)
		if err := os.Link(fx(reusableBundle), p); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err = Verify(context.Background(), opts); err != nil || !rep.Verified || len(rep.Artifacts) != 40 {
		t.Fatalf("control: %v, %+v", err, rep)
	}
	// Forty bundle files of equal content: their results share one copy
	// of each value (the report is held to the end of the run).
	a, b := rep.Artifacts[0].Bundles[0], rep.Artifacts[39].Bundles[0]
	if a.Signer != b.Signer || &a.Predicate[0] != &b.Predicate[0] || a.Signer.SubjectAlternativeName == "" {
		t.Error("equal bundles' results hold copies of their signer and predicate")
	}
}
