// Package keyless signs a statement as the running job, as attest does it
// and verify --vsa-out reuses it: the instance trust.Choose picks for the
// repository, its trust material, provenance.Sign with its self-check.
package keyless

import (
	"context"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/trust"
)

// SignAsJob signs the statement into a Sigstore bundle with the job's
// token on the instance the sigstore flag names (auto, public-good,
// github, or a folder), checking that the bundle carries the job's
// workflow identity and issuer.
func SignAsJob(ctx context.Context, f *cmdutil.Factory, sigstore string, job *builder.Job, st *provenance.Statement) (*provenance.Signed, *trust.Instance, error) {
	name, err := trust.Choose(sigstore, job.Claims.RepositoryVisibility, job.ServerURL)
	if err != nil {
		return nil, nil, err
	}
	inst, err := LoadInstance(ctx, f, name)
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

// LoadInstance loads the Sigstore instance's trust material, with the TUF
// cache verify uses. TUF updates take no context, so the load runs aside
// and a signal ends the wait at once.
func LoadInstance(ctx context.Context, f *cmdutil.Factory, name string) (*trust.Instance, error) {
	type result struct {
		inst *trust.Instance
		err  error
	}
	done := make(chan result, 1)
	go func() {
		inst, err := trust.Load(name, trust.Options{CacheDir: f.TUFCacheDir("")})
		done <- result{inst, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-done:
		return r.inst, r.err
	}
}

// JobToken verifies the job's OIDC token (of the issuer given, else the
// one GITHUB_SERVER_URL implies) and masks it in the workflow's log.
func JobToken(ctx context.Context, f *cmdutil.Factory, log *cmdutil.Logger, issuer string) (*builder.Job, error) {
	job, err := builder.FromToken(ctx, builder.Options{
		Getenv:     f.Getenv,
		HTTPClient: f.HTTPClient(cmdutil.TimeoutShort),
		Issuer:     issuer,
	})
	if err != nil {
		return nil, err
	}
	// The runner hides the token in the log from now on. Outside a
	// runner the mask command would only print it.
	log.Mask(job.Token)
	return job, nil
}
