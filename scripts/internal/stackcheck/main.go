// Command stackcheck checks that the trusted root and signing configs written
// by scripts/sigstore-stack load with sigstore-go and name the services the
// stack runs. It is run by the script once the stack is up.
//
//	stackcheck -dir "$SIGSTORE_DIR" -rekor v1|v2|both
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

func main() {
	dir := flag.String("dir", os.Getenv("SIGSTORE_DIR"), "folder holding trusted_root.json and signing_config*.json")
	rekor := flag.String("rekor", "v1", "which Rekor the stack runs: v1, v2 or both")
	flag.Parse()
	if err := check(*dir, *rekor); err != nil {
		fmt.Fprintln(os.Stderr, "stackcheck:", err)
		os.Exit(1)
	}
}

func check(dir, rekor string) error {
	now := time.Now()
	tr, err := root.NewTrustedRootFromPath(filepath.Join(dir, "trusted_root.json"))
	if err != nil {
		return fmt.Errorf("trusted_root.json: %w", err)
	}
	if n := len(tr.FulcioCertificateAuthorities()); n != 1 {
		return fmt.Errorf("trusted_root.json: %d certificate authorities, want 1", n)
	}
	if n := len(tr.CTLogs()); n != 1 {
		return fmt.Errorf("trusted_root.json: %d CT logs, want 1", n)
	}
	if n := len(tr.TimestampingAuthorities()); n != 1 {
		return fmt.Errorf("trusted_root.json: %d timestamping authorities, want 1", n)
	}
	wantLogs := 1
	if rekor == "both" {
		wantLogs = 2
	}
	if n := len(tr.RekorLogs()); n != wantLogs {
		return fmt.Errorf("trusted_root.json: %d Rekor logs, want %d", n, wantLogs)
	}
	for id, l := range tr.RekorLogs() {
		if _, err := hex.DecodeString(id); err != nil || l.BaseURL == "" {
			return fmt.Errorf("trusted_root.json: Rekor log %q has no baseUrl or a bad logId", id)
		}
		if !l.ValidityPeriodStart.Before(now) {
			return fmt.Errorf("trusted_root.json: Rekor log %s not yet valid", l.BaseURL)
		}
	}
	for _, ca := range tr.FulcioCertificateAuthorities() {
		fca, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok || fca.Root == nil {
			return fmt.Errorf("trusted_root.json: Fulcio CA without root certificate")
		}
	}

	type want struct {
		file     string
		tlogVers []uint32 // empty: no Rekor in this config
		tsa      bool
	}
	wants := []want{{file: "signing_config-tsa-only.json", tsa: true}}
	v1 := want{file: "signing_config-rekor-v1.json", tlogVers: []uint32{1}}
	v2 := want{file: "signing_config-rekor-v2.json", tlogVers: []uint32{2}, tsa: true}
	switch rekor {
	case "v1":
		wants = append(wants, v1, want{"signing_config.json", v1.tlogVers, v1.tsa})
	case "v2":
		wants = append(wants, v2, want{"signing_config.json", v2.tlogVers, v2.tsa})
	case "both":
		wants = append(wants, v1, v2, want{"signing_config.json", v2.tlogVers, v2.tsa})
	default:
		return fmt.Errorf("unknown -rekor %q", rekor)
	}
	for _, w := range wants {
		sc, err := root.NewSigningConfigFromPath(filepath.Join(dir, w.file))
		if err != nil {
			return fmt.Errorf("%s: %w", w.file, err)
		}
		ca, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), []uint32{1}, now)
		if err != nil {
			return fmt.Errorf("%s: Fulcio: %w", w.file, err)
		}
		msg := fmt.Sprintf("%s: Fulcio %s", w.file, ca.URL)
		if len(w.tlogVers) > 0 {
			s, err := root.SelectService(sc.RekorLogURLs(), w.tlogVers, now)
			if err != nil {
				return fmt.Errorf("%s: Rekor: %w", w.file, err)
			}
			msg += fmt.Sprintf(", Rekor v%d %s", s.MajorAPIVersion, s.URL)
			found := false
			for _, l := range tr.RekorLogs() {
				found = found || l.BaseURL == s.URL
			}
			if !found {
				return fmt.Errorf("%s: Rekor %s is not in trusted_root.json", w.file, s.URL)
			}
		} else if len(sc.RekorLogURLs()) != 0 {
			return fmt.Errorf("%s: names a Rekor log, want none", w.file)
		}
		if w.tsa {
			s, err := root.SelectService(sc.TimestampAuthorityURLs(), []uint32{1}, now)
			if err != nil {
				return fmt.Errorf("%s: TSA: %w", w.file, err)
			}
			msg += ", TSA " + s.URL
		} else if len(sc.TimestampAuthorityURLs()) != 0 {
			return fmt.Errorf("%s: names a TSA, want none", w.file)
		}
		fmt.Println(msg)
	}
	fmt.Printf("trusted_root.json: %d CA, %d CT log, %d Rekor log(s), %d TSA: ok\n",
		len(tr.FulcioCertificateAuthorities()), len(tr.CTLogs()), len(tr.RekorLogs()), len(tr.TimestampingAuthorities()))
	return nil
}
