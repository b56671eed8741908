package main

// cmd_ghe.go: verify on GitHub Enterprise Cloud with data residency
// (<tenant>.ghe.com), as gh attestation verify does it: the tenant's
// trust domain from GET /meta picks its trusted root in GitHub's TUF
// repository (<trust domain>.trusted_root.json), the default OIDC issuer is
// https://token.actions.<tenant>.ghe.com, repositories are on
// https://<tenant>.ghe.com.

import (
	"context"
	"fmt"
	"strings"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/trust"
	"github.com/provenant/provenant/verifier"
)

// resolveTenant sets verify up for a tenant: its server and default
// issuer in the policy and, unless --trusted-root is given, the TUF
// repositories of public-good and of the tenant's trust domain.
func resolveTenant(ctx context.Context, f *verifyFlags, e *cmdutil.Factory) int {
	host := e.TenantHost(f.hostname)
	if host == "" {
		return exitOK
	}
	tenant := strings.TrimSuffix(host, ".ghe.com")
	p := &f.opts.Policy
	p.GitHubServer = "https://" + host
	if p.CertOIDCIssuer == verifier.GitHubActionsIssuer {
		p.CertOIDCIssuer = "https://token.actions." + tenant + ".ghe.com"
	}
	if f.trustedRoot != "" {
		return exitOK
	}
	g, err := e.GitHub(host)
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: %v\n", err)
		return exitUsage
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
		fmt.Fprintf(e.Stderr, "provenant verify: GitHub Enterprise tenant %s: %v; or give its trusted root with --trusted-root\n", host, err)
		return exitFailed
	}
	fmt.Fprintf(e.Stderr, "provenant verify: %s: trust domain %s (GitHub's TUF target %s.trusted_root.json), issuer %s\n", host, td, td, p.CertOIDCIssuer)
	f.tufRepos = repos
	return exitOK
}
