package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/provenant/provenant/admission/admissiontest"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/trust"
	"github.com/provenant/provenant/verifier"
)

// The attack fixtures (testdata/attacks/README.md): bundles signed by a
// throw-away Sigstore instance for demo-linux-amd64.
const (
	attackDir    = "../testdata/attacks/"
	attackDigest = "sha256:a642f947c85314f251608a553a8f28fb3ac7726c03bed240588216e37dd3d37a"
)

// fixtureRegistry hands the same bundle files as referrers of any image.
type fixtureRegistry struct{ files []string }

func (f fixtureRegistry) Each(_ context.Context, img name.Digest, _ remote.FetchOptions, fn func(remote.OCIBundle) error) ([]string, error) {
	for _, p := range f.files {
		data, err := os.ReadFile(attackDir + p)
		if err != nil {
			return nil, err
		}
		if err := fn(remote.OCIBundle{Source: "oci://" + img.Context().String() + "/" + p, Bundle: data}); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// TestCheckerRealVerification: with the real verifier.Verify, trusted
// root and signed bundles, the checker admits the source repository's
// own provenance, refuses the recreated repository's by the policy file's
// repository-id (as verify --policy does), and refuses a bundle that is
// not about the image's digest.
func TestCheckerRealVerification(t *testing.T) {
	roots, err := trust.LoadTrustedRoots(attackDir + "trusted_root.json")
	if err != nil {
		t.Fatal(err)
	}
	policy := verifier.Policy{Repo: "provenant/demo", CertIdentityRegexp: "https://github.com/(provenant/demo|github/artifact-attestations-workflows)/.*"}
	pinID := []byte("source:\n  repo: provenant/demo\n  repository-id: \"123456\"\n")
	tests := []struct {
		name        string
		files       []string
		digest      string
		policyFile  []byte
		wantAllowed bool
		wantCheck   string
	}{
		{"the repository's own provenance", []string{"provenance-own.sigstore.json"}, attackDigest, nil, true, ""},
		{"own beside recreated, repository-id pinned", []string{"recreated-repo-l3.sigstore.json", "provenance-own.sigstore.json"}, attackDigest, pinID, true, ""},
		{"recreated repository alone, repository-id pinned", []string{"recreated-repo-l3.sigstore.json"}, attackDigest, pinID, false, "policy rule source.repository-id"},
		{"another image's digest", []string{"provenance-own.sigstore.json"}, digestOf("0"), nil, false, "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewChecker(CheckerOptions{Registry: fixtureRegistry{tt.files}, TrustedRoots: roots, Policy: policy, PolicyFile: tt.policyFile})
			if err != nil {
				t.Fatal(err)
			}
			img, err := name.NewDigest("registry.example/provenant/demo@" + tt.digest)
			if err != nil {
				t.Fatal(err)
			}
			v := c.Verify(context.Background(), img, func(string) {})
			if v.Allowed != tt.wantAllowed || v.Check != tt.wantCheck {
				t.Fatalf("verdict %+v, want allowed %v, check %q", v, tt.wantAllowed, tt.wantCheck)
			}
			if v.Allowed && (!slices.Equal(v.SourceRepositoryIDs, []string{"123456"}) || len(v.Signers) != 1 || !strings.Contains(v.Signers[0], "provenant/demo")) {
				t.Errorf("the verdict's facts for the revocation list: signers %q, source ids %q", v.Signers, v.SourceRepositoryIDs)
			}
		})
	}
}

// TestServeReload: through Serve over TLS with the real verifier, an
// image admitted under one policy is denied at once after a reload to a
// policy it does not meet (no stale allow from the cache), and admitted
// again after a reload back.
func TestServeReload(t *testing.T) {
	roots, err := trust.LoadTrustedRoots(attackDir + "trusted_root.json")
	if err != nil {
		t.Fatal(err)
	}
	checkerFor := func(repo string) *Checker {
		c, err := NewChecker(CheckerOptions{Registry: fixtureRegistry{[]string{"provenance-own.sigstore.json"}}, TrustedRoots: roots, RootDigest: "sha256:attack-root",
			Policy: verifier.Policy{Repo: repo, CertIdentityRegexp: "https://github.com/" + repo + "/.*"}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	certFile, keyFile, pool := admissiontest.ServingCert(t)
	reload := make(chan *Checker)
	addr := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Config{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile, FS: OSFileSystem{},
			Checker: checkerFor("provenant/demo"), Resolver: &fakeResolver{}, Reload: reload, Ready: func(a net.Addr) { addr <- a }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	var url string
	select {
	case a := <-addr:
		url = "https://" + a.String() + "/validate"
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	image := pod("registry.example/provenant/demo@" + attackDigest)
	steps := []struct {
		reload      string
		wantAllowed bool
	}{
		{"", true},
		{"", true}, // from the cache
		{"other/repo", false},
		{"provenant/demo", true},
	}
	for i, st := range steps {
		if st.reload != "" {
			reload <- checkerFor(st.reload)
			reload <- nil // returns once the reload above is in force
		}
		resp, err := client.Post(url, "application/json", bytes.NewReader(reviewOf(fmt.Sprint("u", i), podKind, "apps", image)))
		if err != nil {
			t.Fatal(err)
		}
		var out admissionv1.AdmissionReview
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || out.Response == nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if out.Response.Allowed != st.wantAllowed {
			t.Errorf("step %d (reload %q): allowed %v, want %v: %s", i, st.reload, out.Response.Allowed, st.wantAllowed, message(&out))
		}
	}
}
