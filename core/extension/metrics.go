package extension

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/core/extension/process"
	"github.com/rapportcrm/rapport/sdk"
)

type metrics struct {
	calls   *prometheus.CounterVec
	items   *prometheus.CounterVec
	errors  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// newMetrics registers the call metrics, and rapport_plugin_up read from
// r at each scrape.
func newMetrics(reg prometheus.Registerer, r *Registry) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rapport_plugin_calls_total", Help: "Plugin calls, by plugin and extension point.",
		}, []string{"plugin", "point"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rapport_plugin_items_total", Help: "Subjects sent to plugins, by plugin and extension point.",
		}, []string{"plugin", "point"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rapport_plugin_errors_total", Help: "Failed plugin calls, by plugin, extension point and cause.",
		}, []string{"plugin", "point", "cause"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rapport_plugin_call_duration_seconds", Help: "Duration of plugin calls.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"plugin", "point"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.items, m.errors, m.latency, upCollector{r})
	}
	return m
}

func (m *metrics) observe(p *Plugin, point sdk.Point, items int, start time.Time, err error) {
	ref, pt := p.Ref(), string(point)
	m.calls.WithLabelValues(ref, pt).Inc()
	m.items.WithLabelValues(ref, pt).Add(float64(items))
	m.latency.WithLabelValues(ref, pt).Observe(time.Since(start).Seconds())
	if err != nil {
		m.errors.WithLabelValues(ref, pt, faultCause(err)).Inc()
	}
}

var upDesc = prometheus.NewDesc("rapport_plugin_up",
	"1 when the plugin can take calls: a WASM plugin is loaded, a process plugin's process runs and passed its last health check (0 before a lazily started process first runs).",
	[]string{"plugin", "runtime"}, nil)

// upCollector reports rapport_plugin_up for every known plugin.
type upCollector struct{ r *Registry }

func (c upCollector) Describe(ch chan<- *prometheus.Desc) { ch <- upDesc }

func (c upCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.r.List() {
		up := 0.0
		switch run := p.run.(type) {
		case nil:
		case *process.Client:
			if run.Up() {
				up = 1
			}
		default:
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up, p.Ref(), p.Manifest.Runtime)
	}
}
