package admission

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Endpoints and outcomes counted.
const (
	endpointWebhook    = "webhook"
	endpointGatekeeper = "gatekeeper"

	cacheTag     = "tag"
	cacheLookup  = "lookup"
	cacheVerdict = "verdict"
)

// Request outcomes (label "outcome" of drydock_admission_requests_total).
const (
	OutcomeAllowed    = "allowed"     // every image decided and admitted
	OutcomeWarned     = "warned"      // admitted with warnings (warn mode)
	OutcomeDenied     = "denied"      // a failing verdict or a pending scan in deny mode
	OutcomeFailOpen   = "fail_open"   // undecided within the budget, admitted
	OutcomeFailClosed = "fail_closed" // undecided within the budget, denied
	OutcomeBadRequest = "bad_request" // not an AdmissionReview / ProviderRequest
)

// metrics are the gate's Prometheus collectors; the command registers
// Collectors() with the server's registry.
type metrics struct {
	requests *prometheus.CounterVec
	images   *prometheus.CounterVec
	caches   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// decisionsDropped counts the decisions not recorded in the store.
	decisionsDropped *prometheus.CounterVec

	// The children counted on every warm webhook answer, looked up once
	// (WithLabelValues hashes the labels on every call); read-only after
	// newMetrics.
	webhookDuration prometheus.Observer
	webhookOutcomes map[string]prometheus.Counter
	webhookImages   map[string]prometheus.Counter
	cacheHits       map[string]prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drydock_admission_requests_total",
			Help: "Admission and Gatekeeper provider requests answered, by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		images: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drydock_admission_images_total",
			Help: "Images judged, by endpoint and status (pass, fail, pending, undecided).",
		}, []string{"endpoint", "status"}),
		caches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drydock_admission_cache_lookups_total",
			Help: "Lookups in the tag-to-digest, digest-to-stored-image and verdict caches, by cache (tag, lookup, verdict) and result (hit, miss).",
		}, []string{"cache", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "drydock_admission_request_duration_seconds",
			Help:    "Time to answer an admission or Gatekeeper provider request.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"endpoint"}),
		decisionsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drydock_admission_decisions_dropped_total",
			Help: "Admission decisions not recorded in the store, by reason: queue_full (the store is slower than the requests), store_error (the insert failed twice), closed (answered while the gate was closing).",
		}, []string{"reason"}),
		webhookOutcomes: map[string]prometheus.Counter{},
		webhookImages:   map[string]prometheus.Counter{},
		cacheHits:       map[string]prometheus.Counter{},
	}
	m.webhookDuration = m.duration.WithLabelValues(endpointWebhook)
	for _, o := range []string{OutcomeAllowed, OutcomeWarned, OutcomeDenied, OutcomeFailOpen, OutcomeFailClosed, OutcomeBadRequest} {
		m.webhookOutcomes[o] = m.requests.WithLabelValues(endpointWebhook, o)
	}
	for _, s := range []string{StatusPass, StatusFail, StatusPending, StatusError} {
		m.webhookImages[s] = m.images.WithLabelValues(endpointWebhook, s)
	}
	for _, c := range []string{cacheTag, cacheLookup, cacheVerdict} {
		m.cacheHits[c] = m.caches.WithLabelValues(c, "hit")
	}
	return m
}

func (m *metrics) cache(which string, hit bool) {
	if c, ok := m.cacheHits[which]; ok && hit {
		c.Inc()
		return
	}
	r := "miss"
	if hit {
		r = "hit"
	}
	m.caches.WithLabelValues(which, r).Inc()
}

// webhookRequests is the counter of webhook answers with outcome.
func (m *metrics) webhookRequests(outcome string) prometheus.Counter {
	if c, ok := m.webhookOutcomes[outcome]; ok {
		return c
	}
	return m.requests.WithLabelValues(endpointWebhook, outcome)
}

// webhookImage is the counter of images judged by the webhook with status.
func (m *metrics) webhookImage(status string) prometheus.Counter {
	if c, ok := m.webhookImages[status]; ok {
		return c
	}
	return m.images.WithLabelValues(endpointWebhook, status)
}

// Collectors are the gate's metrics, for the server's /metrics registry.
func (g *Gate) Collectors() []prometheus.Collector {
	return []prometheus.Collector{g.metrics.requests, g.metrics.images, g.metrics.caches, g.metrics.duration, g.metrics.decisionsDropped}
}
