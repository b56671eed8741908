package kubee2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/provenant/provenant/admission/admissiontest"
	"github.com/provenant/provenant/internal/formats"
)

// webhook is provenant admission serve, running as its own process.
type webhook struct {
	addr, caFile, policy, revocation string
	proc                             *process
	logs                             *admissiontest.LogBuffer
	client                           *http.Client
}

// webhookOptions are what a test changes of the webhook's command line.
type webhookOptions struct {
	repo   string   // the policy file's source.repo
	budget string   // --budget ("" 3s)
	extra  []string // more flags
}

// startWebhook starts provenant admission serve on loopback with a
// self-signed certificate for 127.0.0.1, the stack's trusted root, a
// policy file naming o.repo, an empty revocation file and our gate's VSAs
// trusted; it returns once /readyz says so.
func startWebhook(t testing.TB, s *stack, o webhookOptions) *webhook {
	t.Helper()
	cert, key, pool := admissiontest.ServingCert(t)
	dir := t.TempDir()
	w := &webhook{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), caFile: cert, logs: &admissiontest.LogBuffer{},
		policy: filepath.Join(dir, "policy.yaml"), revocation: filepath.Join(dir, "revoked.yaml"),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	w.setPolicy(t, o.repo)
	w.revoke(t)
	if o.budget == "" {
		o.budget = "3s"
	}
	args := append([]string{"admission", "serve", "--addr", w.addr, "--tls-cert-file", cert, "--tls-private-key-file", key,
		"--trusted-root", s.trustedRoot(), "--cert-oidc-issuer", s.issuer, "--policy", w.policy, "--reload-interval", "0",
		"--revocation-file", w.revocation, "--budget", o.budget,
		"--vsa-verifier-id", formats.VerifierID, "--vsa-signer-workflow", ourRepo + "/.github/workflows/release.yml"}, o.extra...)
	w.proc = startProcess(t, filepath.Join(dir, "webhook.log"), w.logs, binary, args...)
	for i := 0; ; i++ {
		resp, err := w.client.Get("https://" + w.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if w.proc.gone() || i > 200 {
			t.Fatalf("the webhook is not ready (%v):\n%s", err, w.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("webhook log (last lines):\n%s", tail(filepath.Join(dir, "webhook.log"), 40))
		}
	})
	return w
}

// writeAtomically replaces a file whole, as the kubelet swaps a mounted
// ConfigMap: a reader sees the old content or the new, never half.
func writeAtomically(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path+".new", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// setPolicy writes the policy file: images built from repo only.
func (w *webhook) setPolicy(t testing.TB, repo string) {
	writeAtomically(t, w.policy, "source: {repo: "+repo+"}\n")
}

// reloadPolicy sets the policy to repo and has the webhook read it
// (SIGHUP), returning once the webhook logged that the new policy is in
// force.
func (w *webhook) reloadPolicy(t testing.TB, repo string) {
	t.Helper()
	before := strings.Count(w.logs.String(), `"msg":"policy reloaded"`)
	w.setPolicy(t, repo)
	if err := w.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for i := 0; strings.Count(w.logs.String(), `"msg":"policy reloaded"`) == before; i++ {
		if i > 500 {
			t.Fatalf("the webhook did not reload the policy within 10s:\n%s", w.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// revoke writes the revocation file: these digests revoked. The webhook
// checks the file on every request: the next one sees it.
func (w *webhook) revoke(t testing.TB, digests ...string) {
	data, _ := json.Marshal(map[string][]string{"digests": append([]string{}, digests...)})
	writeAtomically(t, w.revocation, string(data))
}

// metrics reads /metrics.
func (w *webhook) metrics(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := w.client.Get("https://" + w.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// metric sums a counter's values, or a histogram's sample counts, over
// the series whose labels include want.
func metric(fams map[string]*dto.MetricFamily, family string, want map[string]string) float64 {
	var sum float64
	f := fams[family]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.Metric {
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == k && l.GetValue() == v
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// verifications is how many verifications of a digest the webhook ran,
// by reason ("": all).
func (w *webhook) verifications(t testing.TB, reason string) float64 {
	want := map[string]string{}
	if reason != "" {
		want["reason"] = reason
	}
	return metric(w.metrics(t), "provenant_admission_verification_duration_seconds", want)
}

// register installs deploy/admission/webhook.yaml with its client config
// pointed at this webhook (URL and CA bundle instead of the Service), and
// returns once the API server calls it: a pod of probe (an image nothing
// attests) is denied in enforceNS.
func (w *webhook) register(t testing.TB, c *cluster, enforceNS string, probe name.Digest) {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/admission/webhook.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict(raw, &cfg); err != nil {
		t.Fatalf("deploy/admission/webhook.yaml: %v", err)
	}
	ca, err := os.ReadFile(w.caFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Webhooks) != 2 {
		t.Fatalf("deploy/admission/webhook.yaml has %d webhooks, want 2", len(cfg.Webhooks))
	}
	for i := range cfg.Webhooks {
		wh := &cfg.Webhooks[i]
		url := "https://" + w.addr + *wh.ClientConfig.Service.Path
		wh.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca}
	}
	cfg.Annotations = nil
	ctx := context.Background()
	if _, err := c.client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The API server watches webhook configurations: it calls the webhook
	// once its informer has the new one.
	for i := 0; ; i++ {
		err := c.createPod(ctx, c.client, enforceNS, "probe", probe)
		if isDenied(err) {
			return
		}
		if i > 300 {
			t.Fatalf("the API server never called the webhook: a pod of an unattested image: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createPod creates a pod of image in ns, server-side dry run (nothing is
// stored; the webhooks are called all the same).
func (c *cluster) createPod(ctx context.Context, cs *kubernetes.Clientset, ns, podName string, images ...name.Digest) error {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: ns}}
	for i, img := range images {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: img.String()})
	}
	_, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

// createDeployment creates a deployment whose pod template runs
// containers containers of image, server-side dry run.
func (c *cluster) createDeployment(ctx context.Context, ns, depName string, image name.Digest, containers int) error {
	labels := map[string]string{"app": depName}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: depName, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}}}}
	for i := 0; i < containers; i++ {
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: image.String()})
	}
	_, err := c.client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

// isDenied reports whether err is the API server relaying a webhook's
// denial (403 "admission webhook … denied the request").
func isDenied(err error) bool {
	return err != nil && apierrors.IsForbidden(err) && strings.Contains(err.Error(), "denied the request")
}

// warnings collects the warnings the API server returns (client-go's
// WarningHandler).
type warnings struct{ list *admissiontest.LogBuffer }

func (w warnings) HandleWarningHeader(code int, agent, text string) {
	if code == 299 {
		fmt.Fprintln(w.list, text)
	}
}

// withWarnings is a client of c whose warnings go to the returned buffer.
func (c *cluster) withWarnings(t testing.TB) (*kubernetes.Clientset, *admissiontest.LogBuffer) {
	cfg := rest.CopyConfig(c.config)
	buf := &admissiontest.LogBuffer{}
	cfg.WarningHandler = warnings{list: buf}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs, buf
}

// judgedSeconds are the seconds of every request the webhook logged,
// from its log lines.
func (w *webhook) judgedSeconds() []float64 {
	var out []float64
	for _, line := range strings.Split(w.logs.String(), "\n") {
		if !strings.Contains(line, `"images":`) {
			continue
		}
		var v struct {
			Seconds *float64 `json:"seconds"`
		}
		if json.Unmarshal([]byte(line), &v) == nil && v.Seconds != nil {
			out = append(out, *v.Seconds)
		}
	}
	return out
}

// procStat is a process's CPU seconds (user+system) and peak RSS (bytes),
// from /proc.
func procStat(t testing.TB, pid int) (cpu float64, peakRSS int64) {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 14th and 15th fields, in clock ticks (USER_HZ 100).
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			peakRSS = kb << 10
		}
	}
	return (ut + st) / 100, peakRSS
}
