package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provenant/provenant/admission/admissiontest"
	"github.com/provenant/provenant/internal/cmdutil/cmdtest"
)

const root = "../../../testdata/fixtures/trusted-roots/public-good-cli.json"

// TestNewCmdServe: the flags go into Options; what cannot serve is a usage
// error before anything is loaded.
func TestNewCmdServe(t *testing.T) {
	tests := []struct {
		name, args, wantErr string
	}{
		{"minimal", "--tls-cert-file c --tls-private-key-file k --repo o/r --trusted-root r.json", ""},
		{"no TLS", "--repo o/r", "--tls-cert-file and --tls-private-key-file are required"},
		{"no identity", "--tls-cert-file c --tls-private-key-file k", "names no signer"},
		{"two signer flags", "--tls-cert-file c --tls-private-key-file k --repo o/r -i .* --signer-repo a/b", "given together"},
		{"bad mode", "--tls-cert-file c --tls-private-key-file k --repo o/r --mode loose", "loose"},
		{"bad namespace mode", "--tls-cert-file c --tls-private-key-file k --repo o/r --namespace-mode dev", "NAMESPACE=enforce"},
		{"VSA trust half given", "--tls-cert-file c --tls-private-key-file k --repo o/r --vsa-verifier-id v", "go together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *Options
			cmd := NewCmdServe(cmdtest.Factory(), func(o *Options) error { got = o; return nil })
			if cmdtest.Execute(t, cmd, tc.args, tc.wantErr) && (got == nil || got.Identity.Repo != "o/r" || got.Addr != ":8443") {
				t.Errorf("options %+v", got)
			}
		})
	}
}

// TestServe: the command serves over TLS with verify's trust: /healthz
// answers, and a review with an image no registry serves is denied with a
// reason, within the budget, never a timeout.
func TestServe(t *testing.T) {
	cert, key, pool := admissiontest.ServingCert(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f := cmdtest.Factory()
	var logs bytes.Buffer
	f.Stderr = &logs
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cmd := NewCmdServe(f, nil)
	cmd.SetArgs([]string{"--addr", addr, "--tls-cert-file", cert, "--tls-private-key-file", key, "--repo", "octo-org/app",
		"--trusted-root", root, "--budget", "3s"})
	go func() { done <- cmd.ExecuteContext(ctx) }()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var up bool
	for i := 0; i < 100 && !up; i++ {
		if resp, err := client.Get("https://" + addr + "/healthz"); err == nil {
			up = resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
		if !up {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !up {
		cancel()
		t.Fatalf("/healthz never answered 200: %v\n%s", <-done, logs.String())
	}
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},
"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"default","operation":"CREATE",
"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"127.0.0.1:1/octo-org/app@sha256:` + strings.Repeat("a", 64) + `"}]}}}}`
	resp, err := client.Post("https://"+addr+"/validate", "application/json", strings.NewReader(review))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(body.String(), `"allowed":false`) || !strings.Contains(body.String(), `"uid":"u1"`) {
		t.Errorf("review answer %d: %s", resp.StatusCode, body.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve ended with %v", err)
	}
}

// TestServe_ReloadsPolicy: a policy file that names the source alone is
// served; a change to it is read again within --reload-interval and put in
// force (Serve logs "policy reloaded"), and a file that no longer parses
// keeps the policy in force, with a warning.
func TestServe_ReloadsPolicy(t *testing.T) {
	cert, key, _ := admissiontest.ServingCert(t)
	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	write := func(text string) {
		t.Helper()
		// A new name renamed over the old, as the kubelet swaps a
		// ConfigMap: the reader never sees half a file.
		if err := os.WriteFile(policyPath+".new", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(policyPath+".new", policyPath); err != nil {
			t.Fatal(err)
		}
	}
	write("source: {repo: octo-org/app}\n")
	f := cmdtest.Factory()
	logs := &admissiontest.LogBuffer{}
	f.Stderr = logs
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cmd := NewCmdServe(f, nil)
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0", "--tls-cert-file", cert, "--tls-private-key-file", key, "--policy", policyPath,
		"--trusted-root", root, "--reload-interval", "20ms"})
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve ended with %v\n%s", err, logs.String())
		}
	}()
	waitFor := func(what string, n int) {
		t.Helper()
		for i := 0; i < 200; i++ {
			if strings.Count(logs.String(), what) >= n {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no %d× %q in the logs:\n%s", n, what, logs.String())
	}
	waitFor(`"msg":"serving"`, 1)
	if strings.Contains(logs.String(), "policy reloaded") {
		t.Fatalf("reloaded an unchanged policy:\n%s", logs.String())
	}
	write("source: {repo: octo-org/other}\n")
	waitFor(`"msg":"policy reloaded"`, 1)
	write("source: {repo: [not, a, repo]}\n")
	waitFor("policy not reloaded: keeping the one in force", 1)
	write("source: {repo: octo-org/app}\n")
	waitFor(`"msg":"policy reloaded"`, 2)
}
