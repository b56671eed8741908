package main

// End-to-end test of provenant policy kyverno with the real Kyverno CLI
// (v1.15.2, built by scripts/kyverno; PROVENANT_KYVERNO_BIN): attest signs
// on the local Sigstore stack and pushes to a loopback registry, and
// `kyverno apply` of the written policy admits a Pod of that image and
// refuses one of an image we did not attest, or attested from elsewhere.
//
// Kyverno reads the Sigstore trusted root only through TUF
// (sigstore/sigstore's TUF client and its cache in TUF_ROOT), so the test
// serves the stack's trusted_root.json from a loopback TUF repository
// (trust/tuftest) and initialises that cache the way Kyverno's own
// --tufRoot/--tufMirror do (tuf.Initialize).

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	tufv1 "github.com/sigstore/sigstore/pkg/tuf"

	"github.com/provenant/provenant/builder/oidctest"
	"github.com/provenant/provenant/remote/registrytest"
	"github.com/provenant/provenant/trust/tuftest"
	"github.com/provenant/provenant/verifier"
)

// kyvernoPath is the Kyverno CLI the test runs.
func kyvernoPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROVENANT_KYVERNO_BIN"); p != "" {
		return p
	}
	if os.Getenv("PROVENANT_E2E") == "1" {
		t.Fatal("PROVENANT_E2E=1 but PROVENANT_KYVERNO_BIN is not set (scripts/test sets it from scripts/kyverno path)")
	}
	t.Skip("no Kyverno CLI: set PROVENANT_KYVERNO_BIN=$(scripts/kyverno path)")
	return ""
}

// kyvernoTUF makes a TUF cache in a fresh folder that serves trustedRoot to
// Kyverno, and returns the folder (Kyverno's TUF_ROOT).
func kyvernoTUF(t *testing.T, trustedRoot []byte) string {
	t.Helper()
	repo := tuftest.New(t, trustedRoot, time.Now().AddDate(0, 0, 7))
	dir := t.TempDir()
	t.Setenv("TUF_ROOT", dir) // sigstore/sigstore's TUF client reads only this
	if err := tufv1.Initialize(context.Background(), repo.URL(), repo.Root); err != nil {
		t.Fatalf("initialising Kyverno's TUF cache: %v", err)
	}
	return dir
}

// podFile writes a Pod manifest running image.
func podFile(t *testing.T, dir, podName string, image name.Digest) string {
	t.Helper()
	p := filepath.Join(dir, podName+".yaml")
	text := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + podName + "\n  namespace: default\nspec:\n  containers:\n  - name: app\n    image: " + image.String() + "\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestE2EKyverno(t *testing.T) {
	s := needStack(t)
	kyverno := kyvernoPath(t)
	doc, err := kyvernoDocCases(readKyvernoDoc(t)) // the cases, with the messages the doc quotes
	if err != nil {
		t.Fatal(err)
	}
	inst := s.instanceDir(t, "signing_config.json", nil)
	trustedRoot, err := os.ReadFile(filepath.Join(inst, "trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	tufRoot := kyvernoTUF(t, trustedRoot)
	// distribution keeps referrers in the referrers tag schema, which
	// Kyverno's go-containerregistry reads as well as the API.
	reg := registrytest.Start(t, registrytest.Options{})

	attested := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
	unattested := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
	elsewhere := registrytest.PushRandomImage(t, reg.Host, "octo/app", nil)
	attest := func(img name.Digest, claims string) []byte {
		t.Helper()
		st := s.ociStep(t, inst, reg.Host)
		if claims != "" {
			st.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = s.tokenURL + "&claims=" + url.QueryEscape(claims)
			st.env["GITHUB_REPOSITORY"] = "octo-org/other"
		}
		st.env["INPUT_SUBJECT-NAME"] = img.Context().Name()
		st.env["INPUT_SUBJECT-DIGEST"] = img.DigestStr()
		if stdout, stderr, code := st.run("attest"); code != 0 {
			t.Fatalf("attest %s: exit %d\n%s\n%s", img, code, stdout, stderr)
		}
		raw, err := os.ReadFile(st.outputs()["bundle-path"])
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// Kyverno 1.15.2 parses bundles with sigstore-go v0.6.2, which refuses
	// a log entry at index 0 ("nil value in transaction log entry"): on a
	// fresh stack's log, one attestation goes first to take that index.
	attest(registrytest.PushRandomImage(t, reg.Host, "octo/first", nil), "")
	// Rekor v2 entries have no integrated time, which sigstore-go v0.6.2
	// refuses for the same reason: Kyverno 1.15.2 cannot read them.
	rekorV2 := !strings.Contains(string(attest(attested, "")), `"integratedTime"`)
	// Signed by a workflow of another repository, about a build of it.
	attest(elsewhere, `{"repository":"octo-org/other","repository_id":"9999","sub":"repo:octo-org/other:ref:refs/heads/main","job_workflow_ref":"octo-org/other/.github/workflows/release.yml@refs/heads/main","workflow_ref":"octo-org/other/.github/workflows/release.yml@refs/heads/main"}`)

	// The gate: a verify step (a job with a token) verifies the images and
	// pushes a signed VSA of each verdict beside them, PASSED for the
	// attested image and FAILED for the unattested one.
	gate := func(img name.Digest, wantCode int) {
		t.Helper()
		st := s.ociStep(t, inst)
		stdout, stderr, code := st.run("verify", "--trusted-root", filepath.Join(inst, "trusted_root.json"), "--cert-oidc-issuer", s.issuer,
			"--repo", oidctest.DefaultRepository, "--vsa-out", filepath.Join(st.temp, "vsa"), "--push-vsa", "oci://"+img.String())
		if code != wantCode || !strings.Contains(stderr, "pushed the VSA of "+img.String()) {
			t.Fatalf("verify --push-vsa %s: exit %d, want %d\n%s\n%s", img, code, wantCode, stdout, stderr)
		}
	}
	gate(attested, exitOK)
	gate(unattested, exitFailed)

	work := t.TempDir()
	writePolicy := func(file string, extra ...string) string {
		t.Helper()
		policy := filepath.Join(work, file)
		st := s.ociStep(t, inst)
		args := append([]string{"policy", "kyverno", "--repo", oidctest.DefaultRepository,
			"--image", reg.Host + "/octo/*", "--certificate-oidc-issuer", s.issuer, "--output", policy}, extra...)
		if stdout, stderr, code := st.run(args...); code != 0 {
			t.Fatalf("policy kyverno: exit %d\n%s\n%s", code, stdout, stderr)
		}
		return policy
	}
	anyRef := writePolicy("policy.yaml")
	// The stack's jobs run on refs/heads/main: a policy for release tags
	// refuses them by the signer's SAN (workflow@refs/heads/main), the
	// repository being right.
	tagsOnly := writePolicy("tags.yaml", "--source-ref", "refs/tags/v*")
	// Admission on the gate's VSA (signed by the stack job's workflow).
	onVSA := writePolicy("vsa.yaml", "--verifier-id", verifier.VerifierID, "--signer-workflow", strings.Split(oidctest.DefaultWorkflowRef, "@")[0])
	if rekorV2 {
		// By design: Kyverno 1.15.2 parses bundles with sigstore-go v0.6.2,
		// which refuses a Rekor v2 entry (no integrated time), so no image
		// can be admitted on this run, and refusals without an admission in
		// the same run would pass vacuously. Admission is tested on the
		// Rekor v1 run; provenant admission serve admits Rekor v2 bundles.
		t.Skip("Kyverno 1.15.2 cannot read Rekor v2 entries: admission through Kyverno is tested on the Rekor v1 run only")
	}
	apply := func(policy, pod string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, kyverno, "apply", policy, "--resource", pod, "--registry")
		cmd.Env = append(os.Environ(), "TUF_ROOT="+tufRoot, "HOME="+work, "DOCKER_CONFIG="+work)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	images := map[string]name.Digest{"attested": attested, "unattested": unattested, "elsewhere": elsewhere}
	policies := map[string]string{"any ref": anyRef, "`--ref 'refs/tags/v*'`": tagsOnly, "VSA": onVSA}
	for i, c := range doc {
		t.Run(c.name, func(t *testing.T) {
			image, policy := images[c.image], policies[c.policy]
			if policy == "" {
				t.Fatalf("no policy %q", c.policy)
			}
			out, err := apply(policy, podFile(t, work, fmt.Sprintf("pod-%d", i), image))
			// Kyverno also applies the rules it generates for Pod
			// controllers; for a Pod only the Pod rule runs.
			passed := !strings.Contains(out, "pass: 0,") && strings.Contains(out, "fail: 0,") && strings.Contains(out, "error: 0,")
			failed := !strings.Contains(out, "fail: 0,") && strings.Contains(out, "pass: 0,")
			switch {
			case c.admit && (!passed || err != nil):
				t.Fatalf("kyverno apply refused the attested image %s: %v\n%s", image, err, out)
			case !c.admit && (!failed || err == nil):
				t.Fatalf("kyverno apply did not refuse %s (want pass: 0 and failures, exit 1): %v\n%s", image, err, out)
			}
			for _, q := range c.quotes {
				if !strings.Contains(out, q) {
					t.Errorf("docs/kyverno.md quotes %q for this case, which kyverno apply did not say:\n%s", q, out)
				}
			}
			t.Logf("kyverno apply (%s): %s", c.name, firstLines(out, 12))
		})
	}
}

// kyvernoCase is one `kyverno apply` of TestE2EKyverno.
type kyvernoCase struct {
	name   string   // as docs/kyverno.md's table names it
	policy string   // the policy, by the table's name for it
	image  string   // the test's name for the image
	admit  bool     // whether Kyverno admits it
	quotes []string // Kyverno's messages the doc quotes (with docs)
}

// kyvernoE2ECases are TestE2EKyverno's cases, in order; docs/kyverno.md
// lists the same in its table, with the messages Kyverno prints.
var kyvernoE2ECases = []kyvernoCase{
	{name: "attested by the source's workflow", policy: "any ref", image: "attested", admit: true},
	{name: "not attested", policy: "any ref", image: "unattested"},
	{name: "attested by another repository's workflow", policy: "any ref", image: "elsewhere"},
	{name: "attested from a branch, policy wants tags", policy: "`--ref 'refs/tags/v*'`", image: "attested"},
	{name: "VSA mode: a PASSED VSA from the gate", policy: "VSA", image: "attested", admit: true},
	{name: "VSA mode: a FAILED VSA from the gate", policy: "VSA", image: "unattested"},
	{name: "VSA mode: no VSA", policy: "VSA", image: "elsewhere"},
}

// kyvernoDocQuote is a message quoted in the table's Kyverno column.
var kyvernoDocQuote = regexp.MustCompile(`"([^"]+)"`)

// kyvernoDocCases is kyvernoE2ECases with the quotes of docs/kyverno.md's
// table (section "Tested with the real Kyverno CLI", columns case, policy,
// Kyverno: "admitted: " or "refused: " then the quoted messages). It is an
// error unless the table lists exactly these cases, in order, with the same
// policy and verdict, each with a quote.
func kyvernoDocCases(doc string) ([]kyvernoCase, error) {
	_, section, ok := strings.Cut(doc, "\n## Tested with the real Kyverno CLI\n")
	if !ok {
		return nil, errors.New(`docs/kyverno.md: no section "Tested with the real Kyverno CLI"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows [][]string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| case |") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 {
			return nil, fmt.Errorf("docs/kyverno.md: a table row of %d cells, want 3 (case, policy, Kyverno): %s", len(cells), line)
		}
		rows = append(rows, cells)
	}
	if len(rows) != len(kyvernoE2ECases) {
		return nil, fmt.Errorf("docs/kyverno.md: %d cases in the table, TestE2EKyverno runs %d", len(rows), len(kyvernoE2ECases))
	}
	cases := make([]kyvernoCase, len(rows))
	for i, r := range rows {
		c := kyvernoE2ECases[i]
		verdict := "refused: "
		if c.admit {
			verdict = "admitted: "
		}
		if r[0] != c.name || r[1] != c.policy || !strings.HasPrefix(r[2], verdict) {
			return nil, fmt.Errorf("docs/kyverno.md: table row %d is %q, want case %q, policy %q, Kyverno %q…", i+1, r, c.name, c.policy, verdict)
		}
		for _, m := range kyvernoDocQuote.FindAllStringSubmatch(r[2], -1) {
			c.quotes = append(c.quotes, m[1])
		}
		if len(c.quotes) == 0 {
			return nil, fmt.Errorf("docs/kyverno.md: table row %d (%s) quotes no message", i+1, c.name)
		}
		cases[i] = c
	}
	return cases, nil
}

// readKyvernoDoc is docs/kyverno.md, by this file's own path.
func readKyvernoDoc(t *testing.T) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(self), "docs", "kyverno.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// TestKyvernoDocTable: docs/kyverno.md's table of TestE2EKyverno's cases
// is the test's (which then checks each quote against Kyverno's output),
// and the reading fails on a table that is not.
func TestKyvernoDocTable(t *testing.T) {
	doc := readKyvernoDoc(t)
	cases, err := kyvernoDocCases(doc)
	if err != nil {
		t.Fatal(err)
	}
	// The doc says "the verification did not pass" is the message of the
	// policy's VSA condition: the policy provenant writes has it, and the
	// FAILED VSA case quotes it after Kyverno's prefix.
	const vsaMessage = "the verification did not pass"
	code, out, errOut := runIn(t, nil, "policy", "kyverno", "--repo", "octo-org/octo-repo", "--image", "ghcr.io/octo-org/*",
		"--verifier-id", verifier.VerifierID, "--signer-workflow", "octo-org/octo-repo/.github/workflows/gate.yml")
	if code != exitOK || !strings.Contains(out, "message: "+vsaMessage+"\n") {
		t.Errorf("policy kyverno --verifier-id: exit %d, no condition message %q\n%s\n%s", code, vsaMessage, out, errOut)
	}
	if !strings.Contains(doc, `"`+vsaMessage+`" is the message of the policy's`) {
		t.Errorf("docs/kyverno.md no longer says %q is the policy's message: update this test", vsaMessage)
	}
	if got := cases[5].quotes; !slices.Contains(got, "predicate https://slsa.dev/verification_summary/v1: "+vsaMessage) {
		t.Errorf("the FAILED VSA case quotes %q, want Kyverno's prefix and %q", got, vsaMessage)
	}
	for _, edit := range []struct{ name, from, to string }{
		{"a case renamed", "| not attested |", "| unattested |"},
		{"a verdict changed", "| VSA | admitted:", "| VSA | refused:"},
		{"a policy changed", "| `--ref 'refs/tags/v*'` |", "| any ref |"},
		{"a row without a quote", `| VSA | refused: "attestation checks failed", "predicate https://slsa.dev/verification_summary/v1: the verification did not pass", "unverified image" |`, "| VSA | refused: the verification did not pass |"},
		{"a row missing", "| VSA mode: no VSA |", "VSA mode: no VSA |"},
	} {
		t.Run(edit.name, func(t *testing.T) {
			bad := strings.Replace(doc, edit.from, edit.to, 1)
			if bad == doc {
				t.Fatalf("the doc has no %q", edit.from)
			}
			if _, err := kyvernoDocCases(bad); err == nil {
				t.Errorf("the table with %s was read as the test's", edit.name)
			} else {
				t.Log(err)
			}
		})
	}
}
