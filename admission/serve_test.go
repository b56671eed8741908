package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/provenant/provenant/admission/admissiontest"
	"github.com/provenant/provenant/remote"
	"github.com/provenant/provenant/verifier"
)

// TestServe: Serve answers over TLS with the certificate given, denies a
// revoked digest from the revocation file, and stops when its context
// ends; what it cannot start with is an error naming the flag.
func TestServe(t *testing.T) {
	certFile, keyFile, pool := admissiontest.ServingCert(t)
	revFile := filepath.Join(t.TempDir(), "revoked.yaml")
	d := digestOf("9")
	if err := os.WriteFile(revFile, []byte("digests: ["+d+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checker, err := NewChecker(CheckerOptions{Registry: remote.NewOCI(remote.OCIOptions{}), TrustedRoots: []verifier.TrustedRoot{{Name: "test"}}, Policy: verifier.Policy{Repo: "o/app"}})
	if err != nil {
		t.Fatal(err)
	}
	base := Config{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile, RevocationFile: revFile, FS: OSFileSystem{},
		Checker: checker, Resolver: &fakeResolver{}}
	tests := []struct {
		name    string
		change  func(c *Config)
		wantErr string
	}{
		{"serves", func(*Config) {}, ""},
		{"no certificate", func(c *Config) { c.TLSCertFile = filepath.Join(t.TempDir(), "none.crt") }, "--tls-cert-file"},
		{"unreadable revocation file", func(c *Config) { c.RevocationFile = filepath.Join(t.TempDir(), "none.yaml") }, "revocation file"},
		{"address in use", func(c *Config) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			c.Addr = ln.Addr().String()
		}, "--addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.change(&cfg)
			addr := make(chan net.Addr, 1)
			cfg.Ready = func(a net.Addr) { addr <- a }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Serve(ctx, cfg) }()
			if tt.wantErr != "" {
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("error %v, want one naming %q", err, tt.wantErr)
					}
				case <-time.After(30 * time.Second):
					t.Fatal("Serve did not fail")
				}
				return
			}
			var a net.Addr
			select {
			case a = <-addr:
			case err := <-done:
				t.Fatalf("Serve: %v", err)
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
			resp, err := client.Get("https://" + a.String() + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("/healthz: %d", resp.StatusCode)
			}
			resp, err = client.Post("https://"+a.String()+"/validate", "application/json", bytes.NewReader(reviewOf("u", podKind, "apps", pod("example.com/app@"+d))))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(body, &out); err != nil || out.Response == nil {
				t.Fatalf("answer %s: %v", body, err)
			}
			if out.Response.Allowed || !strings.Contains(message(&out), "revoked") {
				t.Errorf("a revoked digest: allowed %v, %q", out.Response.Allowed, message(&out))
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve after cancel: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Serve did not stop")
			}
		})
	}
}

// TestCertReload: a renewed certificate written over the files is served
// from the next handshake on, without a restart; a broken pair written
// meanwhile keeps the one before in use.
func TestCertReload(t *testing.T) {
	certFile, keyFile, _ := admissiontest.ServingCert(t)
	r, err := newCertReloader(certFile, keyFile, OSFileSystem{})
	if err != nil {
		t.Fatal(err)
	}
	// serial is the DER of the certificate served.
	serial := func() string {
		c, err := r.get(nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(c.Certificate[0])
	}
	first := serial()
	renewed := func() {
		c2, k2, _ := admissiontest.ServingCert(t)
		for _, p := range [][2]string{{c2, certFile}, {k2, keyFile}} {
			data, err := os.ReadFile(p[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p[1], data, 0o600); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Minute)
			if err := os.Chtimes(p[1], later, later); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name  string
		do    func()
		wantS func(prev string) bool
	}{
		{"unchanged", func() {}, func(prev string) bool { return serial() == prev }},
		{"renewed", renewed, func(prev string) bool { return serial() != prev }},
		{"broken key", func() {
			if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, func(prev string) bool { return serial() == prev }},
	}
	prev := first
	for _, st := range steps {
		st.do()
		if !st.wantS(prev) {
			t.Errorf("%s: the certificate served is not the one expected", st.name)
		}
		prev = serial()
	}
}
