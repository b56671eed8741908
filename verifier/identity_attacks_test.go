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
		{name: "regexp is anchored at the end", run: evil, policy: Policy{Owner: "provenant", CertIdentityRegexp: `https://github\.com/provenant/demo`}, failed: CheckIdentity, reason: "SAN"},
		{name: "regexp is anchored at the start", run: repoRun("evil/provenant"), policy: Policy{Owner: "evil", CertIdentityRegexp: `provenant/.*`}, failed: CheckIdentity, reason: "SAN"},
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
			level:  2, failed: CheckProvenance, reason: "builder is"},
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
