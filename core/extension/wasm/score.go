package wasm

import (
	"context"
	"fmt"

	"github.com/rapportcrm/rapport/core/extension/internal/points"
	"github.com/rapportcrm/rapport/sdk"
)

// Score runs the module's score point on req and returns a validated
// response: one finite value per subject.
func (m *Module) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	return points.Score(ctx, m.CallPoint, req)
}

// Segment runs the module's segment point on req.
func (m *Module) Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	return points.Segment(ctx, m.CallPoint, req)
}

// Report runs the module's report point on req.
func (m *Module) Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	return points.Report(ctx, m.CallPoint, req)
}

// pointNumbers are the ABI's numbers of the extension points.
var pointNumbers = map[sdk.Point]uint32{sdk.PointScore: PointScore, sdk.PointSegment: PointSegment, sdk.PointReport: PointReport}

// CallPoint is Call with the point named rather than numbered.
func (m *Module) CallPoint(ctx context.Context, point sdk.Point, req []byte, decode func([]byte) error) error {
	num, ok := pointNumbers[point]
	if !ok {
		return fmt.Errorf("no ABI number for point %q", point)
	}
	return m.Call(ctx, num, req, decode)
}
