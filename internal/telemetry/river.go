package telemetry

import (
	"context"

	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// JobMiddleware traces every job a River worker runs as a root span "job
// KIND" carrying the job's ID, kind, queue and attempt; the job's own
// statements, plugin calls and deliveries are its children.
func JobMiddleware() rivertype.WorkerMiddleware { return jobMiddleware{} }

type jobMiddleware struct{}

func (jobMiddleware) IsMiddleware() bool { return true }

func (jobMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	ctx, span := Start(ctx, "job "+job.Kind, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithNewRoot(),
		trace.WithAttributes(attribute.String("messaging.system", "river"), attribute.Int64("rapport.job.id", job.ID),
			attribute.String("rapport.job.kind", job.Kind), attribute.String("rapport.job.queue", job.Queue),
			attribute.Int("rapport.job.attempt", job.Attempt)))
	defer span.End()
	err := doInner(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "job failed")
	}
	return err
}
