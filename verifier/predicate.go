package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/internal/ghworkflow"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// MismatchError reports a predicate field that disagrees with the
// certificate extension that records the same fact (check 7).
type MismatchError struct {
	// Field is the predicate field, e.g. "externalParameters.workflow.repository".
	Field string
	// Predicate is the value the predicate claims.
	Predicate string
	// Extension names the certificate extension, e.g. "Source Repository URI (1.3.6.1.4.1.57264.1.12)".
	Extension string
	// Certificate is the value the certificate records.
	Certificate string
}

// Error gives the field, the extension and both values.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("predicate %s is %q but the certificate's %s is %q", e.Field, e.Predicate, e.Extension, e.Certificate)
}

// BuildTypes whose fields check 7 compares with the certificate.
const (
	// BuildTypeGitHubWorkflow is GitHub's buildType (actions/attest-build-provenance, 2024 on).
	BuildTypeGitHubWorkflow = formats.GitHubWorkflowBuildType
	// BuildTypeGitHubWorkflowOld is the pre-2024 GitHub buildType, also used by npm.
	BuildTypeGitHubWorkflowOld = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
	// BuildTypeGeneratorGeneric is slsa-github-generator's generic generator (SLSA v0.2).
	BuildTypeGeneratorGeneric = "https://github.com/slsa-framework/slsa-github-generator/generic@v1"
	// BuildTypeGeneratorDelegator is slsa-github-generator's BYOB delegator (SLSA v1).
	BuildTypeGeneratorDelegator = "https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0"
	// BuildTypeContainerBased is slsa-github-generator's container-based builder (SLSA v1).
	BuildTypeContainerBased = "https://slsa.dev/container-based-build/v0.1?draft"
	// BuildTypeNpmCLI is npm's own SLSA v0.2 buildType from GitHub Actions.
	BuildTypeNpmCLI = "https://github.com/npm/cli/gha/v2"
)

// Human names of the Fulcio extensions, for messages.
const (
	extBuildSignerURI      = "Build Signer URI (1.3.6.1.4.1.57264.1.9)"
	extRunnerEnvironment   = "Runner Environment (1.3.6.1.4.1.57264.1.11)"
	extSourceRepoURI       = "Source Repository URI (1.3.6.1.4.1.57264.1.12)"
	extSourceRepoDigest    = "Source Repository Digest (1.3.6.1.4.1.57264.1.13)"
	extSourceRepoRef       = "Source Repository Ref (1.3.6.1.4.1.57264.1.14)"
	extSourceRepoID        = "Source Repository Identifier (1.3.6.1.4.1.57264.1.15)"
	extSourceRepoOwnerID   = "Source Repository Owner Identifier (1.3.6.1.4.1.57264.1.17)"
	extBuildConfigURI      = "Build Config URI (1.3.6.1.4.1.57264.1.18)"
	extBuildConfigDigest   = "Build Config Digest (1.3.6.1.4.1.57264.1.19)"
	extBuildTrigger        = "Build Trigger (1.3.6.1.4.1.57264.1.20)"
	extRunInvocationURI    = "Run Invocation URI (1.3.6.1.4.1.57264.1.21)"
	extSourceRepoURIAndRef = "Source Repository URI (.12) @ Ref (.14)"
)

type resourceDescriptor struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

// provenanceV1 is SLSA provenance v1 (and v1.0?draft).
type provenanceV1 struct {
	BuildDefinition struct {
		BuildType            string               `json:"buildType"`
		ExternalParameters   json.RawMessage      `json:"externalParameters"`
		InternalParameters   json.RawMessage      `json:"internalParameters"`
		ResolvedDependencies []resourceDescriptor `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		Metadata struct {
			InvocationID string `json:"invocationId"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

// provenanceV02 is SLSA provenance v0.2.
type provenanceV02 struct {
	Builder struct {
		ID string `json:"id"`
	} `json:"builder"`
	BuildType  string `json:"buildType"`
	Invocation struct {
		ConfigSource struct {
			URI        string            `json:"uri"`
			Digest     map[string]string `json:"digest"`
			EntryPoint string            `json:"entryPoint"`
		} `json:"configSource"`
		Environment map[string]any `json:"environment"`
	} `json:"invocation"`
	Metadata struct {
		BuildInvocationID string `json:"buildInvocationID"`
	} `json:"metadata"`
	Materials []resourceDescriptor `json:"materials"`
}

// predicateCheck is the outcome of check 7 before it becomes a CheckResult.
type predicateCheck struct {
	result CheckResult
	prov   *provenance // nil when the format is unknown
}

// comparer collects field-by-field comparisons between a predicate and a
// certificate.
type comparer struct {
	fields     []string
	mismatches []error
}

// eq compares a predicate value with the certificate value that records the
// same fact. An empty certificate value is a mismatch too: the claim cannot
// be backed by the certificate.
func (c *comparer) eq(field, predicate, extension, cert string) {
	c.fields = append(c.fields, field)
	if predicate != cert || cert == "" {
		c.mismatches = append(c.mismatches, &MismatchError{Field: field, Predicate: predicate, Extension: extension, Certificate: cert})
	}
}

// eqIfPresent compares only when the predicate records the field.
func (c *comparer) eqIfPresent(params map[string]any, key, prefix, extension, cert string) {
	v, ok := params[key]
	if !ok {
		return
	}
	c.eq(prefix+key, stringify(v), extension, cert)
}

func (c *comparer) result(format string) CheckResult {
	if len(c.mismatches) > 0 {
		return fail(CheckPredicate, fmt.Errorf("%s predicate disagrees with the certificate: %w", format, errors.Join(c.mismatches...)))
	}
	return pass(CheckPredicate, fmt.Sprintf("%s predicate agrees with the certificate on %d fields: %s", format, len(c.fields), strings.Join(c.fields, ", ")))
}

// stringify renders a JSON scalar as the certificate would record it.
func stringify(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return fmt.Sprint(t)
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

func decode(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v)
}

// checkPredicate runs check 7: the predicate against the certificate's
// Fulcio extensions. A certificate without GitHub's extensions leaves
// nothing to compare (unchecked); one with only the deprecated extensions
// .2–.6 is compared on what those record.
func checkPredicate(st *statement, ext certificate.Extensions) predicateCheck {
	pc := checkPredicateFormat(st, ext)
	if pc.prov == nil || hasGitHubExtensions(ext) {
		return pc
	}
	if !hasDeprecatedExtensions(ext) {
		return predicateCheck{result: unchecked(CheckPredicate, "the certificate carries no GitHub Fulcio extensions (1.3.6.1.4.1.57264.1.2–.22): nothing to cross-check the predicate with, its claims are the signer's word only")}
	}
	return checkDeprecated(pc.prov, ext)
}

// hasGitHubExtensions reports whether a certificate carries any of the
// Fulcio extensions .8–.22 that record a CI run (besides the issuer).
func hasGitHubExtensions(ext certificate.Extensions) bool {
	return ext.BuildSignerURI != "" || ext.BuildSignerDigest != "" || ext.RunnerEnvironment != "" ||
		ext.SourceRepositoryURI != "" || ext.SourceRepositoryDigest != "" || ext.SourceRepositoryRef != "" ||
		ext.BuildConfigURI != "" || ext.BuildTrigger != "" || ext.RunInvocationURI != ""
}

// hasDeprecatedExtensions reports whether a certificate carries any of the
// deprecated GitHub extensions 1.3.6.1.4.1.57264.1.2–.6.
func hasDeprecatedExtensions(ext certificate.Extensions) bool {
	return ext.GithubWorkflowTrigger != "" || ext.GithubWorkflowSHA != "" || ext.GithubWorkflowName != "" ||
		ext.GithubWorkflowRepository != "" || ext.GithubWorkflowRef != ""
}

// Human names of the deprecated extensions.
const (
	extDeprecatedTrigger = "GitHub Workflow Trigger (1.3.6.1.4.1.57264.1.2)"
	extDeprecatedSHA     = "GitHub Workflow SHA (1.3.6.1.4.1.57264.1.3)"
	extDeprecatedRepo    = "GitHub Workflow Repository (1.3.6.1.4.1.57264.1.5)"
	extDeprecatedRef     = "GitHub Workflow Ref (1.3.6.1.4.1.57264.1.6)"
)

// checkDeprecated compares the source a predicate claims with the
// deprecated extensions. They do not name the signing workflow, so the
// predicate's builder is not bound to the certificate.
func checkDeprecated(prov *provenance, ext certificate.Extensions) predicateCheck {
	var c comparer
	c.eq("source repository", serverRelative(prov.SourceRepo), extDeprecatedRepo, ext.GithubWorkflowRepository)
	c.eq("source ref", prov.SourceRef, extDeprecatedRef, ext.GithubWorkflowRef)
	c.eq("source commit", prov.SourceDigest, extDeprecatedSHA, ext.GithubWorkflowSHA)
	if prov.Trigger != "" {
		c.eq("trigger", prov.Trigger, extDeprecatedTrigger, ext.GithubWorkflowTrigger)
	}
	bound := *prov
	bound.BuilderID = ""
	bound.BuilderUnbound = "the certificate has only the deprecated GitHub extensions, which do not name the signing workflow"
	bound.InputsKnown = false
	return predicateCheck{result: c.result(prov.BuildType + " (deprecated extensions only)"), prov: &bound}
}

// checkPredicateFormat compares the predicate with the certificate's
// extensions .8–.22, field by field for each known format.
func checkPredicateFormat(st *statement, ext certificate.Extensions) predicateCheck {
	switch st.PredicateType {
	case SLSAProvenanceV1, "https://slsa.dev/provenance/v1.0?draft":
		var p provenanceV1
		if err := decode(st.Predicate, &p); err != nil {
			return predicateCheck{result: fail(CheckPredicate, fmt.Errorf("predicate is not SLSA provenance v1: %w", err))}
		}
		switch bt := p.BuildDefinition.BuildType; bt {
		case BuildTypeGitHubWorkflow, BuildTypeGitHubWorkflowOld:
			return checkGitHubWorkflow(&p, ext)
		case BuildTypeGeneratorDelegator, BuildTypeContainerBased:
			return checkGeneratorV1(&p, ext)
		default:
			return predicateCheck{result: unchecked(CheckPredicate, fmt.Sprintf("buildType %q has no known mapping to certificate fields: the predicate's claims are not checked", bt))}
		}
	case SLSAProvenanceV02:
		var p provenanceV02
		if err := decode(st.Predicate, &p); err != nil {
			return predicateCheck{result: fail(CheckPredicate, fmt.Errorf("predicate is not SLSA provenance v0.2: %w", err))}
		}
		switch bt := p.BuildType; bt {
		case BuildTypeGeneratorGeneric, BuildTypeNpmCLI:
			return checkV02(&p, ext)
		default:
			return predicateCheck{result: unchecked(CheckPredicate, fmt.Sprintf("buildType %q has no known mapping to certificate fields: the predicate's claims are not checked", bt))}
		}
	default:
		return predicateCheck{result: unchecked(CheckPredicate, fmt.Sprintf("predicate type %q is not SLSA provenance: nothing to compare with the certificate", st.PredicateType))}
	}
}

// buildConfigPath returns the workflow path recorded in Build Config URI
// ("<repository>/<path>@<ref>"), or the whole URI when it has another shape.
func buildConfigPath(ext certificate.Extensions) string {
	rest, ok := strings.CutPrefix(ext.BuildConfigURI, ext.SourceRepositoryURI+"/")
	if !ok || ext.SourceRepositoryURI == "" {
		return ext.BuildConfigURI
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// serverRelative strips the server from a URL: https://github.com/o/r → o/r.
func serverRelative(u string) string {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		return u
	}
	_, path, _ := strings.Cut(rest, "/")
	return path
}

// runIDs splits a Run Invocation URI ".../actions/runs/<id>/attempts/<n>".
func runIDs(invocationURI string) (id, attempt string) {
	_, rest, ok := strings.Cut(invocationURI, "/actions/runs/")
	if !ok {
		return "", ""
	}
	id, attempt, _ = strings.Cut(rest, "/attempts/")
	return id, attempt
}

func checkGitHubWorkflow(p *provenanceV1, ext certificate.Extensions) predicateCheck {
	var ep struct {
		Workflow struct {
			Ref        string `json:"ref"`
			Repository string `json:"repository"`
			Path       string `json:"path"`
		} `json:"workflow"`
	}
	var ip struct {
		GitHub map[string]any `json:"github"`
	}
	if err := decode(p.BuildDefinition.ExternalParameters, &ep); err != nil {
		return predicateCheck{result: fail(CheckPredicate, fmt.Errorf("externalParameters: %w", err))}
	}
	if err := decode(p.BuildDefinition.InternalParameters, &ip); err != nil {
		return predicateCheck{result: fail(CheckPredicate, fmt.Errorf("internalParameters: %w", err))}
	}
	bt := p.BuildDefinition.BuildType
	var c comparer
	w := ep.Workflow
	c.eq("externalParameters.workflow.repository", w.Repository, extSourceRepoURI, ext.SourceRepositoryURI)
	c.eq("externalParameters.workflow.ref", w.Ref, extSourceRepoRef, ext.SourceRepositoryRef)
	c.eq("externalParameters.workflow.path", w.Path, extBuildConfigURI+" path", buildConfigPath(ext))
	var dep resourceDescriptor
	if len(p.BuildDefinition.ResolvedDependencies) > 0 {
		dep = p.BuildDefinition.ResolvedDependencies[0]
	}
	c.eq("resolvedDependencies[0].uri", dep.URI, extSourceRepoURIAndRef, "git+"+ext.SourceRepositoryURI+"@"+ext.SourceRepositoryRef)
	c.eq("resolvedDependencies[0].digest.gitCommit", dep.Digest["gitCommit"], extSourceRepoDigest, ext.SourceRepositoryDigest)
	builderID := p.RunDetails.Builder.ID
	if bt == BuildTypeGitHubWorkflowOld {
		want := ""
		if ext.RunnerEnvironment != "" {
			want = "https://github.com/actions/runner/" + ext.RunnerEnvironment
		}
		c.eq("runDetails.builder.id", builderID, extRunnerEnvironment, want)
		builderID = ext.BuildSignerURI
	} else {
		c.eq("runDetails.builder.id", builderID, extBuildSignerURI, ext.BuildSignerURI)
	}
	c.eq("runDetails.metadata.invocationId", p.RunDetails.Metadata.InvocationID, extRunInvocationURI, ext.RunInvocationURI)
	const gh = "internalParameters.github."
	c.eqIfPresent(ip.GitHub, "event_name", gh, extBuildTrigger, ext.BuildTrigger)
	c.eqIfPresent(ip.GitHub, "repository_id", gh, extSourceRepoID, ext.SourceRepositoryIdentifier)
	c.eqIfPresent(ip.GitHub, "repository_owner_id", gh, extSourceRepoOwnerID, ext.SourceRepositoryOwnerIdentifier)
	c.eqIfPresent(ip.GitHub, "runner_environment", gh, extRunnerEnvironment, ext.RunnerEnvironment)
	return predicateCheck{
		result: c.result("GitHub workflow (" + bt + ")"),
		prov: &provenance{BuildType: bt, BuilderID: builderID, SourceRepo: w.Repository, SourceRef: w.Ref,
			SourceDigest: dep.Digest["gitCommit"], Trigger: stringify(ip.GitHub["event_name"])},
	}
}

// compareGitHubEnv compares the GITHUB_* variables slsa-github-generator and
// npm record with the certificate, as slsa-verifier does.
func compareGitHubEnv(c *comparer, env map[string]any, prefix string, ext certificate.Extensions) {
	runID, attempt := runIDs(ext.RunInvocationURI)
	c.eqIfPresent(env, "GITHUB_EVENT_NAME", prefix, extBuildTrigger, ext.BuildTrigger)
	c.eqIfPresent(env, "GITHUB_REPOSITORY", prefix, extSourceRepoURI, serverRelative(ext.SourceRepositoryURI))
	c.eqIfPresent(env, "GITHUB_REF", prefix, extSourceRepoRef, ext.SourceRepositoryRef)
	c.eqIfPresent(env, "GITHUB_REPOSITORY_ID", prefix, extSourceRepoID, ext.SourceRepositoryIdentifier)
	c.eqIfPresent(env, "GITHUB_REPOSITORY_OWNER_ID", prefix, extSourceRepoOwnerID, ext.SourceRepositoryOwnerIdentifier)
	c.eqIfPresent(env, "GITHUB_SHA", prefix, extSourceRepoDigest, ext.SourceRepositoryDigest)
	c.eqIfPresent(env, "GITHUB_WORKFLOW_REF", prefix, extBuildConfigURI, serverRelative(ext.BuildConfigURI))
	c.eqIfPresent(env, "GITHUB_WORKFLOW_SHA", prefix, extBuildConfigDigest, ext.BuildConfigDigest)
	c.eqIfPresent(env, "GITHUB_RUN_ID", prefix, extRunInvocationURI, runID)
	c.eqIfPresent(env, "GITHUB_RUN_ATTEMPT", prefix, extRunInvocationURI, attempt)
	// The generic generator's lower-case environment.
	c.eqIfPresent(env, "github_event_name", prefix, extBuildTrigger, ext.BuildTrigger)
	c.eqIfPresent(env, "github_ref", prefix, extSourceRepoRef, ext.SourceRepositoryRef)
	c.eqIfPresent(env, "github_repository_id", prefix, extSourceRepoID, ext.SourceRepositoryIdentifier)
	c.eqIfPresent(env, "github_repository_owner_id", prefix, extSourceRepoOwnerID, ext.SourceRepositoryOwnerIdentifier)
	c.eqIfPresent(env, "github_sha1", prefix, extSourceRepoDigest, ext.SourceRepositoryDigest)
	c.eqIfPresent(env, "github_run_id", prefix, extRunInvocationURI, runID)
	c.eqIfPresent(env, "github_run_attempt", prefix, extRunInvocationURI, attempt)
}

// splitGitURI splits "git+https://host/o/r@ref" into "https://host/o/r" and "ref".
func splitGitURI(u string) (repo, ref string) {
	u = strings.TrimPrefix(u, "git+")
	repo, ref, _ = strings.Cut(u, "@")
	return repo, ref
}

// checkGeneratorV1 checks slsa-github-generator's SLSA v1 formats: the BYOB
// delegator and the container-based builder.
func checkGeneratorV1(p *provenanceV1, ext certificate.Extensions) predicateCheck {
	bt := p.BuildDefinition.BuildType
	var internal map[string]any
	if err := decode(p.BuildDefinition.InternalParameters, &internal); err != nil {
		return predicateCheck{result: fail(CheckPredicate, fmt.Errorf("internalParameters: %w", err))}
	}
	var external struct {
		Inputs map[string]any     `json:"inputs"`
		Source resourceDescriptor `json:"source"`
	}
	if err := decode(p.BuildDefinition.ExternalParameters, &external); err != nil {
		return predicateCheck{result: fail(CheckPredicate, fmt.Errorf("externalParameters: %w", err))}
	}
	var c comparer
	builderID := p.RunDetails.Builder.ID
	if bt == BuildTypeGeneratorDelegator {
		// BYOB: a trusted delegator signs for the builder named in the
		// predicate; anyone else may not.
		c.fields = append(c.fields, "runDetails.builder.id (signed by a slsa-github-generator delegator)")
		if !ghworkflow.IsTrustedDelegator(ext.BuildSignerURI) {
			c.mismatches = append(c.mismatches, fmt.Errorf("predicate names builder %q but was signed by %q, which is not a slsa-github-generator delegator at a release tag vX.Y.Z allowed to sign for another builder", builderID, ext.BuildSignerURI))
		}
	} else {
		c.eq("runDetails.builder.id", builderID, extBuildSignerURI, ext.BuildSignerURI)
	}
	c.eq("runDetails.metadata.invocationId", p.RunDetails.Metadata.InvocationID, extRunInvocationURI, ext.RunInvocationURI)
	compareGitHubEnv(&c, internal, "internalParameters.", ext)
	var dep resourceDescriptor
	if len(p.BuildDefinition.ResolvedDependencies) > 0 {
		dep = p.BuildDefinition.ResolvedDependencies[0]
	}
	depRepo, _ := splitGitURI(dep.URI)
	c.eq("resolvedDependencies[0].uri (repository)", depRepo, extSourceRepoURI, ext.SourceRepositoryURI)
	if external.Source.URI != "" {
		c.eq("externalParameters.source.uri", external.Source.URI, extSourceRepoURIAndRef, "git+"+ext.SourceRepositoryURI+"@"+ext.SourceRepositoryRef)
		c.eq("externalParameters.source.digest.sha1", external.Source.Digest["sha1"], extSourceRepoDigest, ext.SourceRepositoryDigest)
	}
	prov := &provenance{BuildType: bt, BuilderID: builderID, SourceRepo: depRepo, SourceRef: stringify(internal["GITHUB_REF"]),
		SourceDigest: stringify(internal["GITHUB_SHA"]), Trigger: stringify(internal["GITHUB_EVENT_NAME"])}
	if bt == BuildTypeGeneratorDelegator {
		prov.Inputs, prov.InputsKnown = external.Inputs, true
	} else {
		prov.Inputs, prov.InputsKnown = eventInputs(internal["GITHUB_EVENT_PAYLOAD"]), true
	}
	return predicateCheck{result: c.result("slsa-github-generator (" + bt + ")"), prov: prov}
}

// eventInputs returns the inputs of a workflow_dispatch event payload.
func eventInputs(payload any) map[string]any {
	m, _ := payload.(map[string]any)
	in, _ := m["inputs"].(map[string]any)
	return in
}

// checkV02 checks SLSA v0.2 provenance of slsa-github-generator's generic
// generator and of npm, as slsa-verifier does.
func checkV02(p *provenanceV02, ext certificate.Extensions) predicateCheck {
	var c comparer
	cs := p.Invocation.ConfigSource
	wantSource := "git+" + ext.SourceRepositoryURI + "@" + ext.SourceRepositoryRef
	builderID := p.Builder.ID
	if p.BuildType == BuildTypeNpmCLI {
		// npm names the runner only ("https://github.com/actions/runner").
		builderID = ext.BuildSignerURI
	} else {
		c.eq("builder.id", p.Builder.ID, extBuildSignerURI, ext.BuildSignerURI)
	}
	c.eq("invocation.configSource.uri", cs.URI, extSourceRepoURIAndRef, wantSource)
	c.eq("invocation.configSource.digest.sha1", cs.Digest["sha1"], extSourceRepoDigest, ext.SourceRepositoryDigest)
	c.eq("invocation.configSource.entryPoint", cs.EntryPoint, extBuildConfigURI+" path", buildConfigPath(ext))
	var mat resourceDescriptor
	if len(p.Materials) > 0 {
		mat = p.Materials[0]
	}
	c.eq("materials[0].uri", mat.URI, extSourceRepoURIAndRef, wantSource)
	c.eq("materials[0].digest.sha1", mat.Digest["sha1"], extSourceRepoDigest, ext.SourceRepositoryDigest)
	compareGitHubEnv(&c, p.Invocation.Environment, "invocation.environment.", ext)
	if id := p.Metadata.BuildInvocationID; id != "" && p.BuildType == BuildTypeGeneratorGeneric {
		runID, attempt := runIDs(ext.RunInvocationURI)
		c.eq("metadata.buildInvocationID", id, extRunInvocationURI, runID+"-"+attempt)
	}
	repo, ref := splitGitURI(cs.URI)
	trigger := stringify(p.Invocation.Environment["github_event_name"])
	if trigger == "" {
		trigger = stringify(p.Invocation.Environment["GITHUB_EVENT_NAME"])
	}
	prov := &provenance{BuildType: p.BuildType, BuilderID: builderID, SourceRepo: repo, SourceRef: ref,
		SourceDigest: cs.Digest["sha1"], Trigger: trigger}
	if p.BuildType == BuildTypeGeneratorGeneric {
		prov.Inputs, prov.InputsKnown = eventInputs(p.Invocation.Environment["github_event_payload"]), true
	}
	return predicateCheck{result: c.result("SLSA v0.2 (" + p.BuildType + ")"), prov: prov}
}
