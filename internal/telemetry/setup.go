package telemetry

import (
	"context"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Options configure Setup.
type Options struct {
	// Endpoint is the OTLP/HTTP collector's base URL (its traces go to
	// Endpoint + "/v1/traces"); OTEL_EXPORTER_OTLP_ENDPOINT when empty,
	// and tracing stays off when both are.
	Endpoint string
	// ServiceName names the service in traces (default "rapport", or
	// OTEL_SERVICE_NAME).
	ServiceName string
	// Headers are sent with every export, e.g. a collector's credential;
	// OTEL_EXPORTER_OTLP_HEADERS (k=v,k=v) adds to them.
	Headers map[string]string
}

// Setup turns tracing on when an endpoint is configured: spans are
// batched and exported over OTLP/HTTP, W3C trace context is read from and
// passed on in headers, and it returns a function that flushes and stops
// the exporter. When no endpoint is configured it does nothing and
// returns enabled false.
func Setup(ctx context.Context, o Options) (shutdown func(context.Context) error, enabled bool, err error) {
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if endpoint == "" {
		return func(context.Context) error { return nil }, false, nil
	}
	name := o.ServiceName
	if name == "" {
		name = os.Getenv("OTEL_SERVICE_NAME")
	}
	if name == "" {
		name = "rapport"
	}
	headers := map[string]string{}
	for _, kv := range strings.Split(os.Getenv("OTEL_EXPORTER_OTLP_HEADERS"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for k, v := range o.Headers {
		headers[k] = v
	}
	exp, err := NewOTLPExporter(endpoint, headers)
	if err != nil {
		return nil, false, err
	}
	res := resource.NewSchemaless(attribute.String("service.name", name))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(5*time.Second)), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, true, nil
}
