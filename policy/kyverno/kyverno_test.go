package kyverno

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/internal/ghworkflow"
	"github.com/slsa-framework/slsa-verifier/v2/verifiers/utils"

	"go.yaml.in/yaml/v3"
)

// TestKyvernoPolicyGolden pins the policies written for the README's
// examples (go test ./verifier -run TestKyvernoPolicyGolden -update).
// update rewrites the golden files in testdata/golden.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func TestKyvernoPolicyGolden(t *testing.T) {
	cases := map[string]Options{
		"l2":  {Repo: "octo-org/octo-repo", Images: []string{"ghcr.io/octo-org/*"}, Refs: []string{"refs/tags/v*"}},
		"l3":  {Repo: "octo-org/octo-repo", Images: []string{"ghcr.io/octo-org/*"}, MinLevel: 3, SignerWorkflow: "octo-org/builders/.github/workflows/build.yml"},
		"vsa": {Repo: "octo-org/octo-repo", Images: []string{"ghcr.io/octo-org/*"}, MinLevel: 3, VerifierID: "https://provenant.dev/verifier", SignerWorkflow: "octo-org/octo-repo/.github/workflows/gate.yml"},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Policy(o)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", "kyverno-"+name+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("policy differs from %s (run with -update to accept):\n%s", path, got)
			}
		})
	}
}

// kyvernoDoc is the part of a written policy the tests read back.
type kyvernoDoc struct {
	Spec struct {
		ValidationFailureAction string `yaml:"validationFailureAction"`
		Rules                   []struct {
			VerifyImages []struct {
				ImageReferences []string `yaml:"imageReferences"`
				Type            string   `yaml:"type"`
				Attestations    []struct {
					Type      string `yaml:"type"`
					Attestors []struct {
						Count   int `yaml:"count"`
						Entries []struct {
							Keyless struct {
								Issuer        string `yaml:"issuer"`
								SubjectRegExp string `yaml:"subjectRegExp"`
								Rekor         struct {
									IgnoreTlog bool `yaml:"ignoreTlog"`
								} `yaml:"rekor"`
							} `yaml:"keyless"`
						} `yaml:"entries"`
					} `yaml:"attestors"`
					Conditions []struct {
						All []kyvernoCondition `yaml:"all"`
						Any []kyvernoCondition `yaml:"any"`
					} `yaml:"conditions"`
				} `yaml:"attestations"`
			} `yaml:"verifyImages"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

func readKyverno(t *testing.T, o Options) kyvernoDoc {
	t.Helper()
	out, err := Policy(o)
	if err != nil {
		t.Fatal(err)
	}
	var d kyvernoDoc
	if err := yaml.Unmarshal(out, &d); err != nil {
		t.Fatalf("written policy is not YAML: %v\n%s", err, out)
	}
	if len(d.Spec.Rules) != 1 || len(d.Spec.Rules[0].VerifyImages) != 1 || len(d.Spec.Rules[0].VerifyImages[0].Attestations) != 1 {
		t.Fatalf("want one rule, one verifyImages, one attestation:\n%s", out)
	}
	return d
}

// kyvernoSigners reads back the policy written for o and returns whether
// its attestor accepts a certificate SAN, as sigstore-go (inside Kyverno)
// matches subjectRegExp: a Go regexp over the SAN, any entry sufficing.
func kyvernoSigners(t *testing.T, o Options) func(san string) bool {
	t.Helper()
	d := readKyverno(t, o)
	att := d.Spec.Rules[0].VerifyImages[0].Attestations[0]
	if len(att.Attestors) != 1 || att.Attestors[0].Count != 1 {
		t.Fatalf("want one attestor set where one entry suffices, got %+v", att.Attestors)
	}
	var res []*regexp.Regexp
	for _, e := range att.Attestors[0].Entries {
		if e.Keyless.Issuer != ghworkflow.Issuer {
			t.Errorf("issuer %q", e.Keyless.Issuer)
		}
		if e.Keyless.SubjectRegExp == "" {
			t.Fatalf("an entry without subjectRegExp accepts any signer: %+v", e)
		}
		res = append(res, regexp.MustCompile(e.Keyless.SubjectRegExp))
	}
	return func(san string) bool {
		for _, re := range res {
			if re.MatchString(san) {
				return true
			}
		}
		return false
	}
}

// TestKyvernoSignerIdentity checks the subjects the written attestors
// accept, as sigstore-go (inside Kyverno) matches them: Go regexps over
// the certificate's SAN.
func TestKyvernoSignerIdentity(t *testing.T) {
	cases := []struct {
		name     string
		o        Options
		accepted []string
		refused  []string
	}{
		{
			name: "L2 any workflow of the source",
			o:    Options{Repo: "octo-org/octo-repo", Images: []string{"*"}},
			accepted: []string{
				"https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0.0",
				"https://github.com/Octo-Org/Octo-Repo/.github/workflows/release.yml@refs/heads/main",
			},
			refused: []string{
				"https://github.com/octo-org/octo-repo-evil/.github/workflows/release.yml@refs/heads/main",
				"https://github.com/octo-org/octo-repo/.github/workflows/release.yml", // no ref
				"https://github.com/octo-org/other/.github/workflows/release.yml@refs/heads/main",
				"https://github.com.evil.example/octo-org/octo-repo/.github/workflows/r.yml@refs/heads/main",
				"https://github.com/github/artifact-attestations-workflows/.github/workflows/a.yml@refs/heads/main",
			},
		},
		{
			name: "pinned workflow: only that file, path case kept",
			o:    Options{Repo: "octo-org/octo-repo", Images: []string{"*"}, SignerWorkflow: "octo-org/builders/.github/workflows/build.yml", MinLevel: 3},
			accepted: []string{
				"https://github.com/octo-org/builders/.github/workflows/build.yml@refs/tags/v2.0.0",
				"https://github.com/OCTO-ORG/builders/.github/workflows/build.yml@refs/tags/v1.2.3",
			},
			refused: []string{
				"https://github.com/octo-org/builders/.github/workflows/Build.yml@refs/tags/v1.2.3",
				"https://github.com/octo-org/builders/.github/workflows/build.yml.evil@refs/tags/v1.2.3",
				"https://github.com/octo-org/builders/.github/workflows/build.ymlx@refs/tags/v1.2.3",
				"https://github.com/octo-org/octo-repo/.github/workflows/build.yml@refs/tags/v1.2.3",
			},
		},
		{
			name: "L3 without a pin: GitHub's reusable workflows only",
			o:    Options{Repo: "octo-org/octo-repo", Images: []string{"*"}, MinLevel: 3},
			accepted: []string{
				"https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@refs/tags/v1.2.3",
			},
			refused: []string{
				"https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.2.3",
				"https://github.com/github/artifact-attestations-workflows-evil/.github/workflows/a.yml@refs/tags/v1.2.3",
			},
		},
		{
			name: "pinned workflow at a ref: that ref only",
			o:    Options{Repo: "octo-org/octo-repo", Images: []string{"*"}, SignerWorkflow: "octo-org/builders/.github/workflows/build.yml@refs/heads/main"},
			accepted: []string{
				"https://github.com/octo-org/builders/.github/workflows/build.yml@refs/heads/main",
			},
			refused: []string{
				"https://github.com/octo-org/builders/.github/workflows/build.yml@refs/heads/mainx",
				"https://github.com/octo-org/builders/.github/workflows/build.yml@refs/heads/evil",
				"https://github.com/octo-org/builders/.github/workflows/build.yml@refs/heads/main@refs/heads/main",
			},
		},
		{
			name:     "enterprise host",
			o:        Options{Repo: "o/r", Images: []string{"*"}, Server: "https://ghe.example.com/"},
			accepted: []string{"https://ghe.example.com/o/r/.github/workflows/a.yml@refs/heads/main"},
			refused:  []string{"https://github.com/o/r/.github/workflows/a.yml@refs/heads/main"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			matches := kyvernoSigners(t, c.o)
			for _, s := range c.accepted {
				if !matches(s) {
					t.Errorf("signer %s refused, want accepted", s)
				}
			}
			for _, s := range c.refused {
				if matches(s) {
					t.Errorf("signer %s accepted, want refused", s)
				}
			}
		})
	}
}

// TestKyvernoConditions checks what is asked of the predicate.
func TestKyvernoConditions(t *testing.T) {
	keys := func(d kyvernoDoc) map[string]kyvernoCondition {
		m := map[string]kyvernoCondition{}
		for _, b := range d.Spec.Rules[0].VerifyImages[0].Attestations[0].Conditions {
			for _, c := range append(b.All, b.Any...) {
				m[c.Key] = c
			}
		}
		return m
	}
	l2 := keys(readKyverno(t, Options{Repo: "Octo-Org/Octo-Repo", Images: []string{"*"}, Refs: []string{"refs/tags/v*"}, BuilderID: "https://github.com/actions/runner/github-hosted"}))
	if c := l2["{{ to_lower(buildDefinition.externalParameters.workflow.repository) }}"]; c.Value != "https://github.com/octo-org/octo-repo" || c.Operator != "Equals" {
		t.Errorf("repository condition %+v", c)
	}
	if c := l2["{{ buildDefinition.externalParameters.workflow.ref }}"]; c.Operator != "AnyIn" {
		t.Errorf("ref condition %+v", c)
	}
	if _, ok := l2["{{ runDetails.builder.id }}"]; !ok {
		t.Error("no builder id condition with BuilderID")
	}
	if _, ok := l2["{{ buildDefinition.internalParameters.github.runner_environment || '' }}"]; ok {
		t.Error("L2 asks for a hosted runner")
	}
	l3 := keys(readKyverno(t, Options{Repo: "o/r", Images: []string{"*"}, MinLevel: 3}))
	if _, ok := l3["{{ buildDefinition.internalParameters.github.runner_environment || '' }}"]; !ok {
		t.Error("L3 does not ask for a hosted runner")
	}
	vsa := readKyverno(t, Options{Repo: "o/r", Images: []string{"*"}, MinLevel: 2, VerifierID: "https://v.example", SignerWorkflow: "o/r/.github/workflows/gate.yml"})
	att := vsa.Spec.Rules[0].VerifyImages[0].Attestations[0]
	if att.Type != formats.VSAPredicateType {
		t.Errorf("VSA mode attestation type %q", att.Type)
	}
	vk := keys(vsa)
	if c := vk["{{ verifiedLevels }}"]; strings.Join(toStrings(c.Value), ",") != "SLSA_BUILD_LEVEL_2,SLSA_BUILD_LEVEL_3" {
		t.Errorf("levels condition %+v", c)
	}
	if c := vk["{{ verificationResult }}"]; c.Value != "PASSED" {
		t.Errorf("result condition %+v", c)
	}
	if c := vk["{{ verifier.id }}"]; c.Value != "https://v.example" {
		t.Errorf("verifier condition %+v", c)
	}
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}

// TestKyvernoPolicyRefuses lists the options no policy is written for.
func TestKyvernoPolicyRefuses(t *testing.T) {
	cases := map[string]struct {
		o    Options
		want string
	}{
		"no repo":            {Options{Images: []string{"*"}}, "--repo is required"},
		"repo not o/r":       {Options{Repo: "octo-org", Images: []string{"*"}}, "not OWNER/NAME"},
		"repo with newline":  {Options{Repo: "o/r\nx: y", Images: []string{"*"}}, "not OWNER/NAME"},
		"no image":           {Options{Repo: "o/r"}, "--image is required"},
		"blank image":        {Options{Repo: "o/r", Images: []string{" "}}, "not an image reference"},
		"level 4":            {Options{Repo: "o/r", Images: []string{"*"}, MinLevel: 4}, "levels are 1, 2 and 3"},
		"L3 own workflow":    {Options{Repo: "o/r", Images: []string{"*"}, MinLevel: 3, SignerWorkflow: "o/r/.github/workflows/a.yml"}, "apart from the source"},
		"workflow short ref": {Options{Repo: "o/r", Images: []string{"*"}, SignerWorkflow: "o/b/.github/workflows/a.yml@main"}, "full ref"},
		"workflow not path":  {Options{Repo: "o/r", Images: []string{"*"}, SignerWorkflow: "o/b"}, "not [host/]owner/name"},
		// A signer naming an owner only (its .github repository's
		// workflow path lost a segment) is no repository's workflow.
		"workflow of an owner":         {Options{Repo: "o/r", Images: []string{"*"}, SignerWorkflow: "o/.github/workflows/a.yml"}, "not [host/]owner/name"},
		"workflow of an owner, host":   {Options{Repo: "o/r", Images: []string{"*"}, SignerWorkflow: "github.com/o/.github/workflows/a.yml"}, "not [host/]owner/name"},
		"workflow in a subfolder":      {Options{Repo: "o/r", Images: []string{"*"}, SignerWorkflow: "o/b/.github/workflows/x/a.yml"}, "not [host/]owner/name"},
		"workflow with a wildcard ref": {Options{Repo: "o/r", Images: []string{"*"}, SignerWorkflow: "o/b/.github/workflows/a.yml@refs/tags/*"}, "full ref"},
		"L3 builder at a branch":       {Options{Repo: "o/r", Images: []string{"*"}, MinLevel: 3, SignerWorkflow: "o/b/.github/workflows/a.yml@refs/heads/main"}, "refs/tags/vX.Y.Z"},
		"L3 builder at a pre-release":  {Options{Repo: "o/r", Images: []string{"*"}, MinLevel: 3, SignerWorkflow: "o/b/.github/workflows/a.yml@refs/tags/v1.2.3-rc.1"}, "refs/tags/vX.Y.Z"},
		// Kyverno cannot read the Source Repository Ref extension: a ref
		// is bound only where the SAN carries it.
		"ref with a reusable signer": {Options{Repo: "o/r", Images: []string{"*"}, Refs: []string{"refs/tags/v*"}, SignerWorkflow: "o/b/.github/workflows/a.yml"}, "cannot bind --source-ref"},
		"ref at L3":                  {Options{Repo: "o/r", Images: []string{"*"}, Refs: []string{"refs/tags/v*"}, MinLevel: 3}, "cannot bind --source-ref"},
		"ref in VSA mode":            {Options{Repo: "o/r", Images: []string{"*"}, Refs: []string{"refs/tags/v*"}, VerifierID: "v", SignerWorkflow: "o/r/.github/workflows/gate.yml"}, "--source-ref"},
		"builder id in VSA mode":     {Options{Repo: "o/r", Images: []string{"*"}, BuilderID: "b", VerifierID: "v", SignerWorkflow: "o/r/.github/workflows/gate.yml"}, "--builder-id"},
		"ref with @":                 {Options{Repo: "o/r", Images: []string{"*"}, Refs: []string{"refs/heads/a@b"}}, "'@'"},
		"empty ref":                  {Options{Repo: "o/r", Images: []string{"*"}, Refs: []string{""}}, "--source-ref"},
		"pinned ref outside refs":    {Options{Repo: "o/r", Images: []string{"*"}, Refs: []string{"refs/tags/v*"}, SignerWorkflow: "o/r/.github/workflows/a.yml@refs/heads/main"}, "never"},
		// A shared gate's VSA names no source repository.
		"VSA from a shared gate": {Options{Repo: "o/r", Images: []string{"*"}, VerifierID: "v", SignerWorkflow: "o/gate/.github/workflows/v.yml"}, "shared gate"},
		"VSA without signer":     {Options{Repo: "o/r", Images: []string{"*"}, VerifierID: "v"}, "needs --signer-workflow"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Policy(c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to say %q", err, c.want)
			}
		})
	}
}

// kyvernoWildcard is Kyverno's wildcard match (kyverno/ext/wildcard, which
// is github.com/IGLOU-EU/go-wildcard v1.0.3's Match in Kyverno 1.15): '*'
// any run of characters, '?' exactly one. It is the oracle the SAN
// regexps written for --ref are held to.
func kyvernoWildcard(pattern, name string) bool {
	if pattern == "" {
		return name == ""
	}
	var deep func(str, pat []rune) bool
	deep = func(str, pat []rune) bool {
		for len(pat) > 0 {
			switch pat[0] {
			default:
				if len(str) == 0 || str[0] != pat[0] {
					return false
				}
			case '?':
				if len(str) == 0 {
					return false
				}
			case '*':
				return deep(str, pat[1:]) || (len(str) > 0 && deep(str[1:], pat))
			}
			str, pat = str[1:], pat[1:]
		}
		return len(str) == 0
	}
	return deep([]rune(name), []rune(pattern))
}

// TestKyvernoBranchRunClaimingReleaseTag is the attack of issue 20 item 6:
// a workflow of the source run on a branch signs a predicate that claims
// a release tag. The predicate is the signer's word; the policy must ask
// the ref of the certificate, whose SAN carries it for the source's own
// workflows, so such a run is refused whatever its predicate says.
func TestKyvernoBranchRunClaimingReleaseTag(t *testing.T) {
	const wf = "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@"
	refs := []string{
		"refs/tags/v1", "refs/tags/v1.2.3", "refs/tags/v", "refs/tags/release-1", "refs/heads/main",
		"refs/heads/refs/tags/v1", "refs/heads/v1", "refs/tags/v1/../x", "refs/pull/1/merge",
		"0123456789abcdef0123456789abcdef01234567", "refs/tags/w1", "refs/tags/v1.yml",
	}
	cases := []struct {
		name string
		o    Options
		pats []string // the --ref patterns, as Kyverno's wildcard reads them
	}{
		{"any workflow of the source", Options{Refs: []string{"refs/tags/v*"}}, []string{"refs/tags/v*"}},
		{"several refs, all bound", Options{Refs: []string{"refs/tags/v*", "refs/heads/main"}}, []string{"refs/tags/v*", "refs/heads/main"}},
		{"one-character wildcard", Options{Refs: []string{"refs/tags/v?"}}, []string{"refs/tags/v?"}},
		{"pinned workflow of the source", Options{Refs: []string{"refs/tags/v*"}, SignerWorkflow: "octo-org/octo-repo/.github/workflows/release.yml"}, []string{"refs/tags/v*"}},
		{"pinned workflow and ref", Options{Refs: []string{"refs/tags/v*"}, SignerWorkflow: "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.2.3"}, []string{"refs/tags/v1.2.3"}},
		{"pinned ref alone", Options{SignerWorkflow: "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main"}, []string{"refs/heads/main"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Repo, c.o.Images = "octo-org/octo-repo", []string{"*"}
			accepts := kyvernoSigners(t, c.o)
			if accepts(wf+"refs/heads/main") && !slicesContain(c.pats, "refs/heads/main") {
				t.Errorf("a run on refs/heads/main is accepted by a policy for %v", c.pats)
			}
			for _, ref := range refs {
				want := false
				for _, p := range c.pats {
					want = want || kyvernoWildcard(p, ref)
				}
				if got := accepts(wf + ref); got != want {
					t.Errorf("SAN at %s: accepted %v, want %v (Kyverno's wildcard over %v)", ref, got, want, c.pats)
				}
			}
			// A workflow file named so that its SAN reads as if at a tag.
			if accepts("https://github.com/octo-org/octo-repo/.github/workflows/a@refs/tags/v1.yml@refs/heads/main") {
				t.Error("a workflow file named a@refs/tags/v1.yml run on a branch is accepted")
			}
		})
	}
}

func slicesContain(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestKyvernoL3UnreleasedBuilder: at L3 the reusable workflow that signs
// must run at a release tag refs/tags/vX.Y.Z, as slsa-verifier's
// utils.IsValidBuilderTag has it; a branch or a commit is refused, pinned
// or not.
func TestKyvernoL3UnreleasedBuilder(t *testing.T) {
	refs := []string{
		"refs/tags/v1.2.3", "refs/tags/v0.0.0", "refs/tags/v10.20.30", "refs/heads/main", "0123456789abcdef0123456789abcdef01234567",
		"refs/tags/v1", "refs/tags/v1.2", "refs/tags/v1.2.3-rc.1", "refs/tags/v1.2.3+build", "refs/tags/v01.2.3", "refs/tags/1.2.3",
		"refs/heads/v1.2.3", "refs/tags/v1.2.3.4", "refs/tags/v1.2.3/x", "refs/tags/v1.2.3\n", "refs/tags/x/v1.2.3",
	}
	for _, c := range []struct {
		name, workflow string
		o              Options
	}{
		{"pinned", "https://github.com/octo-org/builders/.github/workflows/build.yml@", Options{SignerWorkflow: "octo-org/builders/.github/workflows/build.yml"}},
		{"GitHub's attestation workflows", "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@", Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.o.Repo, c.o.Images, c.o.MinLevel = "octo-org/octo-repo", []string{"*"}, 3
			accepts := kyvernoSigners(t, c.o)
			for _, ref := range refs {
				want := utils.IsValidBuilderTag(ref, false) == nil
				if got := accepts(c.workflow + ref); got != want {
					t.Errorf("builder at %q: accepted %v, want %v (IsValidBuilderTag)", ref, got, want)
				}
			}
			for _, ref := range []string{"refs/heads/main", "0123456789abcdef0123456789abcdef01234567"} {
				if accepts(c.workflow + ref) {
					t.Errorf("L3 accepts the builder at %s", ref)
				}
			}
			if !accepts(c.workflow + "refs/tags/v1.2.3") {
				t.Error("L3 refuses the builder at refs/tags/v1.2.3")
			}
		})
	}
	// A pinned builder commit is the one the user vouches for (verify's
	// --signer-digest): that commit only.
	const commit = "0123456789abcdef0123456789abcdef01234567"
	accepts := kyvernoSigners(t, Options{Repo: "o/r", Images: []string{"*"}, MinLevel: 3, SignerWorkflow: "o/b/.github/workflows/a.yml@" + commit})
	if !accepts("https://github.com/o/b/.github/workflows/a.yml@"+commit) || accepts("https://github.com/o/b/.github/workflows/a.yml@1123456789abcdef0123456789abcdef01234567") ||
		accepts("https://github.com/o/b/.github/workflows/a.yml@refs/tags/v1.2.3") {
		t.Error("the pinned builder commit is not the one bound")
	}
	// A pinned release tag is kept as given.
	accepts = kyvernoSigners(t, Options{Repo: "o/r", Images: []string{"*"}, MinLevel: 3, SignerWorkflow: "o/b/.github/workflows/a.yml@refs/tags/v1.2.3"})
	if !accepts("https://github.com/o/b/.github/workflows/a.yml@refs/tags/v1.2.3") || accepts("https://github.com/o/b/.github/workflows/a.yml@refs/tags/v1.2.4") {
		t.Error("the pinned builder tag refs/tags/v1.2.3 is not the one bound")
	}
}

// TestKyvernoVSAOfAnotherRepository is the attack of issue 20 item 7: in
// VSA mode a gate's PASSED summary of another repository's image was
// admitted, the policy naming --repo in its description only. A VSA names
// no source repository; the gate's own identity (a workflow of --repo)
// binds it, so a gate workflow of another repository is refused and the
// attestor admits only workflows of --repo.
func TestKyvernoVSAOfAnotherRepository(t *testing.T) {
	accepts := kyvernoSigners(t, Options{Repo: "octo-org/octo-repo", Images: []string{"*"}, VerifierID: formats.VerifierID, SignerWorkflow: "octo-org/octo-repo/.github/workflows/gate.yml"})
	if !accepts("https://github.com/octo-org/octo-repo/.github/workflows/gate.yml@refs/heads/main") {
		t.Error("the gate of the source repository is refused")
	}
	if accepts("https://github.com/octo-org/other/.github/workflows/gate.yml@refs/heads/main") {
		t.Error("a gate of another repository is accepted")
	}
	_, err := Policy(Options{Repo: "octo-org/octo-repo", Images: []string{"*"}, VerifierID: formats.VerifierID, SignerWorkflow: "octo-org/gate/.github/workflows/verify.yml"})
	if err == nil {
		t.Fatal("a policy on a shared gate's VSAs, which name no repository, was written")
	}
}
