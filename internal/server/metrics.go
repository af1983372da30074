package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river/rivertype"

	"github.com/drydock-scan/drydock/internal/store"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (no package-level registry: several servers can live in one process, as
// in the tests). The HTTP metrics are counted as requests are served; the
// store's and the queue's are read from PostgreSQL when /metrics is
// scraped, so every API process shows the whole fleet.
type metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	requests *prometheus.CounterVec   // route, code
	latency  *prometheus.HistogramVec // route

	// mu makes a scrape's refresh and gather one step: two scrapes at once
	// never see each other's half-reset gauges.
	mu      sync.Mutex
	storeUp prometheus.Gauge
	jobs    *prometheus.GaugeVec // kind, state
	// Gauges without labels, as vectors so that a failed refresh can
	// remove them (Reset) rather than show stale values.
	images       *prometheus.GaugeVec
	repositories *prometheus.GaugeVec
	layers       *prometheus.GaugeVec
	findings     *prometheus.GaugeVec // severity
}

func newMetrics(version string, parts []prometheus.Collector) (*metrics, error) {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drydock_http_requests_total",
			Help: "HTTP requests served, by route (the pattern, or a mount's prefix) and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "drydock_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drydock_store_up",
			Help: "1 if the store answered the last scrape's queries, 0 if not (the store's metrics are then absent).",
		}),
		jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drydock_jobs",
			Help: "Jobs in the queue (River's river_job table), by kind and state.",
		}, []string{"kind", "state"}),
		images: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drydock_images",
			Help: "Images in the store.",
		}, nil),
		repositories: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drydock_repositories",
			Help: "Repositories with an image in the store.",
		}, nil),
		layers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drydock_layer_results",
			Help: "Per-layer results in the store (a layer is analysed once per extractor set).",
		}, nil),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drydock_open_findings",
			Help: "Open findings across all images, by severity.",
		}, []string{"severity"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "drydock_build_info",
		Help:        "drydock's version (always 1).",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build, m.requests, m.latency, m.storeUp, m.jobs, m.images, m.repositories, m.layers, m.findings,
	)
	for _, c := range parts {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("server: registering a part's metrics: %w", err)
		}
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m, nil
}

// instrument counts the requests h serves under route.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	return promhttp.InstrumentHandlerDuration(m.latency.MustCurryWith(labels),
		promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels), h))
}

// serve refreshes the store's metrics and writes them all.
func (m *metrics) serve(w http.ResponseWriter, r *http.Request, st *store.Store, log *slog.Logger) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.refresh(r.Context(), st); err != nil {
		// Shown as drydock_store_up 0, and the store's gauges are absent
		// rather than stale.
		log.Warn("reading the store's metrics", "err", err)
		m.storeUp.Set(0)
		for _, g := range []*prometheus.GaugeVec{m.jobs, m.images, m.repositories, m.layers, m.findings} {
			g.Reset()
		}
	} else {
		m.storeUp.Set(1)
	}
	m.handler.ServeHTTP(w, r)
}

func (m *metrics) refresh(ctx context.Context, st *store.Store) error {
	c, err := st.Counts(ctx)
	if err != nil {
		return err
	}
	rows, err := st.Pool().Query(ctx, "SELECT kind, state::text, count(*) FROM river_job GROUP BY kind, state")
	if err != nil {
		return fmt.Errorf("counting jobs: %w", err)
	}
	counts := map[[2]string]float64{}
	kinds := map[string]bool{}
	var kind, state string
	var n int64
	for rows.Next() {
		if err := rows.Scan(&kind, &state, &n); err != nil {
			rows.Close()
			return fmt.Errorf("counting jobs: %w", err)
		}
		counts[[2]string{kind, state}] = float64(n)
		kinds[kind] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counting jobs: %w", err)
	}
	m.jobs.Reset()
	for k := range kinds {
		// Every state of a kind seen, zero or not: a graph of "discarded"
		// starts at 0, not at the first failure.
		for _, s := range rivertype.JobStates() {
			m.jobs.WithLabelValues(k, string(s)).Set(counts[[2]string{k, string(s)}])
		}
	}
	m.images.WithLabelValues().Set(float64(c.Images))
	m.repositories.WithLabelValues().Set(float64(c.Repositories))
	m.layers.WithLabelValues().Set(float64(c.LayerResults))
	m.findings.Reset()
	for sev, n := range c.OpenFindings {
		m.findings.WithLabelValues(sev).Set(float64(n))
	}
	return nil
}
