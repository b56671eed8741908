package trust

// tenant.go: GitHub Enterprise Cloud with data residency (<tenant>.ghe.com).
// Its artifact attestations are signed by GitHub's Sigstore instance under a
// trust domain of the tenant's (GET /meta: domains.artifact_attestations.
// trust_domain), whose trusted root GitHub's TUF repository serves as the
// target <trust domain>.trusted_root.json, as gh attestation picks it.

import (
	"errors"
	"fmt"
	"strings"
)

// tenantSuffix is the trusted root target's name after the trust domain.
const tenantSuffix = "." + defaultTarget

// CheckTrustDomain refuses a trust domain that cannot prefix a TUF target
// name (it comes from an API answer).
func CheckTrustDomain(td string) error {
	if td == "" || len(td) > 63 || strings.Trim(td, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.HasPrefix(td, "-") {
		return fmt.Errorf("trust domain %q: want lower-case letters, digits and hyphens", td)
	}
	return nil
}

// GitHubTenantRepository is GitHub's TUF repository serving the trusted
// root of a tenant's trust domain, named "github:<trust domain>".
func GitHubTenantRepository(trustDomain string) (TUFRepository, error) {
	if err := CheckTrustDomain(trustDomain); err != nil {
		return TUFRepository{}, err
	}
	gh := tufRepository(GitHub)
	return TUFRepository{Instance: GitHub + ":" + trustDomain, URL: gh.URL, Root: gh.Root, Target: trustDomain + tenantSuffix}, nil
}

// TenantTUFRepositories are the repositories to verify a tenant's
// attestations with: public-good (unless left out later), and GitHub's
// under the tenant's trust domain in place of GitHub's own.
func TenantTUFRepositories(trustDomain string) ([]TUFRepository, error) {
	tenant, err := GitHubTenantRepository(trustDomain)
	if err != nil {
		return nil, err
	}
	return []TUFRepository{tufRepository(PublicGood), tenant}, nil
}

// TrustDomainOf is the trust domain a tenant repository is for, "" for
// any other.
func TrustDomainOf(r TUFRepository) string {
	if r.Target == "" || !strings.HasSuffix(r.Target, tenantSuffix) {
		return ""
	}
	return strings.TrimSuffix(r.Target, tenantSuffix)
}

// tenantError says, for a tenant's repository, that the failure is about
// its trust domain's root, and offline that it is not in the cache.
func tenantError(r TUFRepository, o TUFOptions, err error) error {
	td := TrustDomainOf(r)
	if err == nil || td == "" {
		return err
	}
	var ee *ExpiredCacheError
	if errors.As(err, &ee) {
		return err
	}
	if o.Offline {
		return fmt.Errorf("GitHub trust domain %s: offline, and its trusted root (TUF target %s) is not usable from the cache %s: run once online so TUF caches it, or pass the tenant's trusted_root.json with --trusted-root: %w", td, r.Target, o.CacheDir, err)
	}
	return fmt.Errorf("GitHub trust domain %s: trusted root (TUF target %s of %s): %w", td, r.Target, r.URL, err)
}
