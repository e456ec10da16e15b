// Package points is the part of an extension-point call that every
// runtime shares: encode the request (into a pooled buffer), hand its
// bytes to the runtime, and decode and check the answer. A runtime
// supplies only the Call that carries bytes across.
package points

import (
	"context"
	"sync"

	"github.com/rapportcrm/rapport/sdk"
)

// Call sends an encoded request to a point and hands the answer's bytes to
// decode, which must not keep them.
type Call func(ctx context.Context, point sdk.Point, req []byte, decode func([]byte) error) error

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// Score runs the score point on req and returns a validated response: one
// finite value per subject.
func Score(ctx context.Context, call Call, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if err := req.Batch.Validate(); err != nil {
		return nil, err
	}
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	*bp = sdk.AppendScoreRequest((*bp)[:0], req)
	var resp *sdk.ScoreResponse
	err := call(ctx, sdk.PointScore, *bp, func(out []byte) error {
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

// Segment runs the segment point on req and returns a validated response.
func Segment(ctx context.Context, call Call, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	if err := req.Batch.Validate(); err != nil {
		return nil, err
	}
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	*bp = sdk.AppendSegmentRequest((*bp)[:0], req)
	var resp *sdk.SegmentResponse
	err := call(ctx, sdk.PointSegment, *bp, func(out []byte) error {
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

// Report runs the report point on req.
func Report(ctx context.Context, call Call, req *sdk.ReportRequest) (*sdk.Report, error) {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	*bp = sdk.AppendReportRequest((*bp)[:0], req)
	var resp *sdk.Report
	err := call(ctx, sdk.PointReport, *bp, func(out []byte) error {
		r, err := sdk.DecodeReport(out)
		resp = r
		return err
	})
	return resp, err
}
