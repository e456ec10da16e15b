package process

import (
	"context"

	"github.com/rapportcrm/rapport/core/extension/internal/points"
	"github.com/rapportcrm/rapport/sdk"
)

// Score runs the plugin's score point on req and returns a validated
// response: one finite value per subject.
func (c *Client) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	return points.Score(ctx, c.Call, req)
}

// Segment runs the plugin's segment point on req.
func (c *Client) Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	return points.Segment(ctx, c.Call, req)
}

// Report runs the plugin's report point on req.
func (c *Client) Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	return points.Report(ctx, c.Call, req)
}
