package verify

// tenant.go: verify on GitHub Enterprise Cloud with data residency
// (<tenant>.ghe.com), as gh attestation verify does it: the tenant's
// trust domain from GET /meta picks its trusted root in GitHub's TUF
// repository (<trust domain>.trusted_root.json), the default OIDC issuer is
// https://token.actions.<tenant>.ghe.com, repositories are on
// https://<tenant>.ghe.com.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/trust"
	"github.com/provenant/provenant/verifier"
)

// resolveTenant returns p set up for a tenant: its server and default
// issuer and, unless --trusted-root is given, the TUF repositories of
// public-good and of the tenant's trust domain (nil: the public ones).
func resolveTenant(ctx context.Context, o *Options, log *cmdutil.Logger, p verifier.Policy) (verifier.Policy, []trust.TUFRepository, error) {
	host := o.f.TenantHost(o.GitHub.Hostname)
	if host == "" {
		return p, nil, nil
	}
	tenant := strings.TrimSuffix(host, ".ghe.com")
	p.GitHubServer = "https://" + host
	if p.CertOIDCIssuer == verifier.GitHubActionsIssuer {
		p.CertOIDCIssuer = "https://token.actions." + tenant + ".ghe.com"
	}
	if o.Trust.TrustedRoot != "" {
		return p, nil, nil
	}
	g, err := o.f.GitHub(host)
	if err != nil {
		return p, nil, cmdutil.Usage(err)
	}
	td, err := g.TrustDomain(ctx)
	if err == nil && td == "" {
		err = fmt.Errorf("GET /meta of %s names no domains.artifact_attestations.trust_domain", host)
	}
	var repos []trust.TUFRepository
	if err == nil {
		repos, err = trust.TenantTUFRepositories(td)
	}
	if err != nil {
		return p, nil, cmdutil.Failedf("GitHub Enterprise tenant %s: %w; or give its trusted root with --trusted-root", host, err)
	}
	log.Printf("%s: trust domain %s (GitHub's TUF target %s.trusted_root.json), issuer %s", host, td, td, p.CertOIDCIssuer)
	return p, repos, nil
}

// rootsError is the exit of a trusted root that would not load: exit 2
// for a --trusted-root or a TUF cache folder the user must fix, 1 for TUF.
func rootsError(o *Options, err error) error {
	var ce *trust.CacheDirError
	if o.Trust.TrustedRoot != "" || errors.Is(err, trust.ErrNoCacheDir) || errors.As(err, &ce) {
		return cmdutil.Usage(err)
	}
	return cmdutil.Failed(err)
}
