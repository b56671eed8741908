// Command tokenservice runs the GitHub-shaped OIDC token service of package
// oidctest on its own, for the local Sigstore stack (scripts/sigstore-stack).
//
//	tokenservice -listen 127.0.0.1:8088 -env-file /tmp/token.env
//
// Once it listens it writes the env file (atomically) with the lines
// OIDC_ISSUER=..., ACTIONS_ID_TOKEN_REQUEST_URL=... and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN=..., then serves until interrupted.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/provenant/provenant/builder/oidctest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	envFile := flag.String("env-file", "", "write the job's variables to this file once listening")
	issuer := flag.String("issuer", "", "issuer URL (default http://<listen address>)")
	flag.Parse()
	if err := serve(*listen, *envFile, *issuer); err != nil {
		fmt.Fprintln(os.Stderr, "tokenservice:", err)
		os.Exit(1)
	}
}

func serve(listen, envFile, issuer string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	if issuer == "" {
		issuer = "http://" + ln.Addr().String()
	}
	s, err := oidctest.New(issuer)
	if err != nil {
		return err
	}
	if envFile != "" {
		env := s.Env()
		text := fmt.Sprintf("OIDC_ISSUER=%s\nACTIONS_ID_TOKEN_REQUEST_URL=%s\nACTIONS_ID_TOKEN_REQUEST_TOKEN=%s\n",
			env["OIDC_ISSUER"], env["ACTIONS_ID_TOKEN_REQUEST_URL"], env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
		tmp := filepath.Join(filepath.Dir(envFile), "."+filepath.Base(envFile)+".tmp")
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, envFile); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "tokenservice: issuer %s listening on %s\n", issuer, ln.Addr())
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		hs.Close()
	}()
	if err := hs.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
