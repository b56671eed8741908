package admission

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// manifestDir holds the kustomize manifests of the webhook.
const manifestDir = "../deploy/admission"

// decodeAll decodes every document of a manifest file into a new value
// of its kind, strictly (an unknown field is an error).
func decodeAll(t *testing.T, path string, into func(kind string) any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := k8syaml.NewYAMLReader(bufioReader(data))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := k8syaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		v := into(tm.Kind)
		if v == nil {
			continue
		}
		if err := k8syaml.UnmarshalStrict(doc, v); err != nil {
			t.Fatalf("%s: %s: %v", path, tm.Kind, err)
		}
	}
}

// TestManifests: the manifests are valid Kubernetes objects that do
// what docs/admission.md says: 2+ replicas behind a Service, a PDB, and
// webhooks with failurePolicy, a timeout above the server's budget and
// namespace selectors that never match kube-system nor the webhook's own
// namespace, enforce for namespaces labelled so and audit for the rest.
func TestManifests(t *testing.T) {
	var (
		dep  appsv1.Deployment
		svc  corev1.Service
		pdb  policyv1.PodDisruptionBudget
		vwc  admissionregistrationv1.ValidatingWebhookConfiguration
		seen = map[string]int{}
	)
	kust, err := os.ReadFile(filepath.Join(manifestDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
		Namespace string   `json:"namespace"`
	}
	if err := k8syaml.Unmarshal(kust, &k); err != nil {
		t.Fatal(err)
	}
	for _, f := range k.Resources {
		decodeAll(t, filepath.Join(manifestDir, f), func(kind string) any {
			seen[kind]++
			switch kind {
			case "Deployment":
				return &dep
			case "Service":
				return &svc
			case "PodDisruptionBudget":
				return &pdb
			case "ValidatingWebhookConfiguration":
				return &vwc
			case "Namespace":
				return &corev1.Namespace{}
			case "ServiceAccount":
				return &corev1.ServiceAccount{}
			case "ConfigMap":
				return &corev1.ConfigMap{}
			}
			t.Errorf("%s: unexpected kind %q", f, kind)
			return nil
		})
	}
	for _, kind := range []string{"Deployment", "Service", "PodDisruptionBudget", "ValidatingWebhookConfiguration"} {
		if seen[kind] != 1 {
			t.Fatalf("%d %s in the kustomization, want 1", seen[kind], kind)
		}
	}
	own := k.Namespace
	pods := labels.Set(dep.Spec.Template.Labels)

	t.Run("Deployment", func(t *testing.T) {
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
			t.Errorf("replicas %v, want 2 or more", dep.Spec.Replicas)
		}
		args := strings.Join(dep.Spec.Template.Spec.Containers[0].Args, " ")
		for _, want := range []string{"admission serve", "--addr=", "--tls-cert-file=", "--tls-private-key-file=", "--budget=", "--revocation-file="} {
			if !strings.Contains(args, want) {
				t.Errorf("args %q lack %q", args, want)
			}
		}
	})
	t.Run("Service and PDB select the pods", func(t *testing.T) {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(pods) {
			t.Errorf("the Service's selector %v does not match the pods' labels %v", svc.Spec.Selector, pods)
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(pods) {
			t.Errorf("the PDB's selector does not match the pods' labels: %v", err)
		}
		if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 {
			t.Errorf("PDB minAvailable %v, want at least 1", pdb.Spec.MinAvailable)
		}
	})
	t.Run("webhooks", func(t *testing.T) {
		budget := DefaultBudget
		for _, a := range dep.Spec.Template.Spec.Containers[0].Args {
			if v, ok := strings.CutPrefix(a, "--budget="); ok {
				if budget, err = time.ParseDuration(v); err != nil {
					t.Fatal(err)
				}
			}
		}
		type ns struct {
			name   string
			labels map[string]string
		}
		tests := []struct {
			ns   ns
			want string // the webhook's path that judges it, "" none
		}{
			{ns{"kube-system", map[string]string{"provenant.dev/admission": "enforce"}}, ""},
			{ns{own, nil}, ""},
			{ns{own, map[string]string{"provenant.dev/admission": "enforce"}}, ""},
			{ns{"apps", map[string]string{"provenant.dev/admission": "enforce"}}, "/validate/enforce"},
			{ns{"apps", nil}, "/validate/audit"},
			{ns{"apps", map[string]string{"provenant.dev/admission": "audit"}}, "/validate/audit"},
			{ns{"apps", map[string]string{"provenant.dev/admission": "off"}}, ""},
		}
		for _, w := range vwc.Webhooks {
			if w.FailurePolicy == nil {
				t.Errorf("%s: no failurePolicy", w.Name)
			}
			if w.TimeoutSeconds == nil || time.Duration(*w.TimeoutSeconds)*time.Second <= budget {
				t.Errorf("%s: timeoutSeconds %v not above the budget %s", w.Name, w.TimeoutSeconds, budget)
			}
			if s := w.ClientConfig.Service; s == nil || s.Name != svc.Name || s.Namespace != own {
				t.Errorf("%s: clientConfig.service %+v is not the Service %s/%s", w.Name, s, own, svc.Name)
			}
			var resources []string
			for _, r := range w.Rules {
				resources = append(resources, r.Resources...)
			}
			for _, want := range []string{"pods", "pods/ephemeralcontainers", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs"} {
				if !slices.Contains(resources, want) {
					t.Errorf("%s: rules lack %s", w.Name, want)
				}
			}
		}
		for _, tt := range tests {
			l := labels.Set{"kubernetes.io/metadata.name": tt.ns.name}
			for k, v := range tt.ns.labels {
				l[k] = v
			}
			var got []string
			for _, w := range vwc.Webhooks {
				sel, err := metav1.LabelSelectorAsSelector(w.NamespaceSelector)
				if err != nil {
					t.Fatalf("%s: %v", w.Name, err)
				}
				if sel.Matches(l) {
					got = append(got, *w.ClientConfig.Service.Path)
				}
			}
			want := []string{}
			if tt.want != "" {
				want = []string{tt.want}
			}
			if !slices.Equal(append([]string{}, got...), want) {
				t.Errorf("namespace %s %v is judged by %q, want %q", tt.ns.name, tt.ns.labels, got, want)
			}
			for _, w := range vwc.Webhooks {
				if *w.ClientConfig.Service.Path == tt.want && tt.want == "/validate/enforce" && *w.FailurePolicy != admissionregistrationv1.Fail {
					t.Errorf("%s: enforce with failurePolicy %s, want Fail", w.Name, *w.FailurePolicy)
				}
			}
		}
	})
}

// bufioReader is data as the *bufio.Reader the YAML reader wants.
func bufioReader(data []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(data)) }
