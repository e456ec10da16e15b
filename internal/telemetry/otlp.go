package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// OTLPExporter sends spans to an OpenTelemetry collector over OTLP/HTTP
// in its JSON encoding (POST {endpoint}/v1/traces, application/json), as
// the OTLP specification defines it. It is ours rather than the otlptrace
// modules because those require a newer gRPC than the process runtime
// (internal/processrpc) is built on.
type OTLPExporter struct {
	url     string
	headers map[string]string
	client  *http.Client
}

var _ sdktrace.SpanExporter = (*OTLPExporter)(nil)

// NewOTLPExporter returns an exporter to the collector at endpoint (an
// http or https base URL; a URL already ending in /v1/traces is used as
// it is), sending headers with every request.
func NewOTLPExporter(endpoint string, headers map[string]string) (*OTLPExporter, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q: want an http:// or https:// URL", endpoint)
	}
	full := strings.TrimSuffix(endpoint, "/")
	if !strings.HasSuffix(full, "/v1/traces") {
		full += "/v1/traces"
	}
	return &OTLPExporter{url: full, headers: headers, client: &http.Client{Timeout: 10 * time.Second}}, nil
}

// ExportSpans sends one batch of spans.
func (e *OTLPExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	body, err := json.Marshal(encodeSpans(spans))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	res, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("export spans: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("export spans: collector answered %s", res.Status)
	}
	return nil
}

// Shutdown does nothing: the exporter holds no connection of its own.
func (e *OTLPExporter) Shutdown(context.Context) error { return nil }

// The OTLP JSON shapes (opentelemetry-proto, trace/v1), as far as used.
type (
	otlpRequest struct {
		ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
	}
	otlpResourceSpans struct {
		Resource   otlpResource     `json:"resource"`
		ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
	}
	otlpResource struct {
		Attributes []otlpKeyValue `json:"attributes"`
	}
	otlpScopeSpans struct {
		Scope otlpScope  `json:"scope"`
		Spans []otlpSpan `json:"spans"`
	}
	otlpScope struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	}
	otlpSpan struct {
		TraceID           string         `json:"traceId"`
		SpanID            string         `json:"spanId"`
		ParentSpanID      string         `json:"parentSpanId,omitempty"`
		Name              string         `json:"name"`
		Kind              int            `json:"kind"`
		StartTimeUnixNano string         `json:"startTimeUnixNano"`
		EndTimeUnixNano   string         `json:"endTimeUnixNano"`
		Attributes        []otlpKeyValue `json:"attributes,omitempty"`
		Events            []otlpEvent    `json:"events,omitempty"`
		Status            otlpStatus     `json:"status"`
	}
	otlpEvent struct {
		TimeUnixNano string         `json:"timeUnixNano"`
		Name         string         `json:"name"`
		Attributes   []otlpKeyValue `json:"attributes,omitempty"`
	}
	otlpStatus struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message,omitempty"`
	}
	otlpKeyValue struct {
		Key   string    `json:"key"`
		Value otlpValue `json:"value"`
	}
	otlpValue struct {
		String *string   `json:"stringValue,omitempty"`
		Bool   *bool     `json:"boolValue,omitempty"`
		Int    *string   `json:"intValue,omitempty"` // int64 as a JSON string
		Double *float64  `json:"doubleValue,omitempty"`
		Array  *otlpList `json:"arrayValue,omitempty"`
	}
	otlpList struct {
		Values []otlpValue `json:"values"`
	}
)

func encodeSpans(spans []sdktrace.ReadOnlySpan) otlpRequest {
	var out otlpRequest
	byResource := map[string]int{}
	for _, s := range spans {
		rkey := ""
		var rattrs []attribute.KeyValue
		if r := s.Resource(); r != nil {
			rkey = r.Encoded(attribute.DefaultEncoder())
			rattrs = r.Attributes()
		}
		i, ok := byResource[rkey]
		if !ok {
			i = len(out.ResourceSpans)
			byResource[rkey] = i
			out.ResourceSpans = append(out.ResourceSpans, otlpResourceSpans{Resource: otlpResource{Attributes: keyValues(rattrs)}})
		}
		rs := &out.ResourceSpans[i]
		scope := s.InstrumentationScope()
		j := -1
		for k := range rs.ScopeSpans {
			if rs.ScopeSpans[k].Scope.Name == scope.Name && rs.ScopeSpans[k].Scope.Version == scope.Version {
				j = k
			}
		}
		if j < 0 {
			j = len(rs.ScopeSpans)
			rs.ScopeSpans = append(rs.ScopeSpans, otlpScopeSpans{Scope: otlpScope{Name: scope.Name, Version: scope.Version}})
		}
		rs.ScopeSpans[j].Spans = append(rs.ScopeSpans[j].Spans, encodeSpan(s))
	}
	return out
}

func encodeSpan(s sdktrace.ReadOnlySpan) otlpSpan {
	sc := s.SpanContext()
	o := otlpSpan{
		TraceID: sc.TraceID().String(), SpanID: sc.SpanID().String(), Name: s.Name(),
		Kind:              spanKind(s.SpanKind()),
		StartTimeUnixNano: strconv.FormatInt(s.StartTime().UnixNano(), 10),
		EndTimeUnixNano:   strconv.FormatInt(s.EndTime().UnixNano(), 10),
		Attributes:        keyValues(s.Attributes()),
	}
	if p := s.Parent(); p.HasSpanID() {
		o.ParentSpanID = p.SpanID().String()
	}
	for _, ev := range s.Events() {
		o.Events = append(o.Events, otlpEvent{TimeUnixNano: strconv.FormatInt(ev.Time.UnixNano(), 10), Name: ev.Name, Attributes: keyValues(ev.Attributes)})
	}
	switch st := s.Status(); st.Code {
	case codes.Ok:
		o.Status.Code = 1
	case codes.Error:
		o.Status = otlpStatus{Code: 2, Message: st.Description}
	}
	return o
}

// spanKind is the OTLP enum: 1 internal, 2 server, 3 client, 4
// producer, 5 consumer.
func spanKind(k trace.SpanKind) int {
	switch k {
	case trace.SpanKindServer:
		return 2
	case trace.SpanKindClient:
		return 3
	case trace.SpanKindProducer:
		return 4
	case trace.SpanKindConsumer:
		return 5
	}
	return 1
}

func keyValues(kvs []attribute.KeyValue) []otlpKeyValue {
	out := make([]otlpKeyValue, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, otlpKeyValue{Key: string(kv.Key), Value: value(kv.Value)})
	}
	return out
}

func value(v attribute.Value) otlpValue {
	switch v.Type() {
	case attribute.BOOL:
		b := v.AsBool()
		return otlpValue{Bool: &b}
	case attribute.INT64:
		s := strconv.FormatInt(v.AsInt64(), 10)
		return otlpValue{Int: &s}
	case attribute.FLOAT64:
		f := v.AsFloat64()
		return otlpValue{Double: &f}
	case attribute.STRINGSLICE:
		l := &otlpList{}
		for _, s := range v.AsStringSlice() {
			l.Values = append(l.Values, value(attribute.StringValue(s)))
		}
		return otlpValue{Array: l}
	case attribute.INT64SLICE:
		l := &otlpList{}
		for _, n := range v.AsInt64Slice() {
			l.Values = append(l.Values, value(attribute.Int64Value(n)))
		}
		return otlpValue{Array: l}
	}
	s := v.Emit()
	return otlpValue{String: &s}
}
