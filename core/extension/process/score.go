package process

import (
	"context"
	"math"

	"github.com/rapportcrm/rapport/core/extension/internal/points"
	"github.com/rapportcrm/rapport/sdk"
)

// Score runs the plugin's score point on req and returns a validated
// response: one finite value per subject.
//
// It does what points.Score does for every runtime, but encodes the
// request straight into the buffer of the stream that carries it, so
// that the batch crosses to gRPC without a copy (see Client.call), and
// checks the answer with valid first.
func (c *Client) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if err := req.Batch.Validate(); err != nil {
		return nil, err
	}
	var resp *sdk.ScoreResponse
	err := c.call(ctx, sdk.PointScore, func(b []byte) []byte { return sdk.AppendScoreRequest(b, req) }, func(out []byte) error {
		r, err := sdk.DecodeScoreResponse(out)
		if err != nil {
			return err
		}
		if !valid(r, req.Batch.Count) {
			if err := r.Validate(req.Batch.Count); err != nil {
				return err
			}
		}
		resp = r
		return nil
	})
	return resp, err
}

// valid reports whether r.Validate(n) would accept r, in half the time:
// Validate tests each value for NaN and for either infinity, 8 µs for the
// answer to 1,000 leads with 8 factors (some 5% of the host's time per
// lead), where finite looks at exponent bits only. An answer valid refuses
// goes to Validate, for Validate's verdict and message; TestValid checks
// that the two agree.
func valid(r *sdk.ScoreResponse, n int) bool {
	if len(r.Values) != n || len(r.Contributions) != n*len(r.FactorNames) {
		return false
	}
	if r.LabelCodes != nil {
		if len(r.LabelCodes) != n {
			return false
		}
		for _, c := range r.LabelCodes {
			if c != sdk.Missing && int(c) >= len(r.Labels) {
				return false
			}
		}
	}
	return finite(r.Values) && finite(r.Contributions)
}

// finite reports whether no value of v is NaN or infinite, that is whether
// none has every exponent bit set: adding one to the lowest exponent bit
// of such an exponent, and of no other, carries into the top bit.
func finite(v []float64) bool {
	const exp, low = 0x7ff0_0000_0000_0000, 1 << 52
	var acc uint64
	for ; len(v) >= 4; v = v[4:] {
		a := math.Float64bits(v[0])&exp + low
		b := math.Float64bits(v[1])&exp + low
		c := math.Float64bits(v[2])&exp + low
		d := math.Float64bits(v[3])&exp + low
		acc |= a | b | c | d
	}
	for _, f := range v {
		acc |= math.Float64bits(f)&exp + low
	}
	return acc>>63 == 0
}

// Segment runs the plugin's segment point on req.
func (c *Client) Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	return points.Segment(ctx, c.Call, req)
}

// Report runs the plugin's report point on req.
func (c *Client) Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	return points.Report(ctx, c.Call, req)
}
