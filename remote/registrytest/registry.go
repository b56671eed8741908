// Package registrytest runs OCI registries for tests: distribution's
// registry v3.1.2 (built by scripts/registry, found through
// PROVENANT_REGISTRY_BIN, which scripts/test sets), each on a random
// loopback port with its own storage folder, stopped when the test ends.
// distribution v3.1.2 has no OCI 1.1 referrers API (GET
// /v2/<name>/referrers/<digest> is a 404 there), so clients use the
// referrers tag schema with it; WithReferrersAPI runs
// go-containerregistry's registry (pkg/registry), which has the API, in
// the test process. A Front before either answers chosen requests itself,
// e.g. 404 on the referrers API. It is never linked into the binary.
package registrytest

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
)

// BinaryEnv names the variable that holds the registry binary's path.
const BinaryEnv = "PROVENANT_REGISTRY_BIN"

// Registry is a running registry.
type Registry struct {
	// Host is its address, 127.0.0.1:<port> (go-containerregistry speaks
	// plain HTTP to loopback addresses).
	Host string
	// Log is the registry's log file.
	Log string
}

// Options configure a registry.
type Options struct {
	// Users, when set, turns on htpasswd authentication with these users
	// and passwords: anonymous requests get 401.
	Users map[string]string
}

// Binary is the registry binary from PROVENANT_REGISTRY_BIN. Without it
// the test is skipped, or fails when PROVENANT_E2E=1 (scripts/test).
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(BinaryEnv)
	if bin == "" {
		if os.Getenv("PROVENANT_E2E") == "1" {
			t.Fatalf("PROVENANT_E2E=1 but %s is not set: run scripts/test, or export %s=$(scripts/registry path)", BinaryEnv, BinaryEnv)
		}
		t.Skipf("no OCI registry: export %s=$(scripts/registry path)", BinaryEnv)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v", BinaryEnv, bin, err)
	}
	return bin
}

// Start starts a registry with its own storage, stopped at the test's end.
func Start(t testing.TB, o Options) *Registry {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &Registry{Host: fmt.Sprintf("127.0.0.1:%d", port), Log: filepath.Join(dir, "registry.log")}
	config := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: registrytest
`, filepath.Join(dir, "storage"), r.Host)
	if len(o.Users) > 0 {
		var lines []string
		for u, p := range o.Users {
			h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, u+":"+string(h))
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		config += fmt.Sprintf("auth:\n  htpasswd:\n    realm: registrytest\n    path: %s\n", htpasswd)
	}
	configPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(r.Log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", configPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	// No OpenTelemetry exporter to dial out to.
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return r
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("registry exited during start-up: %v\n%s", err, tail(r.Log))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry not ready on %s after 30 s\n%s", r.Host, tail(r.Log))
		}
	}
}

// WithReferrersAPI starts go-containerregistry's in-memory registry with
// its OCI 1.1 referrers API on a loopback port, closed at the test's end.
// It lists a referrer's artifactType as its config's media type, not the
// manifest's artifactType (pkg/registry/manifest.go, handleReferrers).
func WithReferrersAPI(t testing.TB) *Registry {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &Registry{Host: strings.TrimPrefix(srv.URL, "http://")}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail is the end of a log file, for failure messages.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// referrersPath is the referrers API: /v2/<name>/referrers/<digest>.
var referrersPath = regexp.MustCompile(`^/v2/.+/referrers/[^/]+$`)

// Front is a reverse proxy before a registry that answers some requests
// itself. Host is its 127.0.0.1:<port>; Intercepted counts the requests it
// answered.
type Front struct {
	Host        string
	Intercepted atomic.Int64
}

// Front starts a Front before r, closed at the test's end: intercept
// answers a request itself (and returns true) or lets it pass.
func (r *Registry) Front(t testing.TB, intercept func(http.ResponseWriter, *http.Request) bool) *Front {
	t.Helper()
	target, _ := url.Parse("http://" + r.Host)
	proxy := httputil.NewSingleHostReverseProxy(target)
	f := &Front{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if intercept(w, req) {
			f.Intercepted.Add(1)
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	f.Host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

// NoReferrers starts a Front that answers 404 on the referrers API
// (/v2/<name>/referrers/<digest>), as a registry without OCI 1.1 does;
// everything else passes.
func (r *Registry) NoReferrers(t testing.TB) *Front {
	t.Helper()
	return r.Front(t, func(w http.ResponseWriter, req *http.Request) bool {
		if !referrersPath.MatchString(req.URL.Path) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":[{"code":"NOT_FOUND","message":"no referrers API here"}]}`)
		return true
	})
}

// PushRandomImage pushes a small random image (one 1 KiB layer) to
// host/repo and returns its digest reference. auth may be nil (anonymous).
func PushRandomImage(t testing.TB, host, repo string, auth authn.Authenticator) name.Digest {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(host + "/" + repo + ":latest")
	if err != nil {
		t.Fatal(err)
	}
	if auth == nil {
		auth = authn.Anonymous
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithContext(ctx)); err != nil {
		t.Fatalf("pushing a random image to %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Context().Digest(d.String())
}
