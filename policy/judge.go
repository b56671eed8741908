package policy

// judge.go is how a verifier.Verify report is held to a policy file: the
// merge of the file into the verifier's policy before verifying, and the
// judgement of the report after. provenant verify (cmd_verify_policy.go)
// and the admission webhook (package admission) are to share it: one code
// path from policy file to verdict.

import (
	"context"
	"fmt"
	"strings"

	"github.com/provenant/provenant/verifier"
)

// MergeInto adds the file's source repository, signer workflow and level
// to p. Both apply: when they disagree the stricter wins (the higher
// level), and a repository or signer workflow named differently by both is
// an error, since one of them would be silently dropped. With Require and
// no predicate type in p, p's predicate type becomes the primary one of
// Require (PrimaryType).
func (pf *File) MergeInto(p *verifier.Policy) error {
	if r := pf.Source.Repo; r != "" {
		owner, _, _ := strings.Cut(r, "/")
		switch {
		case p.Repo != "" && !strings.EqualFold(p.Repo, r):
			return fmt.Errorf("source.repo %s and --repo %s name two repositories: give one", r, p.Repo)
		case p.Owner != "" && !strings.EqualFold(p.Owner, owner):
			return fmt.Errorf("source.repo %s is not owned by --owner %s", r, p.Owner)
		case p.SourceURI != "" && !SameSourceRepo(p.SourceURI, r):
			return fmt.Errorf("source.repo %s and --source-uri %s name two repositories: give one", r, p.SourceURI)
		case p.Repo == "" && p.SourceURI == "":
			p.Repo = r
		}
	}
	if w := pf.SignerWorkflow; w != "" {
		if p.SignerWorkflow != "" && p.SignerWorkflow != w {
			return fmt.Errorf("signer.workflow %s and --signer-workflow %s name two signers: give one", w, p.SignerWorkflow)
		}
		if p.SignerWorkflow == "" {
			p.SignerWorkflow = w
		}
	}
	p.MinLevel = max(p.MinLevel, pf.Level)
	if len(pf.Require) > 0 && p.PredicateType == "" {
		p.PredicateType = PrimaryType(pf.Require)
	}
	return nil
}

// SameSourceRepo reports whether a source URI (github.com/o/r,
// git+https://github.com/o/r@ref) names the repository owner/name.
func SameSourceRepo(uri, repo string) bool {
	u := strings.TrimPrefix(uri, "git+")
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	u, _, _ = strings.Cut(u, "@")
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	_, path, _ := strings.Cut(u, "/")
	return strings.EqualFold(path, repo)
}

// PrimaryType is the predicate type a report is about: the first SLSA
// provenance of reqs, else its first entry ("" for none).
func PrimaryType(reqs []Requirement) string {
	for _, r := range reqs {
		if IsProvenanceType(r.PredicateType) {
			return r.PredicateType
		}
	}
	if len(reqs) == 0 {
		return ""
	}
	return reqs[0].PredicateType
}

// IsProvenanceType reports whether t is a SLSA provenance predicate type.
func IsProvenanceType(t string) bool { return strings.HasPrefix(t, "https://slsa.dev/provenance/") }

// VerifyFunc is verifier.Verify, or a stand-in for it in tests.
type VerifyFunc func(context.Context, verifier.Options) (*verifier.Report, error)

// Judge holds the report of verify(opts) to the file: each predicate type
// of Require other than opts' is verified from the same sources (the
// identity stays; the level applies to SLSA provenance only) and its
// verified bundles put in place of their results, then each artifact is
// judged by Apply, failing with the *Violation named in its Error, and
// rep.Verified is recomputed.
func (pf *File) Judge(ctx context.Context, verify VerifyFunc, opts verifier.Options, rep *verifier.Report) error {
	primary := opts.Policy.PredicateType
	if err := AddRequired(ctx, verify, opts, pf.Require, rep); err != nil {
		return err
	}
	for i := range rep.Artifacts {
		if a := &rep.Artifacts[i]; len(a.Bundles) > 0 {
			FailArtifact(a, pf.Apply(a, primary))
		}
	}
	rep.Verified = len(rep.Artifacts) > 0
	for _, a := range rep.Artifacts {
		rep.Verified = rep.Verified && a.Verified
	}
	return nil
}

// FailArtifact marks the artifact failed for err, when there is one, and
// adds err to its Error.
func FailArtifact(a *verifier.ArtifactResult, err error) {
	if err == nil {
		return
	}
	a.Verified = false
	if a.Error != "" {
		a.Error += "; "
	}
	a.Error += err.Error()
}

// AddRequired verifies the artifacts of rep again for each predicate type
// of reqs other than the one opts asks for, with verify and the same
// sources (the identity stays; the level applies to SLSA provenance only),
// and puts each bundle that verifies so in place of its result in rep.
func AddRequired(ctx context.Context, verify VerifyFunc, opts verifier.Options, reqs []Requirement, rep *verifier.Report) error {
	for _, r := range reqs {
		if r.PredicateType == opts.Policy.PredicateType {
			continue
		}
		o := opts
		o.Policy.PredicateType = r.PredicateType
		if !IsProvenanceType(r.PredicateType) {
			o.Policy.MinLevel = 0
		}
		other, err := verify(ctx, o)
		if err != nil {
			return fmt.Errorf("verifying the %s attestations: %w", r.PredicateType, err)
		}
		if len(other.Artifacts) != len(rep.Artifacts) {
			return fmt.Errorf("verifying the %s attestations: %d artifacts, not %d", r.PredicateType, len(other.Artifacts), len(rep.Artifacts))
		}
		for i, oa := range other.Artifacts {
			a := &rep.Artifacts[i]
			for _, ob := range oa.Bundles {
				if !ob.Verified {
					continue
				}
				for j := range a.Bundles {
					if a.Bundles[j].Source == ob.Source {
						a.Bundles[j] = ob
					}
				}
			}
		}
	}
	return nil
}
