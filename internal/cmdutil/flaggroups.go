package cmdutil

// flaggroups.go: the flags several commands share, as cosign's
// cmd/cosign/cli/options has them: a struct and its AddFlags.

import (
	"strings"

	"github.com/spf13/pflag"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/trust"
	"github.com/provenant/provenant/verifier"
)

// TrustFlags say where trusted roots come from: a file, or TUF with its
// cache, online or not, with or without the public-good instance.
type TrustFlags struct {
	TrustedRoot  string
	TUFCache     string
	Offline      bool
	NoPublicGood bool
}

// AddFlags defines --trusted-root, --tuf-cache, --offline and
// --no-public-good on fs, as verify has them.
func (t *TrustFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&t.TrustedRoot, "trusted-root", "", "trusted_root.json (or JSON Lines) `FILE`; default: TUF")
	fs.BoolVar(&t.NoPublicGood, "no-public-good", false, "do not trust the public-good Sigstore instance")
	fs.StringVar(&t.TUFCache, "tuf-cache", "", "TUF cache `DIR`, yours and not writable by others (default: the user cache folder, e.g. ~/.cache or %LocalAppData%, /provenant/tuf)")
	fs.BoolVar(&t.Offline, "offline", false, "do not contact TUF: use its cached metadata even past its expiry (the warning says how old)")
}

// AddBriefFlags defines --trusted-root, --tuf-cache and --offline with
// help that points at verify's (policy init).
func (t *TrustFlags) AddBriefFlags(fs *pflag.FlagSet) {
	fs.StringVar(&t.TrustedRoot, "trusted-root", "", "trusted_root.json (or JSON Lines) `FILE`; default: TUF")
	fs.StringVar(&t.TUFCache, "tuf-cache", "", "TUF cache `DIR` (as verify)")
	fs.BoolVar(&t.Offline, "offline", false, "do not contact TUF (as verify)")
}

// LoadRoots loads the trusted roots: from --trusted-root, else through
// TUF (repos, or the public ones when nil) with its cache in --tuf-cache
// (the same cache attest signs with); without the public-good instance
// for --no-public-good. Warnings say how old an offline root is.
func (t *TrustFlags) LoadRoots(f *Factory, repos []trust.TUFRepository) ([]verifier.TrustedRoot, []string, error) {
	var roots []verifier.TrustedRoot
	var warnings []string
	var err error
	if t.TrustedRoot != "" {
		roots, err = trust.LoadTrustedRoots(t.TrustedRoot)
	} else {
		ft := fetcher.NewDefaultFetcher()
		ft.SetHTTPClient(f.HTTPClient(TimeoutShort))
		roots, warnings, err = trust.LoadTUFRoots(trust.TUFOptions{Repositories: repos, CacheDir: f.TUFCacheDir(t.TUFCache), Fetcher: ft, Offline: t.Offline})
	}
	if err != nil || !t.NoPublicGood {
		return roots, warnings, err
	}
	var out []verifier.TrustedRoot
	for _, r := range roots {
		if r.Name != trust.PublicGood {
			out = append(out, r)
		}
	}
	return out, warnings, nil
}

// GitHubFlags name the GitHub host a command speaks to (GitHub Enterprise
// Server, or a <tenant>.ghe.com); the token is the host's (Factory.Token).
type GitHubFlags struct {
	Hostname string
}

// AddFlags defines --hostname on fs with the command's help for it.
func (g *GitHubFlags) AddFlags(fs *pflag.FlagSet, usage string) {
	fs.StringVar(&g.Hostname, "hostname", "github.com", usage)
}

// Server is the host's web root, https://HOST.
func (g *GitHubFlags) Server() string {
	return "https://" + strings.TrimSuffix(strings.TrimPrefix(g.Hostname, "https://"), "/")
}

// FetchFlags say how many attestations to ask GitHub for.
type FetchFlags struct {
	Limit int
}

// AddFlags defines --limit/-L on fs.
func (l *FetchFlags) AddFlags(fs *pflag.FlagSet) {
	fs.IntVarP(&l.Limit, "limit", "L", remote.DefaultLimit, "without --bundle: at most `N` attestations fetched from GitHub per artifact")
}

// IdentityFlags name who must have signed: the source repository (or its
// owner), the signing workflow or its repository, the certificate's
// identity and issuer, as gh and cosign name them.
type IdentityFlags struct {
	Owner, Repo, SignerRepo, SignerWorkflow string
	CertIdentity, CertIdentityRegexp        string
	CertOIDCIssuer                          string
}

// AddFlags defines --owner, --repo, --signer-repo, --signer-workflow,
// --cert-identity, --cert-identity-regexp and --cert-oidc-issuer on fs.
func (i *IdentityFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&i.Owner, "owner", "o", "", "source repository `OWNER`")
	fs.StringVarP(&i.Repo, "repo", "R", "", "source repository, `OWNER/NAME`")
	fs.StringVar(&i.SignerRepo, "signer-repo", "", "repository of the signing workflow, `OWNER/NAME`")
	fs.StringVar(&i.SignerWorkflow, "signer-workflow", "", "signing `WORKFLOW`, [host/]owner/name/.github/workflows/file.yml")
	fs.StringVar(&i.CertIdentity, "cert-identity", "", "certificate `SAN`, exactly")
	fs.StringVarP(&i.CertIdentityRegexp, "cert-identity-regexp", "i", "", "certificate SAN, anchored `REGEXP`")
	fs.StringVar(&i.CertOIDCIssuer, "cert-oidc-issuer", verifier.GitHubActionsIssuer, "certificate OIDC `ISSUER`")
}

// Apply sets the identity in p.
func (i *IdentityFlags) Apply(p *verifier.Policy) {
	p.Owner, p.Repo, p.SignerRepo, p.SignerWorkflow = i.Owner, i.Repo, i.SignerRepo, i.SignerWorkflow
	p.CertIdentity, p.CertIdentityRegexp, p.CertOIDCIssuer = i.CertIdentity, i.CertIdentityRegexp, i.CertOIDCIssuer
}
