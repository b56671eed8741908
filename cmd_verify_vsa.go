package main

// cmd_verify_vsa.go is verify's --vsa-out (docs/policy.md): for each
// artifact verified, a SLSA VSA v1 of the verdict, signed keylessly in a
// job that may (as attest signs), unsigned elsewhere unless --sign; and the
// flags that trust VSAs as input (--verifier-id, --resource-uri).

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/pflag"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/verifier"
)

// vsaFlags are verify's VSA flags.
type vsaFlags struct {
	flags      *pflag.FlagSet
	out        string
	sign       bool
	sigstore   string
	oidcIssuer string
	push       bool
}

// defineVSAFlags declares --vsa-out, --sign, --sigstore, --oidc-issuer and
// the VSA input flags --verifier-id and --resource-uri into fs.
func defineVSAFlags(fs *pflag.FlagSet, f *vsaFlags, p *verifier.Policy) {
	f.flags = fs
	fs.StringVar(&f.out, "vsa-out", "", "write a SLSA VSA of each artifact's verdict (PASSED or FAILED) into `DIR`: <artifact>.vsa.sigstore.json signed, <artifact>.vsa.intoto.json unsigned")
	fs.BoolVar(&f.sign, "sign", false, "with --vsa-out: sign the VSAs keylessly with the job's token (default: true in a GitHub Actions job with id-token: write, else false)")
	fs.StringVar(&f.sigstore, "sigstore", "auto", "with --vsa-out and signing: Sigstore instance, auto, public-good, github, or a `FOLDER` with signing_config.json and trusted_root.json")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "with --vsa-out and signing: expected token issuer `URL` (default: from GITHUB_SERVER_URL)")
	fs.BoolVar(&f.push, "push-vsa", false, "with --vsa-out and signing: push each signed VSA of an oci:// image to its registry as a referrer of the image (for admission on the VSA: provenant policy kyverno --verifier-id)")
	fs.StringVar(&p.VerifierID, "verifier-id", "", "with --predicate-type "+verifier.VSAPredicateType+": the verifier.id a VSA must name, e.g. "+verifier.VerifierID)
	fs.StringVar(&p.ResourceURI, "resource-uri", "", "with a VSA predicate type: the resourceUri the VSA must name, exactly (default: any; the subject digest is always checked)")
}

// vsaRun is one verify run's VSA writing, prepared before verification so
// that a bad folder or a missing token fails before the work is done.
type vsaRun struct {
	f   *vsaFlags
	e   *cmdutil.Factory
	job *builder.Job // set when the VSAs are signed
	// policyURI and policyDigest name the policy the VSAs are of.
	policyURI    string
	policyDigest map[string]string
}

// signing says whether the VSAs are signed: --sign when given, else in a
// GitHub Actions job that may ask for an OIDC token.
func (f *vsaFlags) signing(e *cmdutil.Factory) bool {
	if fl := f.flags.Lookup("sign"); fl != nil && fl.Changed {
		return f.sign
	}
	return e.Getenv("GITHUB_ACTIONS") == "true" && e.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") != ""
}

// startVSA checks the VSA flags and, with --vsa-out, the folder and (when
// signing) the job's token. It returns nil without --vsa-out.
func startVSA(ctx context.Context, f *verifyFlags, e *cmdutil.Factory) (*vsaRun, int) {
	vf := &f.vsa
	if vf.out == "" {
		for _, name := range []string{"sign", "sigstore", "oidc-issuer", "push-vsa"} {
			if fl := vf.flags.Lookup(name); fl != nil && fl.Changed && e.Getenv("INPUT_"+strings.ToUpper(name)) == "" {
				fmt.Fprintf(e.Stderr, "provenant verify: --%s needs --vsa-out\n", name)
				return nil, exitUsage
			}
		}
		return nil, exitOK
	}
	if f.opts.BundleDir != "" && sameDir(f.opts.BundleDir, vf.out) {
		fmt.Fprintf(e.Stderr, "provenant verify: --vsa-out %s is the --bundle-dir: VSAs would be read as attestations of the release; give another folder\n", builder.Printable(vf.out))
		return nil, exitUsage
	}
	if err := cmdutil.ProbeFolder(vf.out); err != nil {
		fmt.Fprintf(e.Stderr, "provenant verify: --vsa-out %s: the folder is not writable: %s\n", builder.Printable(vf.out), builder.Printable(err.Error()))
		return nil, exitUsage
	}
	r := &vsaRun{f: vf, e: e}
	if vf.push && !vf.signing(e) {
		fmt.Fprintln(e.Stderr, "provenant verify: --push-vsa needs signed VSAs (--sign, or a GitHub Actions job with id-token: write): an unsigned VSA proves nothing to a registry's readers")
		return nil, exitUsage
	}
	if vf.signing(e) {
		job, err := builder.FromToken(ctx, builder.Options{
			Getenv:     e.Getenv,
			HTTPClient: &http.Client{Timeout: 30 * time.Second},
			Issuer:     vf.oidcIssuer,
		})
		if err != nil {
			fmt.Fprintf(e.Stderr, "provenant verify: signing the VSAs: %s\n", builder.Printable(err.Error()))
			return nil, exitFailed
		}
		if builder.InActions(e.Getenv) {
			githubactions.New(githubactions.WithGetenv(e.Getenv), githubactions.WithWriter(e.Stdout)).AddMask(job.Token)
		}
		r.job = job
	}
	return r, exitOK
}

// sameDir reports whether two paths name the same folder.
func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// setPolicy names the policy the VSAs are of: the policy file (its path as
// given and the SHA-256 of the bytes read), else the flags as JSON in a
// data: URI with its SHA-256.
func (r *vsaRun) setPolicy(f *verifyFlags) error {
	if f.policy.path != "" {
		r.policyURI, r.policyDigest = f.policy.path, map[string]string{"sha256": f.policy.sha256}
		return nil
	}
	raw, err := verifier.FlagsPolicy(f.opts.Policy)
	if err != nil {
		return fmt.Errorf("the flags as a policy: %w", err)
	}
	sum := sha256.Sum256(raw)
	r.policyURI = "data:" + verifier.FlagsPolicyMediaType + ";base64," + base64.StdEncoding.EncodeToString(raw)
	r.policyDigest = map[string]string{"sha256": hex.EncodeToString(sum[:])}
	return nil
}

// writeVSAs writes one VSA per artifact of the report, PASSED or FAILED.
// An artifact without a digest (a folder of a bundle directory) gets none,
// and the log says so.
func (r *vsaRun) write(ctx context.Context, f *verifyFlags, rep *verifier.Report) int {
	if err := r.setPolicy(f); err != nil {
		fmt.Fprintf(r.e.Stderr, "provenant verify: --vsa-out: %v\n", err)
		return exitFailed
	}
	names := vsaNames{}
	now := time.Now().UTC().Truncate(time.Second)
	for _, a := range rep.Artifacts {
		name, digest, err := verifier.SummarySubject(a)
		if err != nil {
			fmt.Fprintf(r.e.Stderr, "provenant verify: --vsa-out: no VSA: %s\n", builder.Printable(err.Error()))
			continue
		}
		pred, err := verifier.Summary(a, verifier.SummaryOptions{
			VerifierVersion: cmdutil.ReadBuildFacts(r.e.Build).Version, Time: now,
			PolicyURI: r.policyURI, PolicyDigest: r.policyDigest,
		})
		var st *provenance.Statement
		if err == nil {
			st, err = provenance.NewStatement([]provenance.Subject{{Name: name, Digest: digest}}, verifier.VSAPredicateType, pred)
		}
		if err != nil {
			fmt.Fprintf(r.e.Stderr, "provenant verify: --vsa-out: the VSA of %s: %s\n", builder.Printable(a.Artifact), builder.Printable(err.Error()))
			return exitFailed
		}
		img, isImage := f.ociImages[a.Digest]
		if code := r.writeOne(ctx, a, names.next(a), st, img, isImage); code != exitOK {
			return code
		}
	}
	return exitOK
}

// writeOne signs (when signing) and writes one artifact's VSA.
// With --push-vsa and an image artifact, the signed VSA is also pushed as
// a referrer of img; a failed push keeps the written file and says so.
func (r *vsaRun) writeOne(ctx context.Context, a verifier.ArtifactResult, base string, st *provenance.Statement, img name.Digest, isImage bool) int {
	verdict := verifier.VSAFailed
	if a.Verified {
		verdict = verifier.VSAPassed
	}
	if r.job == nil {
		path := filepath.Join(r.f.out, base+".vsa.intoto.json")
		if err := cmdutil.WriteAtomic(path, append(st.JSON, '\n')); err != nil {
			fmt.Fprintf(r.e.Stderr, "provenant verify: --vsa-out: writing %s: %s\n", builder.Printable(path), builder.Printable(err.Error()))
			return exitFailed
		}
		fmt.Fprintf(r.e.Stderr, "provenant verify: wrote %s (VSA %s for %s, unsigned)\n", builder.Printable(path), verdict, builder.Printable(a.Artifact))
		return exitOK
	}
	signed, inst, err := signAsJob(ctx, r.e, r.f.sigstore, r.job, st)
	if err != nil {
		fmt.Fprintf(r.e.Stderr, "provenant verify: --vsa-out: signing the VSA of %s: %s\n", builder.Printable(a.Artifact), builder.Printable(err.Error()))
		return exitFailed
	}
	path := filepath.Join(r.f.out, base+".vsa.sigstore.json")
	saved, err := r.e.WriteOrRescue(path, signed.JSON)
	if err != nil {
		fmt.Fprintf(r.e.Stderr, "provenant verify: --vsa-out: %s\n", builder.Printable(err.Error()))
		return exitFailed
	}
	fmt.Fprintf(r.e.Stderr, "provenant verify: wrote %s (VSA %s for %s, signed on %s as %s)\n", builder.Printable(saved), verdict, builder.Printable(a.Artifact), inst.Name, builder.Printable(signed.CertificateIdentity))
	if !r.f.push || !isImage {
		return exitOK
	}
	p, err := r.e.OCI().Push(ctx, img, signed.JSON, verifier.VSAPredicateType, time.Now())
	if err != nil {
		fmt.Fprintf(r.e.Stderr, "provenant verify: --push-vsa: %s; the signed VSA is kept at %s\n", builder.Printable(err.Error()), builder.Printable(saved))
		return exitFailed
	}
	fmt.Fprintf(r.e.Stderr, "provenant verify: pushed the VSA of %s to %s\n", builder.Printable(img.String()), builder.Printable(p.Referrer.String()))
	return exitOK
}

// vsaNames gives each artifact's VSA a file name of its own: the
// artifact's base name made safe, with its digest's first 12 hex digits
// when two artifacts share a name.
type vsaNames map[string]bool

// maxVSABase leaves room for ".vsa.sigstore.json" and a digest suffix
// within a file name's 255 bytes.
const maxVSABase = 200

func (n vsaNames) next(a verifier.ArtifactResult) string {
	base := safeFileName(verifier.SummaryResourceURI(a))
	_, hexDigest, _ := strings.Cut(a.Digest, ":")
	name := base
	for i := 1; n[strings.ToLower(name)]; i++ {
		name = base + "-" + hexDigest[:min(12, len(hexDigest))]
		if i > 1 {
			name = fmt.Sprintf("%s-%d", name, i)
		}
	}
	n[strings.ToLower(name)] = true
	return name
}

// safeFileName keeps letters, digits, '.', '_', '+' and '-' of a name and
// turns every other rune into '_'; it never starts with '.' and is at most
// maxVSABase bytes.
func safeFileName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '+', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if strings.HasPrefix(out, ".") {
		out = "_" + out[1:]
	}
	if len(out) > maxVSABase {
		out = out[:maxVSABase]
	}
	if out == "" || !utf8.ValidString(out) {
		return "artifact"
	}
	return out
}
