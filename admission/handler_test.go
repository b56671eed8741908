package admission

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKindsAndContainers: every workload kind with a pod template, and
// every container kind of it, is judged; images by tag are resolved and
// the answer names the digest judged.
func TestKindsAndContainers(t *testing.T) {
	spec := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Image: "example.com/init@" + digestOf("1")}},
		Containers: []corev1.Container{
			{Name: "app", Image: "example.com/app@" + digestOf("2")},
			{Name: "side", Image: "example.com/side:v1"},
		},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "example.com/debug@" + digestOf("4")}}},
	}
	tmpl := corev1.PodTemplateSpec{Spec: spec}
	tests := []struct {
		name string
		gvk  metav1.GroupVersionKind
		obj  any
	}{
		{"Pod", podKind, corev1.Pod{Spec: spec}},
		{"Deployment", metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: tmpl}}},
		{"ReplicaSet", metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Template: tmpl}}},
		{"StatefulSet", metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: tmpl}}},
		{"DaemonSet", metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{Template: tmpl}}},
		{"Job", metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, batchv1.Job{Spec: batchv1.JobSpec{Template: tmpl}}},
		{"CronJob", metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, batchv1.CronJob{Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, serverOptions{resolver: &fakeResolver{tags: map[string]string{"example.com/side:v1": digestOf("3")}}})
			obj, _ := json.Marshal(tt.obj)
			out, code := s.post(t, "/validate", reviewOf("u1", tt.gvk, "apps", obj))
			if code != http.StatusOK || !out.Response.Allowed || out.Response.UID != "u1" {
				t.Fatalf("code %d, response %+v: want 200, allowed, uid u1", code, out.Response)
			}
			for _, c := range []string{"1", "2", "3", "4"} {
				if n := s.verify.callsOf(digestOf(c)); n != 1 {
					t.Errorf("digest %s verified %d times, want 1", c, n)
				}
			}
			judged := out.Response.AuditAnnotations["judged"]
			if !strings.Contains(judged, "example.com/side@"+digestOf("3")) || !strings.Contains(judged, "ephemeralContainers[0] (debug)") {
				t.Errorf("audit annotation %q does not name the resolved digest and every container", judged)
			}
			if !slices.ContainsFunc(out.Response.Warnings, func(w string) bool {
				return strings.Contains(w, "example.com/side:v1") && strings.Contains(w, digestOf("3"))
			}) {
				t.Errorf("no warning names the tag and the digest judged: %q", out.Response.Warnings)
			}
		})
	}
}

// TestMalformed: a request that cannot be judged is denied with a reason,
// never a panic nor an admission.
func TestMalformed(t *testing.T) {
	big := append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":{"x":"`), bytes.Repeat([]byte("a"), 2048)...)
	tests := []struct {
		name     string
		body     []byte
		wantCode int
		wantMsg  string
	}{
		{"not JSON", []byte("{{{"), 400, "not an AdmissionReview"},
		{"wrong version", []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}`), 400, "not an AdmissionReview admission.k8s.io/v1"},
		{"no request", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400, "has no request"},
		{"no uid", reviewOf("", podKind, "apps", pod("example.com/a@"+digestOf("a"))), 400, "no uid"},
		{"too large", big, http.StatusRequestEntityTooLarge, "larger than the limit of 1024 bytes"},
		{"object of the wrong shape", reviewOf("u", podKind, "apps", []byte(`{"spec":{"containers":"nope"}}`)), 200, "decoding the Pod"},
		{"bad image", reviewOf("u", podKind, "apps", pod("example.com/UPPER::x")), 200, "failed image reference"},
		{"empty image", reviewOf("u", podKind, "apps", pod("")), 200, "the image is empty"},
		{"sha512 digest", reviewOf("u", podKind, "apps", pod("example.com/a@sha512:"+strings.Repeat("a", 128))), 200, "want a sha256 digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, serverOptions{handler: HandlerOptions{MaxBodySize: 1024}})
			out, code := s.post(t, "/validate", tt.body)
			if code != tt.wantCode {
				t.Errorf("status %d, want %d", code, tt.wantCode)
			}
			if out.Response.Allowed {
				t.Fatalf("allowed: %+v", out.Response)
			}
			if !strings.Contains(message(out), tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", message(out), tt.wantMsg)
			}
		})
	}
}

// TestNothingToJudge: a delete, a status update and a kind without a pod
// template are admitted without a verification.
func TestNothingToJudge(t *testing.T) {
	s := startServer(t, serverOptions{})
	del := reviewOf("u", podKind, "apps", nil)
	cm := reviewOf("u", metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "apps", []byte(`{"data":{}}`))
	for _, body := range [][]byte{del, cm} {
		if out, _ := s.post(t, "/validate", body); !out.Response.Allowed {
			t.Errorf("denied: %s", message(out))
		}
	}
	if n := s.verify.total.Load(); n != 0 {
		t.Errorf("%d verifications, want 0", n)
	}
}

// TestModes: enforce denies with one line naming the image, its digest
// and the failed check; audit admits with a warning saying the same.
func TestModes(t *testing.T) {
	bad := "example.com/bad@" + digestOf("b")
	tests := []struct {
		name        string
		path        string
		nsModes     map[string]Mode
		defaultMode Mode
		wantAllowed bool
	}{
		{"default enforce", "/validate", nil, "", false},
		{"default audit", "/validate", nil, ModeAudit, true},
		{"path audit", "/validate/audit", nil, "", true},
		{"path enforce", "/validate/enforce", nil, ModeAudit, false},
		{"namespace audit over path", "/validate/enforce", map[string]Mode{"apps": ModeAudit}, "", true},
		{"namespace enforce over path", "/validate/audit", map[string]Mode{"apps": ModeEnforce}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVerify()
			fv.verdicts[digestOf("b")] = Verdict{Reason: ReasonFailed, Check: "identity", Message: "check 6 (identity) failed: the SAN is not the policy's"}
			s := startServer(t, serverOptions{verify: fv, handler: HandlerOptions{DefaultMode: tt.defaultMode, NamespaceModes: tt.nsModes}})
			out, _ := s.post(t, tt.path, reviewOf("u", podKind, "apps", pod(bad)))
			if out.Response.Allowed != tt.wantAllowed {
				t.Fatalf("allowed %v, want %v: %+v", out.Response.Allowed, tt.wantAllowed, out.Response)
			}
			text := message(out)
			if tt.wantAllowed {
				text = strings.Join(out.Response.Warnings, "\n")
			}
			for _, want := range []string{bad, digestOf("b"), "failed identity", "the SAN is not the policy's"} {
				if !strings.Contains(text, want) {
					t.Errorf("%q does not name %q", text, want)
				}
			}
			if strings.Contains(text, "\n") {
				t.Errorf("reason is not one line: %q", text)
			}
		})
	}
}

// TestHealthAndMetrics: /healthz, /readyz and /metrics answer, and the
// metrics count requests, cache lookups and verdicts.
func TestHealthAndMetrics(t *testing.T) {
	s := startServer(t, serverOptions{})
	img := pod("example.com/a@" + digestOf("a"))
	s.post(t, "/validate", reviewOf("u1", podKind, "apps", img))
	s.post(t, "/validate", reviewOf("u2", podKind, "apps", img))
	tests := []struct {
		path string
		want []string
	}{
		{"/healthz", []string{"ok"}},
		{"/readyz", []string{"ok"}},
		{"/metrics", []string{
			`provenant_admission_request_duration_seconds_count{allowed="true",mode="enforce"} 2`,
			`provenant_admission_cache_lookups_total{result="hit"} 1`,
			`provenant_admission_cache_lookups_total{result="miss"} 1`,
			`provenant_admission_verdicts_total{reason="provenance"} 2`,
			`provenant_admission_verification_duration_seconds_count{reason="provenance"} 1`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := s.srv.Client().Get(s.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("%s lacks %q", tt.path, w)
				}
			}
		})
	}
}

// TestLogLine: each judged request is one JSON log line naming the
// request, the mode and each image's digest, verdict and check.
func TestLogLine(t *testing.T) {
	tests := []struct {
		mode      Mode
		wantLevel string
		wantMsg   string
	}{
		{ModeEnforce, "WARN", "denied"},
		{ModeAudit, "WARN", "admitted in audit mode"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			var buf safeBuffer
			fv := newFakeVerify()
			fv.verdicts[digestOf("b")] = Verdict{Reason: ReasonFailed, Check: "subject", Message: "no subject has the digest"}
			s := startServer(t, serverOptions{verify: fv, handler: HandlerOptions{DefaultMode: tt.mode, Logger: slog.New(slog.NewJSONHandler(&buf, nil))}})
			s.post(t, "/validate", reviewOf("uid-7", podKind, "apps", pod("example.com/bad@"+digestOf("b"))))
			var line struct {
				Level, Msg, UID, Mode, Namespace string
				Images                           []map[string]any
				Seconds                          *float64
			}
			if err := json.Unmarshal(bytes.TrimSpace([]byte(buf.String())), &line); err != nil {
				t.Fatalf("not one JSON line: %v\n%s", err, buf.String())
			}
			if line.Level != tt.wantLevel || line.Msg != tt.wantMsg || line.UID != "uid-7" || line.Mode != string(tt.mode) || line.Namespace != "apps" {
				t.Errorf("log line %+v", line)
			}
			if len(line.Images) != 1 || line.Images[0]["digest"] != "example.com/bad@"+digestOf("b") || line.Images[0]["check"] != "subject" {
				t.Errorf("log line's images %v", line.Images)
			}
			if line.Seconds == nil || *line.Seconds <= 0 || *line.Seconds > 10 {
				t.Errorf("log line's seconds %v, want the time judged", line.Seconds)
			}
		})
	}
}

// safeBuffer is a bytes.Buffer safe for the handler's goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
