package extension

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/sdk"
)

type metrics struct {
	calls   *prometheus.CounterVec
	items   *prometheus.CounterVec
	errors  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
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
		reg.MustRegister(m.calls, m.items, m.errors, m.latency)
	}
	return m
}

func (m *metrics) observe(p *Plugin, point sdk.Point, items int, start time.Time, err error) {
	ref, pt := p.Ref(), string(point)
	m.calls.WithLabelValues(ref, pt).Inc()
	m.items.WithLabelValues(ref, pt).Add(float64(items))
	m.latency.WithLabelValues(ref, pt).Observe(time.Since(start).Seconds())
	if err != nil {
		cause := "failed"
		var f *wasm.Fault
		if errors.As(err, &f) {
			cause = f.Cause
		}
		m.errors.WithLabelValues(ref, pt, cause).Inc()
	}
}
