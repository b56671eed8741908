package trust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
)

func TestChoose(t *testing.T) {
	const dotcom, ghes, ghec = "https://github.com", "https://ghes.example.com", "https://octo.ghe.com"
	tests := []struct {
		which, visibility, server, want, wantErr string
	}{
		{"auto", "public", dotcom, PublicGood, ""},
		{"", "public", dotcom, PublicGood, ""},
		{"auto", "private", dotcom, GitHub, ""},
		{"auto", "internal", dotcom, GitHub, ""},
		{"AUTO", "public", dotcom, PublicGood, ""},
		{"auto", "", dotcom, "", "no repository_visibility claim"},
		{"auto", "secret", dotcom, "", "unknown repository_visibility"},
		{"public-good", "public", dotcom, PublicGood, ""},
		{"github", "public", dotcom, GitHub, ""},
		{"/etc/sigstore/acme", "public", dotcom, "/etc/sigstore/acme", ""},
		{"auto", "private", ghec, GitHub, ""},
		{"auto", "public", ghec, GitHub, ""},
		{"/etc/sigstore/acme", "public", ghes, "/etc/sigstore/acme", ""},
	}
	for _, tt := range tests {
		got, err := Choose(tt.which, tt.visibility, tt.server)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Choose(%q, %q, %q) error = %v, want %q", tt.which, tt.visibility, tt.server, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Choose(%q, %q, %q) = %q, %v; want %q", tt.which, tt.visibility, tt.server, got, err, tt.want)
		}
	}
}

func TestChoose_PrivateRepositoryOnPublicGoodIsRefused(t *testing.T) {
	tests := []struct{ which, visibility, server string }{
		{"public-good", "private", "https://github.com"},
		{"public-good", "internal", "https://github.com"},
		{"public-good", "", "https://github.com"},
		{"PUBLIC-GOOD", "private", "https://github.com"},
		{"public-good", "public", "https://ghes.example.com"},
		{"public-good", "public", "https://octo.ghe.com"},
		{"auto", "public", "https://ghes.example.com"},
		{"auto", "private", "https://ghes.example.com"},
	}
	for _, tt := range tests {
		got, err := Choose(tt.which, tt.visibility, tt.server)
		if err == nil {
			t.Errorf("Choose(%q, %q, %q) = %q, want a refusal", tt.which, tt.visibility, tt.server, got)
		}
	}
}

func TestGitHubSigningConfig(t *testing.T) {
	sc, err := GitHubSigningConfig()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), []uint32{1}, now)
	if err != nil || ca.URL != GitHubFulcioURL {
		t.Errorf("Fulcio = %v, %v", ca.URL, err)
	}
	tsas, err := root.SelectServices(sc.TimestampAuthorityURLs(), sc.TimestampAuthorityURLsConfig(), []uint32{1}, now)
	if err != nil || len(tsas) != 1 || tsas[0].URL != GitHubTSAURL {
		t.Errorf("TSA = %v, %v", tsas, err)
	}
	if len(sc.RekorLogURLs()) != 0 {
		t.Errorf("GitHub's instance has no transparency log, config names %v", sc.RekorLogURLs())
	}
	if len(githubTUFRoot) == 0 {
		t.Error("no embedded GitHub TUF root")
	}
}

func TestLoadDirErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing folder: no error")
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "signing config") {
		t.Errorf("empty folder: error = %v", err)
	}
	sc, _ := GitHubSigningConfig()
	data, _ := sc.MarshalJSON()
	os.WriteFile(filepath.Join(dir, "signing_config.json"), data, 0o644)
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "trusted root") {
		t.Errorf("no trusted root: error = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "trusted_root.json"), []byte(`{"mediaType": "nope"}`), 0o644)
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "trusted root") {
		t.Errorf("bad trusted root: error = %v", err)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	sc, _ := GitHubSigningConfig()
	data, _ := sc.MarshalJSON()
	os.WriteFile(filepath.Join(dir, "signing_config.json"), data, 0o644)
	tr, err := os.ReadFile("../testdata/fixtures/trusted-roots/public-good-cli.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "trusted_root.json"), tr, 0o644)
	for _, p := range []string{dir, filepath.Join(dir, "signing_config.json")} {
		inst, err := LoadDir(p)
		if err != nil {
			t.Fatalf("LoadDir(%s): %v", p, err)
		}
		if len(inst.TrustedRoot.FulcioCertificateAuthorities()) == 0 || len(inst.SigningConfig.TimestampAuthorityURLs()) != 1 {
			t.Errorf("LoadDir(%s) = %+v", p, inst)
		}
	}
}

// TestPublicGoodAsGitHubSigns: of a public-good signing config naming Rekor
// v1, Rekor v2 and a TSA, signing uses Fulcio and Rekor v1 only.
func TestPublicGoodAsGitHubSigns(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	anyOne := root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY}
	sc, err := root.NewSigningConfig(root.SigningConfigMediaType02,
		[]root.Service{{URL: "https://fulcio.sigstore.dev", MajorAPIVersion: 1, ValidityPeriodStart: start}},
		nil,
		[]root.Service{
			{URL: "https://rekor.sigstore.dev", MajorAPIVersion: 1, ValidityPeriodStart: start},
			{URL: "https://log2025-1.rekor.sigstore.dev", MajorAPIVersion: 2, ValidityPeriodStart: start},
		}, anyOne,
		[]root.Service{{URL: "https://timestamp.sigstore.dev/api/v1/timestamp", MajorAPIVersion: 1, ValidityPeriodStart: start}}, anyOne)
	if err != nil {
		t.Fatal(err)
	}
	sc = publicGoodAsGitHubSigns(sc)
	if n := len(sc.TimestampAuthorityURLs()); n != 0 {
		t.Errorf("%d timestamp authorities kept", n)
	}
	logs, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), []uint32{1}, time.Now())
	if err != nil || len(logs) != 1 || logs[0].URL != "https://rekor.sigstore.dev" {
		t.Errorf("logs = %v, %v", logs, err)
	}
}

// TestNewVerifierRequirements: verification requires what the instance
// provides (a log entry for public-good); a verifier requiring no signature
// time at all is refused.
func TestNewVerifierRequirements(t *testing.T) {
	roots, err := LoadTrustedRoots("../testdata/fixtures/trusted-roots/public-good-cli.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := RequirementsOf(roots[0].Root); got != (Requirements{TransparencyLog: true}) {
		t.Errorf("RequirementsOf(public-good) = %+v", got)
	}
	if _, err := NewVerifier(roots[0].Root, RequirementsOf(roots[0].Root)); err != nil {
		t.Error(err)
	}
	if _, err := NewVerifier(roots[0].Root, Requirements{}); err == nil {
		t.Error("a verifier requiring no signature time was built")
	}
}

// TestTrustFilesAreReadThroughALimit: a trusted root (--trusted-root, or
// in a --sigstore folder) and a signing config are regular files of at
// most MaxTrustedRootFileSize bytes; a larger file, a device that never
// ends and a folder are each refused with an error naming the file,
// before they are read whole.
func TestTrustFilesAreReadThroughALimit(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxTrustedRootFileSize + 1) // sparse
	f.Close()
	for _, tc := range []struct{ path, want string }{
		{big, "larger than the 16 MiB limit"},
		{"/dev/zero", "a device"},
		{dir, "a folder"},
	} {
		_, err := LoadTrustedRoots(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadTrustedRoots(%s): %v, want an error naming it and saying %q", tc.path, err, tc.want)
		}
	}
	sc, _ := GitHubSigningConfig()
	data, _ := sc.MarshalJSON()
	folder := filepath.Join(dir, "stack")
	os.Mkdir(folder, 0o755)
	os.Link(big, filepath.Join(folder, "signing_config.json"))
	if _, err := LoadDir(folder); err == nil || !strings.Contains(err.Error(), "signing_config.json") || !strings.Contains(err.Error(), "16 MiB") {
		t.Errorf("a signing config over the limit: %v", err)
	}
	os.Remove(filepath.Join(folder, "signing_config.json"))
	os.WriteFile(filepath.Join(folder, "signing_config.json"), data, 0o644)
	os.Link(big, filepath.Join(folder, "trusted_root.json"))
	if _, err := LoadDir(folder); err == nil || !strings.Contains(err.Error(), "trusted_root.json") || !strings.Contains(err.Error(), "16 MiB") {
		t.Errorf("a trusted root over the limit: %v", err)
	}
}
