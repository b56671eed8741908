// Package provenancetest decodes provenance statements in tests and checks
// each SLSA predicate field against the OIDC claim it must come from.
//
// It is its own package so that the provenance package's tests and the
// binary's tests (which run provenant as a workflow step) make one and the
// same field-by-field check.
package provenancetest

import (
	"encoding/json"
	"strings"
	"testing"
)

// Subject is a statement subject.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is the part of an in-toto statement with a GitHub workflow
// SLSA v1 predicate that tests read.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     struct {
		BuildDefinition struct {
			BuildType          string `json:"buildType"`
			ExternalParameters struct {
				Workflow struct {
					Ref        string         `json:"ref"`
					Repository string         `json:"repository"`
					Path       string         `json:"path"`
					Inputs     map[string]any `json:"inputs"`
				} `json:"workflow"`
			} `json:"externalParameters"`
			InternalParameters struct {
				GitHub map[string]string `json:"github"`
			} `json:"internalParameters"`
			ResolvedDependencies []struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
		RunDetails struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
			Metadata struct {
				InvocationID string `json:"invocationId"`
			} `json:"metadata"`
		} `json:"runDetails"`
	} `json:"predicate"`
}

// Decode decodes a statement or fails the test.
func Decode(t testing.TB, raw []byte) *Statement {
	t.Helper()
	var st Statement
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("statement: %v\n%s", err, raw)
	}
	return &st
}

// CheckGitHubPredicate compares every field of the predicate with the claims
// (GitHub's claim names, string values) of the job on server that must have
// produced it.
func CheckGitHubPredicate(t testing.TB, raw []byte, server string, claims map[string]string) {
	t.Helper()
	st := Decode(t, raw)
	repo := claims["repository"]
	wfPath := strings.TrimPrefix(claims["workflow_ref"], repo+"/")
	if i := strings.LastIndex(wfPath, "@"); i >= 0 {
		wfPath = wfPath[:i]
	}
	bd, rd := st.Predicate.BuildDefinition, st.Predicate.RunDetails
	if len(bd.ResolvedDependencies) != 1 {
		t.Fatalf("%d resolved dependencies, want 1", len(bd.ResolvedDependencies))
	}
	for _, c := range []struct{ field, got, want string }{
		{"_type", st.Type, "https://in-toto.io/Statement/v1"},
		{"predicateType", st.PredicateType, "https://slsa.dev/provenance/v1"},
		{"buildType", bd.BuildType, "https://actions.github.io/buildtypes/workflow/v1"},
		{"externalParameters.workflow.ref", bd.ExternalParameters.Workflow.Ref, claims["ref"]},
		{"externalParameters.workflow.repository", bd.ExternalParameters.Workflow.Repository, server + "/" + repo},
		{"externalParameters.workflow.path", bd.ExternalParameters.Workflow.Path, wfPath},
		{"internalParameters.github.event_name", bd.InternalParameters.GitHub["event_name"], claims["event_name"]},
		{"internalParameters.github.repository_id", bd.InternalParameters.GitHub["repository_id"], claims["repository_id"]},
		{"internalParameters.github.repository_owner_id", bd.InternalParameters.GitHub["repository_owner_id"], claims["repository_owner_id"]},
		{"internalParameters.github.runner_environment", bd.InternalParameters.GitHub["runner_environment"], claims["runner_environment"]},
		{"resolvedDependencies[0].uri", bd.ResolvedDependencies[0].URI, "git+" + server + "/" + repo + "@" + claims["ref"]},
		{"resolvedDependencies[0].digest.gitCommit", bd.ResolvedDependencies[0].Digest["gitCommit"], claims["sha"]},
		{"runDetails.builder.id", rd.Builder.ID, server + "/" + claims["job_workflow_ref"]},
		{"runDetails.metadata.invocationId", rd.Metadata.InvocationID, server + "/" + repo + "/actions/runs/" + claims["run_id"] + "/attempts/" + claims["run_attempt"]},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
}
