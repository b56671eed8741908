package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Mode is what a namespace's denial does.
type Mode string

// The modes.
const (
	// ModeEnforce denies an image that fails.
	ModeEnforce Mode = "enforce"
	// ModeAudit admits it with a warning and a log line.
	ModeAudit Mode = "audit"
)

// ParseMode reads "enforce" or "audit".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeEnforce, ModeAudit:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: want enforce or audit", s)
}

// DefaultBudget is the default time to answer within: below the
// ValidatingWebhookConfiguration's timeoutSeconds of 10.
const DefaultBudget = 8 * time.Second

// DefaultMaxBodySize bounds an AdmissionReview read: 6 MiB, room for an
// UPDATE's object and old object of etcd's largest (1.5 MiB) each.
const DefaultMaxBodySize = 6 << 20

// HandlerOptions configure the webhook's HTTP handler.
type HandlerOptions struct {
	// Engine judges the images.
	Engine *Engine
	// Budget is the time every answer comes within (0: DefaultBudget);
	// the API server's ?timeout= shortens it to four fifths of that.
	Budget time.Duration
	// DefaultMode is the mode of /validate for a namespace not in
	// NamespaceModes ("" is enforce). /validate/audit and
	// /validate/enforce set the mode by path: the
	// ValidatingWebhookConfiguration sends each namespace to one of them
	// by a label selector on the namespace's labels.
	DefaultMode Mode
	// NamespaceModes set the mode of named namespaces, over the path's.
	NamespaceModes map[string]Mode
	// MaxBodySize bounds a request's body (0: DefaultMaxBodySize).
	MaxBodySize int64
	// Logger writes a line per request (nil: discarded).
	Logger *slog.Logger
	// Metrics are served at /metrics and updated (nil: none served).
	Metrics *Metrics
	// Ready reports readiness for /readyz (nil: always ready).
	Ready func() error
}

// NewHandler returns the webhook's handler: /validate,
// /validate/enforce and /validate/audit take AdmissionReviews; /healthz,
// /readyz and /metrics are for the kubelet and Prometheus.
func NewHandler(o HandlerOptions) (http.Handler, error) {
	if o.Engine == nil {
		return nil, errors.New("admission handler: no engine given")
	}
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.DefaultMode == "" {
		o.DefaultMode = ModeEnforce
	}
	if o.MaxBodySize <= 0 {
		o.MaxBodySize = DefaultMaxBodySize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{o: o}
	mux := http.NewServeMux()
	mux.Handle("POST /validate", h.review(""))
	mux.Handle("POST /validate/enforce", h.review(ModeEnforce))
	mux.Handle("POST /validate/audit", h.review(ModeAudit))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if o.Ready != nil {
			if err := o.Ready(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		io.WriteString(w, "ok\n")
	})
	if o.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	return mux, nil
}

type handler struct{ o HandlerOptions }

// review answers AdmissionReviews in the mode of its path ("": by
// namespace or default).
func (h *handler) review(pathMode Mode) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), h.budget(r))
		defer cancel()
		review, status := h.answer(ctx, w, r, pathMode, start)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(review)
		h.o.Metrics.request(time.Since(start), h.modeOf(pathMode, review.Request), review.Response.Allowed)
	})
}

// budget is the time to answer r within.
func (h *handler) budget(r *http.Request) time.Duration {
	b := h.o.Budget
	if t, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && t > 0 && t*4/5 < b {
		b = t * 4 / 5
	}
	return b
}

// modeOf is the mode of a request.
func (h *handler) modeOf(pathMode Mode, req *admissionv1.AdmissionRequest) Mode {
	if req != nil {
		if m, ok := h.o.NamespaceModes[req.Namespace]; ok {
			return m
		}
	}
	if pathMode != "" {
		return pathMode
	}
	return h.o.DefaultMode
}

// answer reads the review and judges it. The review returned always has
// a Response (its Request is kept for the metrics and the log); a body
// that is no AdmissionReview is a denial with status 400.
func (h *handler) answer(ctx context.Context, w http.ResponseWriter, r *http.Request, pathMode Mode, start time.Time) (out *admissionv1.AdmissionReview, status int) {
	out = &admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}}
	deny := func(code int, format string, a ...any) (*admissionv1.AdmissionReview, int) {
		msg := "provenant: " + fmt.Sprintf(format, a...)
		out.Response = &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Status: metav1.StatusFailure, Code: int32(code), Reason: metav1.StatusReasonBadRequest, Message: msg}}
		if out.Request != nil {
			out.Response.UID = out.Request.UID
		}
		h.o.Logger.Warn("malformed admission request", "error", msg, "remote", r.RemoteAddr)
		h.o.Metrics.verdict(ReasonMalformed)
		return out, code
	}
	defer func() {
		if p := recover(); p != nil {
			out, status = deny(http.StatusInternalServerError, "internal error judging the request: %v", p)
		}
	}()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.MaxBodySize))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return deny(http.StatusRequestEntityTooLarge, "the AdmissionReview is larger than the limit of %d bytes", mbe.Limit)
	}
	if err != nil {
		return deny(http.StatusBadRequest, "reading the AdmissionReview: %v", err)
	}
	var in admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &in); err != nil {
		return deny(http.StatusBadRequest, "the body is not an AdmissionReview: %v", err)
	}
	if in.APIVersion != "admission.k8s.io/v1" || in.Kind != "AdmissionReview" {
		return deny(http.StatusBadRequest, "the body is a %s %s, not an AdmissionReview admission.k8s.io/v1", in.Kind, in.APIVersion)
	}
	if in.Request == nil {
		return deny(http.StatusBadRequest, "the AdmissionReview has no request")
	}
	out.Request = in.Request
	if in.Request.UID == "" {
		return deny(http.StatusBadRequest, "the AdmissionReview's request has no uid")
	}
	req := in.Request
	out.Response = &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if req.Operation == admissionv1.Delete || len(req.Object.Raw) == 0 ||
		(req.SubResource != "" && req.SubResource != "ephemeralcontainers") {
		return out, http.StatusOK // no image to run
	}
	spec, path, ok, err := podSpecOf(req.Kind, req.Object.Raw)
	if err != nil {
		return deny(http.StatusOK, "%v", err)
	}
	if !ok {
		h.o.Logger.Info("admitted: a kind without a pod template", "uid", req.UID, "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name)
		return out, http.StatusOK
	}
	mode := h.modeOf(pathMode, req)
	judged := h.o.Engine.Judge(ctx, imagesOf(spec, path))
	h.respond(out.Response, mode, judged)
	h.log(req, mode, out.Response, judged, time.Since(start))
	return out, http.StatusOK
}

// respond fills the response from the judgements: enforce denies with
// one line naming each image that failed, its digest and the check;
// audit admits with a warning each. The digests judged are in the audit
// annotation provenant.dev/judged, and an image admitted by tag gets a
// warning that the kubelet pulls the tag, not the digest judged.
func (h *handler) respond(resp *admissionv1.AdmissionResponse, mode Mode, judged []Judgement) {
	var failed, admitted []string
	for _, j := range judged {
		h.o.Metrics.verdict(j.Verdict.Reason)
		digest := j.Digest
		if digest == "" {
			digest = "no digest"
		} else {
			digest = digestPart(digest)
		}
		if !j.Verdict.Allowed {
			failed = append(failed, fmt.Sprintf("image %s (%s) of %s failed %s: %s", j.Image.Ref, digest, j.Image.Container, j.Verdict.Check, j.Verdict.Message))
			continue
		}
		admitted = append(admitted, fmt.Sprintf("%s=%s (%s)", j.Image.Container, j.Digest, j.Verdict.Reason))
		if j.ByTag {
			resp.Warnings = append(resp.Warnings, fmt.Sprintf("provenant: image %s was judged as %s; the kubelet pulls the tag, which may move: name the digest", j.Image.Ref, j.Digest))
		}
	}
	if len(admitted) > 0 {
		resp.AuditAnnotations = map[string]string{"judged": strings.Join(admitted, ", ")}
	}
	if len(failed) == 0 {
		return
	}
	if mode == ModeAudit {
		for _, f := range failed {
			resp.Warnings = append(resp.Warnings, "provenant (audit, would deny): "+f)
		}
		return
	}
	resp.Allowed = false
	resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden,
		Message: "provenant denied: " + strings.Join(failed, "; ")}
}

// digestPart is the sha256:<hex> of registry/repository@sha256:<hex>.
func digestPart(ref string) string {
	if _, d, ok := strings.Cut(ref, "@"); ok {
		return d
	}
	return ref
}

// log writes one line per request, with the seconds it took to judge
// (from the request's arrival, before the answer is written).
func (h *handler) log(req *admissionv1.AdmissionRequest, mode Mode, resp *admissionv1.AdmissionResponse, judged []Judgement, took time.Duration) {
	images := make([]map[string]any, 0, len(judged))
	for _, j := range judged {
		images = append(images, map[string]any{"container": j.Image.Container, "image": j.Image.Ref, "digest": j.Digest,
			"allowed": j.Verdict.Allowed, "reason": j.Verdict.Reason, "check": j.Verdict.Check, "message": j.Verdict.Message, "cached": j.Cached})
	}
	level := slog.LevelInfo
	msg := "admitted"
	switch {
	case !resp.Allowed:
		level, msg = slog.LevelWarn, "denied"
	case len(resp.Warnings) > 0 && mode == ModeAudit:
		level, msg = slog.LevelWarn, "admitted in audit mode"
	}
	h.o.Logger.Log(context.Background(), level, msg, "uid", req.UID, "operation", req.Operation, "kind", req.Kind.Kind,
		"namespace", req.Namespace, "name", req.Name, "mode", mode, "images", images, "seconds", took.Seconds())
}
