// Package verify is "provenant verify": Sigstore bundles of in-toto
// attestations verified link by link against a policy, from wherever the
// attestations live (bundle files, a bundle directory, a release, a
// registry, GitHub's API).
//
// verify.go is the command: its Options, filled once from flags, action
// inputs and arguments and validated before anything runs, and Run, which
// calls each step in an order it states. The steps are in sources.go
// (where attestations come from), policyfile.go (--policy, --pins),
// tenant.go (GitHub Enterprise Cloud), vsa.go (--vsa-out) and report.go.
package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/verification"
	"github.com/provenant/provenant/verifier"
)

const verifyLong = `Verifies Sigstore bundles of in-toto attestations for artifacts, link by
link, and says which link failed: 1 bundle, 2 certificate, 3 timestamps,
4 signature, 5 subject, 6 identity, 7 predicate against certificate,
8 provenance expectations, 9 SLSA Build level.

Flags follow gh attestation verify (--repo/-R, --owner/-o, --signer-workflow,
--format json), slsa-verifier verify-artifact (--source-uri, --source-tag,
--builder-id) and cosign verify-blob-attestation (--type), and the names they
spell differently are accepted too (docs/verify.md lists them), so their
command lines run unchanged.

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
  provenant verify app.tgz --bundle app.intoto.jsonl --source-uri github.com/octo-org/octo-repo --source-tag v1.2.3

  # an image's attestations, from its registry
  provenant verify oci://ghcr.io/octo-org/app@sha256:<hex> --repo octo-org/octo-repo

  # a whole downloaded release, offline
  provenant verify --bundle-dir dist/ --repo octo-org/octo-repo --trusted-root trusted_root.jsonl`

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

// Options are the flags, action inputs and arguments of "provenant
// verify", filled once and validated (Validate) before Run.
type Options struct {
	// Artifacts are the arguments, or the "artifacts" action input.
	Artifacts []string
	// Bundles, Digests and Exclude are --bundle, --digest and --exclude.
	Bundles, Digests, Exclude cmdutil.ListFlag
	// WorkflowInputs and Extensions are --workflow-input and
	// --cert-extension, KEY=VALUE each.
	WorkflowInputs, Extensions cmdutil.ListFlag
	// BundleDir, DigestAlg, CosignType, Format and Release are the flags
	// of those names; ReportPath is --output.
	BundleDir, DigestAlg, CosignType, Format, ReportPath, Release string
	// Verbose and Summary are --verbose and --show-summary.
	Verbose, Summary bool
	// JQ and Template are gh's --jq and --template, over --format json.
	JQ, Template string
	// NewBundleFormat is cosign's --new-bundle-format: accepted, since
	// provenant reads Sigstore bundles always.
	NewBundleFormat bool
	// PrintProvenance is slsa-verifier's --print-provenance: the verified
	// statements on stdout, one JSON a line, in place of the report.
	PrintProvenance bool
	// UseSignedTimestamps is cosign's --use-signed-timestamps: accepted,
	// since every timestamp a bundle carries is verified.
	UseSignedTimestamps bool
	// Parallelism is --parallel.
	Parallelism int
	// The flag groups verify shares with other commands.
	Identity cmdutil.IdentityFlags
	GitHub   cmdutil.GitHubFlags
	Trust    cmdutil.TrustFlags
	Fetch    cmdutil.FetchFlags
	// PolicyFile is --policy, --pins and --update-pins.
	PolicyFile PolicyFileFlags
	// VSA is --vsa-out and the flags that sign and push VSAs.
	VSA VSAFlags
	// Policy is what the artifacts are held to, from the flags (Validate
	// completes it; the policy file and a tenant add to a copy in Run).
	Policy verifier.Policy

	flags *pflag.FlagSet
	f     *cmdutil.Factory
	ctx   context.Context
	cmd   *cobra.Command
	// peer is the verifier whose line this is, by the command name it was
	// called with ("gh", "cosign", or ""), and what that peer's verdict
	// asks of the verification (see peerRules).
	peer            string
	digestAlgorithm string
	refuseBundleV01 bool
}

// NewCmdVerify is "provenant verify"; runF, when not nil, runs instead of
// Run once the options are validated (tests).
func NewCmdVerify(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:     "verify [ARTIFACT...] [flags]",
		Short:   "Verify attestations for artifacts",
		Long:    verifyLong,
		Example: verifyExample,
		// The peers' verbs, so a pasted line needs only the program name
		// changed: slsa-verifier verify-artifact and verify-image, cosign
		// verify-blob-attestation and verify-attestation (an image).
		Aliases: []string{"verify-artifact", "verify-image", "verify-blob-attestation", "verify-attestation"},
		RunE:    cmdutil.RunE(o, o.complete, Run, runF),
	}
	o.cmd = cmd
	// The other verifiers' names of its flags (and provenant's earlier
	// ones) are hidden aliases.
	cmdutil.NormalizeFlags(cmd)
	o.AddFlags(cmd.Flags())
	cmdutil.BindInputs(cmd, nil)
	return cmd
}

// AddFlags defines the flags of "provenant verify" into o.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.flags = fs
	fs.VarP(&o.Bundles, "bundle", "b", "bundle `FILE`, JSON or JSON Lines (repeatable)")
	fs.StringVar(&o.BundleDir, "bundle-dir", "", "`DIR` of release assets with their attestations; without ARTIFACT, every asset in it")
	fs.Var(&o.Exclude, "exclude", "with --bundle-dir, leave out entries whose name matches this `GLOB` (doublestar; repeatable); every other entry is verified or reported")
	fs.Var(&o.Digests, "digest", "an artifact by digest, `ALG:HEX` (sha256 or sha512; repeatable)")
	fs.StringVarP(&o.DigestAlg, "digest-alg", "d", "sha256", "accepted as gh has it: the artifact is hashed with every `ALG` its subjects use")
	o.GitHub.AddFlags(fs, "GitHub `HOST` of owner, repo and signer-repo (GitHub Enterprise Server)")
	o.Identity.AddFlags(fs)
	fs.StringVar(&o.Policy.SourceRef, "source-ref", "", "Source Repository `REF`, e.g. refs/heads/main")
	fs.StringVar(&o.Policy.SourceDigest, "source-digest", "", "Source Repository Digest (the `COMMIT`)")
	fs.StringVar(&o.Policy.SignerDigest, "signer-digest", "", "Build Signer Digest (the signing workflow's `COMMIT`)")
	fs.BoolVar(&o.Policy.DenySelfHostedRunners, "deny-self-hosted-runners", false, "require a GitHub-hosted runner")
	fs.Var(&o.Extensions, "cert-extension", "further Fulcio extension `NAME=VALUE` by sigstore-go's JSON name, e.g. buildTrigger=push (repeatable)")
	fs.StringVar(&o.Policy.PredicateType, "predicate-type", verifier.SLSAProvenanceV1, "predicate type `URI`")
	fs.StringVar(&o.CosignType, "type", "", "predicate type by cosign's `NAME` (slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, openvex) or a URI")
	fs.StringVar(&o.Policy.BuilderID, "builder-id", "", "expected builder `ID` (without @: any ref)")
	fs.StringVar(&o.Policy.SourceURI, "source-uri", "", "expected source repository `URI`, e.g. github.com/owner/name (counts as --repo)")
	fs.StringVar(&o.Policy.SourceTag, "source-tag", "", "expected `TAG`")
	fs.StringVar(&o.Policy.SourceVersionedTag, "source-versioned-tag", "", "expected semver tag `PREFIX`, e.g. v1 or v1.2")
	fs.StringVar(&o.Policy.SourceBranch, "source-branch", "", "expected `BRANCH`")
	fs.Var(&o.WorkflowInputs, "workflow-input", "expected workflow input `K=V` (repeatable)")
	fs.IntVar(&o.Policy.MinLevel, "min-level", 0, "SLSA Build `LEVEL` required (default 2 for SLSA provenance, else 1)")
	o.Trust.AddFlags(fs)
	fs.StringVar(&o.Format, "format", "text", "output `FORMAT`: text; json, gh attestation verify's JSON (the verified attestations, with sigstore-go's verification results); report, provenant's JSON report (every artifact and check, as --output writes it)")
	fs.StringVarP(&o.JQ, "jq", "q", "", "with --format json, filter the JSON with this jq `EXPRESSION`, as gh does")
	fs.StringVarP(&o.Template, "template", "t", "", "with --format json, format the JSON with this Go `TEMPLATE`, as gh does")
	fs.BoolVar(&o.NewBundleFormat, "new-bundle-format", false, "accepted as cosign has it: provenant always reads Sigstore bundles")
	fs.BoolVar(&o.PrintProvenance, "print-provenance", false, "as slsa-verifier: print each verified in-toto statement (JSON, one a line) on stdout instead of the report")
	fs.BoolVar(&o.UseSignedTimestamps, "use-signed-timestamps", false, "accepted as cosign has it: every timestamp a bundle carries (log or RFC 3161) is verified")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "text output: every check of every artifact, not only of failures")
	fs.StringVarP(&o.ReportPath, "output", "O", "", "also write the JSON report (as --format report prints it) to `FILE`; standard output keeps --format's")
	fs.BoolVar(&o.Summary, "show-summary", true, "in GitHub Actions, write a step summary")
	fs.IntVar(&o.Parallelism, "parallel", 4, "artifacts verified at `N` at once")
	o.Fetch.AddFlags(fs)
	fs.StringVar(&o.PolicyFile.Path, "policy", "", "policy `FILE` (YAML, docs/policy.md): source ids and refs, signer, level, the attestations every artifact needs; flags given override it")
	fs.StringVar(&o.PolicyFile.PinsPath, "pins", "", "pins `FILE` (JSON): the first verification of a source records its ids, signer and level; later runs fail when they change")
	fs.BoolVar(&o.PolicyFile.UpdatePins, "update-pins", false, "with --pins, accept a change of ids, signer or level and record it")
	fs.StringVar(&o.VSA.Out, "vsa-out", "", "write a SLSA VSA of each artifact's verdict (PASSED or FAILED) into `DIR`: <artifact>.vsa.sigstore.json signed, <artifact>.vsa.intoto.json unsigned")
	fs.BoolVar(&o.VSA.Sign, "sign", false, "with --vsa-out: sign the VSAs keylessly with the job's token (default: true in a GitHub Actions job with id-token: write, else false)")
	fs.StringVar(&o.VSA.Sigstore, "sigstore", "auto", "with --vsa-out and signing: Sigstore instance, auto, public-good, github, or a `FOLDER` with signing_config.json and trusted_root.json")
	fs.StringVar(&o.VSA.OIDCIssuer, "oidc-issuer", "", "with --vsa-out and signing: expected token issuer `URL` (default: from GITHUB_SERVER_URL)")
	fs.BoolVar(&o.VSA.Push, "push-vsa", false, "with --vsa-out and signing: push each signed VSA of an oci:// image to its registry as a referrer of the image (for admission on the VSA: provenant policy kyverno --verifier-id)")
	fs.StringVar(&o.Policy.VerifierID, "verifier-id", "", "with --predicate-type "+verifier.VSAPredicateType+": the verifier.id a VSA must name, `ID`, e.g. "+verifier.VerifierID)
	fs.StringVar(&o.Policy.ResourceURI, "resource-uri", "", "with a VSA predicate type: the `URI` the VSA's resourceUri must be, exactly (default: any; the subject digest is always checked)")
	fs.StringVar(&o.Release, "release", "", "verify every asset of the GitHub release tagged `TAG` of --repo, with the attestations beside them (<asset>.sigstore.json, *.intoto.jsonl), as --bundle-dir does")
}

// complete takes the command's context and validates the options.
func (o *Options) complete(ctx context.Context, args []string) error {
	o.ctx = ctx
	return o.Validate(args)
}

// Validate completes the options from the arguments, the "artifacts"
// input and the flags that need parsing, and refuses flags that cannot go
// together (a plain error: exit 2 with a pointer to --help).
func (o *Options) Validate(args []string) error {
	var err error
	if o.Artifacts, err = verification.Artifacts(o.f, args); err != nil {
		return err
	}
	p := &o.Policy
	o.Identity.Apply(p)
	p.GitHubServer = o.GitHub.Server()
	if p.WorkflowInputs, err = keyValues("workflow-input", o.WorkflowInputs); err != nil {
		return err
	}
	if p.Extensions, err = keyValues("cert-extension", o.Extensions); err != nil {
		return err
	}
	if o.CosignType != "" {
		switch t, ok := cosignTypes[o.CosignType]; {
		case p.PredicateType != verifier.SLSAProvenanceV1:
			return fmt.Errorf("--type %q and --predicate-type %q: give one", o.CosignType, p.PredicateType)
		case ok:
			p.PredicateType = t
		case strings.Contains(o.CosignType, "://"):
			p.PredicateType = o.CosignType
		default:
			return fmt.Errorf("--type %q: not a type cosign names, nor a URI", o.CosignType)
		}
	}
	if o.Format != "text" && o.Format != "json" && o.Format != "report" {
		return fmt.Errorf("--format %q: want text, json (gh's shape) or report (provenant's report)", o.Format)
	}
	if o.PrintProvenance && o.Format != "text" {
		return errors.New("--print-provenance prints the statements: give no --format")
	}
	if (o.JQ != "" || o.Template != "") && o.Format != "json" {
		return errors.New("--jq and --template work on --format json (as in gh): give --format json")
	}
	if o.JQ != "" && o.Template != "" {
		return errors.New("give --jq or --template, not both")
	}
	// slsa-verifier detects the provenance's version: its line (--source-uri)
	// without a predicate type accepts SLSA provenance v1 or v0.2.
	if p.SourceURI != "" && !o.given("predicate-type") && !o.given("type") {
		p.DetectProvenanceType = true
	}
	if err := o.peerRules(); err != nil {
		return err
	}
	// cosign's verify-attestation and verify-image take image references.
	if o.cmd != nil && (o.cmd.CalledAs() == "verify-image" || o.cmd.CalledAs() == "verify-attestation") {
		for i, a := range o.Artifacts {
			if !strings.HasPrefix(a, "oci://") && !fileExists(a) {
				o.Artifacts[i] = "oci://" + a
			}
		}
	}
	if o.DigestAlg != "sha256" && o.DigestAlg != "sha512" {
		return fmt.Errorf("--digest-alg %q: want sha256 or sha512", o.DigestAlg)
	}
	if p.MinLevel < 0 || p.MinLevel > 3 {
		return fmt.Errorf("--min-level %d: want 1, 2 or 3", p.MinLevel)
	}
	return o.validateRelease()
}

// validateRelease refuses what --release cannot be combined with.
func (o *Options) validateRelease() error {
	if o.Release == "" {
		return nil
	}
	switch {
	case o.Policy.Repo == "":
		return errors.New("--release needs --repo OWNER/NAME: the repository whose release it is")
	case len(o.Artifacts) > 0 || len(o.Digests) > 0:
		return errors.New("--release verifies the release's own assets: give no ARTIFACT or --digest")
	case len(o.Bundles) > 0 || o.BundleDir != "":
		return errors.New("--release reads the attestations beside the assets: give no --bundle or --bundle-dir")
	}
	return nil
}

// given reports whether the named flag was set (on the command line or as
// an action input).
func (o *Options) given(name string) bool { return o.flags != nil && cmdutil.Given(o.flags, name) }

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

// Run verifies, in this order, each step taking what the steps before it
// returned and changing nothing another step set:
//
//  1. the policy file (policyfile.go) fills what the flags left unset, and
//     the command line is checked whole: a usage error is exit 2 before
//     trust is loaded or anything fetched, offline too;
//  2. a GitHub Enterprise Cloud tenant (tenant.go) names the server, the
//     issuer and the TUF repositories, before the roots are loaded;
//  3. with --vsa-out (vsa.go) the folder and the job's token are checked
//     before the work is done;
//  4. the trusted roots are loaded (cmdutil.TrustFlags);
//  5. the attestations are gathered from their sources (sources.go);
//  6. verified, and judged by the policy file and the pins;
//  7. the report is written (report.go), then the VSAs.
func Run(o *Options) error {
	ctx, log := o.ctx, o.f.Logger("provenant verify", false)
	policy, pf, err := loadPolicy(o)
	if err != nil {
		return err
	}
	policy, tufRepos, err := resolveTenant(ctx, o, log, policy)
	if err != nil {
		return err
	}
	vsa, err := startVSA(ctx, o, log)
	if err != nil {
		return err
	}
	roots, warnings, err := o.Trust.LoadRoots(o.f, tufRepos)
	for _, w := range warnings {
		log.Warn(w)
	}
	if err != nil {
		return rootsError(o, err)
	}
	src, err := gatherSources(ctx, o, log, policy, pf, roots)
	if err != nil {
		return verifyError(err)
	}
	defer src.close()
	rep, err := src.verify(ctx, pf, log)
	if err != nil {
		return verifyError(err)
	}
	rep.Warnings = warnings
	if err := writeReport(o, rep); err != nil {
		return err
	}
	if vsa != nil {
		if err := vsa.write(ctx, policy, pf, src.images, rep); err != nil {
			return err
		}
	}
	if !rep.Verified {
		return cmdutil.ErrSilentFailure
	}
	return nil
}

// verifyError keeps the verifier's typed errors (exit 2) and makes any
// other a failure (exit 1).
func verifyError(err error) error {
	var ie *verifier.InputError
	var pe *verifier.PolicyError
	var ue *cmdutil.UsageError
	var fe *cmdutil.FailedError
	if errors.As(err, &ie) || errors.As(err, &pe) || errors.As(err, &ue) || errors.As(err, &fe) {
		return err
	}
	return cmdutil.Failed(err)
}

// fileExists reports whether p names a file here (then it is an artifact,
// not an image reference).
func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// cosignCustomType is the predicate type cosign's --type defaults to
// ("custom").
const cosignCustomType = "https://cosign.sigstore.dev/attestation/v1"

// peerRules gives a peer's line the peer's verdict where provenant would
// otherwise accept more: gh ("provenant attestation verify") compares the
// artifact in --digest-alg only, refuses bundles v0.1 and bundle files not
// named .json or .jsonl; cosign (verify-blob-attestation,
// verify-attestation) compares in sha256 only and, without --type, asks
// for its "custom" predicate type. docs/verify.md lists them; the
// differential test (scripts/peers_test.go) checks them against the peers.
func (o *Options) peerRules() error {
	if o.cmd == nil {
		return nil
	}
	switch {
	case o.cmd.Parent() != nil && o.cmd.Parent().Name() == "attestation":
		o.peer, o.digestAlgorithm, o.refuseBundleV01 = "gh", o.DigestAlg, true
		for _, b := range o.Bundles {
			if !strings.HasSuffix(b, ".json") && !strings.HasSuffix(b, ".jsonl") {
				return fmt.Errorf("--bundle %s: gh attestation verify reads only .json and .jsonl bundle files (provenant verify reads any)", b)
			}
		}
	case o.cmd.CalledAs() == "verify-blob-attestation" || o.cmd.CalledAs() == "verify-attestation":
		o.peer, o.digestAlgorithm = "cosign", "sha256"
		if !o.given("type") && !o.given("predicate-type") {
			o.Policy.PredicateType = cosignCustomType
		}
	}
	return nil
}
