// Package verification holds the steps "provenant verify" and "provenant
// policy init" share around verifier.Verify: the artifacts of the
// "artifacts" action input, and the verification of the other predicate
// types a policy requires.
package verification

import (
	"context"
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/policy"
	"github.com/provenant/provenant/verifier"
)

// Artifacts are the artifacts to verify: args, else in a GitHub Actions
// step the "artifacts" input, one path or glob a line (the same glob
// library as attest's subject-path: ** works). A glob that matches
// nothing stays as it is, to be reported as unreadable.
func Artifacts(f *cmdutil.Factory, args []string) ([]string, error) {
	out := args
	if len(out) > 0 || f.Getenv("GITHUB_ACTIONS") != "true" {
		return out, nil
	}
	in := strings.TrimSpace(f.Getenv("INPUT_ARTIFACTS"))
	if in == "" {
		return out, nil
	}
	for _, line := range strings.Split(in, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		matches, err := doublestar.FilepathGlob(line)
		if err != nil {
			return nil, fmt.Errorf("input artifacts: %q: %w", line, err)
		}
		if len(matches) == 0 {
			matches = []string{line} // reported as unreadable
		}
		out = append(out, matches...)
	}
	return out, nil
}

// AddRequiredBundles is policy.AddRequired with verifier.Verify.
func AddRequiredBundles(ctx context.Context, opts verifier.Options, reqs []policy.Requirement, rep *verifier.Report) error {
	return policy.AddRequired(ctx, verifier.Verify, opts, reqs, rep)
}
