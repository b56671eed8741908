// Package admission is "provenant admission serve": the validating
// admission webhook of package admission (docs/admission.md), built from
// verify's own flags — the identity, the policy file, the pins and the
// trusted roots — so a cluster admits exactly what provenant verify
// oci://IMAGE would accept.
package admission

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/provenant/provenant/admission"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/inputfile"
	"github.com/provenant/provenant/verifier"
)

// maxPolicyFileSize bounds --policy and --pins, as verify does.
const maxPolicyFileSize = 16 << 20

// Options are the flags of "provenant admission serve".
type Options struct {
	Addr, TLSCertFile, TLSKeyFile, Mode, RevocationFile string
	NamespaceModes                                      cmdutil.ListFlag
	Budget, VerifyTimeout, CacheTTL, NegativeCacheTTL   time.Duration
	CacheEntries, MinLevel                              int
	PolicyPath, PinsPath                                string
	ReloadInterval                                      time.Duration
	VSAVerifierID, VSASignerWorkflow                    string
	Identity                                            cmdutil.IdentityFlags
	GitHub                                              cmdutil.GitHubFlags
	Trust                                               cmdutil.TrustFlags

	f   *cmdutil.Factory
	ctx context.Context
}

// NewCmdAdmission is "provenant admission" with its "serve" subcommand.
func NewCmdAdmission(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admission",
		Short: "Gate a Kubernetes cluster on verified provenance",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdServe(f, runF))
	return cmd
}

// NewCmdServe is "provenant admission serve"; runF, when not nil, runs
// instead of Run once the options are validated (tests).
func NewCmdServe(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	o := &Options{f: f}
	cmd := &cobra.Command{
		Use:   "serve --tls-cert-file F --tls-private-key-file F --repo OWNER/NAME [flags]",
		Short: "Serve a validating admission webhook that verifies each image's attestations",
		Long: `Serves a validating admission webhook (AdmissionReview admission.k8s.io/v1)
over TLS. Each image of a Pod or of a workload's pod template (containers,
init and ephemeral containers) is resolved to its digest and verified as
provenant verify oci://IMAGE would verify it, with the same identity, policy
file, pins and trusted roots: each distinct digest once per request and once
across concurrent requests; verdicts cached under a key of everything they
depend on (digest, policy, trusted root, revocation list); a revocation file
re-read when it changes; --policy and --pins read again when they change
(checked every --reload-interval, and at once on SIGHUP); a signed VSA from a trusted verifier admits without
verifying the provenance again. Every answer comes within --budget: when
verification cannot finish, the answer names what was slow (denied in
enforce mode, admitted with a warning in audit mode). /healthz, /readyz and
/metrics (Prometheus) beside it; one JSON log line per request.
docs/admission.md has the install, the manifests and the revocation format.

Exit status: 0 stopped by a signal, 1 could not serve, 2 bad usage.`,
		Example: `  provenant admission serve --tls-cert-file tls.crt --tls-private-key-file tls.key \
      --repo octo-org/octo-repo --min-level 3 --revocation-file /etc/provenant/revoked.yaml`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, o.complete, Run, runF),
	}
	cmdutil.NormalizeFlags(cmd)
	fs := cmd.Flags()
	fs.StringVar(&o.Addr, "addr", ":8443", "`ADDRESS` to listen on")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", "", "serving certificate `FILE` (PEM), re-read when it changes")
	fs.StringVar(&o.TLSKeyFile, "tls-private-key-file", "", "its private key `FILE` (PEM)")
	fs.DurationVar(&o.Budget, "budget", admission.DefaultBudget, "every answer comes within this `DURATION`; keep it below the webhook's timeoutSeconds")
	fs.StringVar(&o.Mode, "mode", string(admission.ModeEnforce), "`MODE` of /validate: enforce (deny) or audit (admit with a warning)")
	fs.Var(&o.NamespaceModes, "namespace-mode", "`NS=MODE`, the mode of one namespace (repeatable)")
	fs.StringVar(&o.RevocationFile, "revocation-file", "", "revocation `FILE` (digests, signer identities, source repository ids), re-read when it changes")
	fs.IntVar(&o.CacheEntries, "cache-entries", 10000, "verdicts kept at most, `N`")
	fs.DurationVar(&o.CacheTTL, "cache-ttl", 10*time.Minute, "how long an admitting verdict is kept at most, `DURATION`")
	fs.DurationVar(&o.NegativeCacheTTL, "negative-cache-ttl", 30*time.Second, "how long a denying verdict is kept, `DURATION`")
	fs.DurationVar(&o.VerifyTimeout, "verify-timeout", 2*time.Minute, "one verification's limit, `DURATION` (it goes on past --budget for the retry)")
	fs.IntVar(&o.MinLevel, "min-level", 0, "SLSA Build `LEVEL` required (default 2)")
	fs.StringVar(&o.PolicyPath, "policy", "", "policy `FILE` (YAML, docs/policy.md), as verify --policy")
	fs.StringVar(&o.PinsPath, "pins", "", "pins `FILE` (JSON), held read-only, as verify --pins")
	fs.DurationVar(&o.ReloadInterval, "reload-interval", 10*time.Second, "check --policy and --pins for changes every `DURATION` (0: only on SIGHUP)")
	fs.StringVar(&o.VSAVerifierID, "vsa-verifier-id", "", "admit on a signed VSA from this verifier `ID` (verify --vsa-out --push-vsa), without verifying the provenance")
	fs.StringVar(&o.VSASignerWorkflow, "vsa-signer-workflow", "", "the `WORKFLOW` that signs those VSAs (the gate), [host/]owner/name/.github/workflows/file.yml")
	o.Identity.AddFlags(fs)
	o.GitHub.AddFlags(fs, "GitHub `HOST` of owner, repo and signer-repo (GitHub Enterprise Server)")
	o.Trust.AddFlags(fs)
	return cmd
}

// complete validates the options.
func (o *Options) complete(ctx context.Context, _ []string) error {
	o.ctx = ctx
	switch {
	case o.TLSCertFile == "" || o.TLSKeyFile == "":
		return cmdutil.Usagef("--tls-cert-file and --tls-private-key-file are required: the API server calls webhooks over TLS only")
	case (o.VSAVerifierID == "") != (o.VSASignerWorkflow == ""):
		return cmdutil.Usagef("--vsa-verifier-id and --vsa-signer-workflow go together: a VSA is trusted for its verifier and its signer")
	}
	if _, err := admission.ParseMode(o.Mode); err != nil {
		return cmdutil.Usage(err)
	}
	if _, err := o.namespaceModes(); err != nil {
		return err
	}
	p := o.policy()
	if err := p.Validate(); err != nil && !(o.PolicyPath != "" && errors.Is(err, verifier.ErrNoIdentity)) {
		// A policy file may name the source itself: the checker judges
		// the merged policy once the file is read.
		return cmdutil.Usage(err)
	}
	return nil
}

func (o *Options) namespaceModes() (map[string]admission.Mode, error) {
	out := map[string]admission.Mode{}
	for _, kv := range o.NamespaceModes {
		ns, m, ok := strings.Cut(kv, "=")
		mode, err := admission.ParseMode(m)
		if !ok || ns == "" || err != nil {
			return nil, cmdutil.Usagef("--namespace-mode %q: want NAMESPACE=enforce or NAMESPACE=audit", kv)
		}
		out[ns] = mode
	}
	return out, nil
}

func (o *Options) policy() verifier.Policy {
	p := verifier.Policy{MinLevel: o.MinLevel, GitHubServer: o.GitHub.Server()}
	o.Identity.Apply(&p)
	return p
}

// Run serves until the context ends.
func Run(o *Options) error {
	log := o.f.Logger("provenant admission serve", false)
	roots, warnings, err := o.Trust.LoadRoots(o.f, nil)
	for _, w := range warnings {
		log.Warn(w)
	}
	if err != nil {
		return cmdutil.Failed(err)
	}
	read := func(path string) ([]byte, error) {
		if path == "" {
			return nil, nil
		}
		return inputfile.Read(o.ctx, path, maxPolicyFileSize)
	}
	var vsa *verifier.Policy
	if o.VSAVerifierID != "" {
		vsa = &verifier.Policy{VerifierID: o.VSAVerifierID, SignerWorkflow: o.VSASignerWorkflow, GitHubServer: o.GitHub.Server()}
		o.Identity.Apply(vsa)
		vsa.SignerWorkflow = o.VSASignerWorkflow
	}
	sum := sha256.New()
	for _, r := range roots {
		fmt.Fprintf(sum, "%s\n%v\n", r.Name, r.Root)
	}
	rootDigest := hex.EncodeToString(sum.Sum(nil))
	registry := o.f.OCI()
	// load reads the policy file and the pins and builds a checker of
	// them; digest names what was read, to tell a change.
	load := func() (checker *admission.Checker, digest string, err error) {
		policyFile, err := read(o.PolicyPath)
		if err != nil {
			return nil, "", cmdutil.Usagef("--policy: %w", err)
		}
		pins, err := read(o.PinsPath)
		if err != nil {
			return nil, "", cmdutil.Usagef("--pins: %w", err)
		}
		d := sha256.New()
		fmt.Fprintf(d, "%d\n%s%d\n%s", len(policyFile), policyFile, len(pins), pins)
		checker, err = admission.NewChecker(admission.CheckerOptions{Registry: registry, TrustedRoots: roots,
			RootDigest: rootDigest, Policy: o.policy(), PolicyFile: policyFile, Pins: pins, VSA: vsa})
		if err != nil {
			return nil, "", cmdutil.Usage(err)
		}
		return checker, hex.EncodeToString(d.Sum(nil)), nil
	}
	checker, digest, err := load()
	if err != nil {
		return err
	}
	reload := make(chan *admission.Checker)
	ctx, stop := context.WithCancel(o.ctx)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(o.f.Stderr, nil))
	go o.watchPolicy(ctx, logger, digest, load, reload)
	mode, _ := admission.ParseMode(o.Mode)
	nsModes, _ := o.namespaceModes()
	err = admission.Serve(o.ctx, admission.Config{
		Addr: o.Addr, TLSCertFile: o.TLSCertFile, TLSKeyFile: o.TLSKeyFile, Budget: o.Budget,
		DefaultMode: mode, NamespaceModes: nsModes, RevocationFile: o.RevocationFile, FS: admission.OSFileSystem{},
		Cache:         admission.CacheOptions{MaxEntries: o.CacheEntries, TTL: o.CacheTTL, NegativeTTL: o.NegativeCacheTTL},
		VerifyTimeout: o.VerifyTimeout, Checker: checker, Resolver: registry,
		Logger: logger, Reload: reload,
	})
	if err != nil && o.ctx.Err() == nil {
		return cmdutil.Failed(err)
	}
	return nil
}

// watchPolicy reads the policy file and the pins again on SIGHUP and
// every --reload-interval, and hands Serve a new checker when what they
// say changed (digest is what was read last). A file that no longer
// reads or parses keeps the checker in force, with a log line: a broken
// ConfigMap does not open the gate.
func (o *Options) watchPolicy(ctx context.Context, log *slog.Logger, digest string,
	load func() (*admission.Checker, string, error), reload chan<- *admission.Checker) {
	if o.PolicyPath == "" && o.PinsPath == "" {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if o.ReloadInterval > 0 {
		t := time.NewTicker(o.ReloadInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-tick:
		}
		c, d, err := load()
		switch {
		case err != nil:
			log.Warn("policy not reloaded: keeping the one in force", "error", err.Error())
			continue
		case d == digest:
			continue
		}
		select {
		case reload <- c:
			digest = d
		case <-ctx.Done():
			return
		}
	}
}
