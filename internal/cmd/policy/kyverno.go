package policy

// kyverno.go is "provenant policy kyverno": a Kyverno ClusterPolicy that
// admits Pods only with images attested as verify would accept them
// (docs/kyverno.md).

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/policy/kyverno"
	"github.com/provenant/provenant/verifier"
)

// KyvernoOptions are the flags of "provenant policy kyverno".
type KyvernoOptions struct {
	Kyverno          kyverno.Options
	Output, Hostname string
	f                *cmdutil.Factory
}

// NewCmdKyverno is "provenant policy kyverno"; runF, when not nil, runs
// instead of RunKyverno (tests).
func NewCmdKyverno(f *cmdutil.Factory, runF func(*KyvernoOptions) error) *cobra.Command {
	o := &KyvernoOptions{f: f}
	cmd := &cobra.Command{
		Use:   "kyverno --repo OWNER/NAME --image PATTERN [flags]",
		Short: "Write a Kyverno ClusterPolicy that admits only attested images",
		Long: `Writes a Kyverno ClusterPolicy (kyverno.io/v1, verifyImages, type
SigstoreBundle) for Pods whose images match --image: each such image must
carry, as an OCI referrer (provenant attest push-to-registry, or GitHub's
attest action), a SLSA v1 provenance bundle signed keylessly by a workflow of
--repo (or by --signer-workflow), from --repo, at the level asked:

  L1, L2  signed by a workflow of --repo (or the pinned --signer-workflow)
  L3      signed by a reusable workflow of another repository at a release
          tag refs/tags/vX.Y.Z: the pinned --signer-workflow, or GitHub's
          artifact-attestations-workflows; on a GitHub-hosted runner

Kyverno checks the certificate's issuer and subject only. --source-ref is
bound in the subject (the SAN workflow@ref names the run's ref when the signer is a
workflow of --repo) as well as in the predicate; with a signer of another
repository (--signer-workflow elsewhere, --min-level 3) the ref is only in
the Source Repository Ref extension, which Kyverno cannot check, so --source-ref is
refused there. The source repository and runner are checked in the
predicate, which that pinned identity signed.

With --verifier-id the images need a PASSED verification summary (VSA) from
that verifier at the level asked instead, signed by --signer-workflow (the
workflow that ran provenant verify --vsa-out), which must be a workflow of
--repo: a VSA names no source repository, so the gate's identity is what
binds it to --repo (a shared gate elsewhere is refused).

Exit status: 0 written, 2 bad usage.`,
		Example: `  provenant policy kyverno --repo octo-org/octo-repo --image 'ghcr.io/octo-org/*' > policy.yaml
  provenant policy kyverno --repo octo-org/octo-repo --image 'ghcr.io/octo-org/*' \
      --source-ref 'refs/tags/v*' --source-ref refs/heads/main
  provenant policy kyverno --repo octo-org/octo-repo --image 'ghcr.io/octo-org/*' \
      --signer-workflow octo-org/builders/.github/workflows/build.yml --min-level 3`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, nil, RunKyverno, runF),
	}
	cmdutil.NormalizeFlags(cmd)
	fs := cmd.Flags()
	fs.StringVarP(&o.Kyverno.Repo, "repo", "R", "", "source repository, `OWNER/NAME`")
	fs.StringSliceVar(&o.Kyverno.Images, "image", nil, "image reference `PATTERN` the policy applies to, e.g. 'ghcr.io/octo-org/*' (repeatable)")
	fs.StringVar(&o.Kyverno.SignerWorkflow, "signer-workflow", "", "signing `WORKFLOW`, [host/]owner/name/.github/workflows/file.yml[@ref] (the ref a full ref or commit; default any ref)")
	fs.StringSliceVar(&o.Kyverno.Refs, "source-ref", nil, "source `REF` accepted, bound to the signer's SAN, Kyverno wildcards allowed, e.g. 'refs/tags/v*' (repeatable; default any; not with a signer of another repository)")
	fs.StringVar(&o.Kyverno.BuilderID, "builder-id", "", "the provenance's runDetails.builder.id, `ID` (Kyverno wildcards allowed)")
	fs.IntVar(&o.Kyverno.MinLevel, "min-level", 2, "SLSA Build `LEVEL` required, 1-3")
	fs.StringVar(&o.Kyverno.Issuer, "cert-oidc-issuer", verifier.GitHubActionsIssuer, "OIDC `ISSUER` of the signing certificate")
	fs.StringVar(&o.Kyverno.RekorURL, "rekor-url", "https://rekor.sigstore.dev", "transparency log `URL`")
	fs.BoolVar(&o.Kyverno.IgnoreTlog, "ignore-tlog", false, "accept bundles without a log entry (GitHub's Sigstore instance for private repositories: TSA only)")
	fs.StringVar(&o.Kyverno.VerifierID, "verifier-id", "", "VSA mode: require a PASSED verification summary from this verifier `ID` instead of the provenance")
	fs.BoolVar(&o.Kyverno.Audit, "audit", false, "report violations (validationFailureAction Audit) instead of refusing Pods")
	fs.StringVar(&o.Kyverno.Name, "name", "", "`NAME` of the ClusterPolicy (default provenant-OWNER-NAME)")
	fs.StringVar(&o.Hostname, "hostname", "github.com", "GitHub `HOST` of the repositories")
	fs.StringVarP(&o.Output, "output", "O", "", "write the policy to `FILE` (default: standard output)")
	return cmd
}

// RunKyverno writes the ClusterPolicy. An option the policy cannot enforce
// is refused (exit 2, verifier's message).
func RunKyverno(o *KyvernoOptions) error {
	k := o.Kyverno
	if h := strings.TrimSuffix(strings.TrimPrefix(o.Hostname, "https://"), "/"); h != "" {
		k.Server = "https://" + h
	}
	text, err := kyverno.Policy(k)
	if err != nil {
		return err
	}
	if o.Output == "" {
		_, err = o.f.Stdout.Write(text)
	} else if err = cmdutil.WriteAtomic(o.Output, text); err == nil {
		o.f.Logger("provenant policy kyverno", false).Printf("wrote %s", o.Output)
	}
	return cmdutil.Failed(err)
}
