package verify

// vsa.go is verify's --vsa-out (docs/policy.md): for each artifact
// verified, a SLSA VSA v1 of the verdict, signed keylessly in a job that
// may (as attest signs), unsigned elsewhere unless --sign.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/provenant/provenant/builder"
	"github.com/provenant/provenant/internal/cmdutil"
	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/internal/keyless"
	"github.com/provenant/provenant/provenance"
	"github.com/provenant/provenant/verifier"
	"github.com/provenant/provenant/vsa"
)

// VSAFlags are verify's flags that write VSAs.
type VSAFlags struct {
	Out, Sigstore, OIDCIssuer string
	Sign, Push                bool
}

// vsaRun is one verify run's VSA writing, prepared before verification so
// that a bad folder or a missing token fails before the work is done.
type vsaRun struct {
	o   *Options
	log *cmdutil.Logger
	job *builder.Job // set when the VSAs are signed
}

// signing says whether the VSAs are signed: --sign when given, else in a
// GitHub Actions job that may ask for an OIDC token.
func (o *Options) signing() bool {
	if o.given("sign") {
		return o.VSA.Sign
	}
	return o.f.Getenv("GITHUB_ACTIONS") == "true" && o.f.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") != ""
}

// startVSA checks the VSA flags and, with --vsa-out, the folder and (when
// signing) the job's token. It returns nil without --vsa-out.
func startVSA(ctx context.Context, o *Options, log *cmdutil.Logger) (*vsaRun, error) {
	v := o.VSA
	if v.Out == "" {
		for _, name := range []string{"sign", "sigstore", "oidc-issuer", "push-vsa"} {
			if o.given(name) && o.f.Getenv("INPUT_"+strings.ToUpper(name)) == "" {
				return nil, cmdutil.Usagef("--%s needs --vsa-out", name)
			}
		}
		return nil, nil
	}
	if o.BundleDir != "" && sameDir(o.BundleDir, v.Out) {
		return nil, cmdutil.Usagef("--vsa-out %s is the --bundle-dir: VSAs would be read as attestations of the release; give another folder", v.Out)
	}
	if err := cmdutil.ProbeFolder(v.Out); err != nil {
		return nil, cmdutil.Usagef("--vsa-out %s: the folder is not writable: %w", v.Out, err)
	}
	r := &vsaRun{o: o, log: log}
	if v.Push && !o.signing() {
		return nil, cmdutil.Usagef("--push-vsa needs signed VSAs (--sign, or a GitHub Actions job with id-token: write): an unsigned VSA proves nothing to a registry's readers")
	}
	if o.signing() {
		job, err := keyless.JobToken(ctx, o.f, log, v.OIDCIssuer)
		if err != nil {
			return nil, cmdutil.Failedf("signing the VSAs: %w", err)
		}
		r.job = job
	}
	return r, nil
}

// sameDir reports whether two paths name the same folder.
func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// policyOf names the policy the VSAs are of: the policy file (its path as
// given and the SHA-256 of the bytes read), else the flags as JSON in a
// data: URI with its SHA-256.
func policyOf(p verifier.Policy, pf *policyFile) (uri string, digest map[string]string, err error) {
	if pf.flags.Path != "" {
		return pf.flags.Path, map[string]string{"sha256": pf.sha256}, nil
	}
	raw, err := vsa.FlagsPolicy(p)
	if err != nil {
		return "", nil, fmt.Errorf("the flags as a policy: %w", err)
	}
	sum := sha256.Sum256(raw)
	return "data:" + formats.FlagsPolicyMediaType + ";base64," + base64.StdEncoding.EncodeToString(raw), map[string]string{"sha256": hex.EncodeToString(sum[:])}, nil
}

// write writes one VSA per artifact of the report, PASSED or FAILED. An
// artifact without a digest (a folder of a bundle directory) gets none,
// and the log says so.
func (r *vsaRun) write(ctx context.Context, p verifier.Policy, pf *policyFile, images map[string]name.Digest, rep *verifier.Report) error {
	uri, digest, err := policyOf(p, pf)
	if err != nil {
		return cmdutil.Failedf("--vsa-out: %w", err)
	}
	names := vsaNames{}
	now := r.o.f.Time().UTC().Truncate(time.Second)
	for _, a := range rep.Artifacts {
		name, d, err := vsa.SummarySubject(a)
		if err != nil {
			r.log.Printf("--vsa-out: no VSA: %s", err)
			continue
		}
		pred, err := vsa.Summary(a, vsa.SummaryOptions{
			VerifierVersion: cmdutil.ReadBuildFacts(r.o.f.Build).Version, Time: now,
			PolicyURI: uri, PolicyDigest: digest,
		})
		var st *provenance.Statement
		if err == nil {
			st, err = provenance.NewStatement([]provenance.Subject{{Name: name, Digest: d}}, verifier.VSAPredicateType, pred)
		}
		if err != nil {
			return cmdutil.Failedf("--vsa-out: the VSA of %s: %w", a.Artifact, err)
		}
		img, isImage := images[a.Digest]
		if err := r.writeOne(ctx, a, names.next(a), st, img, isImage); err != nil {
			return err
		}
	}
	return nil
}

// writeOne signs (when signing) and writes one artifact's VSA.
// With --push-vsa and an image artifact, the signed VSA is also pushed as
// a referrer of img; a failed push keeps the written file and says so.
func (r *vsaRun) writeOne(ctx context.Context, a verifier.ArtifactResult, base string, st *provenance.Statement, img name.Digest, isImage bool) error {
	verdict := verifier.VSAFailed
	if a.Verified {
		verdict = verifier.VSAPassed
	}
	out := r.o.VSA.Out
	if r.job == nil {
		path := filepath.Join(out, base+".vsa.intoto.json")
		if err := cmdutil.WriteAtomic(path, append(st.JSON, '\n')); err != nil {
			return cmdutil.Failedf("--vsa-out: writing %s: %w", path, err)
		}
		r.log.Printf("wrote %s (VSA %s for %s, unsigned)", path, verdict, a.Artifact)
		return nil
	}
	signed, inst, err := keyless.SignAsJob(ctx, r.o.f, r.o.VSA.Sigstore, r.job, st)
	if err != nil {
		return cmdutil.Failedf("--vsa-out: signing the VSA of %s: %w", a.Artifact, err)
	}
	path := filepath.Join(out, base+".vsa.sigstore.json")
	saved, err := r.o.f.WriteOrRescue(path, signed.JSON)
	if err != nil {
		return cmdutil.Failedf("--vsa-out: %w", err)
	}
	r.log.Printf("wrote %s (VSA %s for %s, signed on %s as %s)", saved, verdict, a.Artifact, inst.Name, signed.CertificateIdentity)
	if !r.o.VSA.Push || !isImage {
		return nil
	}
	p, err := r.o.f.OCI().Push(ctx, img, signed.JSON, verifier.VSAPredicateType, r.o.f.Time())
	if err != nil {
		return cmdutil.Failedf("--push-vsa: %w; the signed VSA is kept at %s", err, saved)
	}
	r.log.Printf("pushed the VSA of %s to %s", img.String(), p.Referrer.String())
	return nil
}

// vsaNames gives each artifact's VSA a file name of its own: the
// artifact's base name made safe, with its digest's first 12 hex digits
// when two artifacts share a name.
type vsaNames map[string]bool

// maxVSABase leaves room for ".vsa.sigstore.json" and a digest suffix
// within a file name's 255 bytes.
const maxVSABase = 200

func (n vsaNames) next(a verifier.ArtifactResult) string {
	base := safeFileName(vsa.SummaryResourceURI(a))
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
