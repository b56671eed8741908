package kubee2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// KubeDirEnv names the variable that holds the folder of kube-apiserver
// and etcd (scripts/kube path).
const KubeDirEnv = "PROVENANT_KUBE_DIR"

// cluster is an API server and its etcd on loopback: no controller
// manager, no scheduler, no kubelet.
type cluster struct {
	config *rest.Config
	client *kubernetes.Clientset
}

// kubeDir is the folder of the binaries, from PROVENANT_KUBE_DIR.
func kubeDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(KubeDirEnv)
	if dir == "" {
		need(t, "no Kubernetes API server: export %s=$(scripts/kube path)", KubeDirEnv)
	}
	for _, f := range []string{".ok", "kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s=%s: %v (scripts/kube build makes it)", KubeDirEnv, dir, err)
		}
	}
	return dir
}

// process is a server the test started.
type process struct {
	cmd *exec.Cmd
	// exited is closed when it has exited.
	exited chan struct{}
}

// startProcess starts a server whose output goes to logFile (stdout and
// stderr, or stderr to errOut when given); it is stopped (SIGTERM, then
// SIGKILL) when the test ends.
func startProcess(t testing.TB, logFile string, errOut io.Writer, bin string, args ...string) *process {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if errOut != nil {
		cmd.Stderr = io.MultiWriter(f, errOut)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return &process{cmd: cmd, exited: done}
}

// gone reports whether p has exited.
func (p *process) gone() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// tail is the last n lines of a file, for a failure message.
func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startCluster starts etcd and kube-apiserver on loopback, their state in
// a temporary folder: a token file (one admin in system:masters),
// AlwaysAllow, a service-account key pair. It returns once /readyz says
// so.
func startCluster(t testing.TB) *cluster {
	t.Helper()
	bin := kubeDir(t)
	dir := t.TempDir()
	tokenBytes := make([]byte, 16)
	rand.Read(tokenBytes)
	token := hex.EncodeToString(tokenBytes)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokens := write("tokens.csv", token+",admin,admin,system:masters\n")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	saKey := write("sa.key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	saPub := write("sa.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))

	client, peer, api := freePort(t), freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	startProcess(t, filepath.Join(dir, "etcd.log"), nil, filepath.Join(bin, "etcd"), "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL, "--initial-cluster", "default="+peerURL,
		"--log-level", "warn")
	apiLog := filepath.Join(dir, "kube-apiserver.log")
	apiserver := startProcess(t, apiLog, nil, filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers", etcdURL, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(api), "--cert-dir", filepath.Join(dir, "certs"),
		"--token-auth-file", tokens, "--authorization-mode", "AlwaysAllow",
		"--service-account-key-file", saPub, "--service-account-signing-key-file", saKey,
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-cluster-ip-range", "10.0.0.0/24")

	host := fmt.Sprintf("https://127.0.0.1:%d", api)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequest(http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if apiserver.gone() || time.Now().After(deadline) {
			t.Fatalf("kube-apiserver not ready (%v):\n%s\netcd:\n%s", err, tail(apiLog, 30), tail(filepath.Join(dir, "etcd.log"), 10))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The server's certificate is self-signed by itself for loopback; the
	// test trusts it without checking, as for any loopback test server.
	cfg := &rest.Config{Host: host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: 1000, Burst: 1000}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{config: cfg, client: cs}
}

// namespace creates a namespace with the admission label (mode "" is none)
// and its default ServiceAccount, which the controller manager would
// create and the ServiceAccount admission plugin requires of every pod.
func (c *cluster) namespace(t testing.TB, name, mode string) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if mode != "" {
		ns.Labels = map[string]string{"provenant.dev/admission": mode}
	}
	if _, err := c.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: name}}
	if _, err := c.client.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
