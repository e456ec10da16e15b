package process

import (
	"context"
	"sync"

	"github.com/rapportcrm/rapport/sdk"
)

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// Score runs the plugin's score point on req and returns a validated
// response: one finite value per subject.
func (c *Client) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if err := req.Batch.Validate(); err != nil {
		return nil, err
	}
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	*bp = sdk.AppendScoreRequest((*bp)[:0], req)
	var resp *sdk.ScoreResponse
	err := c.Call(ctx, sdk.PointScore, *bp, func(out []byte) error {
		r, err := sdk.DecodeScoreResponse(out)
		if err != nil {
			return err
		}
		if err := r.Validate(req.Batch.Count); err != nil {
			return err
		}
		resp = r
		return nil
	})
	return resp, err
}

// Segment runs the plugin's segment point on req.
func (c *Client) Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	if err := req.Batch.Validate(); err != nil {
		return nil, err
	}
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	*bp = sdk.AppendSegmentRequest((*bp)[:0], req)
	var resp *sdk.SegmentResponse
	err := c.Call(ctx, sdk.PointSegment, *bp, func(out []byte) error {
		r, err := sdk.DecodeSegmentResponse(out)
		if err != nil {
			return err
		}
		if err := r.Validate(req.Batch.Count); err != nil {
			return err
		}
		resp = r
		return nil
	})
	return resp, err
}

// Report runs the plugin's report point on req.
func (c *Client) Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	*bp = sdk.AppendReportRequest((*bp)[:0], req)
	var resp *sdk.Report
	err := c.Call(ctx, sdk.PointReport, *bp, func(out []byte) error {
		r, err := sdk.DecodeReport(out)
		resp = r
		return err
	})
	return resp, err
}
