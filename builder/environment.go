package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/provenant/provenant/internal/inputfile"
)

// MaxEventFileSize is the largest event file (GITHUB_EVENT_PATH) read.
const MaxEventFileSize = 16 << 20

// envClaims maps the variables of a job's environment to the claims that
// hold the same facts; the required ones must be set in a workflow.
var envClaims = []struct {
	variable string
	required bool
	set      func(*Claims, string)
}{
	{"GITHUB_REF", true, func(c *Claims, v string) { c.Ref = v }},
	{"GITHUB_SHA", true, func(c *Claims, v string) { c.SHA = v }},
	{"GITHUB_REPOSITORY", true, func(c *Claims, v string) { c.Repository = v }},
	{"GITHUB_REPOSITORY_ID", true, func(c *Claims, v string) { c.RepositoryID = v }},
	{"GITHUB_REPOSITORY_OWNER", true, func(c *Claims, v string) { c.RepositoryOwner = v }},
	{"GITHUB_REPOSITORY_OWNER_ID", true, func(c *Claims, v string) { c.RepositoryOwnerID = v }},
	{"GITHUB_EVENT_NAME", true, func(c *Claims, v string) { c.EventName = v }},
	{"GITHUB_WORKFLOW_REF", true, func(c *Claims, v string) { c.WorkflowRef = v; c.JobWorkflowRef = v }},
	{"GITHUB_WORKFLOW_SHA", false, func(c *Claims, v string) { c.WorkflowSHA = v; c.JobWorkflowSHA = v }},
	{"RUNNER_ENVIRONMENT", true, func(c *Claims, v string) { c.RunnerEnvironment = v }},
	{"GITHUB_RUN_ID", true, func(c *Claims, v string) { c.RunID = v }},
	{"GITHUB_RUN_ATTEMPT", true, func(c *Claims, v string) { c.RunAttempt = v }},
}

// InActions reports whether the environment is that of a GitHub Actions job.
func InActions(getenv func(string) string) bool {
	return getenv("GITHUB_ACTIONS") == "true"
}

// FromEnvironment builds the job from the GITHUB_* and RUNNER_* variables
// alone, without a token: for unsigned provenance (SLSA Build L1). The
// builder id is then the top-level workflow (GITHUB_WORKFLOW_REF): the
// environment does not name a called reusable workflow.
//
// Outside GitHub Actions (GITHUB_ACTIONS is not "true") the job is local:
// its commit and ref come from local (the checkout, as the caller found it),
// its source is the checkout's remote URL as it is (or the checkout itself
// without a remote), the builder is local:<host>, and it has no GitHub facts.
func FromEnvironment(getenv func(string) string, local LocalFacts) (*Job, error) {
	var c Claims
	var missing []string
	for _, e := range envClaims {
		if v := getenv(e.variable); v != "" {
			e.set(&c, v)
		} else if e.required {
			missing = append(missing, e.variable)
		}
	}
	job := &Job{ServerURL: serverURL(getenv), Claims: c}
	if InActions(getenv) {
		if len(missing) > 0 {
			return nil, &MissingClaimsError{Source: "environment", Names: missing}
		}
		job.Claims.Issuer, _ = IssuerFor(job.ServerURL)
		return job, nil
	}
	job.Local = true
	host := local.Host
	if host == "" {
		host = "localhost"
	}
	job.LocalBuilder = "local:" + host
	job.LocalDir = local.Dir
	// GITHUB_* variables in a developer's shell describe no build here.
	job.Claims = Claims{SHA: local.Commit, Ref: local.Ref}
	job.LocalSource = local.Remote
	if job.LocalSource == "" && local.Dir != "" {
		job.LocalSource = "file://" + local.Dir
	}
	return job, nil
}

// LocalFacts are what a developer's checkout tells about a local build.
type LocalFacts struct {
	// Dir is the checkout's top folder.
	Dir string
	// Host is the machine's name.
	Host string
	// Commit is the checked-out commit (git rev-parse HEAD).
	Commit string
	// Ref is the checked-out ref (git symbolic-ref HEAD).
	Ref string
	// Remote is the origin remote's URL as git has it (see RemoteURL).
	Remote string
}

// WorkflowInputs reads the inputs of a workflow_dispatch run from the event
// file at eventPath (GITHUB_EVENT_PATH) for job.
//
// Inputs are recorded only for a workflow_dispatch run, told by the job's
// event_name (a verified token claim when the job comes from FromToken): the
// event file can be rewritten by any earlier step of the job, and for any
// other event its "inputs" are whatever that step put there. The inputs of
// a called reusable workflow (workflow_call) are never in the event file,
// which holds the caller's event, so they cannot be established and are not
// recorded; in a reusable workflow the inputs recorded are those of the
// workflow_dispatch run of the top-level workflow. Either way the inputs are
// only as trustworthy as the job's earlier steps: at SLSA Build L3 (an
// isolated reusable workflow) they are; below it, not.
func WorkflowInputs(ctx context.Context, job *Job, eventPath string) (map[string]any, error) {
	if job.Local {
		return nil, errors.New("there are no workflow inputs outside a GitHub Actions run")
	}
	if ev := job.Claims.EventName; ev != "workflow_dispatch" {
		source := "the verified token's event_name"
		if !job.Verified {
			source = "GITHUB_EVENT_NAME"
		}
		return nil, fmt.Errorf("this run was triggered by %q (%s), not workflow_dispatch: only a workflow_dispatch run has inputs to record; "+
			"for any other event the event file's inputs are whatever an earlier step wrote there, and the inputs of a called reusable workflow (workflow_call) are not in the event file at all", ev, source)
	}
	if eventPath == "" {
		return nil, errors.New("GITHUB_EVENT_PATH is not set: cannot read the workflow inputs")
	}
	data, err := inputfile.Read(ctx, eventPath, MaxEventFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading the event file %s: %w", eventPath, err)
	}
	var ev struct {
		Inputs map[string]any `json:"inputs"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("event file %s: %w", eventPath, err)
	}
	if ev.Inputs == nil {
		ev.Inputs = map[string]any{}
	}
	return ev.Inputs, nil
}
