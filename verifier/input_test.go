package verifier

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/trust"
)

func TestParseAttestations(t *testing.T) {
	bundle := string(mustRead(t, fx("npm/sigstore-js-2.1.0-bundle.json")))
	oneLine := strings.ReplaceAll(strings.ReplaceAll(bundle, "\n", ""), "\r", "")
	tests := []struct {
		name    string
		data    string
		sources []string
		errs    []string // "" for a parsed bundle
	}{
		{"pretty JSON", bundle, []string{"f"}, []string{""}},
		{"BOM and blank lines", "\xef\xbb\xbf\n" + bundle + "\n\n", []string{"f"}, []string{""}},
		{"JSON Lines", oneLine + "\n\n" + oneLine + "\n", []string{"f:1", "f:3"}, []string{"", ""}},
		{"JSON Lines with a bad line", oneLine + "\n{not json\n", []string{"f:1", "f:2"}, []string{"", "not JSON"}},
		{"unknown media type", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.9+json"}`, []string{"f"}, []string{"not a usable Sigstore bundle"}},
		{"bare DSSE", `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`, []string{"f"}, []string{"looked up online"}},
		{"unsigned statement", `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, []string{"f"}, []string{"unsigned in-toto statement"}},
		{"empty", "  \n", []string{"f"}, []string{"empty file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseAttestations("f", []byte(tc.data))
			if len(got) != len(tc.sources) {
				t.Fatalf("%d attestations, want %d: %+v", len(got), len(tc.sources), got)
			}
			for i, a := range got {
				if a.Source != tc.sources[i] {
					t.Errorf("source %q, want %q", a.Source, tc.sources[i])
				}
				switch {
				case tc.errs[i] == "" && (a.Err != nil || a.Bundle == nil):
					t.Errorf("entry %d: %v", i, a.Err)
				case tc.errs[i] != "" && (a.Err == nil || !strings.Contains(a.Err.Error(), tc.errs[i])):
					t.Errorf("entry %d: error %v, want %q", i, a.Err, tc.errs[i])
				}
			}
		})
	}
	if a := ParseAttestations("f", []byte(`{"payloadType":"x","payload":"","signatures":[]}`)); !errors.Is(a[0].Err, ErrOnlineLookupRequired) {
		t.Errorf("bare DSSE: %v", a[0].Err)
	}
}

func TestParseTrustedRootsErrors(t *testing.T) {
	for _, data := range []string{"", "{}", "[1]\n[2]", `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}` + "\nnot json"} {
		if _, err := trust.ParseTrustedRoots("tr", []byte(data)); err == nil {
			t.Errorf("trust.ParseTrustedRoots(%q) accepted", data)
		}
	}
}

func TestArtifactFromDigest(t *testing.T) {
	good := "sha256:" + strings.Repeat("ab", 32)
	if a, err := ArtifactFromDigest(good); err != nil || a.String() != good {
		t.Errorf("%q: %v %q", good, err, a.String())
	}
	for _, bad := range []string{"sha256:abc", "sha1:" + strings.Repeat("ab", 20), "sha256" + strings.Repeat("ab", 32), "sha512:" + strings.Repeat("zz", 64)} {
		var ie *InputError
		if _, err := ArtifactFromDigest(bad); !errors.As(err, &ie) {
			t.Errorf("%q: %v, want *InputError", bad, err)
		}
	}
}

// TestBundleDirName: with BundleDirName, every name a report gives the
// folder's entries (asset, bundle source, a missing attestation, an entry
// not verified, an unreadable bundle) is the given name, never the folder's
// path: a release downloaded into a temporary folder is reported as
// "release TAG/ASSET" where it is read, with nothing relabelled after.
func TestBundleDirName(t *testing.T) {
	dir := t.TempDir()
	tgz := mustRead(t, fx("npm/sigstore-js-2.1.0.tgz"))
	mustWrite(t, filepath.Join(dir, "sigstore-2.1.0.tgz"), tgz)
	mustWrite(t, filepath.Join(dir, "sigstore-2.1.0.tgz.sigstore.json"), mustRead(t, fx("npm/sigstore-js-2.1.0-bundle.json")))
	mustWrite(t, filepath.Join(dir, "notes.txt"), []byte("no attestation"))
	mustWrite(t, filepath.Join(dir, "sub", "x"), []byte("a folder"))
	mustWrite(t, filepath.Join(dir, "other.intoto.jsonl"), []byte("{not json\n"))
	rep, err := Verify(context.Background(), Options{
		BundleDir: dir, BundleDirName: "release v1", TrustedRoots: mustLoadRoots(t, fx("trusted-roots/public-good-2023.json")),
		Policy: Policy{SourceURI: "github.com/sigstore/sigstore-js"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := text(rep)
	for _, want := range []string{"release v1/sigstore-2.1.0.tgz", "release v1/sigstore-2.1.0.tgz.sigstore.json", "release v1/notes.txt", "no attestation found in release v1", "release v1/sub", "release v1/other.intoto.jsonl"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, dir) {
		t.Errorf("the report names the folder's path %s:\n%s", dir, out)
	}
}
