package verifier

import (
	"errors"
	"fmt"
	"strings"

	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/internal/ghworkflow"

	"github.com/provenant/provenant/trust"
)

// pinsSigner reports whether the policy names the signing workflow itself
// (check 6 or, for a builder id, checks 7 and 8 then hold it to that).
func (p *Policy) pinsSigner() bool {
	return p.SignerRepo != "" || p.SignerWorkflow != "" || p.BuilderID != "" ||
		(p.CertIdentity != "" && isWorkflowLikeSAN(p.CertIdentity))
}

// Well-known values.
const (
	// GitHubActionsIssuer is the OIDC issuer of GitHub Actions workflow tokens.
	GitHubActionsIssuer = trust.GitHubActionsIssuer
	// SLSAProvenanceV1 is the predicate type of SLSA provenance v1.
	SLSAProvenanceV1 = formats.SLSAProvenanceV1
	// SLSAProvenanceV02 is the predicate type of SLSA provenance v0.2.
	SLSAProvenanceV02 = formats.SLSAProvenanceV02
	// GitHubHosted is the Runner Environment of GitHub-hosted runners.
	GitHubHosted = ghworkflow.HostedRunner
)

// Policy says what the signer and the provenance must be. The identity fields
// use the names and meaning of `gh attestation verify`; the provenance fields
// those of slsa-verifier. Zero values impose nothing, except CertOIDCIssuer
// (default GitHubActionsIssuer), PredicateType (default SLSAProvenanceV1) and
// MinLevel (default 2 for SLSA provenance, 1 otherwise).
type Policy struct {
	// Owner: the source repository's owner (Source Repository Owner URI);
	// unless another SAN constraint is given, the signer workflow must live
	// under this owner too.
	Owner string
	// Repo ("owner/name"): the source repository (Source Repository URI);
	// unless another SAN constraint is given, the signer workflow must live
	// in this repository too. It implies Owner.
	Repo string
	// SignerRepo ("owner/name"): the repository of the signing workflow (SAN).
	SignerRepo string
	// SignerWorkflow ("[host/]owner/name/.github/workflows/file.yml"): the
	// signing workflow (SAN prefix, any ref); with "@REF" (a full ref or a
	// commit), at that ref only. At most one of SignerWorkflow, SignerRepo,
	// CertIdentity and CertIdentityRegexp.
	SignerWorkflow string
	// CertIdentity: the SAN, exactly.
	CertIdentity string
	// CertIdentityRegexp: a regular expression the SAN must match
	// somewhere, unanchored, as gh and cosign match it (regexp.MatchString):
	// anchor it with ^ and $ to match the whole SAN.
	CertIdentityRegexp string
	// CertOIDCIssuer: the OIDC issuer, exactly.
	CertOIDCIssuer string
	// SourceRef: Source Repository Ref, e.g. "refs/heads/main".
	SourceRef string
	// SourceDigest: Source Repository Digest (the commit).
	SourceDigest string
	// SignerDigest: Build Signer Digest (the signing workflow's commit).
	SignerDigest string
	// DenySelfHostedRunners requires Runner Environment "github-hosted".
	DenySelfHostedRunners bool
	// Extensions are further Fulcio extensions (1.3.6.1.4.1.57264.1.9–.22)
	// the certificate must hold, by sigstore-go's JSON name of the field
	// (certificate.Extensions), e.g. "buildTrigger": "push" or
	// "sourceRepositoryVisibilityAtSigning": "public".
	Extensions map[string]string
	// GitHubServer is the server of Owner, Repo and SignerRepo
	// (default "https://github.com").
	GitHubServer string

	// PredicateType is the predicate type the statement must have.
	PredicateType string
	// DetectProvenanceType accepts SLSA provenance of either version the
	// statement has (v1 or v0.2) in place of PredicateType, as
	// slsa-verifier detects it from the statement.
	DetectProvenanceType bool
	// BuilderID is the expected builder id, with slsa-verifier's semantics:
	// without "@" any ref of that workflow matches; with "@vX.Y.Z" or
	// "@refs/tags/vX.Y.Z" the ref must match.
	BuilderID string
	// SourceURI is the expected source repository, e.g.
	// "github.com/owner/name" or "git+https://github.com/owner/name".
	SourceURI string
	// SourceTag is the exact tag the build ran on.
	SourceTag string
	// SourceVersionedTag is a semver tag prefix the build's tag must match
	// (v1 matches v1.2.3, v1.2 matches v1.2.0 but not v1.3.0).
	SourceVersionedTag string
	// SourceBranch is the branch the build ran on.
	SourceBranch string
	// WorkflowInputs are inputs of a workflow_dispatch run that must have the given values.
	WorkflowInputs map[string]string
	// MinLevel is the SLSA Build level the bundle must reach (1, 2 or 3).
	MinLevel int
	// VerifierID is the verifier.id a VSA must name (PredicateType
	// VSAPredicateType only; see vsa.go).
	VerifierID string
	// ResourceURI, when set, is the resourceUri a VSA must name.
	ResourceURI string
}

// hasIdentity reports whether the policy constrains the signer or the
// source at all.
func (p *Policy) hasIdentity() bool {
	return p.Owner != "" || p.Repo != "" || p.SignerRepo != "" || p.SignerWorkflow != "" ||
		p.CertIdentity != "" || p.CertIdentityRegexp != "" || p.SourceURI != "" || p.BuilderID != ""
}

// identityOnly reports whether the policy is cosign's: a certificate
// identity (exact or a regexp) and nothing of the source repository. In
// cosign the identity and the issuer are the whole policy, so its verdict
// is given, and the report says the source was not constrained.
func (p *Policy) identityOnly() bool {
	return (p.CertIdentity != "" || p.CertIdentityRegexp != "") && p.Owner == "" && p.Repo == "" && p.SourceURI == ""
}

// checkSignerFields refuses signer constraints that cannot all be applied.
// The SAN is matched against one of CertIdentity, CertIdentityRegexp,
// SignerWorkflow and SignerRepo; with two given, one would be dropped while
// still counting as a pinned builder for L3, so two are an error (gh
// attestation verify makes the same flags mutually exclusive). SignerRepo
// must name one repository (OWNER/NAME, not a whole owner), and a ref on
// SignerWorkflow must be a ref as the certificate names it.
func (p *Policy) checkSignerFields() error {
	var given []string
	for _, f := range []struct{ name, value string }{
		{"cert-identity", p.CertIdentity}, {"cert-identity-regexp", p.CertIdentityRegexp},
		{"signer-workflow", p.SignerWorkflow}, {"signer-repo", p.SignerRepo},
	} {
		if f.value != "" {
			given = append(given, f.name)
		}
	}
	if len(given) > 1 {
		return fmt.Errorf("%s are given together: give one of cert-identity, cert-identity-regexp, signer-workflow and signer-repo (as gh attestation verify), since the certificate's identity is matched against one", strings.Join(given, " and "))
	}
	if p.SignerRepo != "" {
		parts := strings.Split(p.SignerRepo, "/")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" || strings.ContainsAny(p.SignerRepo, "@ \t\n") {
			return fmt.Errorf("signer-repo %q: want OWNER/NAME, one repository (an owner alone would pin every repository of it as a builder)", p.SignerRepo)
		}
	}
	if wf, ref, found := strings.Cut(p.SignerWorkflow, "@"); found {
		if !strings.Contains(wf, "/.github/workflows/") {
			return fmt.Errorf("signer-workflow %q: want [host/]OWNER/NAME/.github/workflows/FILE[@REF]", p.SignerWorkflow)
		}
		if !strings.HasPrefix(ref, "refs/") && !isCommitSHA(ref) {
			return fmt.Errorf("signer-workflow %q: the ref %q is not one a certificate names: give the full ref (refs/tags/v1.2.3, refs/heads/main) or a 40-hex commit, or leave out @REF for any ref", p.SignerWorkflow, ref)
		}
	}
	return nil
}

// isCommitSHA reports whether s is a full 40-hex git commit id.
func isCommitSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ErrNoIdentity is returned by New when the policy does not constrain the
// signer: any GitHub user could then produce an accepted bundle.
var ErrNoIdentity = errors.New("the policy names no signer: give one of owner, repo, signer-repo, signer-workflow, cert-identity or cert-identity-regexp")

// ErrNoSource is returned by New when the policy names a signer but no
// source repository: a public builder (a reusable workflow anyone may
// call) alone would accept an artifact built from any repository.
var ErrNoSource = errors.New("the policy names no source repository: a builder alone accepts artifacts built from any repository that calls it; give --owner, --repo or --source-uri (or --cert-identity with the exact SAN of a workflow in the source repository)")

// PolicyError reports a policy that cannot be used: malformed, or
// incomplete (it would accept bundles nobody vouched for). The command
// exits with status 2.
type PolicyError struct{ Err error }

// Error returns the underlying error's text.
func (e *PolicyError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PolicyError) Unwrap() error { return e.Err }

// Validate checks that the policy is well-formed and complete: it names a
// signer and a source repository (see ErrNoSource). It returns a
// *PolicyError.
func (p *Policy) Validate() error {
	_, err := p.compileIdentity()
	return err
}

// policySource is the source repository a policy names, from --repo,
// --owner, --source-uri or an exact workflow identity.
type policySource struct {
	server string // https://host
	owner  string
	repo   string // owner/name, or "" when only the owner is known
}

// githubServer returns the policy's GitHub server URL without a trailing slash.
func (p *Policy) githubServer() string {
	server := strings.TrimSuffix(p.GitHubServer, "/")
	if server == "" {
		server = "https://github.com"
	}
	return server
}

// source works out the source repository the policy names. ok is false
// when it names none.
func (p *Policy) source() (src policySource, ok bool, err error) {
	src.server = p.githubServer()
	src.owner = p.Owner
	if p.Repo != "" {
		o, _, found := strings.Cut(p.Repo, "/")
		if !found || o == "" || strings.Count(p.Repo, "/") != 1 || strings.HasSuffix(p.Repo, "/") {
			return src, false, fmt.Errorf("repo %q: want owner/name", p.Repo)
		}
		if src.owner != "" && !strings.EqualFold(src.owner, o) {
			return src, false, fmt.Errorf("repo %q is not owned by owner %q", p.Repo, src.owner)
		}
		src.owner, src.repo = o, p.Repo
		return src, true, nil
	}
	if p.SourceURI != "" {
		server, repo, found := repoOfSourceURI(p.SourceURI)
		switch {
		case !found:
			return src, false, fmt.Errorf("source-uri %q: want HOST/OWNER/NAME, e.g. github.com/owner/name", p.SourceURI)
		case !strings.EqualFold(server, src.server):
			return src, false, fmt.Errorf("source-uri %q is not on %s (give --hostname)", p.SourceURI, src.server)
		}
		o, _, _ := strings.Cut(repo, "/")
		if src.owner != "" && !strings.EqualFold(src.owner, o) {
			return src, false, fmt.Errorf("source-uri %q is not owned by owner %q", p.SourceURI, src.owner)
		}
		src.owner, src.repo = o, repo
		return src, true, nil
	}
	if src.owner != "" {
		return src, true, nil
	}
	return src, false, nil
}

// repoOfSourceURI parses a source URI as slsa-verifier users give it
// ("github.com/o/r", "https://github.com/o/r", "git+https://github.com/o/r@ref")
// into the server URL and "o/r".
func repoOfSourceURI(u string) (server, repo string, ok bool) {
	u = strings.TrimPrefix(u, "git+")
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	u, _, _ = strings.Cut(u, "@")
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	parts := strings.Split(u, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return "https://" + parts[0], parts[1] + "/" + parts[2], true
}

// isWorkflowLikeSAN reports whether a SAN names a CI job (a URI) rather
// than a person (an e-mail address).
func isWorkflowLikeSAN(san string) bool { return strings.Contains(san, "://") }
