package main

// cmd_policy.go is "provenant policy init": a starting policy file
// (docs/policy.md) from what the bundles at hand show.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/verifier"
)

// policyInitFlags are the flags of "provenant policy init".
type policyInitFlags struct {
	verify verifyFlags // the trust and input flags, as verify has them
	output string
}

// newPolicyCmd is "provenant policy" and its subcommands.
func newPolicyCmd(e *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Write policy files for verify --policy and Kyverno",
		Long:  "Policy files for provenant verify --policy (docs/policy.md).",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPolicyInitCmd(e), newPolicyKyvernoCmd(e))
	return cmd
}

// newPolicyInitCmd is "provenant policy init".
func newPolicyInitCmd(e *cmdutil.Factory) *cobra.Command {
	f := &policyInitFlags{}
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
		RunE: func(cmd *cobra.Command, args []string) error {
			vf := &f.verify
			if vf.opts.Policy.Repo == "" {
				return errors.New("--repo is required")
			}
			if err := finishVerifyFlags(vf, args, e); err != nil {
				return err
			}
			return asExit(runPolicyInit(cmd.Context(), f, e))
		},
	}
	fs := cmd.Flags()
	vf, p := &f.verify, &f.verify.opts.Policy
	fs.StringVarP(&p.Repo, "repo", "R", "", "source repository, `OWNER/NAME`")
	fs.StringVar(&p.SignerWorkflow, "signer-workflow", "", "signing `WORKFLOW` when it is not in the source repository, [host/]owner/name/.github/workflows/file.yml")
	fs.StringVar(&p.SignerRepo, "signer-repo", "", "repository of the signing workflow when it is not the source, `OWNER/NAME`")
	fs.VarP(&vf.bundles, "bundle", "b", "bundle `FILE`, JSON or JSON Lines (repeatable)")
	fs.StringVar(&vf.opts.BundleDir, "bundle-dir", "", "`DIR` of release assets with their attestations; without ARTIFACT, every asset in it")
	fs.Var(&vf.digests, "digest", "an artifact by digest, `ALG:HEX` (repeatable)")
	fs.StringVar(&vf.hostname, "hostname", "github.com", "GitHub `HOST` of the repositories")
	fs.StringVar(&vf.trustedRoot, "trusted-root", "", "trusted_root.json (or JSON Lines) `FILE`; default: TUF")
	fs.StringVar(&vf.tufCache, "tuf-cache", "", "TUF cache `DIR` (as verify)")
	fs.BoolVar(&vf.offline, "offline", false, "do not contact TUF (as verify)")
	fs.StringVarP(&f.output, "output", "O", "", "write the policy to `FILE` (default: standard output)")
	// finishVerifyFlags reads these; policy init does not take them.
	vf.format, vf.digestAlg, p.PredicateType, p.CertOIDCIssuer = "text", "sha256", verifier.SLSAProvenanceV1, verifier.GitHubActionsIssuer
	return cmd
}

// runPolicyInit verifies the bundles at hand and writes the policy.
func runPolicyInit(ctx context.Context, f *policyInitFlags, e *cmdutil.Factory) int {
	vf := &f.verify
	roots, warnings, err := loadVerifyRoots(vf, e)
	for _, w := range warnings {
		fmt.Fprintf(e.Stderr, "provenant policy init: warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant policy init: %v\n", err)
		return exitUsage
	}
	vf.opts.TrustedRoots = roots
	vf.opts.Policy.MinLevel = 1 // report the level reached, whatever it is
	rep, err := verifier.Verify(ctx, vf.opts)
	if err == nil {
		err = addRequiredBundles(ctx, vf.opts, typesSeen(rep), rep)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant policy init: %v\n", err)
		return exitUsage
	}
	text, err := startingPolicy(vf.opts.Policy.Repo, vf.opts.Policy.GitHubServer, rep.Artifacts)
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant policy init: %v\n", err)
		return exitFailed
	}
	if f.output == "" {
		_, err = fmt.Fprint(e.Stdout, text)
	} else if err = cmdutil.WriteAtomic(f.output, []byte(text)); err == nil {
		fmt.Fprintf(e.Stderr, "provenant policy init: wrote %s\n", f.output)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant policy init: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// typesSeen lists the predicate types of the bundles whose signature
// verified, SLSA provenance first.
func typesSeen(rep *verifier.Report) []verifier.Requirement {
	var types []string
	for _, a := range rep.Artifacts {
		for _, b := range a.Bundles {
			if b.Signer != nil && b.PredicateType != "" && !slices.Contains(types, b.PredicateType) {
				types = append(types, b.PredicateType)
			}
		}
	}
	slices.SortStableFunc(types, func(a, b string) int {
		switch pa, pb := isProvenanceType(a), isProvenanceType(b); {
		case pa && !pb:
			return -1
		case pb && !pa:
			return 1
		}
		return strings.Compare(a, b)
	})
	reqs := make([]verifier.Requirement, len(types))
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
func observeArtifacts(arts []verifier.ArtifactResult, order []verifier.Requirement) (seenOf, error) {
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
			if isProvenanceType(b.PredicateType) {
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
	pf, err := verifier.ParsePolicyFile([]byte(text))
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
