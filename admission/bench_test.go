package admission

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// BenchmarkHandlerWarm is the webhook's warm path, what most requests of
// a cluster take: an AdmissionReview of a Pod as the API server sends it
// (defaults and the service-account volume filled in) whose one image's
// verdict is cached; the handler decodes the review, checks the
// revocation file, looks the verdict up, answers, logs a JSON line and
// counts. No TLS, no network: the handler's own cost.
func BenchmarkHandlerWarm(b *testing.B) {
	dir := b.TempDir()
	rev := dir + "/revoked.yaml"
	if err := os.WriteFile(rev, []byte("digests: []\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	// Written long ago, as in a running cluster: only stat'ed per request
	// (a file changed in the last 2 s is read again on each).
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(rev, old, old); err != nil {
		b.Fatal(err)
	}
	w, err := NewRevocationWatcher(rev, OSFileSystem{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	fv := newFakeVerify()
	img := "127.0.0.1:5000/octo/app@" + digestOf("a")
	m := NewMetrics()
	e, err := NewEngine(EngineOptions{Resolver: &fakeResolver{}, Cache: NewCache(CacheOptions{}), Revocations: w, Metrics: m},
		State{PolicyDigest: "sha256:policy1", RootDigest: "sha256:root1", Verify: fv.verify})
	if err != nil {
		b.Fatal(err)
	}
	var logs bytes.Buffer
	h, err := NewHandler(HandlerOptions{Engine: e, Metrics: m, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		b.Fatal(err)
	}
	body := reviewOf("0f3b4c5e-1d2a-4b6c-8e9f-0a1b2c3d4e5f", podKind, "apps", apiServerPod(img))
	post := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/validate/enforce?timeout=10s", bytes.NewReader(body))
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := post(); rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"allowed":true`)) {
		b.Fatalf("first answer %d: %s", rec.Code, rec.Body.String())
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		post()
		logs.Reset()
	}
}

// apiServerPod is a Pod of one container of img as kube-apiserver v1.34
// hands it to a webhook on a create: defaulted, with the service
// account's token volume and a managedFields entry (about 3 KB).
func apiServerPod(img string) []byte {
	return []byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p-1","namespace":"apps","uid":"5b8a9f0e-2c1d-4e3f-9a8b-7c6d5e4f3a2b",` +
		`"creationTimestamp":"2026-12-05T07:27:41Z","managedFields":[{"manager":"kube-e2e.test","operation":"Update","apiVersion":"v1",` +
		`"time":"2026-12-05T07:27:41Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:containers":{"k:{\"name\":\"c0\"}":{".":{},"f:image":{},` +
		`"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},` +
		`"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}]},` +
		`"spec":{"volumes":[{"name":"kube-api-access-7xk2p","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},` +
		`{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace",` +
		`"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],"containers":[{"name":"c0","image":"` + img + `",` +
		`"resources":{},"volumeMounts":[{"name":"kube-api-access-7xk2p","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],` +
		`"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always",` +
		`"terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","securityContext":{},` +
		`"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",` +
		`"tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],` +
		`"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending","qosClass":"BestEffort"}}`)
}
