// Package kyverno writes a Kyverno ClusterPolicy (kyverno.io/v1,
// verifyImages, type SigstoreBundle) that admits Pods only with images
// attested as provenant verify would accept them (docs/kyverno.md). The
// identity rules it binds come from package ghworkflow, the same ones the
// verifier reads.
package kyverno

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/internal/ghworkflow"
	"go.yaml.in/yaml/v3"
)

// workflowBuildTypes are the SLSA v1 buildTypes of a GitHub Actions
// workflow run whose predicate names the source in
// externalParameters.workflow: GitHub's attest action (and its API) and
// provenant's attest.
var workflowBuildTypes = []string{
	"https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
	"https://actions.github.io/buildtypes/workflow/v1",
}

// githubHostedBuilderID is the builder id GitHub's attest action records for
// a GitHub-hosted runner (its predicate has no runner_environment field).
const githubHostedBuilderID = "https://github.com/actions/runner/github-hosted"

// Options say what a Kyverno ClusterPolicy (KyvernoPolicy) enforces
// on Pods. Repo and Images are required.
type Options struct {
	// Name of the ClusterPolicy; default "provenant-OWNER-NAME".
	Name string
	// Repo is the source repository, "owner/name".
	Repo string
	// Server is the GitHub server, default "https://github.com".
	Server string
	// SignerWorkflow pins the signing workflow,
	// "[host/]owner/name/.github/workflows/file.yml[@ref]", as verify's
	// --signer-workflow; the ref, a full ref or a commit, is the one its
	// SAN must name (at level 3 a release tag refs/tags/vX.Y.Z or a
	// commit; without a pin, level 3 takes release tags only). Without it: any workflow of Repo, and
	// for level 3 GitHub's reusable attestation workflows at a release tag.
	SignerWorkflow string
	// Refs are the source refs accepted (Kyverno wildcards: refs/tags/v*),
	// bound to the signer's SAN, which names the run's ref when the signer
	// is a workflow of Repo; refused with a signer of another repository.
	Refs []string
	// BuilderID, when set, is the runDetails.builder.id required
	// (Kyverno wildcards allowed).
	BuilderID string
	// Images are the image reference patterns the rule applies to.
	Images []string
	// MinLevel is the SLSA Build level required, 1–3 (default 2).
	MinLevel int
	// Issuer is the OIDC issuer (default ghworkflow.Issuer).
	Issuer string
	// RekorURL is the transparency log (default https://rekor.sigstore.dev).
	RekorURL string
	// IgnoreTlog accepts bundles without a log entry (GitHub's own
	// Sigstore instance for private repositories has a TSA, no log).
	IgnoreTlog bool
	// Audit reports violations instead of refusing the Pod.
	Audit bool
	// VerifierID switches to VSA mode: the images need a verification
	// summary (VSAPredicateType) from this verifier, PASSED at MinLevel or
	// higher, signed by SignerWorkflow (the workflow that ran verify), in
	// place of the provenance itself.
	VerifierID string
}

// kyvernoCondition is one condition of a Kyverno attestation: a JMESPath
// key over the predicate, an operator, a value, and what it enforces.
type kyvernoCondition struct {
	Key      string `yaml:"key"`
	Operator string `yaml:"operator"`
	Value    any    `yaml:"value"`
	Message  string `yaml:"message,omitempty"`
}

// The ClusterPolicy's shape (kyverno.io/v1), in the order Kyverno's own
// examples write it.
type (
	kyvernoPolicy struct {
		APIVersion string          `yaml:"apiVersion"`
		Kind       string          `yaml:"kind"`
		Metadata   kyvernoMetadata `yaml:"metadata"`
		Spec       kyvernoSpec     `yaml:"spec"`
	}
	kyvernoMetadata struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	}
	kyvernoSpec struct {
		ValidationFailureAction string        `yaml:"validationFailureAction"`
		Background              bool          `yaml:"background"`
		WebhookTimeoutSeconds   int           `yaml:"webhookTimeoutSeconds"`
		Rules                   []kyvernoRule `yaml:"rules"`
	}
	kyvernoRule struct {
		Name         string               `yaml:"name"`
		Match        kyvernoMatch         `yaml:"match"`
		VerifyImages []kyvernoVerifyImage `yaml:"verifyImages"`
	}
	kyvernoMatch struct {
		Any []map[string]map[string][]string `yaml:"any"`
	}
	kyvernoVerifyImage struct {
		ImageReferences []string             `yaml:"imageReferences"`
		Type            string               `yaml:"type"`
		MutateDigest    bool                 `yaml:"mutateDigest"`
		VerifyDigest    bool                 `yaml:"verifyDigest"`
		Required        bool                 `yaml:"required"`
		Attestations    []kyvernoAttestation `yaml:"attestations"`
	}
	kyvernoAttestation struct {
		Type       string             `yaml:"type"`
		Attestors  []kyvernoAttestor  `yaml:"attestors"`
		Conditions []kyvernoCondBlock `yaml:"conditions"`
	}
	kyvernoAttestor struct {
		Count   int            `yaml:"count"`
		Entries []kyvernoEntry `yaml:"entries"`
	}
	kyvernoEntry struct {
		Keyless kyvernoKeyless `yaml:"keyless"`
	}
	kyvernoKeyless struct {
		Issuer        string       `yaml:"issuer"`
		SubjectRegExp string       `yaml:"subjectRegExp"`
		Rekor         kyvernoRekor `yaml:"rekor"`
	}
	kyvernoRekor struct {
		URL        string `yaml:"url"`
		IgnoreTlog bool   `yaml:"ignoreTlog,omitempty"`
	}
	kyvernoCondBlock struct {
		All []kyvernoCondition `yaml:"all,omitempty"`
		Any []kyvernoCondition `yaml:"any,omitempty"`
	}
)

// repoNamePattern is what GitHub accepts as owner/name.
var repoNamePattern = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)

// KyvernoPolicy writes a Kyverno ClusterPolicy (kyverno.io/v1, verifyImages
// with type SigstoreBundle, as Kyverno 1.15 reads OCI referrers holding
// Sigstore bundles) that admits a Pod only when each matching image carries
// an attestation that verify would accept for o: signed keylessly by the
// workflow identity o names, with the predicate's source repository, refs,
// builder and runner as o requires. Kyverno checks the certificate's issuer
// and subject only, not Fulcio's other extensions, so what the SAN cannot
// carry (the source repository of a reusable builder's run, the runner) is
// asked of the predicate here, which that pinned identity signed; the refs
// are bound in the SAN (see signers), and what cannot be bound there is
// refused. The predicate-against-certificate cross-check (check 7) has no
// Kyverno equivalent.
func Policy(o Options) ([]byte, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	attestation, err := o.attestation()
	if err != nil {
		return nil, err
	}
	what := "SLSA provenance"
	if o.VerifierID != "" {
		what = "a PASSED verification summary from " + o.VerifierID
	}
	action := "Enforce"
	if o.Audit {
		action = "Audit"
	}
	p := kyvernoPolicy{
		APIVersion: "kyverno.io/v1",
		Kind:       "ClusterPolicy",
		Metadata: kyvernoMetadata{
			Name: o.Name,
			Annotations: map[string]string{
				"policies.kyverno.io/title":       "Images built by " + o.Repo,
				"policies.kyverno.io/description": fmt.Sprintf("Admits Pods whose images matching %s carry %s at SLSA Build L%d from %s/%s. Written by provenant policy kyverno.", strings.Join(o.Images, ", "), what, o.MinLevel, o.Server, o.Repo),
			},
		},
		Spec: kyvernoSpec{
			ValidationFailureAction: action,
			WebhookTimeoutSeconds:   30,
			Rules: []kyvernoRule{{
				Name:  "provenance",
				Match: kyvernoMatch{Any: []map[string]map[string][]string{{"resources": {"kinds": {"Pod"}}}}},
				VerifyImages: []kyvernoVerifyImage{{
					ImageReferences: o.Images,
					Type:            "SigstoreBundle",
					MutateDigest:    true,
					VerifyDigest:    true,
					Required:        true,
					Attestations:    []kyvernoAttestation{attestation},
				}},
			}},
		},
	}
	var buf bytes.Buffer
	buf.WriteString("# Kyverno ClusterPolicy written by provenant policy kyverno (docs/kyverno.md).\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return buf.Bytes(), nil
}

// defaults fills in and checks o.
func (o *Options) defaults() error {
	switch {
	case o.Repo == "":
		return errors.New("--repo is required")
	case !repoNamePattern.MatchString(o.Repo):
		return fmt.Errorf("--repo %q is not OWNER/NAME", o.Repo)
	case len(o.Images) == 0:
		return errors.New("--image is required (the image references the policy applies to, e.g. 'ghcr.io/octo-org/*')")
	}
	for _, img := range o.Images {
		if strings.TrimSpace(img) == "" || strings.ContainsAny(img, " \t\r\n") {
			return fmt.Errorf("--image %q is not an image reference pattern", img)
		}
	}
	if o.MinLevel == 0 {
		o.MinLevel = 2
	}
	if o.MinLevel < 1 || o.MinLevel > 3 {
		return fmt.Errorf("--min-level %d: SLSA Build levels are 1, 2 and 3", o.MinLevel)
	}
	if o.Server == "" {
		o.Server = "https://github.com"
	}
	o.Server = strings.TrimSuffix(o.Server, "/")
	if o.Issuer == "" {
		o.Issuer = ghworkflow.Issuer
	}
	if o.RekorURL == "" {
		o.RekorURL = "https://rekor.sigstore.dev"
	}
	if o.Name == "" {
		o.Name = "provenant-" + strings.ToLower(strings.NewReplacer("/", "-", ".", "-", "_", "-").Replace(o.Repo))
	}
	if o.VerifierID != "" {
		switch {
		case o.SignerWorkflow == "":
			return errors.New("--verifier-id needs --signer-workflow, the workflow that runs provenant verify and signs its verification summaries")
		case len(o.Refs) > 0:
			return errors.New("--source-ref does not apply with --verifier-id: a verification summary names no source ref; give --source-ref to the gate's provenant verify")
		case o.BuilderID != "":
			return errors.New("--builder-id does not apply with --verifier-id: a verification summary names no builder; give --builder-id to the gate's provenant verify")
		}
	}
	return nil
}

// releaseTagPattern is a regexp of the refs slsa-verifier's
// utils.IsValidBuilderTag accepts of a builder: refs/tags/vX.Y.Z, semver
// without leading zeros, pre-release or build metadata.
const releaseTagPattern = `refs/tags/v(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)`

// workflowFilePattern is a workflow file directly in .github/workflows, as
// GitHub runs them, without a ref.
var workflowFilePattern = regexp.MustCompile(`^[^/@]+$`)

// commitPattern is a commit as a SAN names it when the reusable workflow was
// called by commit: pinned in --signer-workflow, it is the builder commit
// the user vouches for (verify's --signer-digest), never an unpinned one,
// which may be an imposter commit of a fork.
var commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// pinnedRefPattern is the ref a --signer-workflow may pin: a full ref or a
// commit, as the SAN of a run carries it.
var pinnedRefPattern = regexp.MustCompile(`^(?:refs/[A-Za-z0-9._/+-]+|[0-9a-f]{40})$`)

// signerWorkflow is SignerWorkflow as a URI on o.Server (or its own host)
// without a ref, and the ref it pins, if any.
func (o *Options) signerWorkflow() (uri, ref string, err error) {
	wf, ref, hasRef := strings.Cut(o.SignerWorkflow, "@")
	if !strings.Contains(wf, "://") {
		if strings.Count(wf, "/") >= 4 && strings.Contains(strings.SplitN(wf, "/", 2)[0], ".") {
			wf = "https://" + wf
		} else {
			wf = o.Server + "/" + wf
		}
	}
	// https://host/owner/name/.github/workflows/file: an owner alone (its
	// .github repository with a segment lost) or a subfolder is refused.
	_, rest, _ := strings.Cut(wf, "://")
	parts := strings.Split(rest, "/")
	if len(parts) != 6 || parts[0] == "" || !repoNamePattern.MatchString(parts[1]+"/"+parts[2]) ||
		parts[3] != ".github" || parts[4] != "workflows" || !workflowFilePattern.MatchString(parts[5]) {
		return "", "", fmt.Errorf("--signer-workflow %q is not [host/]owner/name/.github/workflows/file.yml[@ref]", o.SignerWorkflow)
	}
	if hasRef && !pinnedRefPattern.MatchString(ref) {
		return "", "", fmt.Errorf("--signer-workflow %q: the ref after @ must be a full ref (e.g. @refs/tags/v1.2.3) or a 40-hex commit, as the certificate's SAN names it", o.SignerWorkflow)
	}
	return wf, ref, nil
}

// refsPattern is the regexp of the refs o.Refs accept in a SAN: Kyverno's
// wildcards ('*' any run, '?' one character) over a ref without '@', so
// that the workflow file and the ref cannot be split elsewhere.
func (o *Options) refsPattern() (string, error) {
	var alts []string
	for _, r := range o.Refs {
		switch {
		case strings.TrimSpace(r) == "":
			return "", errors.New("--source-ref: an empty ref")
		case strings.ContainsAny(r, "@ \t\r\n"):
			return "", fmt.Errorf("--source-ref %q: a ref with '@' or white space cannot be bound to the certificate's SAN (workflow@ref) unambiguously", r)
		}
		var b strings.Builder
		for _, c := range r {
			switch c {
			case '*':
				b.WriteString("[^@]*")
			case '?':
				b.WriteString("[^@]")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		alts = append(alts, b.String())
	}
	return "(?:" + strings.Join(alts, "|") + ")", nil
}

// signers are the keyless entries of the attestor, any one of which may
// have signed, each a regexp over the certificate's SAN (workflow@ref):
// the pinned workflow; else the source's own workflows (L1, L2) or GitHub's
// reusable attestation workflows (L3). The ref part binds what the SAN can
// bind: --source-ref where the signer is a workflow of the source (its SAN's ref
// is the run's), the pinned ref, and at L3 a builder release tag. Kyverno
// cannot read the Source Repository Ref extension (1.3.6.1.4.1.57264.1.14),
// so --source-ref with a reusable workflow of another repository is refused.
func (o *Options) signers() ([]kyvernoEntry, error) {
	rekor := kyvernoRekor{URL: o.RekorURL, IgnoreTlog: o.IgnoreTlog}
	entry := func(re string) kyvernoEntry {
		return kyvernoEntry{Keyless: kyvernoKeyless{Issuer: o.Issuer, SubjectRegExp: re, Rekor: rekor}}
	}
	source := o.Server + "/" + o.Repo
	refs := ".+"
	if len(o.Refs) > 0 {
		var err error
		if refs, err = o.refsPattern(); err != nil {
			return nil, err
		}
	}
	cannotBind := func(signer string) error {
		return fmt.Errorf("--source-ref: Kyverno cannot bind --source-ref to %s: the signer's certificate names the source ref only in the Source Repository Ref extension (1.3.6.1.4.1.57264.1.14), which Kyverno does not check, and the predicate's ref is the signer's word; sign with a workflow of %s, or gate with provenant verify --source-ref and admit on its VSA (--verifier-id)", signer, o.Repo)
	}
	if o.SignerWorkflow == "" {
		if o.MinLevel < 3 {
			return []kyvernoEntry{entry("^(?i:" + regexp.QuoteMeta(source+"/") + ")\\.github/workflows/[^@/]+@" + refs + "$")}, nil
		}
		if len(o.Refs) > 0 {
			return nil, cannotBind("GitHub's reusable attestation workflows (L3)")
		}
		// Only GitHub's reusable workflows push Sigstore bundles to OCI
		// referrers; slsa-github-generator's container generator writes
		// cosign's format, which type SigstoreBundle never reads. L3 needs a
		// released builder, IsValidBuilderTag's vX.Y.Z.
		wf := ghworkflow.GitHubAttestationWorkflows + "/.github/workflows/"
		return []kyvernoEntry{entry("^" + ghworkflow.QuoteRegexp(wf) + "[^@/]+@" + releaseTagPattern + "$")}, nil
	}
	wf, pinned, err := o.signerWorkflow()
	if err != nil {
		return nil, err
	}
	inSource := strings.EqualFold(ghworkflow.RepoOf(wf), source)
	switch {
	case o.VerifierID != "" && !inSource:
		return nil, fmt.Errorf("--signer-workflow %s is a shared gate outside %s: a verification summary names no source repository, so only a gate workflow of %s itself binds the policy to it", wf, o.Repo, o.Repo)
	case o.VerifierID == "" && o.MinLevel >= 3 && inSource:
		return nil, fmt.Errorf("--min-level 3 needs a builder apart from the source: %s is in %s itself (L3 needs a reusable workflow of another repository)", wf, o.Repo)
	case o.VerifierID == "" && o.MinLevel >= 3 && pinned != "" && !commitPattern.MatchString(pinned) && !ghworkflow.IsReleasedRef(pinned):
		return nil, fmt.Errorf("--min-level 3 needs a released builder: --signer-workflow is pinned at %s, not at a release tag refs/tags/vX.Y.Z or a commit you vouch for", pinned)
	case len(o.Refs) > 0 && !inSource:
		return nil, cannotBind("the reusable workflow " + wf)
	}
	ref := ".+"
	switch {
	case pinned != "":
		if len(o.Refs) > 0 && !regexp.MustCompile("^"+refs+"$").MatchString(pinned) {
			return nil, fmt.Errorf("--signer-workflow is pinned at %s, which no --source-ref (%s) accepts: the policy would never admit an image", pinned, strings.Join(o.Refs, ", "))
		}
		ref = regexp.QuoteMeta(pinned)
	case len(o.Refs) > 0:
		ref = refs
	case o.VerifierID == "" && o.MinLevel >= 3:
		ref = releaseTagPattern
	}
	return []kyvernoEntry{entry("^" + ghworkflow.QuoteRegexp(wf) + "@" + ref + "$")}, nil
}

// attestation is the policy's one attestation: its type, who signed it and
// the conditions on its predicate.
func (o *Options) attestation() (kyvernoAttestation, error) {
	entries, err := o.signers()
	if err != nil {
		return kyvernoAttestation{}, err
	}
	a := kyvernoAttestation{Type: formats.SLSAProvenanceV1, Attestors: []kyvernoAttestor{{Count: 1, Entries: entries}}}
	if o.VerifierID != "" {
		a.Type = formats.VSAPredicateType
		a.Conditions = o.vsaConditions()
		return a, nil
	}
	a.Conditions = o.provenanceConditions()
	return a, nil
}

// provenanceConditions are the checks on a SLSA v1 provenance predicate.
func (o *Options) provenanceConditions() []kyvernoCondBlock {
	repoURL := o.Server + "/" + o.Repo
	all := []kyvernoCondition{
		{Key: "{{ buildDefinition.buildType }}", Operator: "AnyIn", Value: workflowBuildTypes,
			Message: "the provenance is not of a GitHub Actions workflow run"},
		// GitHub names are case-insensitive, as verify compares them.
		{Key: "{{ to_lower(buildDefinition.externalParameters.workflow.repository) }}", Operator: "Equals", Value: strings.ToLower(repoURL),
			Message: "the image was not built from " + repoURL},
	}
	if len(o.Refs) > 0 {
		all = append(all, kyvernoCondition{Key: "{{ buildDefinition.externalParameters.workflow.ref }}", Operator: "AnyIn", Value: o.Refs,
			Message: "the image was not built from " + strings.Join(o.Refs, " or ")})
	}
	if o.BuilderID != "" {
		all = append(all, kyvernoCondition{Key: "{{ runDetails.builder.id }}", Operator: "Equals", Value: o.BuilderID,
			Message: "the builder is not " + o.BuilderID})
	}
	blocks := []kyvernoCondBlock{{All: all}}
	if o.MinLevel >= 3 {
		// provenant records the runner environment, GitHub's attest action
		// the runner as builder id.
		blocks = append(blocks, kyvernoCondBlock{Any: []kyvernoCondition{
			{Key: "{{ buildDefinition.internalParameters.github.runner_environment || '' }}", Operator: "Equals", Value: ghworkflow.HostedRunner,
				Message: "L3 needs a GitHub-hosted runner"},
			{Key: "{{ runDetails.builder.id }}", Operator: "Equals", Value: githubHostedBuilderID,
				Message: "L3 needs a GitHub-hosted runner"},
		}})
	}
	return blocks
}

// vsaConditions are the checks on a verification summary.
func (o *Options) vsaConditions() []kyvernoCondBlock {
	var levels []string
	for l := o.MinLevel; l <= 3; l++ {
		levels = append(levels, fmt.Sprintf("SLSA_BUILD_LEVEL_%d", l))
	}
	return []kyvernoCondBlock{{All: []kyvernoCondition{
		{Key: "{{ verifier.id }}", Operator: "Equals", Value: o.VerifierID,
			Message: "the verification summary is not from " + o.VerifierID},
		{Key: "{{ verificationResult }}", Operator: "Equals", Value: "PASSED",
			Message: "the verification did not pass"},
		{Key: "{{ verifiedLevels }}", Operator: "AnyIn", Value: levels,
			Message: fmt.Sprintf("the image was not verified at SLSA Build L%d or higher", o.MinLevel)},
	}}}
}
