package admission

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

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
