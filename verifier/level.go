package verifier

import (
	"errors"
	"fmt"
	"strings"

	"github.com/provenant/provenant/internal/ghworkflow"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// isPlatformIdentity reports whether a certificate names a hosted build
// platform's workflow: Fulcio's CI extensions (Build Signer URI, Run
// Invocation URI) from GitHub Actions' issuer (including enterprise issuer
// slugs and GHE.com), or from the issuer the policy names explicitly (a
// GitHub Enterprise Server, or a test stack's GitHub-type issuer).
func isPlatformIdentity(ext certificate.Extensions, policyIssuer string) bool {
	if ext.BuildSignerURI == "" || ext.RunInvocationURI == "" {
		return false
	}
	issuer := ext.Issuer
	switch {
	case issuer == GitHubActionsIssuer, strings.HasPrefix(issuer, GitHubActionsIssuer+"/"):
		return true
	case strings.HasPrefix(issuer, "https://token.actions.") && strings.HasSuffix(issuer, ".ghe.com"):
		return true
	}
	return policyIssuer != "" && issuer == policyIssuer
}

// trustedBuilder says whether the certificate's signing workflow is a
// build platform apart from the source: in another repository than the
// source, either pinned by the policy or a built-in trusted builder, and
// released: run at a release tag refs/tags/vX.Y.Z (slsa-verifier's
// utils.IsValidBuilderTag) or at the commit the policy pins (SignerDigest,
// which check 6 matched against the Build Signer Digest). A branch moves
// under the caller's feet, and GitHub runs owner/repo/...@<sha> for a
// commit that exists only in a fork of the builder's repository (an
// "imposter commit"), with the token naming the parent repository; so
// neither is a builder anyone vouched for. When it is not trusted, why
// says so in words for a report.
func (p *Policy) trustedBuilder(ext certificate.Extensions) (ok bool, why string) {
	signerRepo := ghworkflow.RepoOf(ext.BuildSignerURI)
	_, ref, _ := strings.Cut(ext.BuildSignerURI, "@")
	switch {
	case signerRepo == "" || strings.EqualFold(signerRepo, ext.SourceRepositoryURI):
		return false, "the signing workflow lives in the source repository " + ext.SourceRepositoryURI + ", so the build is not isolated from the caller"
	case !p.pinsSigner() && !ghworkflow.IsBuiltinTrustedBuilder(ext.BuildSignerURI):
		return false, "the signer " + ext.BuildSignerURI + " is not a trusted builder (pin it with --signer-workflow)"
	case p.SignerDigest == "" && !ghworkflow.IsReleasedRef(ref):
		return false, fmt.Sprintf("the builder %s ran at %q, not at a release tag refs/tags/vX.Y.Z: a branch can move and a commit may exist only in a fork (an imposter commit); call the builder at a release tag, or pin its commit with --signer-digest", ext.BuildSignerURI, ref)
	}
	return true, ""
}

// level computes check 9: the SLSA Build level reached and why, against the
// minimum level required. L3 needs a trusted builder (see trustedBuilder)
// on a GitHub-hosted runner.
func level(s certificate.Summary, st *statement, pred CheckResult, p *Policy) (int, CheckResult) {
	minLevel := p.MinLevel
	if minLevel == 0 {
		minLevel = 1
		// cosign's policy (an identity, no source) asks no level.
		if isSLSAProvenance(st.PredicateType) && !p.identityOnly() {
			minLevel = 2
		}
	}
	reached, why := 1, ""
	ext := s.Extensions
	switch {
	case !isSLSAProvenance(st.PredicateType):
		why = fmt.Sprintf("signed, but predicate type %q is not SLSA provenance", st.PredicateType)
	case pred.Status == StatusFail:
		why = "signed, but the predicate disagrees with the certificate (check 7)"
	case pred.Status != StatusPass:
		why = "signed, but the predicate could not be checked against the certificate (check 7): its claims are the signer's word only"
	case !hasGitHubExtensions(ext):
		why = fmt.Sprintf("signed by %s, but the certificate has only the deprecated GitHub extensions (1.3.6.1.4.1.57264.1.2–.6), which do not name the build platform's signing workflow", s.SubjectAlternativeName)
	case !isPlatformIdentity(ext, p.CertOIDCIssuer):
		why = fmt.Sprintf("signed by %s (issuer %s), which is not a hosted build platform identity", s.SubjectAlternativeName, ext.Issuer)
	default:
		reached = 2
		why = "signed by the hosted build platform identity " + ext.BuildSignerURI + " and the predicate agrees with the certificate"
		trusted, notWhy := p.trustedBuilder(ext)
		switch {
		case !trusted:
			why += "; not L3: " + notWhy
		case ext.RunnerEnvironment != GitHubHosted:
			env := ext.RunnerEnvironment
			if env == "" {
				env = "not recorded"
			}
			why += "; not L3: the runner environment is " + env + ", not github-hosted"
		default:
			reached = 3
			why += "; the signing workflow is a trusted builder in " + ghworkflow.RepoOf(ext.BuildSignerURI) + ", apart from the source repository " + ext.SourceRepositoryURI + ", on a GitHub-hosted runner"
		}
	}
	msg := fmt.Sprintf("SLSA Build L%d: %s (required: L%d)", reached, why, minLevel)
	if reached < minLevel {
		return reached, fail(CheckLevel, errors.New(msg))
	}
	return reached, pass(CheckLevel, msg)
}
