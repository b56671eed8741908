package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Well-known values.
const (
	// GitHubActionsIssuer is the OIDC issuer of GitHub Actions workflow tokens.
	GitHubActionsIssuer = "https://token.actions.githubusercontent.com"
	// SLSAProvenanceV1 is the predicate type of SLSA provenance v1.
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
	// SLSAProvenanceV02 is the predicate type of SLSA provenance v0.2.
	SLSAProvenanceV02 = "https://slsa.dev/provenance/v0.2"
	// GitHubHosted is the Runner Environment of GitHub-hosted runners.
	GitHubHosted = "github-hosted"
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
	// signing workflow (SAN prefix, any ref).
	SignerWorkflow string
	// CertIdentity: the SAN, exactly.
	CertIdentity string
	// CertIdentityRegexp: a regular expression the SAN must match, anchored.
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
}

// hasIdentity reports whether the policy constrains the signer or the
// source at all.
func (p *Policy) hasIdentity() bool {
	return p.Owner != "" || p.Repo != "" || p.SignerRepo != "" || p.SignerWorkflow != "" ||
		p.CertIdentity != "" || p.CertIdentityRegexp != "" || p.SourceURI != "" || p.BuilderID != ""
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

// identityMatcher is the compiled form of the identity part of a Policy.
type identityMatcher struct {
	id          verify.CertificateIdentity
	constraints []string // human-readable list of what is required
	denySelf    bool
	// sourceRepo and sourceOwner are the Source Repository (Owner) URI the
	// certificate must carry, compared ignoring case (GitHub names are).
	sourceRepo, sourceOwner string
	server                  string // the GitHub server of the deprecated extensions
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
	if p.CertIdentity != "" {
		// An exact workflow identity names its own repository as the source.
		if server, repo, found := repoOfWorkflowSAN(p.CertIdentity); found {
			o, _, _ := strings.Cut(repo, "/")
			return policySource{server: server, owner: o, repo: repo}, true, nil
		}
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

// repoOfWorkflowSAN parses a workflow identity
// "https://host/o/r/.github/workflows/f.yml@ref" into the server URL and "o/r".
func repoOfWorkflowSAN(san string) (server, repo string, ok bool) {
	rest, found := strings.CutPrefix(san, "https://")
	if !found {
		return "", "", false
	}
	before, _, found := strings.Cut(rest, "/.github/workflows/")
	parts := strings.Split(before, "/")
	if !found || !strings.Contains(san, "@") || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return "https://" + parts[0], parts[1] + "/" + parts[2], true
}

// isWorkflowLikeSAN reports whether a SAN names a CI job (a URI) rather
// than a person (an e-mail address).
func isWorkflowLikeSAN(san string) bool { return strings.Contains(san, "://") }

// hasSignerConstraint reports whether the policy names the signer itself
// (not only the source repository).
func (p *Policy) hasSignerConstraint() bool {
	return p.SignerRepo != "" || p.SignerWorkflow != "" || p.CertIdentity != "" || p.CertIdentityRegexp != "" || p.BuilderID != ""
}

func (p *Policy) compileIdentity() (*identityMatcher, error) {
	m, err := p.compileIdentityFields()
	if err != nil {
		return nil, &PolicyError{Err: err}
	}
	return m, nil
}

func (p *Policy) compileIdentityFields() (*identityMatcher, error) {
	if !p.hasIdentity() {
		return nil, ErrNoIdentity
	}
	src, haveSource, err := p.source()
	if err != nil {
		return nil, err
	}
	// An exact identity that is not a CI job (an e-mail address) names one
	// signer and no builder anyone may call: it is a policy by itself.
	personal := p.CertIdentity != "" && !isWorkflowLikeSAN(p.CertIdentity)
	if !haveSource && !personal {
		return nil, ErrNoSource
	}
	m := &identityMatcher{denySelf: p.DenySelfHostedRunners}
	san, err := p.sanMatcher(src, m)
	if err != nil {
		return nil, err
	}
	issuer := p.CertOIDCIssuer
	if issuer == "" {
		issuer = GitHubActionsIssuer
	}
	iss, err := verify.NewIssuerMatcher(issuer, "")
	if err != nil {
		return nil, err
	}
	m.constraints = append(m.constraints, "issuer = "+issuer)
	ext, err := p.requiredExtensions(src, m)
	if err != nil {
		return nil, err
	}
	m.id, err = verify.NewCertificateIdentity(san, iss, ext)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// sanMatcher compiles the SAN constraint: the one the policy gives, else
// the signing workflow in the source repository (or under its owner). With
// a builder id and no SAN flag, the SAN is free: check 8 matches the
// builder the predicate names, which check 7 binds to the certificate.
func (p *Policy) sanMatcher(src policySource, m *identityMatcher) (verify.SubjectAlternativeNameMatcher, error) {
	var sanExact, sanRegexp string
	switch {
	case p.CertIdentity != "" && p.CertIdentityRegexp != "":
		return verify.SubjectAlternativeNameMatcher{}, errors.New("give cert-identity or cert-identity-regexp, not both")
	case p.CertIdentity != "":
		sanExact = p.CertIdentity
		m.constraints = append(m.constraints, fmt.Sprintf("SAN = %s", sanExact))
	case p.CertIdentityRegexp != "":
		sanRegexp = "^(?:" + p.CertIdentityRegexp + ")$"
		m.constraints = append(m.constraints, fmt.Sprintf("SAN matches %s", sanRegexp))
	case p.SignerWorkflow != "":
		wf := p.SignerWorkflow
		if !strings.Contains(wf, "://") {
			if strings.Count(wf, "/") >= 4 && strings.Contains(strings.SplitN(wf, "/", 2)[0], ".") {
				wf = "https://" + wf // host/owner/repo/.github/workflows/x.yml
			} else {
				wf = src.server + "/" + wf
			}
		}
		sanRegexp = "^" + caseInsensitiveRepo(wf) + "@.+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow %s (any ref)", wf))
	case p.SignerRepo != "":
		sanRegexp = "^(?i:" + regexp.QuoteMeta(src.server+"/"+p.SignerRepo+"/") + ").+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow in %s/%s", src.server, p.SignerRepo))
	case p.BuilderID != "":
		sanRegexp = "^.+$"
		m.constraints = append(m.constraints, "signer: the builder "+p.BuilderID+" (check 8)")
	case src.repo != "":
		sanRegexp = "^(?i:" + regexp.QuoteMeta(src.server+"/"+src.repo+"/") + ").+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow in %s/%s", src.server, src.repo))
	default:
		sanRegexp = "^(?i:" + regexp.QuoteMeta(src.server+"/"+src.owner+"/") + ").+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow under %s/%s", src.server, src.owner))
	}
	san, err := verify.NewSANMatcher(sanExact, sanRegexp)
	if err != nil {
		return san, fmt.Errorf("cert-identity-regexp: %w", err)
	}
	return san, nil
}

// caseInsensitiveRepo quotes a workflow URI "https://host/o/r/path" as a
// regular expression that ignores case in the host and owner/repo (GitHub
// names are case-insensitive) but not in the path (file names are not).
func caseInsensitiveRepo(wf string) string {
	scheme, rest, found := strings.Cut(wf, "://")
	if !found {
		return regexp.QuoteMeta(wf)
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 4 {
		return "(?i:" + regexp.QuoteMeta(wf) + ")"
	}
	return "(?i:" + regexp.QuoteMeta(scheme+"://"+strings.Join(parts[:3], "/")) + ")" + regexp.QuoteMeta("/"+parts[3])
}

// sameWorkflow compares two workflow URIs "https://host/o/r/path",
// ignoring case in the host and owner/repo only.
func sameWorkflow(a, b string) bool {
	ar, ap := splitWorkflowURI(a)
	br, bp := splitWorkflowURI(b)
	return strings.EqualFold(ar, br) && ap == bp
}

// splitWorkflowURI splits "https://host/o/r/path" into "https://host/o/r"
// and "/path".
func splitWorkflowURI(u string) (repo, path string) {
	scheme, rest, found := strings.Cut(u, "://")
	parts := strings.SplitN(rest, "/", 4)
	if !found || len(parts) < 4 {
		return u, ""
	}
	return scheme + "://" + strings.Join(parts[:3], "/"), "/" + parts[3]
}

// requiredExtensions lists the Fulcio extensions the certificate must
// carry. The source repository and owner are compared by check 6 itself,
// ignoring case; the rest by sigstore-go, exactly.
func (p *Policy) requiredExtensions(src policySource, m *identityMatcher) (certificate.Extensions, error) {
	var ext certificate.Extensions
	m.server = src.server
	if src.repo != "" {
		m.sourceRepo = src.server + "/" + src.repo
		m.constraints = append(m.constraints, "source repository = "+m.sourceRepo)
	} else if src.owner != "" {
		m.sourceOwner = src.server + "/" + src.owner
		m.constraints = append(m.constraints, "source owner = "+m.sourceOwner)
	}
	if p.SourceRef != "" {
		ext.SourceRepositoryRef = p.SourceRef
		m.constraints = append(m.constraints, "source ref = "+p.SourceRef)
	}
	if p.SourceDigest != "" {
		ext.SourceRepositoryDigest = p.SourceDigest
		m.constraints = append(m.constraints, "source digest = "+p.SourceDigest)
	}
	if p.SignerDigest != "" {
		ext.BuildSignerDigest = p.SignerDigest
		m.constraints = append(m.constraints, "signer digest = "+p.SignerDigest)
	}
	if p.DenySelfHostedRunners {
		ext.RunnerEnvironment = GitHubHosted
		m.constraints = append(m.constraints, "runner = "+GitHubHosted)
	}
	ext, err := mergeExtensions(ext, p.Extensions)
	if err != nil {
		return ext, err
	}
	for _, k := range sortedKeys(p.Extensions) {
		m.constraints = append(m.constraints, k+" = "+p.Extensions[k])
	}
	return ext, nil
}

// mergeExtensions adds extension values named by their JSON names to those
// the other identity fields require; a name twice with two values, an
// unknown name or the issuer (see CertOIDCIssuer) is an error.
func mergeExtensions(ext certificate.Extensions, extra map[string]string) (certificate.Extensions, error) {
	if len(extra) == 0 {
		return ext, nil
	}
	var have map[string]string
	b, err := json.Marshal(ext)
	if err == nil {
		err = json.Unmarshal(b, &have)
	}
	if err != nil {
		return ext, err
	}
	for k, v := range extra {
		if k == "issuer" {
			return ext, errors.New("extension issuer: give the issuer as cert-oidc-issuer")
		}
		if old, ok := have[k]; ok && old != v {
			return ext, fmt.Errorf("extension %s: required both %q and %q", k, old, v)
		}
		have[k] = v
	}
	if b, err = json.Marshal(have); err != nil {
		return ext, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var out certificate.Extensions
	if err := d.Decode(&out); err != nil {
		return ext, fmt.Errorf("extensions: %w (names are those of sigstore-go's certificate.Extensions, e.g. buildTrigger)", err)
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// check runs check 6 on a verified certificate summary.
func (m *identityMatcher) check(s certificate.Summary) CheckResult {
	if err := m.id.Verify(s); err != nil {
		return fail(CheckIdentity, fmt.Errorf("signer %s (issuer %s) does not meet the policy: %w", s.SubjectAlternativeName, s.Issuer, err))
	}
	repo, owner, from := s.SourceRepositoryURI, s.SourceRepositoryOwnerURI, "Source Repository URI"
	if repo == "" && s.GithubWorkflowRepository != "" {
		// An older certificate: the deprecated extension names the source.
		repo, from = m.server+"/"+s.GithubWorkflowRepository, "GitHub Workflow Repository (deprecated)"
		o, _, _ := strings.Cut(s.GithubWorkflowRepository, "/")
		owner = m.server + "/" + o
	}
	if m.sourceRepo != "" && !strings.EqualFold(repo, m.sourceRepo) {
		return fail(CheckIdentity, fmt.Errorf("signer %s does not meet the policy: the certificate's %s is %q, expected %q", s.SubjectAlternativeName, from, repo, m.sourceRepo))
	}
	if m.sourceOwner != "" && !strings.EqualFold(owner, m.sourceOwner) {
		return fail(CheckIdentity, fmt.Errorf("signer %s does not meet the policy: the certificate's Source Repository Owner URI is %q, expected %q", s.SubjectAlternativeName, owner, m.sourceOwner))
	}
	return pass(CheckIdentity, fmt.Sprintf("signer %s, issuer %s; required: %s",
		s.SubjectAlternativeName, s.Issuer, strings.Join(m.constraints, ", ")))
}

func pass(name CheckName, reason string) CheckResult {
	return CheckResult{Number: name.Number(), Name: name, Status: StatusPass, Reason: reason}
}

func fail(name CheckName, err error) CheckResult {
	// errors.Join separates with newlines; a reason is one line.
	reason := strings.ReplaceAll(err.Error(), "\n", "; ")
	return CheckResult{Number: name.Number(), Name: name, Status: StatusFail, Reason: reason, err: err}
}

func unchecked(name CheckName, reason string) CheckResult {
	return CheckResult{Number: name.Number(), Name: name, Status: StatusUnchecked, Reason: reason}
}

func skipped(name CheckName, reason string) CheckResult {
	return CheckResult{Number: name.Number(), Name: name, Status: StatusSkipped, Reason: reason}
}
