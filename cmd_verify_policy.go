package main

// cmd_verify_policy.go is verify's --policy, --pins and --update-pins
// (docs/policy.md): the policy file fills the flags not given before
// verification, and judges each artifact's verified bundles after it.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/pflag"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/inputfile"
	"github.com/provenant/provenant/internal/verification"
	"github.com/provenant/provenant/verifier"
)

// maxPolicyFileSize bounds what is read of --policy and --pins: 16 MiB,
// and only from a regular file (not /dev/zero, not a named pipe).
const maxPolicyFileSize = 16 << 20

// policyFlags are verify's policy-file and pins flags.
type policyFlags struct {
	flags      *pflag.FlagSet // to tell the flags given from the defaults
	path       string
	pinsPath   string
	updatePins bool
	file       *verifier.PolicyFile // loaded by loadPolicyFile
	sha256     string               // of the file's bytes, for a VSA's policy digest
}

// definePolicyFlags declares --policy, --pins and --update-pins into fs.
func definePolicyFlags(fs *pflag.FlagSet, f *policyFlags) {
	f.flags = fs
	fs.StringVar(&f.path, "policy", "", "policy `FILE` (YAML, docs/policy.md): source ids and refs, signer, level, the attestations every artifact needs; flags given override it")
	fs.StringVar(&f.pinsPath, "pins", "", "pins `FILE` (JSON): the first verification of a source records its ids, signer and level; later runs fail when they change")
	fs.BoolVar(&f.updatePins, "update-pins", false, "with --pins, accept a change of ids, signer or level and record it")
}

// given reports whether the named flag was set (on the command line or as
// an action input).
func (f *policyFlags) given(name string) bool {
	fl := f.flags.Lookup(name)
	return fl != nil && fl.Changed
}

// loadPolicyFile reads --policy and fills in the verify options its flags
// left unset. A bad file is a usage error naming its line.
func loadPolicyFile(f *verifyFlags, e *cmdutil.Factory) int {
	pf := &f.policy
	if pf.updatePins && pf.pinsPath == "" {
		fmt.Fprintln(e.Stderr, "provenant verify: --update-pins needs --pins")
		return exitUsage
	}
	if pf.path == "" {
		return exitOK
	}
	data, err := inputfile.Read(context.Background(), pf.path, maxPolicyFileSize)
	if err == nil {
		sum := sha256.Sum256(data)
		pf.sha256 = hex.EncodeToString(sum[:])
		pf.file, err = verifier.ParsePolicyFile(data)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: --policy %s: %v\n", pf.path, err)
		return exitUsage
	}
	if err := mergePolicyFile(&f.opts.Policy, pf.file); err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: --policy %s: %v\n", pf.path, err)
		return exitUsage
	}
	p, file := &f.opts.Policy, pf.file
	if len(file.Require) > 0 && !pf.given("predicate-type") && !pf.given("type") {
		p.PredicateType = primaryType(file.Require)
	}
	return exitOK
}

// mergePolicyFile adds the policy file's source repository, signer
// workflow and level to the flags'. Both apply: when they disagree the
// stricter wins (the higher level), and a repository or signer workflow
// named differently by both is an error, since one of them would be
// silently dropped.
func mergePolicyFile(p *verifier.Policy, file *verifier.PolicyFile) error {
	if r := file.Source.Repo; r != "" {
		owner, _, _ := strings.Cut(r, "/")
		switch {
		case p.Repo != "" && !strings.EqualFold(p.Repo, r):
			return fmt.Errorf("source.repo %s and --repo %s name two repositories: give one", r, p.Repo)
		case p.Owner != "" && !strings.EqualFold(p.Owner, owner):
			return fmt.Errorf("source.repo %s is not owned by --owner %s", r, p.Owner)
		case p.SourceURI != "" && !sameSourceRepo(p.SourceURI, r):
			return fmt.Errorf("source.repo %s and --source-uri %s name two repositories: give one", r, p.SourceURI)
		case p.Repo == "" && p.SourceURI == "":
			p.Repo = r
		}
	}
	if w := file.SignerWorkflow; w != "" {
		if p.SignerWorkflow != "" && p.SignerWorkflow != w {
			return fmt.Errorf("signer.workflow %s and --signer-workflow %s name two signers: give one", w, p.SignerWorkflow)
		}
		if p.SignerWorkflow == "" {
			p.SignerWorkflow = w
		}
	}
	p.MinLevel = max(p.MinLevel, file.Level)
	return nil
}

// sameSourceRepo reports whether a --source-uri (github.com/o/r,
// git+https://github.com/o/r@ref) names the repository owner/name.
func sameSourceRepo(uri, repo string) bool {
	u := strings.TrimPrefix(uri, "git+")
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	u, _, _ = strings.Cut(u, "@")
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	_, path, _ := strings.Cut(u, "/")
	return strings.EqualFold(path, repo)
}

// primaryType is the predicate type verify's report is about: the first
// SLSA provenance of require, else its first entry.
func primaryType(reqs []verifier.Requirement) string {
	for _, r := range reqs {
		if verification.IsProvenanceType(r.PredicateType) {
			return r.PredicateType
		}
	}
	return reqs[0].PredicateType
}

// verifyAndJudge is verifier.Verify with opts, then the policy file and
// the pins applied to its report with the same opts (the other predicate
// types of require: are verified from the same sources).
func verifyAndJudge(ctx context.Context, f *verifyFlags, opts verifier.Options, e *cmdutil.Factory) (*verifier.Report, error) {
	rep, err := verifier.Verify(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := judgePolicy(ctx, f, opts, rep, e); err != nil {
		return nil, err
	}
	return rep, nil
}

// judgePolicy applies the policy file and the pins to the report of
// verifier.Verify with opts: an artifact that breaks a rule fails, naming
// it, and a bundle the policy refuses no longer counts for its level, a VSA
// or the pins (verifier.PolicyFile.Apply). An unreadable pins file is an
// *verifier.InputError (exit 2).
func judgePolicy(ctx context.Context, f *verifyFlags, opts verifier.Options, rep *verifier.Report, e *cmdutil.Factory) error {
	pf := &f.policy
	if pf.file == nil && pf.pinsPath == "" {
		return nil
	}
	primary := opts.Policy.PredicateType
	if pf.file != nil {
		if err := verification.AddRequiredBundles(ctx, opts, pf.file.Require, rep); err != nil {
			return fmt.Errorf("--policy %s: %w", pf.path, err)
		}
		for i := range rep.Artifacts {
			if a := &rep.Artifacts[i]; len(a.Bundles) > 0 {
				failArtifact(a, pf.file.Apply(a, primary))
			}
		}
	}
	if pf.pinsPath != "" {
		if err := checkPins(pf, rep, primary, e); err != nil {
			return err
		}
	}
	rep.Verified = len(rep.Artifacts) > 0
	for _, a := range rep.Artifacts {
		rep.Verified = rep.Verified && a.Verified
	}
	return nil
}

// failArtifact marks the artifact failed for err, when there is one.
func failArtifact(a *verifier.ArtifactResult, err error) {
	if err == nil {
		return
	}
	a.Verified = false
	if a.Error != "" {
		a.Error += "; "
	}
	a.Error += err.Error()
}

// checkPins holds each verified artifact's bundles of the primary
// predicate type to --pins, and writes the pins when they changed.
func checkPins(pf *policyFlags, rep *verifier.Report, primary string, e *cmdutil.Factory) error {
	data, err := inputfile.Read(context.Background(), pf.pinsPath, maxPolicyFileSize)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &verifier.InputError{Err: fmt.Errorf("--pins: %w", err)}
	}
	pins, err := verifier.ParsePins(data)
	if err != nil {
		return &verifier.InputError{Err: fmt.Errorf("--pins %s: %w", pf.pinsPath, err)}
	}
	changed := false
	for i := range rep.Artifacts {
		a := &rep.Artifacts[i]
		if !a.Verified {
			continue
		}
		only := *a
		only.Bundles = nil
		for _, b := range a.Bundles {
			if b.PredicateType == primary {
				only.Bundles = append(only.Bundles, b)
			}
		}
		c, err := pins.Check(only, pf.updatePins)
		changed = changed || c
		failArtifact(a, err)
	}
	if !changed {
		return nil
	}
	out, err := pins.Marshal()
	if err == nil {
		err = cmdutil.WriteAtomic(pf.pinsPath, out)
	}
	if err != nil {
		return fmt.Errorf("writing --pins %s: %w", pf.pinsPath, err)
	}
	fmt.Fprintf(e.Stderr, "provenant verify: pins recorded in %s\n", pf.pinsPath)
	return nil
}
