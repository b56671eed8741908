package verify_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/internal/cli"
	"github.com/provenant/provenant/internal/cmd/verify"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/verifier"
)

// verifyFlagsCmd is "provenant verify" up to its policy: the same flags,
// aliases, action inputs and validation as the command tree has them, and
// then the policy's own validation, but never Run (no files, no network).
func verifyFlagsCmd(f *cmdutil.Factory, got **verify.Options) *cobra.Command {
	cmd := verify.NewCmdVerify(f, func(o *verify.Options) error {
		*got = o
		return o.Policy.Validate()
	})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error { return cli.ApplyInputs(cmd, f) }
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	return cmd
}

// FuzzVerifyFlags: any command line (NUL-separated arguments) and action
// inputs ("NAME=VALUE" lines, with GITHUB_ACTIONS=true) given to verify's
// flags either fail with an error naming the flag or input, or give a
// policy in which every --workflow-input K=V and every --bundle value given
// as --NAME=VALUE is found as given, and a flag on the command line wins
// over its action input while an input alone sets the flag. Seeded with the
// command lines of README and docs/verify.md.
func FuzzVerifyFlags(f *testing.F) {
	for _, s := range []struct{ argv, inputs string }{
		{"app.tgz\x00--bundle\x00app.sigstore.json\x00--repo\x00octo-org/octo-repo", ""},
		{"app.tgz\x00--provenance-path\x00app.intoto.jsonl\x00--source-uri\x00github.com/octo-org/octo-repo\x00--source-tag\x00v1.2.3", ""},
		{"--bundle-dir\x00dist/\x00--repo\x00octo-org/octo-repo\x00--trusted-root\x00trusted_root.jsonl", ""},
		{"--owner=o\x00--workflow-input=a=b\x00--workflow-input=a=c\x00--cert-extension=buildTrigger=push", "REPO=o/r\nMIN-LEVEL=3"},
		{"--repo=o/r\x00--type=spdx\x00--format=json\x00--min-level=3", "REPO=x/y\nDIGEST-ALG=sha512"},
		{"--certificate-identity-regexp=^https://github.com/o/r/\x00--certificate-oidc-issuer=https://token.actions.githubusercontent.com", ""},
		{"--repo=o/r\x00--workflow-input=\x00--type=nope", "WORKFLOW-INPUT=k=v\nBUNDLE=a\nb"},
		{"--signer-workflow=o/r/.github/workflows/x.yml\x00--source-ref=refs/tags/v1\x00--deny-self-hosted-runners", ""},
		{"--bundle=a\nb\x00--bundle=\x00--\x00--bundle=c", ""},
	} {
		f.Add(s.argv, s.inputs)
	}
	f.Fuzz(func(t *testing.T, argvText, inputsText string) {
		argv := strings.Split(argvText, "\x00")
		if len(argv) > 32 {
			return
		}
		inputs := map[string]string{}
		actions := inputsText != ""
		for _, line := range strings.Split(inputsText, "\n") {
			name, value, ok := strings.Cut(line, "=")
			name = strings.ToUpper(name)
			if !ok || name == "" || name == "ARTIFACTS" { // a glob input would walk the machine's folders
				continue
			}
			inputs["INPUT_"+name] = value
		}
		getenv := func(k string) string {
			if k == "GITHUB_ACTIONS" && actions {
				return "true"
			}
			return inputs[k]
		}
		var vf *verify.Options
		cmd := verifyFlagsCmd(&cmdutil.Factory{Stdout: io.Discard, Stderr: io.Discard, Getenv: getenv}, &vf)
		cmd.SetArgs(argv)
		err := cmd.Execute()
		if err != nil {
			msg := err.Error()
			var pe *verifier.PolicyError
			if !strings.Contains(msg, "--") && !strings.Contains(msg, "flag") && !strings.Contains(msg, "input ") && !errors.As(err, &pe) {
				t.Fatalf("an error naming no flag or input: %q", msg)
			}
			return
		}
		// What the command line said, for the flags given as --NAME=VALUE
		// before any "--".
		var wantInputs, wantBundles []string
		plain := true
		for _, a := range argv {
			if a == "--" {
				break
			}
			name, value, hasValue := strings.Cut(a, "=")
			if !hasValue && (name == "--workflow-input" || name == "--bundle") {
				plain = false // the value is the next argument
			}
			switch name {
			case "--workflow-input":
				wantInputs = append(wantInputs, value)
			case "--bundle":
				wantBundles = append(wantBundles, value)
			case "-b", "--provenance-path", "--build-workflow-input":
				plain = false
			}
			if strings.HasPrefix(a, "-b") {
				plain = false
			}
		}
		if !plain {
			return
		}
		p := vf.Policy
		if len(wantInputs) > 0 {
			last := map[string]string{}
			for _, kv := range listValues(wantInputs) {
				k, v, _ := strings.Cut(kv, "=")
				last[k] = v
			}
			for k, v := range last {
				if got, ok := p.WorkflowInputs[k]; !ok || got != v {
					t.Fatalf("--workflow-input %s=%s: the policy has %q (%v)", k, v, got, ok)
				}
			}
		} else if in := strings.TrimSpace(inputs["INPUT_WORKFLOW-INPUT"]); actions && in != "" && len(p.WorkflowInputs) == 0 {
			t.Fatalf("input workflow-input %q was not applied", in)
		}
		if got, want := strings.Join(vf.Bundles, "\n"), strings.Join(listValues(wantBundles), "\n"); len(wantBundles) > 0 && got != want {
			t.Fatalf("--bundle: got %q, want %q", got, want)
		}
		// --repo: the command line wins over the input, an input alone sets it.
		cliRepo, onCLI := "", false
		for _, a := range argv {
			if a == "--" {
				break
			}
			if v, ok := strings.CutPrefix(a, "--repo="); ok {
				cliRepo, onCLI = v, true
			}
			if a == "--repo" || a == "-R" || strings.HasPrefix(a, "-R") {
				return
			}
		}
		switch in := strings.TrimSpace(inputs["INPUT_REPO"]); {
		case onCLI && p.Repo != cliRepo:
			t.Fatalf("--repo=%q on the command line, the policy has %q", cliRepo, p.Repo)
		case !onCLI && actions && in != "" && p.Repo != in:
			t.Fatalf("input repo %q alone, the policy has %q", in, p.Repo)
		}
	})
}

// listValues splits repeated values as a repeatable flag documents it:
// one a line, trimmed, empty ones dropped.
func listValues(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}
