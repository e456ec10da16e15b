package automation

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	events     prometheus.Counter
	runs       *prometheus.CounterVec
	actions    *prometheus.CounterVec
	deliveries *prometheus.CounterVec
}

// newMetrics registers the engine's counters with reg (none when nil):
//
//	rapport_automation_events_dispatched_total
//	rapport_automation_runs_total{status}              fired, succeeded, failed
//	rapport_automation_actions_total{type,result}      succeeded, retried, failed
//	rapport_automation_deliveries_total{kind,result}   delivered, failed attempts
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rapport_automation_events_dispatched_total", Help: "Record events matched against automations.",
		}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rapport_automation_runs_total", Help: "Automation runs, by status: fired, succeeded or failed.",
		}, []string{"status"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rapport_automation_actions_total", Help: "Automation action attempts, by action type and result.",
		}, []string{"type", "result"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rapport_automation_deliveries_total", Help: "Webhook and email delivery attempts, by kind and result.",
		}, []string{"kind", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.runs, m.actions, m.deliveries)
	}
	return m
}
