package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provenant/provenant/internal/formats"
	"github.com/provenant/provenant/verifier"
)

// readVSA reads an unsigned VSA statement.
func readVSA(t *testing.T, path string) (subject map[string]string, pred map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string         `json:"predicateType"`
		Predicate     map[string]any `json:"predicate"`
	}
	if err := json.Unmarshal(raw, &st); err != nil || st.PredicateType != verifier.VSAPredicateType || len(st.Subject) != 1 {
		t.Fatalf("%s is not a VSA statement over one subject (%v):\n%s", path, err, raw)
	}
	return st.Subject[0].Digest, st.Predicate
}

// TestVerifyCmd_VSAOut: outside a job the VSAs are written unsigned, for a
// passed and a failed verification alike, and name the policy applied.
func TestVerifyCmd_VSAOut(t *testing.T) {
	tgzSHA := fileDigest(t, npmTgz)
	t.Run("passed, flags policy", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "vsa")
		code, out, errOut := runVerifyIn(t, nil, "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, "--vsa-out", dir, npmTgz)
		if code != exitOK {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		path := filepath.Join(dir, "sigstore-js-2.1.0.tgz.vsa.intoto.json")
		if !strings.Contains(errOut, "wrote "+path+" (VSA PASSED for "+npmTgz+", unsigned)") {
			t.Errorf("log: %s", errOut)
		}
		subj, pred := readVSA(t, path)
		if subj["sha256"] != tgzSHA || pred["verificationResult"] != "PASSED" || pred["resourceUri"] != "sigstore-js-2.1.0.tgz" {
			t.Errorf("subject %v, predicate %v", subj, pred)
		}
		policy := pred["policy"].(map[string]any)
		uri := policy["uri"].(string)
		data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(uri, "data:"+formats.FlagsPolicyMediaType+";base64,"))
		sum := sha256.Sum256(data)
		if err != nil || !strings.Contains(string(data), `"Repo":"sigstore/sigstore-js"`) || policy["digest"].(map[string]any)["sha256"] != hex.EncodeToString(sum[:]) {
			t.Errorf("flags policy %q (%v), digest %v", data, err, policy["digest"])
		}
		if lv := pred["verifiedLevels"].([]any); len(lv) != 1 || lv[0] != "SLSA_BUILD_LEVEL_2" {
			t.Errorf("verifiedLevels %v", lv)
		}
	})
	t.Run("failed, policy file", func(t *testing.T) {
		dir := t.TempDir()
		policy := writePolicy(t, strings.Replace(npmPolicy, "level: 2", "level: 3", 1))
		code, out, errOut := runVerifyIn(t, nil, "--trusted-root", pgRoot, "--policy", policy, "--bundle", npmBundle, "--vsa-out", dir, npmTgz)
		if code != exitFailed {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		_, pred := readVSA(t, filepath.Join(dir, "sigstore-js-2.1.0.tgz.vsa.intoto.json"))
		p := pred["policy"].(map[string]any)
		if pred["verificationResult"] != "FAILED" || p["uri"] != policy || p["digest"].(map[string]any)["sha256"] != fileDigest(t, policy) {
			t.Errorf("predicate %v", pred)
		}
		in := pred["inputAttestations"].([]any)
		if len(in) != 1 || in[0].(map[string]any)["digest"].(map[string]any)["sha256"] != fileDigest(t, npmBundle) {
			t.Errorf("inputAttestations %v", in)
		}
	})
	t.Run("two artifacts of one name get two files", func(t *testing.T) {
		dir, out := t.TempDir(), t.TempDir()
		a := filepath.Join(dir, "a", "sigstore-js-2.1.0.tgz")
		b := filepath.Join(dir, "b", "sigstore-js-2.1.0.tgz")
		for _, p := range []string{a, b} {
			os.MkdirAll(filepath.Dir(p), 0o755)
			data, _ := os.ReadFile(npmTgz)
			os.WriteFile(p, data, 0o644)
		}
		os.WriteFile(b, []byte("not the release"), 0o644)
		code, _, errOut := runVerifyIn(t, nil, "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, "--vsa-out", out, a, b)
		if code != exitFailed {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		entries, _ := os.ReadDir(out)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		bSHA := fileDigest(t, b)
		want := []string{"sigstore-js-2.1.0.tgz-" + bSHA[:12] + ".vsa.intoto.json", "sigstore-js-2.1.0.tgz.vsa.intoto.json"}
		if strings.Join(names, " ") != strings.Join(want, " ") {
			t.Errorf("files %v, want %v", names, want)
		}
		_, pred := readVSA(t, filepath.Join(out, want[0]))
		if pred["verificationResult"] != "FAILED" {
			t.Errorf("the second artifact's VSA says %v", pred["verificationResult"])
		}
	})
}

func fileDigest(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestVerifyCmd_VSAFlags: the VSA flags without --vsa-out, a VSA folder
// that is the bundle directory, signing without a token, and the VSA input
// flags without the VSA predicate type are refused, naming why.
func TestVerifyCmd_VSAFlags(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle}
	tests := []attackCase{
		{"--sign without --vsa-out", append([]string{"--sign"}, append(base, npmTgz)...), exitUsage, "", "--sign needs --vsa-out"},
		{"--sigstore without --vsa-out", append([]string{"--sigstore", "github"}, append(base, npmTgz)...), exitUsage, "", "--sigstore needs --vsa-out"},
		{"--push-vsa without --vsa-out", append([]string{"--push-vsa"}, append(base, npmTgz)...), exitUsage, "", "--push-vsa needs --vsa-out"},
		{"--push-vsa of unsigned VSAs", append([]string{"--push-vsa", "--vsa-out", t.TempDir()}, append(base, npmTgz)...), exitUsage, "", "--push-vsa needs signed VSAs"},
		{"--vsa-out is the bundle dir", []string{"--repo", "sigstore/sigstore-js", "--bundle-dir", dir, "--vsa-out", dir}, exitUsage, "", "is the --bundle-dir"},
		{"--sign without a token", append([]string{"--sign", "--vsa-out", t.TempDir()}, append(base, npmTgz)...), exitFailed, "", "signing the VSAs:"},
		{"--verifier-id without the VSA type", append([]string{"--verifier-id", verifier.VerifierID}, append(base, npmTgz)...), exitUsage, "", "--verifier-id applies to VSAs only"},
		{"VSA type without --verifier-id", append([]string{"--predicate-type", verifier.VSAPredicateType}, append(base, npmTgz)...), exitUsage, "", "needs --verifier-id"},
		{"an unsigned VSA", []string{"--repo", "sigstore/sigstore-js", "--predicate-type", verifier.VSAPredicateType, "--verifier-id", verifier.VerifierID,
			"--bundle", writeUnsignedVSA(t), npmTgz}, exitFailed, "FAIL      1 bundle      an unsigned VSA", ""},
	}
	runAttackCases(t, tests)
}

// writeUnsignedVSA writes the unsigned VSA verify writes of the npm fixture.
func writeUnsignedVSA(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, out, errOut := runVerifyIn(t, nil, "--trusted-root", pgRoot, "--repo", "sigstore/sigstore-js", "--bundle", npmBundle, "--vsa-out", dir, npmTgz); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	return filepath.Join(dir, "sigstore-js-2.1.0.tgz.vsa.intoto.json")
}
