package automation

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/rapportcrm/rapport/core/automation/automationtest"
	"github.com/rapportcrm/rapport/core/sales"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

// A webhook delivery is a span "webhook delivery" (its delivery ID, the
// event, the destination's host and the 204 it got), a child of the
// queue job that ran the automation: a root span "job KIND" carrying the
// job's kind and attempt.
func TestWebhookDeliveryIsTracedInItsJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		otel.SetTracerProvider(tp)
		t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()); _ = tp.Shutdown(context.Background()) })

		f := newFixture(t, st)
		recv := automationtest.NewWebhookReceiver(t, secret)
		f.a.automation(t, f.client, webhookAutomation(recv.URL))
		f.engine(t, nil)
		big := f.a.deal(t, f.client, "Big", "Qualified", 12000)
		if _, err := sales.MoveDeal(f.a.ctx, f.client, big.ID, f.a.stages["Proposal"]); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the run to finish", func() bool { return finished(runs(t, f.client), 1) })
		deliveryID := string(f.client.Delivery.Query().OnlyX(f.a.ctx).ID)

		attrs := func(s sdktrace.ReadOnlySpan) map[string]string {
			m := map[string]string{}
			for _, kv := range s.Attributes() {
				m[string(kv.Key)] = kv.Value.Emit()
			}
			return m
		}
		var hook sdktrace.ReadOnlySpan
		eventually(t, "the delivery's span", func() bool {
			for _, s := range rec.Ended() {
				if s.Name() == "webhook delivery" && attrs(s)["rapport.delivery.id"] == deliveryID {
					hook = s
				}
			}
			return hook != nil
		})
		a := attrs(hook)
		if a["rapport.event"] != "deal.stage_changed" || a["server.address"] != "127.0.0.1" || a["http.response.status_code"] != "204" {
			t.Errorf("delivery span attributes %v", a)
		}
		var job sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.SpanContext().SpanID() == hook.Parent().SpanID() {
				job = s
			}
		}
		if job == nil || !strings.HasPrefix(job.Name(), "job ") || job.Parent().IsValid() {
			t.Fatalf("the delivery's parent is %v, want a root job span", job)
		}
		if ja := attrs(job); ja["rapport.job.kind"] == "" || ja["rapport.job.attempt"] != "1" || ja["messaging.system"] != "river" {
			t.Errorf("job span attributes %v", ja)
		}
	})
}
