// Package provenance turns a build's facts into the in-toto statement that
// is signed: its subjects, the SLSA v1 predicate (or a custom one), and the
// statement itself; sign.go signs it into a Sigstore bundle.
package provenance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	slsa1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"
	"github.com/provenant/provenant/internal/formats"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provenant/provenant/builder"
)

// Type URIs of the statement and predicate this package writes.
const (
	// StatementType is the in-toto Statement v1 type.
	StatementType = intoto.StatementTypeUri
	// SLSAProvenanceType is the SLSA v1 provenance predicate type.
	SLSAProvenanceType = slsa1.PredicateSLSAProvenance
	// GitHubWorkflowBuildType is the buildType GitHub's attestations API
	// accepts for provenance made in a GitHub Actions workflow.
	GitHubWorkflowBuildType = formats.GitHubWorkflowBuildType
	// LocalBuildType is provenant's buildType for a build on a developer's
	// machine (docs/buildtype-local.md).
	LocalBuildType = "https://provenant.dev/buildtypes/local/v1"
	// MaxPredicateSize is the largest custom predicate accepted (GitHub's
	// limit for an attestation).
	MaxPredicateSize = 16 << 20
)

// PredicateOptions tune the SLSA provenance predicate.
type PredicateOptions struct {
	// WorkflowInputs, when not nil, are recorded under
	// externalParameters.workflow.inputs.
	WorkflowInputs map[string]any
}

// NewSLSAPredicate builds the SLSA v1 provenance predicate for a job: in
// the exact form GitHub's attestations API accepts for a workflow run, or
// with LocalBuildType for a local build.
func NewSLSAPredicate(job *builder.Job, opts PredicateOptions) (*slsa.Provenance, error) {
	if job.Local {
		return newLocalPredicate(job)
	}
	c := job.Claims
	workflow := map[string]any{
		"ref":        c.Ref,
		"repository": job.RepositoryURL(),
		"path":       job.WorkflowPath(),
	}
	if opts.WorkflowInputs != nil {
		workflow["inputs"] = opts.WorkflowInputs
	}
	external, err := structpb.NewStruct(map[string]any{"workflow": workflow})
	if err != nil {
		return nil, fmt.Errorf("externalParameters: %w", err)
	}
	internal, err := structpb.NewStruct(map[string]any{"github": map[string]any{
		"event_name":          c.EventName,
		"repository_id":       c.RepositoryID,
		"repository_owner_id": c.RepositoryOwnerID,
		"runner_environment":  c.RunnerEnvironment,
	}})
	if err != nil {
		return nil, fmt.Errorf("internalParameters: %w", err)
	}
	p := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:          GitHubWorkflowBuildType,
			ExternalParameters: external,
			InternalParameters: internal,
			ResolvedDependencies: []*intoto.ResourceDescriptor{{
				Uri:    "git+" + job.RepositoryURL() + "@" + c.Ref,
				Digest: map[string]string{"gitCommit": c.SHA},
			}},
		},
		RunDetails: &slsa.RunDetails{
			Builder:  &slsa.Builder{Id: job.BuilderID()},
			Metadata: &slsa.BuildMetadata{InvocationId: job.InvocationID()},
		},
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("SLSA provenance: %w", err)
	}
	return p, nil
}

// Statement is an in-toto Statement v1 ready to be signed: its canonical
// bytes and what they say.
type Statement struct {
	// JSON is the statement exactly as it is signed and written.
	JSON []byte
	// PredicateType is the statement's predicate type.
	PredicateType string
	// Subjects are the statement's subjects.
	Subjects []Subject
}

// NewProvenanceStatement builds the SLSA v1 provenance statement for job
// over subjects.
func NewProvenanceStatement(subjects []Subject, job *builder.Job, opts PredicateOptions) (*Statement, error) {
	p, err := NewSLSAPredicate(job, opts)
	if err != nil {
		return nil, err
	}
	raw, err := protojson.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the predicate: %w", err)
	}
	return NewStatement(subjects, SLSAProvenanceType, raw)
}

// PredicateError is a custom predicate that cannot be attested.
type PredicateError struct {
	// Source names where the predicate came from.
	Source string
	Err    error
}

func (e *PredicateError) Error() string { return fmt.Sprintf("predicate %s: %v", e.Source, e.Err) }

func (e *PredicateError) Unwrap() error { return e.Err }

// NewStatement builds an in-toto Statement v1 with any predicate (a JSON
// object, at most MaxPredicateSize bytes) over subjects. The predicate's JSON
// is kept as given (numbers are not rounded), only its whitespace removed.
func NewStatement(subjects []Subject, predicateType string, predicate []byte) (*Statement, error) {
	if err := CheckPredicateType(predicateType); err != nil {
		return nil, err
	}
	if len(predicate) > MaxPredicateSize {
		return nil, &PredicateError{Source: predicateType, Err: fmt.Errorf("%d bytes, larger than the %d byte (16 MiB) limit", len(predicate), MaxPredicateSize)}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, predicate); err != nil {
		return nil, &PredicateError{Source: predicateType, Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	if err := checkPredicateJSON(compact.Bytes()); err != nil {
		return nil, &PredicateError{Source: predicateType, Err: err}
	}
	var pred structpb.Struct
	if err := protojson.Unmarshal(compact.Bytes(), &pred); err != nil {
		return nil, &PredicateError{Source: predicateType, Err: fmt.Errorf("cannot be attested: %w", err)}
	}

	rds := make([]*intoto.ResourceDescriptor, len(subjects))
	for i, s := range subjects {
		rds[i] = &intoto.ResourceDescriptor{Name: s.Name, Digest: s.Digest}
	}
	st := &intoto.Statement{Type: StatementType, Subject: rds, PredicateType: predicateType, Predicate: &pred}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}

	// Encode with encoding/json so the output is stable (protojson varies
	// its whitespace on purpose) and the predicate keeps its exact numbers.
	type subject struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	}
	out := struct {
		Type          string          `json:"_type"`
		Subject       []subject       `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}{Type: StatementType, PredicateType: predicateType, Predicate: compact.Bytes()}
	for _, s := range subjects {
		out.Subject = append(out.Subject, subject{Name: s.Name, Digest: s.Digest})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encoding the statement: %w", err)
	}
	return &Statement{JSON: bytes.TrimRight(buf.Bytes(), "\n"), PredicateType: predicateType, Subjects: subjects}, nil
}

// SortedDigestAlgorithms lists a subject's digest algorithms in order.
func (s Subject) SortedDigestAlgorithms() []string {
	algs := make([]string, 0, len(s.Digest))
	for a := range s.Digest {
		algs = append(algs, a)
	}
	sort.Strings(algs)
	return algs
}

// newLocalPredicate is the predicate of a local build (LocalBuildType): the
// checkout's source as git names it, its commit, and the machine as builder;
// no GitHub facts, no run.
func newLocalPredicate(job *builder.Job) (*slsa.Provenance, error) {
	c := job.Claims
	source := map[string]any{}
	if job.LocalSource != "" {
		source["repository"] = job.LocalSource
	}
	if c.Ref != "" {
		source["ref"] = c.Ref
	}
	params := map[string]any{}
	if len(source) > 0 {
		params["source"] = source
	}
	external, err := structpb.NewStruct(params)
	if err != nil {
		return nil, fmt.Errorf("externalParameters: %w", err)
	}
	p := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{BuildType: LocalBuildType, ExternalParameters: external},
		RunDetails:      &slsa.RunDetails{Builder: &slsa.Builder{Id: job.BuilderID()}},
	}
	if c.SHA != "" {
		uri := "git+" + job.LocalSource
		if c.Ref != "" {
			uri += "@" + c.Ref
		}
		if job.LocalSource == "" {
			uri = ""
		}
		p.BuildDefinition.ResolvedDependencies = []*intoto.ResourceDescriptor{{
			Uri: uri, Digest: map[string]string{"gitCommit": c.SHA},
		}}
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("SLSA provenance: %w", err)
	}
	return p, nil
}
