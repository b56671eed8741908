package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/trust"
)

// signResult is what signing gives back to attest.
type signResult struct {
	bundleJSON []byte
	outputs    map[string]string
}

// signStatement signs the statement into a Sigstore bundle with the instance
// the sigstore flag names, and logs the certificate identity and log entry.
func signStatement(ctx context.Context, e env, action *githubactions.Action, f *attestFlags, job *builder.Job, st *provenance.Statement) (*signResult, error) {
	name, err := trust.Choose(f.sigstore, job.Claims.RepositoryVisibility)
	if err != nil {
		return nil, err
	}
	cache := tufCacheDir("", e)
	if cache != "" {
		cache = filepath.Join(cache, "tuf")
	}
	inst, err := trust.Load(name, trust.Options{CacheDir: cache})
	if err != nil {
		return nil, err
	}
	identity := job.ServerURL + "/" + job.Claims.JobWorkflowRef
	start := time.Now()
	signed, err := provenance.Sign(ctx, st, provenance.SignOptions{
		IDToken:  job.Token,
		Instance: inst,
		Identity: identity,
		Issuer:   job.Claims.Issuer,
	})
	if err != nil {
		return nil, err
	}
	action.Infof("signed with Sigstore instance %s in %s", inst.Name, time.Since(start).Round(time.Millisecond))
	action.Infof("certificate identity: %s (issuer %s)", signed.CertificateIdentity, signed.CertificateIssuer)
	outputs := map[string]string{"certificate-identity": signed.CertificateIdentity}
	switch {
	case signed.LogIndex >= 0:
		where := ""
		if inst.Name == trust.PublicGood {
			where = fmt.Sprintf(": https://search.sigstore.dev/?logIndex=%d", signed.LogIndex)
		}
		action.Infof("transparency log entry %d%s", signed.LogIndex, where)
		outputs["log-index"] = strconv.FormatInt(signed.LogIndex, 10)
	default:
		action.Infof("no transparency log entry: signing time from an RFC 3161 timestamp")
	}
	return &signResult{bundleJSON: signed.JSON, outputs: outputs}, nil
}
