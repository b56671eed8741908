// Command stacksmoke proves the local Sigstore stack end to end: it gets a
// GitHub-shaped OIDC token from the stack's token service, signs a DSSE in-toto
// statement (SLSA provenance v1) with sigstore-go using a signing config of
// the stack, verifies the bundle with sigstore-go against trusted_root.json and,
// with -cosign, verifies it again with the cosign CLI.
//
// It signs with sigstore-go directly, not through provenance.Sign, so that a
// broken stack is told apart from a broken provenant. Run it with
// "scripts/sigstore-stack smoke [--rekor v1|v2|both]", or by hand inside the
// stack:
//
//	scripts/sigstore-stack run --rekor v2 -- sh -c \
//	  'go run ./scripts/internal/stacksmoke -cosign "$(scripts/sigstore-stack tool-path cosign)"'
//
// Without -signing-config it tries every signing_config*.json in SIGSTORE_DIR.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"
)

// The default job of the token service (builder/oidctest).
const (
	defaultRepo        = "octo-org/octo-repo"
	defaultWorkflowRef = defaultRepo + "/.github/workflows/release.yml@refs/heads/main"
)

func main() {
	sigDir := os.Getenv("SIGSTORE_DIR")
	configs := flag.String("signing-config", "", "signing config(s) to use, comma separated, $VARS expanded "+
		"(default: every signing_config*.json in $SIGSTORE_DIR)")
	trustedRoot := flag.String("trusted-root", filepath.Join(sigDir, "trusted_root.json"), "trusted root")
	out := flag.String("out", "", "folder to keep the artifact and the bundles in (default: a temp folder, removed)")
	cosign := flag.String("cosign", "", "path of the cosign CLI; when set, verify each bundle with it too")
	quiet := flag.Bool("quiet", false, "do not report cosign's verdict without the flags a bundle needs")
	flag.Parse()
	if sigDir == "" && *configs == "" {
		fatal(errors.New("SIGSTORE_DIR is not set: run inside scripts/sigstore-stack run"))
	}
	var files []string
	if *configs != "" {
		files = strings.Split(os.ExpandEnv(*configs), ",")
	} else {
		var err error
		files, err = filepath.Glob(filepath.Join(sigDir, "signing_config*.json"))
		if err != nil || len(files) == 0 {
			fatal(fmt.Errorf("no signing_config*.json in %s", sigDir))
		}
		sort.Strings(files)
	}
	dir := *out
	if dir == "" {
		d, err := os.MkdirTemp("", "stacksmoke")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}

	tr, err := root.NewTrustedRootFromPath(*trustedRoot)
	if err != nil {
		fatal(fmt.Errorf("trusted root: %w", err))
	}
	artifact := []byte("provenant stack smoke test artifact " + time.Now().UTC().Format(time.RFC3339Nano) + "\n")
	artifactPath := filepath.Join(dir, "artifact.txt")
	if err := os.WriteFile(artifactPath, artifact, 0o644); err != nil {
		fatal(err)
	}

	passed, failed := 0, 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		bundlePath := filepath.Join(dir, name+".sigstore.json")
		summary, err := signAndVerify(f, tr, artifact, bundlePath)
		if err != nil {
			failed++
			fmt.Printf("FAIL %s: %v\n", name, err)
			continue
		}
		passed++
		fmt.Printf("ok   %s: %s\n", name, summary.text)
		if *cosign != "" {
			// What cosign needs besides the plain command, from what the bundle holds.
			var flags []string
			if summary.tsa {
				flags = append(flags, "--use-signed-timestamps")
			}
			if !summary.tlog {
				flags = append(flags, "--insecure-ignore-tlog=true")
			}
			if msg, err := cosignVerify(*cosign, *trustedRoot, bundlePath, artifactPath, flags...); err != nil {
				failed++
				fmt.Printf("FAIL %s: cosign verify-blob-attestation %s: %v\n%s\n", name, strings.Join(flags, " "), err, indent(msg))
			} else {
				passed++
				fmt.Printf("ok   %s: cosign verify-blob-attestation %s: %s\n", name, strings.Join(flags, " "), strings.TrimSpace(msg))
			}
			if len(flags) > 0 && !*quiet {
				// For the record: cosign's verdict on the same bundle without those flags.
				if msg, err := cosignVerify(*cosign, *trustedRoot, bundlePath, artifactPath); err != nil {
					fmt.Printf("info %s: without %s cosign says: %s\n", name, strings.Join(flags, " "), firstLine(msg))
				} else {
					fmt.Printf("info %s: cosign accepts it without %s too\n", name, strings.Join(flags, " "))
				}
			}
		}
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "stacksmoke:", err)
	os.Exit(2)
}

func indent(s string) string {
	return "     | " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n     | ")
}

// idToken asks the token service for a token with audience "sigstore".
func idToken(ctx context.Context) (string, error) {
	u, tok := os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if u == "" || tok == "" {
		return "", errors.New("ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN not set")
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	q := pu.Query()
	q.Set("audience", "sigstore")
	pu.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pu.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token service: %s: %s", resp.Status, body)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", fmt.Errorf("token service: bad answer %q", body)
	}
	return v.Value, nil
}

func statement(artifact []byte) []byte {
	sum := sha256.Sum256(artifact)
	st := map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "artifact.txt", "digest": map[string]string{"sha256": hex.EncodeToString(sum[:])}}},
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType": "https://actions.github.io/buildtypes/workflow/v1",
				"externalParameters": map[string]any{"workflow": map[string]any{
					"ref": "refs/heads/main", "repository": "https://github.com/" + defaultRepo, "path": ".github/workflows/release.yml"}},
			},
			"runDetails": map[string]any{"builder": map[string]any{"id": "https://github.com/" + defaultWorkflowRef}},
		},
	}
	b, _ := json.Marshal(st)
	return b
}

type result struct {
	text      string
	tlog, tsa bool
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func signAndVerify(configPath string, tr *root.TrustedRoot, artifact []byte, bundlePath string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sc, err := root.NewSigningConfigFromPath(configPath)
	if err != nil {
		return result{}, err
	}
	now := time.Now()
	ca, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), []uint32{1}, now)
	if err != nil {
		return result{}, fmt.Errorf("fulcio: %w", err)
	}
	tok, err := idToken(ctx)
	if err != nil {
		return result{}, err
	}
	opts := sign.BundleOptions{
		Context:                    ctx,
		CertificateProvider:        sign.NewFulcio(&sign.FulcioOptions{BaseURL: ca.URL, Timeout: 30 * time.Second}),
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: tok},
		TrustedRoot:                tr,
	}
	var used []string
	used = append(used, "Fulcio "+ca.URL)
	var rekorVersion uint32
	if len(sc.RekorLogURLs()) > 0 {
		s, err := root.SelectService(sc.RekorLogURLs(), []uint32{1, 2}, now)
		if err != nil {
			return result{}, fmt.Errorf("rekor: %w", err)
		}
		rekorVersion = s.MajorAPIVersion
		opts.TransparencyLogs = append(opts.TransparencyLogs,
			sign.NewRekor(&sign.RekorOptions{BaseURL: s.URL, Version: s.MajorAPIVersion, Timeout: 30 * time.Second}))
		used = append(used, fmt.Sprintf("Rekor v%d %s", s.MajorAPIVersion, s.URL))
	}
	hasTSA := len(sc.TimestampAuthorityURLs()) > 0
	if hasTSA {
		s, err := root.SelectService(sc.TimestampAuthorityURLs(), []uint32{1}, now)
		if err != nil {
			return result{}, fmt.Errorf("tsa: %w", err)
		}
		opts.TimestampAuthorities = append(opts.TimestampAuthorities,
			sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: s.URL, Timeout: 30 * time.Second}))
		used = append(used, "TSA "+s.URL)
	}

	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		return result{}, err
	}
	content := &sign.DSSEData{Data: statement(artifact), PayloadType: "application/vnd.in-toto+json"}
	pb, err := sign.Bundle(content, kp, opts)
	if err != nil {
		return result{}, fmt.Errorf("signing (%s): %w", strings.Join(used, ", "), err)
	}
	js, err := protojson.Marshal(pb)
	if err != nil {
		return result{}, err
	}
	if err := os.WriteFile(bundlePath, js, 0o644); err != nil {
		return result{}, err
	}

	// Verify what was written, as a consumer would.
	b, err := bundle.LoadJSONFromPath(bundlePath)
	if err != nil {
		return result{}, fmt.Errorf("loading bundle: %w", err)
	}
	vopts := []verify.VerifierOption{verify.WithSignedCertificateTimestamps(1)}
	if rekorVersion != 0 {
		vopts = append(vopts, verify.WithTransparencyLog(1))
	}
	if hasTSA {
		vopts = append(vopts, verify.WithSignedTimestamps(1))
	} else {
		vopts = append(vopts, verify.WithIntegratedTimestamps(1))
	}
	v, err := verify.NewVerifier(tr, vopts...)
	if err != nil {
		return result{}, err
	}
	id, err := verify.NewShortCertificateIdentity(os.Getenv("OIDC_ISSUER"), "", "https://github.com/"+defaultWorkflowRef, "")
	if err != nil {
		return result{}, err
	}
	sum := sha256.Sum256(artifact)
	res, err := v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", sum[:]), verify.WithCertificateIdentity(id)))
	if err != nil {
		return result{}, fmt.Errorf("verifying (%s): %w", strings.Join(used, ", "), err)
	}
	if err := checkExtensions(res.Signature.Certificate); err != nil {
		return result{}, err
	}
	return result{
		text: fmt.Sprintf("signed with %s; verified with sigstore-go (%d tlog entries, %d signed timestamps, bundle %s)",
			strings.Join(used, ", "), len(b.VerificationMaterial.GetTlogEntries()),
			len(b.VerificationMaterial.GetTimestampVerificationData().GetRfc3161Timestamps()), filepath.Base(bundlePath)),
		tlog: rekorVersion != 0,
		tsa:  hasTSA,
	}, nil
}

// checkExtensions checks the GitHub Fulcio extensions the certificate carries.
func checkExtensions(c *certificate.Summary) error {
	if c == nil {
		return errors.New("no certificate summary")
	}
	want := map[string]string{
		"Issuer":                              os.Getenv("OIDC_ISSUER"),
		"BuildSignerURI":                      "https://github.com/" + defaultWorkflowRef,
		"RunnerEnvironment":                   "github-hosted",
		"SourceRepositoryURI":                 "https://github.com/" + defaultRepo,
		"SourceRepositoryRef":                 "refs/heads/main",
		"BuildConfigURI":                      "https://github.com/" + defaultWorkflowRef,
		"BuildTrigger":                        "push",
		"SourceRepositoryOwnerURI":            "https://github.com/octo-org",
		"SourceRepositoryVisibilityAtSigning": "public",
	}
	got := map[string]string{
		"Issuer":                              c.Issuer,
		"BuildSignerURI":                      c.BuildSignerURI,
		"RunnerEnvironment":                   c.RunnerEnvironment,
		"SourceRepositoryURI":                 c.SourceRepositoryURI,
		"SourceRepositoryRef":                 c.SourceRepositoryRef,
		"BuildConfigURI":                      c.BuildConfigURI,
		"BuildTrigger":                        c.BuildTrigger,
		"SourceRepositoryOwnerURI":            c.SourceRepositoryOwnerURI,
		"SourceRepositoryVisibilityAtSigning": c.SourceRepositoryVisibilityAtSigning,
	}
	var bad []string
	for k, w := range want {
		if got[k] != w {
			bad = append(bad, fmt.Sprintf("%s=%q (want %q)", k, got[k], w))
		}
	}
	for k, v := range map[string]string{"BuildSignerDigest": c.BuildSignerDigest, "SourceRepositoryDigest": c.SourceRepositoryDigest,
		"SourceRepositoryIdentifier": c.SourceRepositoryIdentifier, "SourceRepositoryOwnerIdentifier": c.SourceRepositoryOwnerIdentifier,
		"BuildConfigDigest": c.BuildConfigDigest, "RunInvocationURI": c.RunInvocationURI} {
		if v == "" {
			bad = append(bad, k+" missing")
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("certificate extensions: %s", strings.Join(bad, "; "))
	}
	return nil
}

func cosignVerify(cosign, trustedRoot, bundlePath, artifactPath string, flags ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"verify-blob-attestation",
		"--bundle", bundlePath, "--new-bundle-format", "--type", "slsaprovenance1",
		"--trusted-root", trustedRoot,
		"--certificate-identity", "https://github.com/" + defaultWorkflowRef,
		"--certificate-oidc-issuer", os.Getenv("OIDC_ISSUER")}
	args = append(args, flags...)
	cmd := exec.CommandContext(ctx, cosign, append(args, artifactPath)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	// No TUF or network: everything comes from the trusted root given.
	cmd.Env = append(os.Environ(), "TUF_ROOT="+filepath.Join(filepath.Dir(bundlePath), "tuf"))
	err := cmd.Run()
	return buf.String(), err
}
