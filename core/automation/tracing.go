package automation

import (
	"context"
	"net/http"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rapportcrm/rapport/core/automation/internal/webhook"
	"github.com/rapportcrm/rapport/internal/telemetry"
)

// postWebhook is webhook.Post traced as a client span "webhook delivery"
// carrying the delivery's ID, its event, the destination's host (never
// its path or query, which may hold a credential) and the status
// answered. The trace context is not sent to the destination: traces
// stay the operator's.
func postWebhook(ctx context.Context, client *http.Client, r webhook.Request) (webhook.Result, error) {
	host := ""
	if u, err := url.Parse(r.URL); err == nil {
		host = u.Hostname()
	}
	ctx, span := telemetry.Start(ctx, "webhook delivery", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("rapport.delivery.id", r.DeliveryID), attribute.String("rapport.event", r.Event),
			attribute.String("server.address", host)))
	defer span.End()
	res, err := webhook.Post(ctx, client, r)
	if res.Status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", res.Status))
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "delivery failed")
	}
	return res, err
}
