package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/provenant/provenant/internal/ghworkflow"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// identityMatcher is the compiled form of the identity part of a Policy.
type identityMatcher struct {
	id          verify.CertificateIdentity
	constraints []string // human-readable list of what is required
	denySelf    bool
	// sourceRepo and sourceOwner are the Source Repository (Owner) URI the
	// certificate must carry, compared ignoring case (GitHub names are).
	sourceRepo, sourceOwner string
	server                  string // the GitHub server of the deprecated extensions
	// sourceOrBuiltin, with --source-uri and no signer flag (slsa-verifier's
	// command line), accepts a signing workflow of the source repository
	// (sourcePrefix) or a built-in trusted builder, as slsa-verifier does.
	sourceOrBuiltin bool
	sourcePrefix    string
	// builderTag, with a builder id (slsa-verifier's --builder-id), requires
	// the signing workflow at a release tag refs/tags/vX.Y.Z, as
	// slsa-verifier does for every builder (verifyTrustedBuilderRef).
	builderTag bool
}

func (p *Policy) compileIdentity() (*identityMatcher, error) {
	m, err := p.compileIdentityFields()
	if err == nil {
		err = p.checkVSAPolicy()
	}
	if err != nil {
		return nil, &PolicyError{Err: err}
	}
	return m, nil
}

func (p *Policy) compileIdentityFields() (*identityMatcher, error) {
	if !p.hasIdentity() {
		return nil, ErrNoIdentity
	}
	if err := p.checkSignerFields(); err != nil {
		return nil, err
	}
	src, haveSource, err := p.source()
	if err != nil {
		return nil, err
	}
	// A certificate identity with no source (cosign's policy: identity and
	// issuer) is a policy by itself; a builder alone is not (ErrNoSource).
	if !haveSource && !p.identityOnly() {
		return nil, ErrNoSource
	}
	m := &identityMatcher{denySelf: p.DenySelfHostedRunners, builderTag: p.BuilderID != ""}
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
	case p.CertIdentity != "":
		sanExact = p.CertIdentity
		m.constraints = append(m.constraints, fmt.Sprintf("SAN = %s", sanExact))
	case p.CertIdentityRegexp != "":
		// Unanchored, as gh and cosign match it (regexp.MatchString).
		sanRegexp = p.CertIdentityRegexp
		m.constraints = append(m.constraints, fmt.Sprintf("SAN matches %s (unanchored, as gh and cosign)", sanRegexp))
	case p.SignerWorkflow != "":
		wf, ref, _ := strings.Cut(p.SignerWorkflow, "@")
		if !strings.Contains(wf, "://") {
			if strings.Count(wf, "/") >= 4 && strings.Contains(strings.SplitN(wf, "/", 2)[0], ".") {
				wf = "https://" + wf // host/owner/repo/.github/workflows/x.yml
			} else {
				wf = src.server + "/" + wf
			}
		}
		if ref == "" {
			sanRegexp = "^" + ghworkflow.QuoteRegexp(wf) + "@.+$"
			m.constraints = append(m.constraints, fmt.Sprintf("signer workflow %s (any ref)", wf))
		} else {
			sanRegexp = "^" + ghworkflow.QuoteRegexp(wf) + regexp.QuoteMeta("@"+ref) + "$"
			m.constraints = append(m.constraints, fmt.Sprintf("signer workflow %s at %s", wf, ref))
		}
	case p.SignerRepo != "":
		sanRegexp = "^(?i:" + regexp.QuoteMeta(src.server+"/"+p.SignerRepo+"/") + ").+$"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow in %s/%s", src.server, p.SignerRepo))
	case p.BuilderID != "":
		sanRegexp = "^.+$"
		m.constraints = append(m.constraints, "signer: the builder "+p.BuilderID+" (check 8)")
	case p.SourceURI != "" && src.repo != "" && p.Repo == "" && p.Owner == "":
		// slsa-verifier's policy: the builder is one it trusts, or the
		// source's own workflow; check() decides between the two.
		sanRegexp = "^.+$"
		m.sourceOrBuiltin, m.sourcePrefix = true, src.server+"/"+src.repo+"/"
		m.constraints = append(m.constraints, fmt.Sprintf("signer workflow in %s/%s or a built-in trusted builder", src.server, src.repo))
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

// requiredExtensions lists the Fulcio extensions the certificate must
// carry. The source repository and owner are compared by check 6 itself,
// ignoring case; the rest by sigstore-go, exactly.
func (p *Policy) requiredExtensions(src policySource, m *identityMatcher) (certificate.Extensions, error) {
	var ext certificate.Extensions
	m.server = src.server
	switch {
	case src.repo != "":
		m.sourceRepo = src.server + "/" + src.repo
		m.constraints = append(m.constraints, "source repository = "+m.sourceRepo)
	case src.owner != "":
		m.sourceOwner = src.server + "/" + src.owner
		m.constraints = append(m.constraints, "source owner = "+m.sourceOwner)
	default:
		m.constraints = append(m.constraints, "source repository not constrained (the identity and issuer are the whole policy, as in cosign)")
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
	if m.builderTag {
		if _, ref, _ := strings.Cut(s.SubjectAlternativeName, "@"); !ghworkflow.IsReleasedRef(ref) {
			return fail(CheckIdentity, fmt.Errorf("signer %s does not meet the policy: with a builder id the signing workflow must run at a release tag refs/tags/vX.Y.Z, as slsa-verifier requires of every builder; %q is not one (a branch moves, and a commit may exist only in a fork)", s.SubjectAlternativeName, ref))
		}
	}
	if m.sourceOrBuiltin && !ghworkflow.IsBuiltinTrustedBuilder(s.SubjectAlternativeName) &&
		!(len(s.SubjectAlternativeName) > len(m.sourcePrefix) && strings.EqualFold(s.SubjectAlternativeName[:len(m.sourcePrefix)], m.sourcePrefix)) {
		return fail(CheckIdentity, fmt.Errorf("signer %s does not meet the policy: neither a workflow of the source %s nor a built-in trusted builder (pin a builder with --builder-id or --signer-workflow)", s.SubjectAlternativeName, strings.TrimSuffix(m.sourcePrefix, "/")))
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
