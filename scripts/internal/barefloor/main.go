// Command barefloor is the library's floor for issue 12's benchmarks: what a
// program that only calls sigstore-go costs to verify bundles, so that
// scripts/bench can put provenant's figures beside it in one run. It reads
// the trusted root once, builds one verifier, and verifies each
// ARTIFACT=BUNDLE pair (or every asset of --dir with its .sigstore.json) on
// one worker per core against an exact SAN and issuer. Nothing else: no
// report, no statement parsing, no level.
//
//	barefloor --trusted-root R --san S --issuer I ARTIFACT=BUNDLE...
//	barefloor --trusted-root R --san S --issuer I --dir DIR
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/provenant/provenant/scripts/internal/floor"
)

func main() {
	rootPath := flag.String("trusted-root", "", "trusted_root.json")
	san := flag.String("san", "", "certificate SAN, exactly")
	issuer := flag.String("issuer", "", "OIDC issuer, exactly")
	dir := flag.String("dir", "", "folder of assets, each beside ASSET.sigstore.json")
	flag.Parse()
	pairs, err := inputs(*dir, flag.Args())
	if err == nil && len(pairs) == 0 {
		err = fmt.Errorf("nothing to verify")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "barefloor:", err)
		os.Exit(2)
	}
	tr, err := root.NewTrustedRootFromPath(*rootPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "barefloor:", err)
		os.Exit(2)
	}
	v, err := floor.Verifier(tr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "barefloor:", err)
		os.Exit(2)
	}
	id, err := verify.NewShortCertificateIdentity(*issuer, "", *san, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "barefloor:", err)
		os.Exit(2)
	}
	jobs := make(chan [2]string)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for p := range jobs {
				if err := verifyOne(v, id, p[0], p[1]); err != nil {
					failed.Add(1)
					fmt.Fprintf(os.Stderr, "barefloor: %s: %v\n", p[0], err)
				}
			}
		})
	}
	for _, p := range pairs {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "barefloor: %d of %d failed\n", n, len(pairs))
		os.Exit(1)
	}
	fmt.Printf("%d verified\n", len(pairs))
}

// inputs are the (artifact, bundle) pairs of dir and args.
func inputs(dir string, args []string) ([][2]string, error) {
	var out [][2]string
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if n := e.Name(); !strings.HasSuffix(n, ".sigstore.json") {
				out = append(out, [2]string{filepath.Join(dir, n), filepath.Join(dir, n+".sigstore.json")})
			}
		}
	}
	for _, a := range args {
		art, b, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not ARTIFACT=BUNDLE", a)
		}
		out = append(out, [2]string{art, b})
	}
	return out, nil
}

// verifyOne hashes the artifact and verifies its bundle.
func verifyOne(v *verify.Verifier, id verify.CertificateIdentity, artifact, bundlePath string) error {
	f, err := os.Open(artifact)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return err
	}
	b, err := bundle.LoadJSONFromPath(bundlePath)
	if err != nil {
		return err
	}
	_, err = v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", h.Sum(nil)), verify.WithCertificateIdentity(id)))
	return err
}
