package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cli"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/trust"
	"github.com/provenant/provenant/verifier"
)

const verifyLong = `Verifies Sigstore bundles of in-toto attestations for artifacts, link by
link, and says which link failed: 1 bundle, 2 certificate, 3 timestamps,
4 signature, 5 subject, 6 identity, 7 predicate against certificate,
8 provenance expectations, 9 SLSA Build level.

Flags follow gh attestation verify (--repo/-R, --owner/-o, --signer-workflow,
--custom-trusted-root, --format json), slsa-verifier verify-artifact
(--provenance-path, --source-uri, --source-tag, --builder-id) and cosign
(--certificate-identity, --certificate-oidc-issuer), so their command lines
run unchanged.

A source repository is required: --owner, --repo or --source-uri, or
--cert-identity naming a workflow of the source repository itself. A builder
alone (--signer-repo, --signer-workflow, --builder-id) would accept artifacts
built from any repository that calls it. SLSA Build L3 needs a trusted
builder: pinned by --signer-workflow, --signer-repo or --builder-id, or one of
the built-in ones (docs/verify.md).

Without --trusted-root, the trusted roots of the public-good and GitHub
instances come from their TUF repositories, cached in --tuf-cache (a folder
of yours that no one else can write); past TUF's expiry, offline use needs
--offline, which says how old the cached root is.

An ARTIFACT oci://registry/repository@sha256:<hex> (or :tag, resolved to a
digest and reported) is an image: its Sigstore bundles are read from the
registry (OCI 1.1 referrers, or the referrers tag where the registry has no
referrers API; credentials from the Docker config) and each is verified
against the image's digest.

In a GitHub Actions step (GITHUB_ACTIONS=true) every flag can also be given as
the action input of the same name (INPUT_<NAME>), ARTIFACT as the input
"artifacts" (one path or glob a line); a flag on the command line wins.

Exit status: 0 verified, 1 a check failed, 2 bad usage or unreadable input.`

const verifyExample = `  # as gh attestation verify
  provenant verify app.tgz --bundle app.sigstore.json --repo octo-org/octo-repo

  # as slsa-verifier verify-artifact
  provenant verify app.tgz --provenance-path app.intoto.jsonl --source-uri github.com/octo-org/octo-repo --source-tag v1.2.3

  # an image's attestations, from its registry
  provenant verify oci://ghcr.io/octo-org/app@sha256:<hex> --repo octo-org/octo-repo

  # a whole downloaded release, offline
  provenant verify --bundle-dir dist/ --repo octo-org/octo-repo --trusted-root trusted_root.jsonl`

// verifyAliases are the names other verifiers give provenant's flags.
var verifyAliases = map[string]string{
	"custom-trusted-root":         "trusted-root",         // gh
	"provenance-path":             "bundle",               // slsa-verifier
	"build-workflow-input":        "workflow-input",       // slsa-verifier
	"certificate-identity":        "cert-identity",        // cosign
	"certificate-identity-regexp": "cert-identity-regexp", // cosign
	"certificate-oidc-issuer":     "cert-oidc-issuer",     // cosign
	"cert-identity-regex":         "cert-identity-regexp", // gh
}

// verifyFlags are the parsed flags and inputs of "provenant verify".
type verifyFlags struct {
	opts         verifier.Options
	bundles      cmdutil.ListFlag
	digests      cmdutil.ListFlag
	inputs       cmdutil.ListFlag
	extensions   cmdutil.ListFlag
	hostname     string
	trustedRoot  string
	tufCache     string
	format       string
	reportPath   string
	digestAlg    string
	summary      bool
	verbose      bool
	noPublicGood bool
	cosignType   string
	offline      bool
	exclude      cmdutil.ListFlag
	fetch        fetchFlags
	policy       policyFlags
	vsa          vsaFlags
	// ociImages are the oci:// artifacts by digest, set by ociArtifacts.
	ociImages map[string]name.Digest
	release   string                // cmd_release.go
	tufRepos  []trust.TUFRepository // cmd_ghe.go: a tenant's; nil: the public ones
}

// cosignTypes are the predicate types cosign's --type names.
var cosignTypes = map[string]string{
	"slsaprovenance":   "https://slsa.dev/provenance/v0.2",
	"slsaprovenance02": "https://slsa.dev/provenance/v0.2",
	"slsaprovenance1":  verifier.SLSAProvenanceV1,
	"spdx":             "https://spdx.dev/Document",
	"spdxjson":         "https://spdx.dev/Document",
	"cyclonedx":        "https://cyclonedx.org/bom",
	"vuln":             "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":          "https://openvex.dev/ns",
	"link":             "https://in-toto.io/Link/v1",
}

// defineVerifyFlags declares the flags of "provenant verify" into f.
func defineVerifyFlags(fs *pflag.FlagSet, f *verifyFlags) {
	p := &f.opts.Policy
	fs.VarP(&f.bundles, "bundle", "b", "bundle `FILE`, JSON or JSON Lines (repeatable; alias --provenance-path)")
	fs.StringVar(&f.opts.BundleDir, "bundle-dir", "", "`DIR` of release assets with their attestations; without ARTIFACT, every asset in it")
	fs.Var(&f.exclude, "exclude", "with --bundle-dir, leave out entries whose name matches this `GLOB` (doublestar; repeatable); every other entry is verified or reported")
	fs.Var(&f.digests, "digest", "an artifact by digest, `ALG:HEX` (sha256 or sha512; repeatable)")
	fs.StringVarP(&f.digestAlg, "digest-alg", "d", "sha256", "accepted as gh has it: the artifact is hashed with every `ALG` its subjects use")
	fs.StringVar(&f.hostname, "hostname", "github.com", "GitHub `HOST` of owner, repo and signer-repo (GitHub Enterprise Server)")
	fs.StringVarP(&p.Owner, "owner", "o", "", "source repository `OWNER`")
	fs.StringVarP(&p.Repo, "repo", "R", "", "source repository, `OWNER/NAME`")
	fs.StringVar(&p.SignerRepo, "signer-repo", "", "repository of the signing workflow, `OWNER/NAME`")
	fs.StringVar(&p.SignerWorkflow, "signer-workflow", "", "signing `WORKFLOW`, [host/]owner/name/.github/workflows/file.yml")
	fs.StringVar(&p.CertIdentity, "cert-identity", "", "certificate `SAN`, exactly (alias --certificate-identity)")
	fs.StringVarP(&p.CertIdentityRegexp, "cert-identity-regexp", "i", "", "certificate SAN, anchored `REGEXP` (aliases --cert-identity-regex, --certificate-identity-regexp)")
	fs.StringVar(&p.CertOIDCIssuer, "cert-oidc-issuer", verifier.GitHubActionsIssuer, "certificate OIDC `ISSUER` (alias --certificate-oidc-issuer)")
	fs.StringVar(&p.SourceRef, "source-ref", "", "Source Repository `REF`, e.g. refs/heads/main")
	fs.StringVar(&p.SourceDigest, "source-digest", "", "Source Repository Digest (the `COMMIT`)")
	fs.StringVar(&p.SignerDigest, "signer-digest", "", "Build Signer Digest (the signing workflow's `COMMIT`)")
	fs.BoolVar(&p.DenySelfHostedRunners, "deny-self-hosted-runners", false, "require a GitHub-hosted runner")
	fs.Var(&f.extensions, "cert-extension", "further Fulcio extension `NAME=VALUE` by sigstore-go's JSON name, e.g. buildTrigger=push (repeatable)")
	fs.StringVar(&p.PredicateType, "predicate-type", verifier.SLSAProvenanceV1, "predicate type `URI`")
	fs.StringVar(&f.cosignType, "type", "", "predicate type by cosign's `NAME` (slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, openvex) or a URI")
	fs.StringVar(&p.BuilderID, "builder-id", "", "expected builder `ID` (without @: any ref)")
	fs.StringVar(&p.SourceURI, "source-uri", "", "expected source repository `URI`, e.g. github.com/owner/name (counts as --repo)")
	fs.StringVar(&p.SourceTag, "source-tag", "", "expected `TAG`")
	fs.StringVar(&p.SourceVersionedTag, "source-versioned-tag", "", "expected semver tag `PREFIX`, e.g. v1 or v1.2")
	fs.StringVar(&p.SourceBranch, "source-branch", "", "expected `BRANCH`")
	fs.Var(&f.inputs, "workflow-input", "expected workflow input `K=V` (repeatable; alias --build-workflow-input)")
	fs.IntVar(&p.MinLevel, "min-level", 0, "SLSA Build `LEVEL` required (default 2 for SLSA provenance, else 1)")
	fs.StringVar(&f.trustedRoot, "trusted-root", "", "trusted_root.json (or JSON Lines) `FILE`; default: TUF (alias --custom-trusted-root)")
	fs.BoolVar(&f.noPublicGood, "no-public-good", false, "do not trust the public-good Sigstore instance")
	fs.StringVar(&f.tufCache, "tuf-cache", "", "TUF cache `DIR`, yours and not writable by others (default: $XDG_CACHE_HOME or ~/.cache, /provenant/tuf)")
	fs.BoolVar(&f.offline, "offline", false, "do not contact TUF: use its cached metadata even past its expiry (the warning says how old)")
	fs.StringVar(&f.format, "format", "text", "output `FORMAT`: text or json")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "text output: every check of every artifact, not only of failures")
	fs.StringVar(&f.reportPath, "report", "", "also write the JSON report to this `FILE`")
	fs.BoolVar(&f.summary, "summary", true, "in GitHub Actions, write a step summary")
	fs.IntVar(&f.opts.Parallelism, "parallel", 4, "artifacts verified at `N` at once")
	defineFetchFlags(fs, &f.fetch)
	definePolicyFlags(fs, &f.policy)
	defineVSAFlags(fs, &f.vsa, p)
	defineReleaseVerifyFlag(fs, &f.release)
}

// newVerifyCmd is "provenant verify".
func newVerifyCmd(e *cmdutil.Factory) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:     "verify [ARTIFACT...] [flags]",
		Short:   "Verify attestations for artifacts",
		Long:    verifyLong,
		Example: verifyExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := finishVerifyFlags(f, args, e); err != nil {
				return err
			}
			return asExit(runVerify(cmd.Context(), f, e))
		},
	}
	cmd.Flags().SetNormalizeFunc(cmdutil.Aliases(verifyAliases))
	defineVerifyFlags(cmd.Flags(), f)
	cli.BindInputs(cmd, nil)
	return cmd
}

// finishVerifyFlags completes the options from the arguments, the
// "artifacts" input and the flags that need parsing.
func finishVerifyFlags(f *verifyFlags, args []string, e *cmdutil.Factory) error {
	p := &f.opts.Policy
	f.opts.Artifacts = args
	if len(f.opts.Artifacts) == 0 && e.Getenv("GITHUB_ACTIONS") == "true" {
		if in := strings.TrimSpace(e.Getenv("INPUT_ARTIFACTS")); in != "" {
			for _, line := range strings.Split(in, "\n") {
				if line = strings.TrimSpace(line); line == "" {
					continue
				}
				// The same glob library as attest's subject-path: ** works.
				matches, err := doublestar.FilepathGlob(line)
				if err != nil {
					return fmt.Errorf("input artifacts: %q: %w", line, err)
				}
				if len(matches) == 0 {
					matches = []string{line} // reported as unreadable
				}
				f.opts.Artifacts = append(f.opts.Artifacts, matches...)
			}
		}
	}
	f.opts.BundleFiles, f.opts.Digests, f.opts.Exclude = f.bundles, f.digests, f.exclude
	p.GitHubServer = "https://" + strings.TrimSuffix(strings.TrimPrefix(f.hostname, "https://"), "/")
	var err error
	if p.WorkflowInputs, err = keyValues("workflow-input", f.inputs); err != nil {
		return err
	}
	if p.Extensions, err = keyValues("cert-extension", f.extensions); err != nil {
		return err
	}
	if f.cosignType != "" {
		switch t, ok := cosignTypes[f.cosignType]; {
		case p.PredicateType != verifier.SLSAProvenanceV1:
			return fmt.Errorf("--type %q and --predicate-type %q: give one", f.cosignType, p.PredicateType)
		case ok:
			p.PredicateType = t
		case strings.Contains(f.cosignType, "://"):
			p.PredicateType = f.cosignType
		default:
			return fmt.Errorf("--type %q: not a type cosign names, nor a URI", f.cosignType)
		}
	}
	if f.format != "text" && f.format != "json" {
		return fmt.Errorf("--format %q: want text or json", f.format)
	}
	if f.digestAlg != "sha256" && f.digestAlg != "sha512" {
		return fmt.Errorf("--digest-alg %q: want sha256 or sha512", f.digestAlg)
	}
	if p.MinLevel < 0 || p.MinLevel > 3 {
		return fmt.Errorf("--min-level %d: want 1, 2 or 3", p.MinLevel)
	}
	return checkReleaseVerify(f)
}

// checkVerifyUsage refuses a command line verify cannot run (exit 2)
// before any trusted root is loaded: nothing to verify, an unusable policy
// (conflicting signer flags, a malformed --repo or regexp), a malformed
// --digest.
func checkVerifyUsage(f *verifyFlags, e *cmdutil.Factory) error {
	o := f.opts
	if host := e.TenantHost(f.hostname); host != "" {
		o.Policy.GitHubServer = "https://" + host // as resolveTenant will set it
	}
	if len(o.Artifacts) == 0 && len(o.Digests) == 0 && o.BundleDir == "" && f.release == "" {
		return errors.New("nothing to verify: give artifacts, --digest, --bundle-dir or --release")
	}
	return verifier.CheckOptions(o)
}

// keyValues parses repeated KEY=VALUE flags; nil when there are none.
func keyValues(flagName string, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want KEY=VALUE", flagName, kv)
		}
		m[k] = v
	}
	return m, nil
}

// runVerify implements "provenant verify" once flags and inputs are parsed.
func runVerify(ctx context.Context, f *verifyFlags, e *cmdutil.Factory) int {
	if code := loadPolicyFile(f, e); code != exitOK {
		return code
	}
	// The command line is checked whole before trust is loaded or anything
	// is fetched: a usage error is exit 2 at once, offline too.
	if err := checkVerifyUsage(f, e); err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: %v\n", err)
		return exitUsage
	}
	if code := resolveTenant(ctx, f, e); code != exitOK {
		return code
	}
	vsa, code := startVSA(ctx, f, e)
	if code != exitOK {
		return code
	}
	roots, warnings, err := loadVerifyRoots(f, e)
	for _, w := range warnings {
		fmt.Fprintf(e.Stderr, "provenant verify: warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: %v\n", err)
		var ce *trust.CacheDirError
		if f.trustedRoot != "" || errors.Is(err, trust.ErrNoCacheDir) || errors.As(err, &ce) {
			return exitUsage
		}
		return exitFailed
	}
	f.opts.TrustedRoots = roots
	if f.noPublicGood {
		f.opts.TrustedRoots = withoutPublicGood(f.opts.TrustedRoots)
	}
	ociAtts, ociDigests, code := ociArtifacts(ctx, f, e)
	if code != exitOK {
		return code
	}
	if code := fetchForVerify(ctx, f, e); code != exitOK {
		return code
	}
	addOCIAttestations(f, ociAtts, ociDigests)
	rep, err := verifyMaybeRelease(ctx, f, e)
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: %v\n", err)
		var ie *verifier.InputError
		var pe *verifier.PolicyError
		if errors.As(err, &ie) || errors.As(err, &pe) {
			return exitUsage
		}
		return exitFailed
	}
	rep.Warnings = warnings
	if f.format == "json" {
		err = rep.WriteJSON(e.Stdout)
	} else {
		err = rep.WriteText(e.Stdout, f.verbose)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: %v\n", err)
		return exitFailed
	}
	if code := writeVerifyOutputs(f, rep, e); code != exitOK {
		return code
	}
	if vsa != nil {
		if code := vsa.write(ctx, f, rep); code != exitOK {
			return code
		}
	}
	if !rep.Verified {
		return exitFailed
	}
	return exitOK
}

// writeVerifyOutputs writes the JSON report file and, in GitHub Actions,
// the step outputs and summary.
func writeVerifyOutputs(f *verifyFlags, rep *verifier.Report, e *cmdutil.Factory) int {
	path := f.reportPath
	inActions := builder.InActions(e.Getenv)
	if path == "" && inActions && e.Getenv("RUNNER_TEMP") != "" {
		path = filepath.Join(e.Getenv("RUNNER_TEMP"), "provenant", "verify-report.json")
	}
	if path != "" {
		if err := cmdutil.WriteAtomicWith(path, rep.WriteJSON); err != nil {
			fmt.Fprintf(e.Stderr, "provenant verify: writing report: %v\n", err)
			return exitFailed
		}
	}
	if !inActions {
		return exitOK
	}
	// Outputs through builder.FileCommands: a random delimiter per value,
	// so a report path cannot add outputs of its own; errors, not panics.
	files := &builder.FileCommands{Getenv: e.Getenv}
	outputs := map[string]string{"verified": strconv.FormatBool(rep.Verified), "level": strconv.Itoa(rep.Level())}
	if path != "" {
		outputs["report-path"] = path
	}
	if err := files.SetOutputs(outputs); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
		fmt.Fprintf(e.Stderr, "provenant verify: %s\n", builder.Printable(err.Error()))
		return exitFailed
	}
	if f.summary {
		var b strings.Builder
		_ = rep.WriteMarkdown(&b)
		if err := files.AppendSummary(b.String()); err != nil && !errors.Is(err, builder.ErrNoCommandFile) {
			fmt.Fprintf(e.Stderr, "provenant verify: %s\n", builder.Printable(err.Error()))
			return exitFailed
		}
	}
	return exitOK
}

// loadVerifyRoots loads the trusted roots: from --trusted-root, else
// through TUF with its cache in --tuf-cache (the same cache attest signs
// with).
func loadVerifyRoots(f *verifyFlags, e *cmdutil.Factory) ([]verifier.TrustedRoot, []string, error) {
	if f.trustedRoot != "" {
		roots, err := trust.LoadTrustedRoots(f.trustedRoot)
		return roots, nil, err
	}
	ft := fetcher.NewDefaultFetcher()
	ft.SetHTTPClient(&http.Client{Timeout: 30 * time.Second})
	return trust.LoadTUFRoots(trust.TUFOptions{Repositories: f.tufRepos, CacheDir: e.TUFCacheDir(f.tufCache), Fetcher: ft, Offline: f.offline})
}

// withoutPublicGood drops the public-good instance (--no-public-good, as gh
// has it).
func withoutPublicGood(roots []verifier.TrustedRoot) []verifier.TrustedRoot {
	var out []verifier.TrustedRoot
	for _, r := range roots {
		if r.Name != trust.PublicGood {
			out = append(out, r)
		}
	}
	return out
}
