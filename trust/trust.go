// Package trust names the Sigstore instances provenant signs with and
// verifies against — the public-good instance, GitHub's own, or any other
// described by files — and loads their signing configuration and trusted
// root, through TUF for the public ones.
//
// It is its own package because both signing (provenance) and verification
// (verifier) need it, and neither of those may import the other.
package trust

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/provenant/provenant/internal/ghworkflow"
	"github.com/provenant/provenant/internal/inputfile"
)

// Names of the built-in instances.
const (
	PublicGood = "public-good"
	GitHub     = "github"
	Auto       = "auto"
)

// GitHubActionsIssuer is the OIDC issuer of GitHub Actions workflow tokens,
// whose identities the instances certify.
const GitHubActionsIssuer = ghworkflow.Issuer

// GitHub's Sigstore instance, used for private repositories.
const (
	GitHubTUFURL    = "https://tuf-repo.github.com"
	GitHubFulcioURL = "https://fulcio.githubapp.com"
	GitHubTSAURL    = "https://timestamp.githubapp.com/api/v1/timestamp"
)

// githubTUFRoot is the root of GitHub's TUF repository that TUF clients start
// from (as the GitHub CLI embeds it); newer roots are walked online.
//
//go:embed github-tuf-root.json
var githubTUFRoot []byte

// Instance is a Sigstore instance: where to sign and what to trust.
type Instance struct {
	// Name is "public-good", "github" or the folder the files came from.
	Name string
	// SigningConfig lists the instance's Fulcio, Rekor and timestamp
	// authority services.
	SigningConfig *root.SigningConfig
	// TrustedRoot holds the keys and certificates that verify its bundles.
	TrustedRoot *root.TrustedRoot
	// RekorVersions are the Rekor API major versions to sign with.
	RekorVersions []uint32
}

// Options say how the public instances' TUF repositories are reached.
type Options struct {
	// CacheDir is the TUF cache (see CheckCacheDir). Required for the
	// public instances.
	CacheDir string
	// Fetcher fetches TUF metadata and targets; nil means HTTP.
	Fetcher fetcher.Fetcher
}

// tufRepository returns the public instance's TUF repository.
func tufRepository(name string) TUFRepository {
	for _, r := range PublicTUFRepositories() {
		if r.Instance == name {
			return r
		}
	}
	return TUFRepository{Instance: name}
}

// client is the TUF client of a public instance, refreshed online.
func (o Options) client(name string) (*tuf.Client, error) {
	if o.CacheDir == "" {
		return nil, ErrNoCacheDir
	}
	if err := CheckCacheDir(o.CacheDir); err != nil {
		return nil, err
	}
	f := o.Fetcher
	if f == nil {
		f = fetcher.NewDefaultFetcher()
	}
	return tufClient(tufRepository(name), o.CacheDir, f, false)
}

// LoadError is a failure to load an instance's trust material.
type LoadError struct {
	Instance string
	Err      error
}

// Error names the instance and the failure.
func (e *LoadError) Error() string {
	return fmt.Sprintf("Sigstore instance %s: %v", e.Instance, e.Err)
}

// Unwrap returns the failure.
func (e *LoadError) Unwrap() error { return e.Err }

// LoadPublicGood loads the public-good instance's signing config and trusted
// root through its TUF repository. It signs with Fulcio and Rekor v1 only, as
// GitHub's attest action does: that is what the GitHub CLI and cosign verify
// by default today.
func LoadPublicGood(o Options) (*Instance, error) {
	client, err := o.client(PublicGood)
	if err != nil {
		return nil, &LoadError{PublicGood, err}
	}
	tr, err := root.GetTrustedRoot(client)
	if err != nil {
		return nil, &LoadError{PublicGood, err}
	}
	sc, err := root.GetSigningConfig(client)
	if err != nil {
		return nil, &LoadError{PublicGood, err}
	}
	return &Instance{Name: PublicGood, SigningConfig: publicGoodAsGitHubSigns(sc), TrustedRoot: tr, RekorVersions: []uint32{1}}, nil
}

// publicGoodAsGitHubSigns keeps what GitHub's attest action uses of the
// public-good instance: Fulcio and the Rekor v1 log (whose integrated time
// dates the signature), not its timestamp authorities.
func publicGoodAsGitHubSigns(sc *root.SigningConfig) *root.SigningConfig {
	return sc.WithTimestampAuthorityURLs()
}

// LoadGitHub loads GitHub's instance: its trusted root through GitHub's TUF
// repository; its services (Fulcio and a timestamp authority, no
// transparency log) are fixed.
func LoadGitHub(o Options) (*Instance, error) {
	client, err := o.client(GitHub)
	if err != nil {
		return nil, &LoadError{GitHub, err}
	}
	tr, err := root.GetTrustedRoot(client)
	if err != nil {
		return nil, &LoadError{GitHub, err}
	}
	sc, err := GitHubSigningConfig()
	if err != nil {
		return nil, &LoadError{GitHub, err}
	}
	return &Instance{Name: GitHub, SigningConfig: sc, TrustedRoot: tr, RekorVersions: []uint32{1, 2}}, nil
}

// GitHubSigningConfig is the signing config of GitHub's instance.
func GitHubSigningConfig() (*root.SigningConfig, error) {
	start := time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC)
	return root.NewSigningConfig(root.SigningConfigMediaType02,
		[]root.Service{{URL: GitHubFulcioURL, MajorAPIVersion: 1, ValidityPeriodStart: start, Operator: "github.com"}},
		nil,
		nil,
		root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY},
		[]root.Service{{URL: GitHubTSAURL, MajorAPIVersion: 1, ValidityPeriodStart: start, Operator: "github.com"}},
		root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY},
	)
}

// LoadDir loads an instance described by a folder holding
// signing_config.json and trusted_root.json (a company's own Sigstore, or
// the local stack). A path to a signing config file is accepted too when
// trusted_root.json sits beside it.
func LoadDir(path string) (*Instance, error) {
	dir, scPath := path, filepath.Join(path, "signing_config.json")
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		dir, scPath = filepath.Dir(path), path
	} else if err != nil {
		return nil, &LoadError{path, err}
	}
	// Read here, not with sigstore-go's FromPath: they read any file whole
	// (a device, a named pipe, gigabytes).
	data, err := inputfile.Read(context.Background(), scPath, MaxTrustedRootFileSize)
	if err != nil {
		return nil, &LoadError{path, fmt.Errorf("signing config %s: %w", scPath, err)}
	}
	sc, err := root.NewSigningConfigFromJSON(data)
	if err != nil {
		return nil, &LoadError{path, fmt.Errorf("signing config %s: %w", scPath, err)}
	}
	trPath := filepath.Join(dir, "trusted_root.json")
	if data, err = inputfile.Read(context.Background(), trPath, MaxTrustedRootFileSize); err != nil {
		return nil, &LoadError{path, fmt.Errorf("trusted root %s: %w", trPath, err)}
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, &LoadError{path, fmt.Errorf("trusted root %s: %w", trPath, err)}
	}
	return &Instance{Name: path, SigningConfig: sc, TrustedRoot: tr, RekorVersions: []uint32{1, 2}}, nil
}

// Choose resolves the sigstore input for a job on the GitHub server
// serverURL whose verified token claims repositoryVisibility.
//
// Public-good is used only for a repository the token says is "public" on
// github.com: anything else would put the organisation, repository,
// workflow and commit of a private repository into the public Fulcio
// certificate-transparency log and Rekor, forever. "auto" picks public-good
// for such a repository and GitHub's instance for a private or internal one
// (as GitHub's own action decides); "github" may always be forced. On
// GitHub Enterprise Server (a server that is neither github.com nor
// *.ghe.com) "auto" refuses: neither public instance serves it, and a
// "public" repository there is not public; give a folder instead.
func Choose(which, repositoryVisibility, serverURL string) (string, error) {
	ghes := isEnterpriseServer(serverURL)
	switch strings.ToLower(strings.TrimSpace(which)) {
	case "", Auto:
		if ghes {
			return "", fmt.Errorf("sigstore auto: %s is GitHub Enterprise Server, which neither public-good nor GitHub's instance serves: give --sigstore a folder holding your instance's signing_config.json and trusted_root.json", serverURL)
		}
		switch repositoryVisibility {
		case "public":
			if isGitHubCom(serverURL) {
				return PublicGood, nil
			}
			return GitHub, nil
		case "private", "internal":
			return GitHub, nil
		case "":
			return "", errors.New("sigstore auto: the token has no repository_visibility claim; say --sigstore github (or a folder)")
		default:
			return "", fmt.Errorf("sigstore auto: unknown repository_visibility %q; say --sigstore github (or a folder)", repositoryVisibility)
		}
	case PublicGood:
		if repositoryVisibility != "public" || !isGitHubCom(serverURL) {
			vis := repositoryVisibility
			if vis == "" {
				vis = "(none)"
			}
			return "", fmt.Errorf("sigstore public-good: refused for this repository (verified repository_visibility %s on %s): "+
				"only a public repository on github.com may sign on the public instance, whose logs would keep its organisation, repository, workflow and commit forever; use --sigstore github or auto",
				vis, serverURL)
		}
		return PublicGood, nil
	case GitHub:
		return GitHub, nil
	}
	return which, nil
}

func serverHost(serverURL string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func isGitHubCom(serverURL string) bool { return serverHost(serverURL) == "github.com" }

func isEnterpriseServer(serverURL string) bool {
	h := serverHost(serverURL)
	return h != "github.com" && !strings.HasSuffix(h, ".ghe.com")
}

// Load loads the instance Choose named.
func Load(name string, o Options) (*Instance, error) {
	switch name {
	case PublicGood:
		return LoadPublicGood(o)
	case GitHub:
		return LoadGitHub(o)
	}
	return LoadDir(name)
}
