// Package metrics is the bridge's Prometheus instrumentation: a registry of its own (never
// the global one, so tests and several bridges in one process do not collide), the
// counters and histograms the README's "Operating" section names, and an
// http.RoundTripper that measures every call to Keycloak and Bonbon.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric of the bridge.
const Namespace = "bonbon_bridge"

// Upstream names, the value of the upstream label.
const (
	Keycloak = "keycloak"
	Bonbon   = "bonbon"
)

// latencyBuckets span a cached answer (sub-millisecond) to a webhook that hits its
// 20 s deadline.
var latencyBuckets = []float64{
	.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20,
}

// Metrics holds the bridge's collectors. It implements bridge.Metrics. Safe for concurrent
// use.
type Metrics struct {
	// Registry holds every collector below plus the Go runtime and process collectors.
	Registry *prometheus.Registry

	webhooks         *prometheus.CounterVec
	requests         *prometheus.CounterVec
	requestDuration  *prometheus.HistogramVec
	inFlight         *prometheus.GaugeVec
	upstreamCalls    *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	upstreamInFlight *prometheus.GaugeVec
	tokenRequests    *prometheus.CounterVec
	idTokenCache     *prometheus.CounterVec
}

// New registers the bridge's collectors in a new registry.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.webhooks = counter("webhooks_total",
		"Webhooks answered, by outcome: created, updated, unchanged, link_required, "+
			"or the error code of the answer.", "outcome")
	m.requests = counter("http_requests_total",
		"HTTP requests answered, by route pattern, method and status code.",
		"route", "method", "code")
	m.requestDuration = histogram("http_request_duration_seconds",
		"Time to answer an HTTP request, by route pattern (one flow per route) and method.",
		"route", "method")
	m.inFlight = gauge("http_requests_in_flight",
		"HTTP requests being answered now, by route pattern.", "route")
	m.upstreamCalls = counter("upstream_requests_total",
		"Calls to Keycloak and Bonbon, by upstream, method, endpoint shape (ids replaced "+
			"by placeholders) and status code (\"error\" when no answer came).",
		"upstream", "method", "endpoint", "code")
	m.upstreamDuration = histogram("upstream_request_duration_seconds",
		"Time from sending a call to Keycloak or Bonbon to the end of its answer's body.",
		"upstream", "method", "endpoint")
	m.upstreamInFlight = gauge("upstream_requests_in_flight",
		"Calls to Keycloak or Bonbon waiting for their answer now.", "upstream")
	m.tokenRequests = counter("keycloak_token_requests_total",
		"Requests for the bridge's admin token (first fetch and refreshes), by status code.",
		"code")
	m.idTokenCache = counter("idtoken_cache_requests_total",
		"Lookups in the BONBON_ID_TOKEN cache, by result: hit or miss.", "result")
	m.Registry.MustRegister(m.webhooks, m.requests, m.requestDuration, m.inFlight,
		m.upstreamCalls, m.upstreamDuration, m.upstreamInFlight, m.tokenRequests,
		m.idTokenCache,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: name, Help: help}, labels)
}

func histogram(name, help string, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: name, Help: help, Buckets: latencyBuckets}, labels)
}

func gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: name, Help: help}, labels)
}

// Handler serves the registry in Prometheus' text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// RequestStarted counts a request as in flight on its route.
func (m *Metrics) RequestStarted(route string) {
	m.inFlight.WithLabelValues(route).Inc()
}

// RequestDone records an answered request and ends its in-flight count.
func (m *Metrics) RequestDone(route, method string, status int, elapsed time.Duration) {
	m.inFlight.WithLabelValues(route).Dec()
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

// WebhookDone counts one webhook by outcome.
func (m *Metrics) WebhookDone(outcome string) {
	m.webhooks.WithLabelValues(outcome).Inc()
}

// IDTokenCacheLookup counts one lookup in the ID-token cache.
func (m *Metrics) IDTokenCacheLookup(hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.idTokenCache.WithLabelValues(result).Inc()
}
