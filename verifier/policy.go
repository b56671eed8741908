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

// hasIdentity reports whether the policy constrains the signer at all.
func (p *Policy) hasIdentity() bool {
	return p.Owner != "" || p.Repo != "" || p.SignerRepo != "" || p.SignerWorkflow != "" ||
		p.CertIdentity != "" || p.CertIdentityRegexp != ""
}

// ErrNoIdentity is returned by New when the policy does not constrain the
// signer: any GitHub user could then produce an accepted bundle.
var ErrNoIdentity = errors.New("the policy names no signer: give one of owner, repo, signer-repo, signer-workflow, cert-identity or cert-identity-regexp")

// identityMatcher is the compiled form of the identity part of a Policy.
type identityMatcher struct {
	id          verify.CertificateIdentity
	constraints []string // human-readable list of what is required
	denySelf    bool
}

func (p *Policy) compileIdentity() (*identityMatcher, error) {
	if !p.hasIdentity() {
		return nil, ErrNoIdentity
	}
	server := strings.TrimSuffix(p.GitHubServer, "/")
	if server == "" {
		server = "https://github.com"
	}
	m := &identityMatcher{denySelf: p.DenySelfHostedRunners}
	owner := p.Owner
	if p.Repo != "" {
		o, _, ok := strings.Cut(p.Repo, "/")
		if !ok || o == "" || strings.Count(p.Repo, "/") != 1 {
			return nil, fmt.Errorf("repo %q: want owner/name", p.Repo)
		}
		if owner != "" && !strings.EqualFold(owner, o) {
			return nil, fmt.Errorf("repo %q is not owned by owner %q", p.Repo, owner)
		}
		owner = o
	}

	var sanExact, sanRegexp string
	switch {
	case p.CertIdentity != "" && p.CertIdentityRegexp != "":
		return nil, errors.New("give cert-identity or cert-identity-regexp, not both")
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
				wf = server + "/" + wf
			}
		}
		sanRegexp = "(?i)^" + regexp.QuoteMeta(wf) + "@.+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow %s (any ref)", wf))
	case p.SignerRepo != "":
		sanRegexp = "(?i)^" + regexp.QuoteMeta(server+"/"+p.SignerRepo+"/") + ".+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow in %s/%s", server, p.SignerRepo))
	case p.Repo != "":
		sanRegexp = "(?i)^" + regexp.QuoteMeta(server+"/"+p.Repo+"/") + ".+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow in %s/%s", server, p.Repo))
	default:
		sanRegexp = "(?i)^" + regexp.QuoteMeta(server+"/"+owner+"/") + ".+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow under %s/%s", server, owner))
	}
	san, err := verify.NewSANMatcher(sanExact, sanRegexp)
	if err != nil {
		return nil, fmt.Errorf("cert-identity-regexp: %w", err)
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

	var ext certificate.Extensions
	if p.Repo != "" {
		ext.SourceRepositoryURI = server + "/" + p.Repo
		m.constraints = append(m.constraints, "source repository = "+ext.SourceRepositoryURI)
	} else if owner != "" {
		ext.SourceRepositoryOwnerURI = server + "/" + owner
		m.constraints = append(m.constraints, "source owner = "+ext.SourceRepositoryOwnerURI)
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
	if ext, err = mergeExtensions(ext, p.Extensions); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(p.Extensions) {
		m.constraints = append(m.constraints, k+" = "+p.Extensions[k])
	}
	m.id, err = verify.NewCertificateIdentity(san, iss, ext)
	if err != nil {
		return nil, err
	}
	return m, nil
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
