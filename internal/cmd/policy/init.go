// Package policy is "provenant policy" and its subcommands: "init", a
// starting policy file (docs/policy.md) from what the bundles at hand
// show, and "kyverno", a Kyverno ClusterPolicy (docs/kyverno.md).
package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/verification"
	policyfile "github.com/provenant/provenant/policy"
	"github.com/provenant/provenant/verifier"
)

// NewCmdPolicy is "provenant policy" and its subcommands.
func NewCmdPolicy(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Write policy files for verify --policy and Kyverno",
		Long:  "Policy files for provenant verify --policy (docs/policy.md).",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdInit(f, nil), NewCmdKyverno(f, nil))
	return cmd
}

// InitOptions are the flags and arguments of "provenant policy init".
type InitOptions struct {
	Repo, SignerWorkflow, SignerRepo string
	Bundles, Digests                 cmdutil.ListFlag
	BundleDir, Output                string
	Artifacts                        []string
	GitHub                           cmdutil.GitHubFlags
	Trust                            cmdutil.TrustFlags
	f                                *cmdutil.Factory
	ctx                              context.Context
}

// NewCmdInit is "provenant policy init"; runF, when not nil, runs instead
// of RunInit (tests).
func NewCmdInit(f *cmdutil.Factory, runF func(*InitOptions) error) *cobra.Command {
	o := &InitOptions{f: f}
	cmd := &cobra.Command{
		Use:   "init --repo OWNER/NAME [ARTIFACT...] [flags]",
		Short: "Write a starting policy from the bundles at hand",
		Long: `Verifies the bundles at hand for the artifacts against --repo (and
--signer-workflow or --signer-repo, for a reusable builder), once per
predicate type they hold, and writes a policy file from what the verified
ones show: the repository and owner ids, the refs, the signing workflow, the
level reached, every predicate type all artifacts carry, and same-run when
one run made them all. Read it before committing it.

Exit status: 0 written, 1 no bundle verified, 2 bad usage or unreadable input.`,
		Example: `  provenant policy init --repo octo-org/octo-repo --bundle-dir dist/ --output policy.yaml`,
		RunE:    cmdutil.RunE(o, o.complete, RunInit, runF),
	}
	cmdutil.NormalizeFlags(cmd)
	fs := cmd.Flags()
	fs.StringVarP(&o.Repo, "repo", "R", "", "source repository, `OWNER/NAME`")
	fs.StringVar(&o.SignerWorkflow, "signer-workflow", "", "signing `WORKFLOW` when it is not in the source repository, [host/]owner/name/.github/workflows/file.yml")
	fs.StringVar(&o.SignerRepo, "signer-repo", "", "repository of the signing workflow when it is not the source, `OWNER/NAME`")
	fs.VarP(&o.Bundles, "bundle", "b", "bundle `FILE`, JSON or JSON Lines (repeatable)")
	fs.StringVar(&o.BundleDir, "bundle-dir", "", "`DIR` of release assets with their attestations; without ARTIFACT, every asset in it")
	fs.Var(&o.Digests, "digest", "an artifact by digest, `ALG:HEX` (repeatable)")
	o.GitHub.AddFlags(fs, "GitHub `HOST` of the repositories")
	o.Trust.AddBriefFlags(fs)
	fs.StringVarP(&o.Output, "output", "O", "", "write the policy to `FILE` (default: standard output)")
	return cmd
}

// complete takes the command's context and validates the options.
func (o *InitOptions) complete(ctx context.Context, args []string) error {
	o.ctx = ctx
	return o.Validate(args)
}

// Validate refuses a command line policy init cannot run and takes the
// artifacts from the arguments (or the "artifacts" action input).
func (o *InitOptions) Validate(args []string) error {
	if o.Repo == "" {
		return errors.New("--repo is required")
	}
	var err error
	o.Artifacts, err = verification.Artifacts(o.f, args)
	return err
}

// verifierOptions are the options of the verification policy init makes:
// the level reached is reported, whatever it is.
func (o *InitOptions) verifierOptions(roots []verifier.TrustedRoot) verifier.Options {
	return verifier.Options{
		Artifacts: o.Artifacts, BundleFiles: o.Bundles, BundleDir: o.BundleDir, Digests: o.Digests,
		TrustedRoots: roots,
		Policy: verifier.Policy{
			Repo: o.Repo, SignerWorkflow: o.SignerWorkflow, SignerRepo: o.SignerRepo,
			GitHubServer: o.GitHub.Server(), PredicateType: verifier.SLSAProvenanceV1,
			CertOIDCIssuer: verifier.GitHubActionsIssuer, MinLevel: 1,
		},
	}
}

// RunInit verifies the bundles at hand and writes the policy.
func RunInit(o *InitOptions) error {
	log := o.f.Logger("provenant policy init", false)
	roots, warnings, err := o.Trust.LoadRoots(o.f, nil)
	for _, w := range warnings {
		log.Warn(w)
	}
	if err != nil {
		return cmdutil.Usage(err)
	}
	opts := o.verifierOptions(roots)
	rep, err := verifier.Verify(o.ctx, opts)
	if err == nil {
		err = verification.AddRequiredBundles(o.ctx, opts, typesSeen(rep), rep)
	}
	if err != nil {
		return cmdutil.Usage(err)
	}
	text, err := startingPolicy(opts.Policy.Repo, opts.Policy.GitHubServer, rep.Artifacts)
	if err != nil {
		return cmdutil.Failed(err)
	}
	if o.Output == "" {
		_, err = fmt.Fprint(o.f.Stdout, text)
	} else if err = cmdutil.WriteAtomic(o.Output, []byte(text)); err == nil {
		log.Printf("wrote %s", o.Output)
	}
	return cmdutil.Failed(err)
}

// typesSeen lists the predicate types of the bundles whose signature
// verified, SLSA provenance first.
func typesSeen(rep *verifier.Report) []policyfile.Requirement {
	var types []string
	for _, a := range rep.Artifacts {
		for _, b := range a.Bundles {
			if b.Signer != nil && b.PredicateType != "" && !slices.Contains(types, b.PredicateType) {
				types = append(types, b.PredicateType)
			}
		}
	}
	slices.SortStableFunc(types, func(a, b string) int {
		switch pa, pb := policyfile.IsProvenanceType(a), policyfile.IsProvenanceType(b); {
		case pa && !pb:
			return -1
		case pb && !pa:
			return 1
		}
		return strings.Compare(a, b)
	})
	reqs := make([]policyfile.Requirement, len(types))
	for i, t := range types {
		reqs[i].PredicateType = t
	}
	return reqs
}

// seenOf is what the verified bundles of the artifacts show.
type seenOf struct {
	repoIDs, ownerIDs, refs, signers []string
	types                            []string // carried by every artifact, in typesSeen's order
	level                            int      // the lowest among artifacts of their best provenance
}

func addOnce(list *[]string, v string) {
	if v != "" && !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

// observeArtifacts gathers what the verified bundles show.
func observeArtifacts(arts []verifier.ArtifactResult, order []policyfile.Requirement) (seenOf, error) {
	var s seenOf
	s.level = 4
	count := map[string]int{}
	for _, a := range arts {
		has, best := map[string]bool{}, 0
		for _, b := range a.Bundles {
			if !b.Verified || b.Signer == nil {
				continue
			}
			ext := b.Signer.Extensions
			addOnce(&s.repoIDs, ext.SourceRepositoryIdentifier)
			addOnce(&s.ownerIDs, ext.SourceRepositoryOwnerIdentifier)
			addOnce(&s.refs, refGlob(ext.SourceRepositoryRef))
			wf, _, _ := strings.Cut(ext.BuildSignerURI, "@")
			addOnce(&s.signers, wf)
			if policyfile.IsProvenanceType(b.PredicateType) {
				best = max(best, b.Level)
			}
			has[b.PredicateType] = true
		}
		for t := range has {
			count[t]++
		}
		if best > 0 {
			s.level = min(s.level, best)
		}
	}
	for _, r := range order {
		if count[r.PredicateType] == len(arts) {
			s.types = append(s.types, r.PredicateType)
		}
	}
	if len(s.types) == 0 {
		return s, errors.New("no predicate type has a verified bundle for every artifact: nothing to require (check --repo, --signer-workflow and the bundles)")
	}
	if len(s.repoIDs) > 1 || len(s.ownerIDs) > 1 {
		return s, fmt.Errorf("the bundles come from repositories of different ids (%s; owners %s): one was deleted and recreated, or renamed; decide which to trust",
			strings.Join(s.repoIDs, ", "), strings.Join(s.ownerIDs, ", "))
	}
	if s.level == 4 {
		s.level = 0
	}
	return s, nil
}

// refGlob generalises a tag to the tags of its kind; a branch stays as it is.
func refGlob(ref string) string {
	tag, ok := strings.CutPrefix(ref, "refs/tags/")
	switch {
	case !ok:
		return ref
	case len(tag) > 1 && tag[0] == 'v' && tag[1] >= '0' && tag[1] <= '9':
		return "refs/tags/v*"
	}
	return "refs/tags/*"
}

// startingPolicy writes the policy file the artifacts' verified bundles
// meet, and checks that it loads and that they do.
func startingPolicy(repo, server string, arts []verifier.ArtifactResult) (string, error) {
	rep := &verifier.Report{Artifacts: arts}
	s, err := observeArtifacts(arts, typesSeen(rep))
	if err != nil {
		return "", err
	}
	q := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by provenant policy init from %d artifact(s); read it before committing it (docs/policy.md).\n", len(arts))
	fmt.Fprintf(&b, "source:\n  repo: %s\n", q(repo))
	if len(s.repoIDs) == 1 {
		fmt.Fprintf(&b, "  repository-id: %s\n", s.repoIDs[0])
	}
	if len(s.ownerIDs) == 1 {
		fmt.Fprintf(&b, "  owner-id: %s\n", s.ownerIDs[0])
	}
	if len(s.refs) > 0 {
		quoted := make([]string, len(s.refs))
		for i, r := range s.refs {
			quoted[i] = q(r)
		}
		fmt.Fprintf(&b, "  refs: [%s]\n", strings.Join(quoted, ", "))
	}
	if len(s.signers) == 1 {
		wf := strings.TrimPrefix(s.signers[0], "https://")
		wf = strings.TrimPrefix(wf, strings.TrimPrefix(server, "https://")+"/")
		fmt.Fprintf(&b, "signer:\n  workflow: %s\n", q(wf))
	} else if len(s.signers) > 1 {
		fmt.Fprintf(&b, "# signer: several signing workflows: %s\n", strings.Join(s.signers, ", "))
	}
	if s.level > 0 {
		fmt.Fprintf(&b, "level: %d\n", s.level)
	}
	b.WriteString("require:\n")
	for _, t := range s.types {
		fmt.Fprintf(&b, "  - predicate-type: %s\n", q(t))
	}
	text, err := checkStartingPolicy(b.String(), arts)
	if err != nil {
		return "", fmt.Errorf("the policy written does not hold: %w\n%s", err, b.String())
	}
	return text, nil
}

// checkStartingPolicy loads the policy and judges the artifacts with it;
// with several types, it adds same-run when that holds too.
func checkStartingPolicy(text string, arts []verifier.ArtifactResult) (string, error) {
	pf, err := policyfile.ParseFile([]byte(text))
	if err != nil {
		return "", err
	}
	for _, a := range arts {
		if err := pf.Evaluate(a.Bundles, verifier.SLSAProvenanceV1); err != nil {
			return "", fmt.Errorf("%s: %w", a.Artifact, err)
		}
	}
	if len(pf.Require) < 2 {
		return text, nil
	}
	pf.SameRun = true
	for _, a := range arts {
		if err := pf.Evaluate(a.Bundles, verifier.SLSAProvenanceV1); err != nil {
			return text + "# same-run: not every artifact's attestations come from one run\n", nil
		}
	}
	return text + "same-run: true\n", nil
}
