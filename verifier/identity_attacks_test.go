package verifier

import (
	"errors"
	"strings"
	"testing"
)

// Identity confusion: certificates whose identity looks like the one the
// policy asks for, but is not it. Each test is named after the attack.

// repoRun is the default run moved to another source repository, signing
// from that repository's own release workflow.
func repoRun(repo string) ghRun {
	r := defaultRun()
	r.Repo = repo
	return withSigner(r, repo+"/.github/workflows/release.yml@refs/tags/v1.2.3")
}

// TestVerify_RepoNamePrefixIsAnotherRepo: `--repo provenant/demo` must not
// match provenant/demo-evil, nor `--owner provenant` provenant-evil, nor an
// anchored --cert-identity-regexp a longer SAN.
func TestVerify_RepoNamePrefixIsAnotherRepo(t *testing.T) {
	evil := repoRun("provenant/demo-evil")
	evilOwner := repoRun("provenant-evil/demo")
	runIdentityCases(t, []levelCase{
		{name: "repo prefix", run: evil, policy: Policy{Repo: "provenant/demo"}, failed: CheckIdentity, reason: "SAN"},
		{name: "signer repo prefix", run: evil, policy: Policy{Repo: "provenant/demo-evil", SignerRepo: "provenant/demo"}, failed: CheckIdentity, reason: "SAN"},
		{name: "owner prefix", run: evilOwner, policy: Policy{Owner: "provenant"}, failed: CheckIdentity},
		{name: "signer workflow prefix", run: evil, policy: Policy{Repo: "provenant/demo-evil", SignerWorkflow: "provenant/demo/.github/workflows/release.yml"}, failed: CheckIdentity, reason: "SAN"},
		// A regexp matches anywhere in the SAN, as gh and cosign match it
		// (regexp.MatchString, issue 21): anchored with ^ and $ by its author,
		// a longer SAN does not match.
		{name: "regexp anchored by its author at the end", run: evil, policy: Policy{Owner: "provenant", CertIdentityRegexp: `^https://github\.com/provenant/demo/\.github/workflows/release\.yml@refs/tags/v1\.2\.3$`}, failed: CheckIdentity, reason: "SAN"},
		{name: "regexp anchored by its author at the start", run: repoRun("evil/provenant"), policy: Policy{Owner: "evil", CertIdentityRegexp: `^provenant/.*`}, failed: CheckIdentity, reason: "SAN"},
		{name: "regexp matched anywhere, as gh", run: evil, policy: Policy{Owner: "provenant", CertIdentityRegexp: `https://github\.com/provenant/demo`}, level: 2},
		{name: "workflow path prefix", run: withSigner(defaultRun(), "provenant/demo/.github/workflows/release.yml.evil.yml@refs/tags/v1.2.3"),
			policy: Policy{Repo: "provenant/demo", SignerWorkflow: "provenant/demo/.github/workflows/release.yml"}, failed: CheckIdentity, reason: "SAN"},
		// The control: the real repository verifies.
		{name: "the repository itself", run: defaultRun(), policy: Policy{Repo: "provenant/demo"}, level: 2},
	})
}

// TestVerify_RepoNameCaseAndLookAlikes: GitHub names ignore ASCII case, so
// PROVENANT/Demo is provenant/demo; but a look-alike (Cyrillic е, the
// Kelvin sign K that Unicode case folding maps to k, a dotless ı) is
// another name.
func TestVerify_RepoNameCaseAndLookAlikes(t *testing.T) {
	runIdentityCases(t, []levelCase{
		{name: "ASCII case of the policy", run: defaultRun(), policy: Policy{Repo: "PROVENANT/Demo"}, level: 2},
		{name: "Cyrillic e in the certificate", run: repoRun("provenant/d\u0435mo"), policy: Policy{Repo: "provenant/demo"}, failed: CheckIdentity},
		{name: "Kelvin sign folds to k", run: repoRun("provenant/\u212Ait"), policy: Policy{Repo: "provenant/kit"}, failed: CheckIdentity},
		{name: "long s folds to s", run: repoRun("provenant/\u017Fdk"), policy: Policy{Repo: "provenant/sdk"}, failed: CheckIdentity},
		{name: "Kelvin sign in the signer repo", run: withSigner(defaultRun(), "provenant/\u212Ait/.github/workflows/release.yml@refs/tags/v1.2.3"),
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/kit"}, failed: CheckIdentity},
	})
}

// TestVerify_IssuerLookAlikes: only GitHub Actions' issuer, exactly, is
// GitHub Actions.
func TestVerify_IssuerLookAlikes(t *testing.T) {
	var cases []levelCase
	for _, iss := range []string{
		"https://token.actions.githubusercontent.com.evil.example",
		"https://token.actions.githubusercontent.com/",
		"http://token.actions.githubusercontent.com",
		"https://TOKEN.actions.githubusercontent.com",
		"https://token.actions.githubusercontent.com/evil",
		"https://token.actions.githubusercontent.com@evil.example",
		"https://token.actions.githubusercontent.c\u043em",
	} {
		r := defaultRun()
		r.Issuer = iss
		cases = append(cases, levelCase{name: iss, run: r, policy: Policy{Repo: "provenant/demo"}, failed: CheckIdentity, reason: "issuer"})
	}
	runIdentityCases(t, cases)
}

// TestVerify_BranchNamedLikeATagIsNotTheTag: a workflow run on a branch
// named v1.2.3 (refs/heads/v1.2.3) is not a run on the tag v1.2.3.
func TestVerify_BranchNamedLikeATagIsNotTheTag(t *testing.T) {
	branch := defaultRun()
	branch.Ref = "refs/heads/v1.2.3"
	branch = withSigner(branch, "provenant/demo/.github/workflows/release.yml@refs/heads/v1.2.3")
	reusableOnBranch := withSigner(defaultRun(), "provenant/builders/.github/workflows/provenance.yml@refs/heads/v2.0.0")
	runIdentityCases(t, []levelCase{
		{name: "source tag", run: branch, policy: Policy{Repo: "provenant/demo", SourceTag: "v1.2.3"}, failed: CheckProvenance},
		{name: "versioned source tag", run: branch, policy: Policy{Repo: "provenant/demo", SourceVersionedTag: "v1.2"}, failed: CheckProvenance},
		{name: "source ref", run: branch, policy: Policy{Repo: "provenant/demo", SourceRef: "refs/tags/v1.2.3"}, failed: CheckIdentity},
		{name: "builder pinned at a tag, signer at a branch of that name", run: reusableOnBranch,
			policy: Policy{Repo: "provenant/demo", SignerRepo: "provenant/builders", BuilderID: "https://github.com/provenant/builders/.github/workflows/provenance.yml@v2.0.0"},
			failed: CheckIdentity, reason: `with a builder id the signing workflow must run at a release tag refs/tags/vX.Y.Z, as slsa-verifier requires of every builder; "refs/heads/v2.0.0" is not one`},
	})
}

// TestVerify_SelfHostedRunnerDenied: with DenySelfHostedRunners, a
// self-hosted runner, a certificate without the Runner Environment
// extension and a case variant of github-hosted all fail.
func TestVerify_SelfHostedRunnerDenied(t *testing.T) {
	deny := Policy{Repo: "provenant/demo", DenySelfHostedRunners: true}
	var cases []levelCase
	for _, runner := range []string{"self-hosted", "", "GitHub-Hosted", "github-hosted "} {
		r := defaultRun()
		r.Runner = runner
		cases = append(cases, levelCase{name: "runner " + runner, run: r, policy: deny, failed: CheckIdentity, reason: "RunnerEnvironment"})
	}
	cases = append(cases, levelCase{name: "github-hosted", run: defaultRun(), policy: deny, level: 2})
	runIdentityCases(t, cases)
}

// runIdentityCases signs each case's run and checks that it is rejected by
// the check named, with the reason given (a control case with no failed
// check must verify at its level). Unlike runLevelCases, the level a
// rejected bundle would have reached is not asserted.
func runIdentityCases(t *testing.T, tests []levelCase) {
	t.Helper()
	s := newTestSigstore(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			art, err := ArtifactFromReader("demo-linux-amd64", strings.NewReader("the release asset"))
			if err != nil {
				t.Fatal(err)
			}
			stmt := tc.run.statement(map[string][]byte{art.Name: art.Digests["sha256"]})
			res := verifyOne(t, s, s.sign(t, tc.run, stmt, tc.opts), art, tc.policy)
			if tc.failed == "" {
				if !res.Verified || res.Level != tc.level {
					t.Fatalf("want verified at L%d, got %v (L%d)\n%s", tc.level, res.Err(), res.Level, bundleText(res))
				}
				return
			}
			var ce *CheckError
			if err := res.Err(); res.Verified || !errors.As(err, &ce) || ce.Check != tc.failed {
				t.Fatalf("first failure %v, want check %s\n%s", err, tc.failed, bundleText(res))
			}
			if !strings.Contains(res.Check(tc.failed).Reason, tc.reason) {
				t.Errorf("check %s reason %q does not contain %q", tc.failed, res.Check(tc.failed).Reason, tc.reason)
			}
		})
	}
}

// TestPolicy_ConflictingSignerFieldsAreRefused: the certificate's SAN is
// matched against one signer field; a second one would be dropped while
// still counting as a pinned builder for L3 (a regexp '.*' plus an
// attacker's --signer-workflow gave L3). Two are a policy error, as gh
// makes the flags mutually exclusive; so are an owner-wide --signer-repo
// and a --signer-workflow@REF that no certificate can carry.
func TestPolicy_ConflictingSignerFieldsAreRefused(t *testing.T) {
	const wf = "evil-org/evil/.github/workflows/x.yml"
	tests := []struct {
		name   string
		policy Policy
		want   string
	}{
		{"regexp and signer workflow", Policy{Repo: "a/b", CertIdentityRegexp: ".*", SignerWorkflow: wf}, "cert-identity-regexp and signer-workflow are given together"},
		{"regexp and signer repo", Policy{Repo: "a/b", CertIdentityRegexp: ".*", SignerRepo: "evil-org/evil"}, "cert-identity-regexp and signer-repo are given together"},
		{"identity and signer workflow", Policy{Repo: "a/b", CertIdentity: "https://github.com/a/b/.github/workflows/r.yml@refs/heads/main", SignerWorkflow: wf}, "cert-identity and signer-workflow"},
		{"identity and regexp", Policy{Repo: "a/b", CertIdentity: "x", CertIdentityRegexp: "y"}, "cert-identity and cert-identity-regexp"},
		{"signer workflow and signer repo", Policy{Repo: "a/b", SignerWorkflow: wf, SignerRepo: "evil-org/evil"}, "signer-workflow and signer-repo"},
		{"signer repo names only an owner", Policy{Repo: "a/b", SignerRepo: "evil-org"}, `signer-repo "evil-org": want OWNER/NAME`},
		{"signer repo with a trailing slash", Policy{Repo: "a/b", SignerRepo: "evil-org/"}, "want OWNER/NAME"},
		{"signer repo with three parts", Policy{Repo: "a/b", SignerRepo: "evil-org/evil/x"}, "want OWNER/NAME"},
		{"signer workflow at a short ref", Policy{Repo: "a/b", SignerWorkflow: wf + "@main"}, `the ref "main" is not one a certificate names`},
		{"signer workflow at an empty ref", Policy{Repo: "a/b", SignerWorkflow: wf + "@"}, `the ref "" is not one`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Validate()
			var pe *PolicyError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want a *PolicyError containing %q", err, tc.want)
			}
		})
	}
}

// TestVerify_SignerWorkflowAtARef: --signer-workflow with @REF matches that
// ref only (before, it built a regexp that could never match).
func TestVerify_SignerWorkflowAtARef(t *testing.T) {
	run := withSigner(defaultRun(), "provenant/builders/.github/workflows/provenance.yml@refs/tags/v2.0.0")
	const wf = "provenant/builders/.github/workflows/provenance.yml"
	runIdentityCases(t, []levelCase{
		{name: "at its ref", run: run, policy: Policy{Repo: "provenant/demo", SignerWorkflow: wf + "@refs/tags/v2.0.0", MinLevel: 3}, level: 3},
		{name: "at its commit", run: withSigner(defaultRun(), wf+"@fedcba9876543210fedcba9876543210fedcba98"), policy: Policy{Repo: "provenant/demo", SignerWorkflow: wf + "@fedcba9876543210fedcba9876543210fedcba98", MinLevel: 2}, level: 2},
		{name: "at another ref", run: run, policy: Policy{Repo: "provenant/demo", SignerWorkflow: wf + "@refs/tags/v2.0.1"}, failed: CheckIdentity, reason: "SAN"},
		{name: "a longer ref is another ref", run: withSigner(defaultRun(), wf+"@refs/tags/v2.0.0-evil"), policy: Policy{Repo: "provenant/demo", SignerWorkflow: wf + "@refs/tags/v2.0.0"}, failed: CheckIdentity, reason: "SAN"},
	})
}
