package verifier

import (
	"errors"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// TestPins: the first verification of a source records it; a later one
// fails naming what changed (ids, signer repository, a downgrade) unless
// the change is accepted, and records a higher level.
func TestPins(t *testing.T) {
	s := newTestSigstore(t)
	run := defaultRun()
	reusable := run.reusable()
	recreated := reusable
	recreated.RepoID = "999999"
	otherOwner := reusable
	otherOwner.OwnerID = "1"
	movedSigner := reusable
	movedSigner.JobWorkflowRef = "evil/builders/.github/workflows/provenance.yml@refs/tags/v2.0.0"
	selfHosted := reusable
	selfHosted.Runner = "self-hosted"
	otherFile := reusable
	otherFile.JobWorkflowRef = "provenant/builders/.github/workflows/other.yml@refs/tags/v2.0.0"

	artifact := func(r ghRun, pinSigner bool) ArtifactResult {
		data, art := ownBundle(t, s, r, nil, signOpts{})
		p := Policy{Repo: r.Repo}
		if pinSigner {
			p.SignerRepo = repoOfRef(r.JobWorkflowRef)
		}
		br := verifyOne(t, s, data, art, p)
		if !br.Verified {
			t.Fatalf("bundle does not verify:\n%s", bundleText(br))
		}
		return ArtifactResult{Artifact: "demo", Verified: true, Level: br.Level, Bundles: []BundleResult{br}}
	}
	l3 := artifact(reusable, true)
	if l3.Level != 3 {
		t.Fatalf("reusable workflow at L%d, want 3", l3.Level)
	}
	tests := []struct {
		name    string
		art     ArtifactResult
		update  bool
		changed bool
		fail    string // "" passes
		level   int    // the level pinned afterwards
	}{
		{"same again", l3, false, false, "", 3},
		{"recreated repository", artifact(recreated, true), false, false, `repository id of https://github.com/provenant/demo changed from "123456" to "999999"`, 3},
		{"other owner", artifact(otherOwner, true), false, false, `owner id of https://github.com/provenant/demo changed from "654321" to "1"`, 3},
		{"signer moved to another repository", artifact(movedSigner, true), false, false, "signer of https://github.com/provenant/demo moved from https://github.com/provenant/builders/.github/workflows/provenance.yml to https://github.com/evil/builders/", 3},
		{"downgrade to L2 (the source's own workflow)", artifact(run, false), false, false, "level of https://github.com/provenant/demo dropped from SLSA Build L3 to L2", 3},
		{"another workflow of the same builder repository", artifact(otherFile, true), false, false, "", 3},
		{"downgrade accepted", artifact(run, false), true, true, "", 2},
		{"back to the builder is a signer move", l3, false, false, "signer of https://github.com/provenant/demo moved from https://github.com/provenant/demo/.github/workflows/release.yml to https://github.com/provenant/builders/", 2},
		{"builder on a self-hosted runner accepted", artifact(selfHosted, true), true, true, "", 2},
		{"same builder on a GitHub-hosted runner: upgrade recorded", l3, false, true, "", 3},
	}
	pins, err := ParsePins(nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := pins.Check(l3, false); err != nil || !changed {
		t.Fatalf("first use: changed %v, %v", changed, err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := pins.Check(tc.art, tc.update)
			var pv *PolicyViolation
			switch {
			case tc.fail == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tc.fail != "" && (!errors.As(err, &pv) || pv.Rule != "pins" || !strings.Contains(err.Error(), tc.fail)):
				t.Fatalf("Check: %v, want rule pins and %q", err, tc.fail)
			}
			if changed != tc.changed {
				t.Errorf("changed %v, want %v", changed, tc.changed)
			}
			if got := pins.Sources["https://github.com/provenant/demo"]; got.Level != tc.level || got.RepositoryID != "123456" {
				t.Errorf("pin %+v, want level %d and repository id 123456", got, tc.level)
			}
		})
	}
}

func repoOfRef(jobWorkflowRef string) string {
	parts := strings.SplitN(jobWorkflowRef, "/", 3)
	return parts[0] + "/" + parts[1]
}

// TestParsePins: the file round-trips; unknown fields and other versions
// are errors.
func TestParsePins(t *testing.T) {
	p := &Pins{Version: PinsVersion, Sources: map[string]Pin{"https://github.com/o/r": {RepositoryID: "1", OwnerID: "2", SignerWorkflow: "https://github.com/o/r/.github/workflows/release.yml", Level: 2}}}
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePins(data)
	if err != nil || back.Sources["https://github.com/o/r"] != p.Sources["https://github.com/o/r"] {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, bad := range []struct{ text, msg string }{
		{`{"version": 2, "sources": {}}`, "version 2"},
		{`{"version": 1, "sources": {}, "extra": 1}`, `unknown field "extra"`},
		{`{"version": 1, "sources": {"x": {"level": "3"}}}`, "cannot unmarshal"},
	} {
		if _, err := ParsePins([]byte(bad.text)); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("ParsePins(%s): %v, want %q", bad.text, err, bad.msg)
		}
	}
}

// TestPins_DowngradeThroughDeprecatedExtensionsIsCaught: a certificate
// with only the deprecated GitHub extensions (1.3.6.1.4.1.57264.1.2–.6)
// names its source in GitHub Workflow Repository; pins skipped it, so an
// old L1 bundle of a source pinned at L3 passed. It is held to the pin.
func TestPins_DowngradeThroughDeprecatedExtensionsIsCaught(t *testing.T) {
	s := newTestSigstore(t)
	reusable := defaultRun().reusable()
	data, art := ownBundle(t, s, reusable, nil, signOpts{})
	l3 := verifyOne(t, s, data, art, Policy{Repo: reusable.Repo, SignerRepo: "provenant/builders"})
	old := defaultRun()
	data, art = ownBundle(t, s, old, nil, signOpts{certExt: func(e *certificate.Extensions) { *e = certificate.Extensions{Issuer: e.Issuer} }, extraExt: deprecatedExtensions(old)})
	l1 := verifyOne(t, s, data, art, Policy{Repo: old.Repo, MinLevel: 1})
	if !l3.Verified || l3.Level != 3 || !l1.Verified || l1.Level != 1 {
		t.Fatalf("setup: L3 bundle %v (L%d), deprecated-extensions bundle %v (L%d)\n%s", l3.Verified, l3.Level, l1.Verified, l1.Level, bundleText(l1))
	}
	pins, _ := ParsePins(nil)
	if _, err := pins.Check(ArtifactResult{Verified: true, Level: 3, Bundles: []BundleResult{l3}}, false); err != nil {
		t.Fatal(err)
	}
	_, err := pins.Check(ArtifactResult{Verified: true, Level: 1, Bundles: []BundleResult{l1}}, false)
	var pv *PolicyViolation
	if !errors.As(err, &pv) || !strings.Contains(err.Error(), "level of https://github.com/provenant/demo dropped from SLSA Build L3 to L1") ||
		!strings.Contains(err.Error(), `repository id of https://github.com/provenant/demo changed from "123456" to ""`) {
		t.Fatalf("Check = %v, want the downgrade and the missing repository id named", err)
	}
}
