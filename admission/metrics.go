package admission

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the webhook's Prometheus metrics, on a registry of their
// own (served at /metrics). A nil *Metrics counts nothing.
type Metrics struct {
	// Registry holds the collectors below, and the Go and process ones.
	Registry      *prometheus.Registry
	requests      *prometheus.HistogramVec
	verifications *prometheus.HistogramVec
	cacheLookups  *prometheus.CounterVec
	verdicts      *prometheus.CounterVec
}

// NewMetrics registers the webhook's metrics on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "provenant_admission_request_duration_seconds",
			Help:    "Time to answer an AdmissionReview, by mode and whether it was allowed.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 8, 10},
		}, []string{"mode", "allowed"}),
		verifications: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "provenant_admission_verification_duration_seconds",
			Help:    "Time of one verification of an image digest (registry fetch and signature checks), by verdict reason.",
			Buckets: prometheus.ExponentialBuckets(.005, 2, 14),
		}, []string{"reason"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "provenant_admission_cache_lookups_total",
			Help: "Verdict cache lookups, by result (hit or miss).",
		}, []string{"result"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "provenant_admission_verdicts_total",
			Help: "Verdicts on images, by reason (vsa, provenance, failed, revoked, unreachable, timeout, malformed).",
		}, []string{"reason"}),
	}
	m.Registry.MustRegister(m.requests, m.verifications, m.cacheLookups, m.verdicts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) request(d time.Duration, mode Mode, allowed bool) {
	if m == nil {
		return
	}
	a := "false"
	if allowed {
		a = "true"
	}
	m.requests.WithLabelValues(string(mode), a).Observe(d.Seconds())
}

func (m *Metrics) verification(d time.Duration, r Reason) {
	if m == nil {
		return
	}
	m.verifications.WithLabelValues(string(r)).Observe(d.Seconds())
}

func (m *Metrics) cache(hit bool) {
	if m == nil {
		return
	}
	r := "miss"
	if hit {
		r = "hit"
	}
	m.cacheLookups.WithLabelValues(r).Inc()
}

func (m *Metrics) verdict(r Reason) {
	if m == nil {
		return
	}
	m.verdicts.WithLabelValues(string(r)).Inc()
}
