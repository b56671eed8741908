package verify

// policyfile.go is verify's --policy, --pins and --update-pins
// (docs/policy.md): the policy file fills the flags not given before
// verification, and judges each artifact's verified bundles after it.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/inputfile"
	"github.com/provenant/provenant/policy"
	"github.com/provenant/provenant/verifier"
)

// maxPolicyFileSize bounds what is read of --policy and --pins: 16 MiB,
// and only from a regular file (not /dev/zero, not a named pipe).
const maxPolicyFileSize = 16 << 20

// PolicyFileFlags are verify's policy-file and pins flags.
type PolicyFileFlags struct {
	Path, PinsPath string
	UpdatePins     bool
}

// policyFile is the policy file and pins a run judges by.
type policyFile struct {
	flags PolicyFileFlags
	file  *policy.File // nil without --policy
	// sha256 is of the file's bytes, for a VSA's policy digest.
	sha256 string
}

// loadPolicy reads --policy and returns the flags' policy with what the
// file adds (policy.File.MergeInto), then checks the command line whole
// (checkUsage). A bad file or command line is a *cmdutil.UsageError.
func loadPolicy(o *Options) (verifier.Policy, *policyFile, error) {
	p := o.Policy
	pf := &policyFile{flags: o.PolicyFile}
	if pf.flags.UpdatePins && pf.flags.PinsPath == "" {
		return p, nil, cmdutil.Usagef("--update-pins needs --pins")
	}
	if pf.flags.Path != "" {
		data, err := inputfile.Read(context.Background(), pf.flags.Path, maxPolicyFileSize)
		if err == nil {
			sum := sha256.Sum256(data)
			pf.sha256 = hex.EncodeToString(sum[:])
			pf.file, err = policy.ParseFile(data)
		}
		if err == nil {
			err = pf.file.MergeInto(&p)
		}
		if err != nil {
			return p, nil, cmdutil.Usagef("--policy %s: %w", pf.flags.Path, err)
		}
		if len(pf.file.Require) > 0 && !o.given("predicate-type") && !o.given("type") {
			p.PredicateType = policy.PrimaryType(pf.file.Require)
		}
	}
	return p, pf, checkUsage(o, p)
}

// checkUsage refuses a command line verify cannot run (exit 2) before any
// trusted root is loaded: nothing to verify, an unusable policy
// (conflicting signer flags, a malformed --repo or regexp), a malformed
// --digest.
func checkUsage(o *Options, p verifier.Policy) error {
	if host := o.f.TenantHost(o.GitHub.Hostname); host != "" {
		p.GitHubServer = "https://" + host // as resolveTenant will set it
	}
	if len(o.Artifacts) == 0 && len(o.Digests) == 0 && o.BundleDir == "" && o.Release == "" {
		return cmdutil.Usagef("nothing to verify: give artifacts, --digest, --bundle-dir or --release")
	}
	// --exclude filters the entries verify lists itself; anywhere else it
	// would be silently dropped.
	if len(o.Exclude) > 0 && !(o.Release != "" || o.BundleDir != "" && len(o.Artifacts) == 0 && len(o.Digests) == 0) {
		return cmdutil.Usagef("--exclude applies to the entries of --bundle-dir (without ARTIFACT) or --release, which verify lists itself: here it would not be applied")
	}
	return cmdutil.Usage(verifier.CheckOptions(verifier.Options{Artifacts: o.Artifacts, Digests: o.Digests,
		BundleFiles: o.Bundles, BundleDir: o.BundleDir, Exclude: o.Exclude, Parallelism: o.Parallelism, Policy: p}))
}

// types are the predicate types verify asks its sources for, one query
// each: verify's own (--predicate-type, or the policy file's primary
// type), then every other type the policy file's require: lists, which
// judge verifies too: GitHub's filter would otherwise hide them. An empty
// first type asks for every type.
func (pf *policyFile) types(p verifier.Policy) []string {
	types := []string{p.PredicateType}
	if types[0] == "" || pf.file == nil {
		return types
	}
	for _, r := range pf.file.Require {
		if !slices.Contains(types, r.PredicateType) {
			types = append(types, r.PredicateType)
		}
	}
	return types
}

// verifyAndJudge is verifier.Verify with opts, then the policy file and
// the pins applied to its report with the same opts (the other predicate
// types of require: are verified from the same sources).
func (pf *policyFile) verifyAndJudge(ctx context.Context, opts verifier.Options, log *cmdutil.Logger) (*verifier.Report, error) {
	rep, err := verifier.Verify(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := pf.judge(ctx, opts, rep, log); err != nil {
		return nil, err
	}
	return rep, nil
}

// judge applies the policy file and the pins to the report of
// verifier.Verify with opts: an artifact that breaks a rule fails, naming
// it, and a bundle the policy refuses no longer counts for its level, a VSA
// or the pins (policy.File.Apply). An unreadable pins file is an
// *verifier.InputError (exit 2).
func (pf *policyFile) judge(ctx context.Context, opts verifier.Options, rep *verifier.Report, log *cmdutil.Logger) error {
	if pf.file == nil && pf.flags.PinsPath == "" {
		return nil
	}
	primary := opts.Policy.PredicateType
	if pf.file != nil {
		if err := pf.file.Judge(ctx, verifier.Verify, opts, rep); err != nil {
			return fmt.Errorf("--policy %s: %w", pf.flags.Path, err)
		}
	}
	if pf.flags.PinsPath != "" {
		if err := pf.checkPins(rep, primary, log); err != nil {
			return err
		}
	}
	rep.Verified = len(rep.Artifacts) > 0
	for _, a := range rep.Artifacts {
		rep.Verified = rep.Verified && a.Verified
	}
	return nil
}

// checkPins holds each verified artifact's bundles of the primary
// predicate type to --pins, and writes the pins when they changed.
func (pf *policyFile) checkPins(rep *verifier.Report, primary string, log *cmdutil.Logger) error {
	data, err := inputfile.Read(context.Background(), pf.flags.PinsPath, maxPolicyFileSize)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &verifier.InputError{Err: fmt.Errorf("--pins: %w", err)}
	}
	pins, err := policy.ParsePins(data)
	if err != nil {
		return &verifier.InputError{Err: fmt.Errorf("--pins %s: %w", pf.flags.PinsPath, err)}
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
		c, err := pins.Check(only, pf.flags.UpdatePins)
		changed = changed || c
		policy.FailArtifact(a, err)
	}
	if !changed {
		return nil
	}
	out, err := pins.Marshal()
	if err == nil {
		err = cmdutil.WriteAtomic(pf.flags.PinsPath, out)
	}
	if err != nil {
		return fmt.Errorf("writing --pins %s: %w", pf.flags.PinsPath, err)
	}
	log.Printf("pins recorded in %s", pf.flags.PinsPath)
	return nil
}
