package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/sethvargo/go-githubactions"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/trust"
	"github.com/provenant/provenant/verifier"
)

const verifyUsage = `Usage: provenant verify [flags] [ARTIFACT...]

Verifies Sigstore bundles of in-toto attestations for artifacts, link by
link, and says which link failed: 1 bundle, 2 certificate, 3 timestamps,
4 signature, 5 subject, 6 identity, 7 predicate against certificate,
8 provenance expectations, 9 SLSA Build level. Exit status: 0 verified,
1 a check failed, 2 bad usage or unreadable input. In a GitHub Actions step
every flag can also be given as the action input of the same name
(INPUT_<NAME>); ARTIFACT as the input "artifacts" (one path or glob a line).

Attestations:
  --bundle FILE              bundle file, JSON or JSON Lines (repeatable)
  --bundle-dir DIR           release assets with <asset>.sigstore.json,
                             <asset>.intoto.jsonl, multiple.intoto.jsonl...;
                             without ARTIFACT, every asset in DIR is verified
  --exclude GLOB             with --bundle-dir: leave out entries matching GLOB;
                             every other entry is verified or reported
  --digest ALG:HEX           an artifact by digest, sha256 or sha512 (repeatable)

Identity (as gh attestation verify; regexps are anchored). A source
repository is required (--owner, --repo or --source-uri, or --cert-identity
naming a workflow of the source repository itself): a builder alone would
accept artifacts built from any repository:
  --hostname, --owner, --repo, --signer-repo, --signer-workflow, --cert-identity,
  --cert-identity-regexp, --cert-oidc-issuer, --source-ref, --source-digest,
  --signer-digest, --deny-self-hosted-runners, --predicate-type,
  --cert-extension NAME=VALUE (any Fulcio extension, repeatable)

Provenance (as slsa-verifier):
  --builder-id, --source-uri, --source-tag, --source-versioned-tag,
  --source-branch, --workflow-input K=V (repeatable), --min-level 1|2|3

Trust:
  --trusted-root FILE        trusted_root.json, or JSON Lines of several
                             instances; without it, TUF for the public-good
                             and GitHub instances (cached in --tuf-cache;
                             past TUF's expiry offline only with --offline)

Flags:
`

// listFlag is a repeatable flag; a value from an action input may hold
// several, one a line.
type listFlag []string

// String joins the values, for flag defaults.
func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set appends a value, or one value per line.
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, "\n") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// verifyFlags are the parsed flags and inputs of "provenant verify".
type verifyFlags struct {
	opts        verifier.Options
	bundles     listFlag
	digests     listFlag
	inputs      listFlag
	extensions  listFlag
	exclude     listFlag
	hostname    string
	trustedRoot string
	tufCache    string
	format      string
	reportPath  string
	summary     bool
	offline     bool
}

// defineVerifyFlags declares the flags of "provenant verify" into f.
func defineVerifyFlags(fs *flag.FlagSet, f *verifyFlags) {
	p := &f.opts.Policy
	fs.Var(&f.bundles, "bundle", "bundle file, JSON or JSON Lines (repeatable)")
	fs.StringVar(&f.opts.BundleDir, "bundle-dir", "", "directory of release assets and their attestations")
	fs.Var(&f.exclude, "exclude", "with --bundle-dir, leave out entries whose name matches this glob (doublestar, repeatable)")
	fs.Var(&f.digests, "digest", "artifact digest sha256:HEX or sha512:HEX (repeatable)")
	fs.StringVar(&f.hostname, "hostname", "github.com", "GitHub host of owner, repo and signer-repo (GitHub Enterprise Server)")
	fs.StringVar(&p.Owner, "owner", "", "source repository owner")
	fs.StringVar(&p.Repo, "repo", "", "source repository, owner/name")
	fs.StringVar(&p.SignerRepo, "signer-repo", "", "repository of the signing workflow, owner/name")
	fs.StringVar(&p.SignerWorkflow, "signer-workflow", "", "signing workflow, [host/]owner/name/.github/workflows/file.yml")
	fs.StringVar(&p.CertIdentity, "cert-identity", "", "certificate SAN, exactly")
	fs.StringVar(&p.CertIdentityRegexp, "cert-identity-regexp", "", "certificate SAN, anchored regexp")
	fs.StringVar(&p.CertOIDCIssuer, "cert-oidc-issuer", verifier.GitHubActionsIssuer, "certificate OIDC issuer")
	fs.StringVar(&p.SourceRef, "source-ref", "", "Source Repository Ref, e.g. refs/heads/main")
	fs.StringVar(&p.SourceDigest, "source-digest", "", "Source Repository Digest (commit)")
	fs.StringVar(&p.SignerDigest, "signer-digest", "", "Build Signer Digest (signing workflow's commit)")
	fs.BoolVar(&p.DenySelfHostedRunners, "deny-self-hosted-runners", false, "require a GitHub-hosted runner")
	fs.Var(&f.extensions, "cert-extension", "further Fulcio extension NAME=VALUE, sigstore-go's JSON name, e.g. buildTrigger=push (repeatable)")
	fs.StringVar(&p.PredicateType, "predicate-type", verifier.SLSAProvenanceV1, "predicate type")
	fs.StringVar(&p.BuilderID, "builder-id", "", "expected builder id (without @: any ref)")
	fs.StringVar(&p.SourceURI, "source-uri", "", "expected source repository, e.g. github.com/owner/name")
	fs.StringVar(&p.SourceTag, "source-tag", "", "expected tag")
	fs.StringVar(&p.SourceVersionedTag, "source-versioned-tag", "", "expected semver tag prefix, e.g. v1 or v1.2")
	fs.StringVar(&p.SourceBranch, "source-branch", "", "expected branch")
	fs.Var(&f.inputs, "workflow-input", "expected workflow input K=V (repeatable)")
	fs.IntVar(&p.MinLevel, "min-level", 0, "SLSA Build level required (default 2 for SLSA provenance, else 1)")
	fs.StringVar(&f.trustedRoot, "trusted-root", "", "trusted_root.json (or JSON Lines); default: TUF")
	fs.StringVar(&f.tufCache, "tuf-cache", "", "TUF cache directory, yours and not writable by others (default: $XDG_CACHE_HOME or ~/.cache, /provenant/tuf/tuf)")
	fs.BoolVar(&f.offline, "offline", false, "do not contact TUF: use its cached metadata even past its expiry (the warning says how old)")
	fs.StringVar(&f.format, "format", "text", "output format: text or json")
	fs.StringVar(&f.reportPath, "report", "", "also write the JSON report to this file")
	fs.BoolVar(&f.summary, "summary", true, "in GitHub Actions, write a step summary")
	fs.IntVar(&f.opts.Parallelism, "parallel", 4, "artifacts verified at once")
}

func parseVerifyFlags(args []string, e env) (*verifyFlags, error) {
	f := &verifyFlags{}
	p := &f.opts.Policy
	fs := newFlagSet("verify")
	defineVerifyFlags(fs, f)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := applyInputs(fs, e, nil); err != nil {
		return nil, err
	}
	f.opts.Artifacts = fs.Args()
	if len(f.opts.Artifacts) == 0 {
		if in := strings.TrimSpace(e.getenv("INPUT_ARTIFACTS")); in != "" {
			for _, line := range strings.Split(in, "\n") {
				if line = strings.TrimSpace(line); line == "" {
					continue
				}
				// The same glob library as attest's subject-path: ** works.
				matches, err := doublestar.FilepathGlob(line)
				if err != nil {
					return nil, fmt.Errorf("input artifacts: %q: %w", line, err)
				}
				if len(matches) == 0 {
					matches = []string{line} // reported as unreadable
				}
				f.opts.Artifacts = append(f.opts.Artifacts, matches...)
			}
		}
	}
	f.opts.BundleFiles, f.opts.Digests, f.opts.Exclude = f.bundles, f.digests, f.exclude
	p.GitHubServer = "https://" + strings.TrimSuffix(strings.TrimPrefix(f.hostname, "https://"), "/")
	var err error
	if p.WorkflowInputs, err = keyValues("workflow-input", f.inputs); err != nil {
		return nil, err
	}
	if p.Extensions, err = keyValues("cert-extension", f.extensions); err != nil {
		return nil, err
	}
	if f.format != "text" && f.format != "json" {
		return nil, fmt.Errorf("--format %q: want text or json", f.format)
	}
	if p.MinLevel < 0 || p.MinLevel > 3 {
		return nil, fmt.Errorf("--min-level %d: want 1, 2 or 3", p.MinLevel)
	}
	return f, nil
}

// keyValues parses repeated KEY=VALUE flags; nil when there are none.
func keyValues(flagName string, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want KEY=VALUE", flagName, kv)
		}
		m[k] = v
	}
	return m, nil
}

// runVerify implements "provenant verify".
func runVerify(ctx context.Context, args []string, e env) int {
	f, err := parseVerifyFlags(args, e)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, verifyUsage)
		fs := newFlagSet("verify")
		defineVerifyFlags(fs, &verifyFlags{})
		fs.SetOutput(e.stdout)
		fmt.Fprintln(e.stdout, "\nAll flags:")
		fs.PrintDefaults()
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "provenant verify: %v (see provenant verify --help)\n", err)
		return exitUsage
	}
	roots, warnings, err := loadVerifyRoots(f, e)
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "provenant verify: warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "provenant verify: %v\n", err)
		var ce *trust.CacheDirError
		if f.trustedRoot != "" || errors.Is(err, trust.ErrNoCacheDir) || errors.As(err, &ce) {
			return exitUsage
		}
		return exitFailed
	}
	f.opts.TrustedRoots = roots
	rep, err := verifier.Verify(ctx, f.opts)
	if err != nil {
		fmt.Fprintf(e.stderr, "provenant verify: %v\n", err)
		var ie *verifier.InputError
		var pe *verifier.PolicyError
		if errors.As(err, &ie) || errors.As(err, &pe) {
			return exitUsage
		}
		return exitFailed
	}
	rep.Warnings = warnings
	if f.format == "json" {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "provenant verify: %v\n", err)
		return exitFailed
	}
	if code := writeVerifyOutputs(f, rep, e); code != exitOK {
		return code
	}
	if !rep.Verified {
		return exitFailed
	}
	return exitOK
}

// loadVerifyRoots loads the trusted roots: from --trusted-root, else
// through TUF with its cache in --tuf-cache.
func loadVerifyRoots(f *verifyFlags, e env) ([]verifier.TrustedRoot, []string, error) {
	if f.trustedRoot != "" {
		roots, err := trust.LoadTrustedRoots(f.trustedRoot)
		return roots, nil, err
	}
	dir := tufCacheDir(f.tufCache, e)
	if dir != "" && f.tufCache == "" {
		dir = filepath.Join(dir, "tuf") // shared with attest's signing
	}
	ft := fetcher.NewDefaultFetcher()
	ft.SetHTTPClient(&http.Client{Timeout: 30 * time.Second})
	return trust.LoadTUFRoots(trust.TUFOptions{CacheDir: dir, Fetcher: ft, Offline: f.offline})
}

// writeVerifyOutputs writes the JSON report file and, in GitHub Actions,
// the step outputs and summary.
func writeVerifyOutputs(f *verifyFlags, rep *verifier.Report, e env) int {
	path := f.reportPath
	inActions := builder.InActions(e.getenv)
	if path == "" && inActions && e.getenv("RUNNER_TEMP") != "" {
		path = filepath.Join(e.getenv("RUNNER_TEMP"), "provenant", "verify-report.json")
	}
	if path != "" {
		var b strings.Builder
		if err := rep.WriteJSON(&b); err == nil {
			if err = writeAtomic(path, []byte(b.String())); err != nil {
				fmt.Fprintf(e.stderr, "provenant verify: writing report: %v\n", err)
				return exitFailed
			}
		}
	}
	if !inActions {
		return exitOK
	}
	action := githubactions.New(githubactions.WithGetenv(e.getenv), githubactions.WithWriter(e.stderr))
	if e.getenv("GITHUB_OUTPUT") != "" { // go-githubactions panics without it
		action.SetOutput("verified", strconv.FormatBool(rep.Verified))
		action.SetOutput("level", strconv.Itoa(rep.Level()))
		if path != "" {
			action.SetOutput("report-path", path)
		}
	}
	if f.summary && e.getenv("GITHUB_STEP_SUMMARY") != "" {
		var b strings.Builder
		_ = rep.WriteMarkdown(&b)
		action.AddStepSummary(b.String())
	}
	return exitOK
}

// tufCacheDir is the TUF cache: the flag, else $XDG_CACHE_HOME/provenant/tuf,
// else ~/.cache/provenant/tuf, else "" (none).
func tufCacheDir(flagValue string, e env) string {
	if flagValue != "" {
		return flagValue
	}
	if d := e.getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "provenant", "tuf")
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "provenant", "tuf")
	}
	// No shared default (another user could plant a root there): trust
	// asks for --tuf-cache.
	return ""
}
