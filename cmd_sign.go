package main

import (
	"context"
	"errors"

	"github.com/sethvargo/go-githubactions"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/provenance"
)

// signResult is what signing gives back to attest.
type signResult struct {
	bundleJSON []byte
	outputs    map[string]string
}

// signStatement signs the statement into a Sigstore bundle.
func signStatement(ctx context.Context, e env, action *githubactions.Action, f *attestFlags, job *builder.Job, st *provenance.Statement) (*signResult, error) {
	return nil, errors.New("signing is not available in this build yet: use --no-sign")
}
