package main

// cmd_sign.go is keyless signing with the job's token, as attest does it
// and verify --vsa-out reuses it: the instance trust.Choose picks for the
// repository, its trust material, provenance.Sign with its self-check.

import (
	"context"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/trust"
)

// signAsJob signs the statement into a Sigstore bundle with the job's
// token on the instance the sigstore flag names (auto, public-good,
// github, or a folder), checking that the bundle carries the job's
// workflow identity and issuer.
func signAsJob(ctx context.Context, e *cmdutil.Factory, sigstore string, job *builder.Job, st *provenance.Statement) (*provenance.Signed, *trust.Instance, error) {
	name, err := trust.Choose(sigstore, job.Claims.RepositoryVisibility, job.ServerURL)
	if err != nil {
		return nil, nil, err
	}
	inst, err := loadInstance(ctx, name, e)
	if err != nil {
		return nil, nil, err
	}
	signed, err := provenance.Sign(ctx, st, provenance.SignOptions{
		IDToken:  job.Token,
		Instance: inst,
		Identity: job.ServerURL + "/" + job.Claims.JobWorkflowRef,
		Issuer:   job.Claims.Issuer,
	})
	if err != nil {
		return nil, inst, err
	}
	return signed, inst, nil
}
