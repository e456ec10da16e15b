// Package guest is the plugin side of a call, shared by every runtime's
// serving code (sdk/wasm, sdk/process): decode the request bytes of an
// extension point, run the author's function, encode the answer.
package guest

import (
	"github.com/rapportcrm/rapport/sdk"
)

// Point numbers, as in sdk/ABI.md.
const (
	PointScore   = 1
	PointSegment = 2
	PointReport  = 3
)

// Dispatch decodes the request in (which may alias numeric columns: keep in
// unchanged until the call returns), runs p's point with the context ctx
// makes from the request's config, and appends the encoded response to
// out. An error is the plugin's own (including a point it does not
// implement, a request it cannot decode and a panic), to be sent back as an
// Error message.
func Dispatch(p *sdk.Plugin, ctx func(config []byte) sdk.Context, point uint32, in, out []byte) (res []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = PanicError{r}
		}
	}()
	switch point {
	case PointScore:
		if p.Score == nil {
			return nil, NotImplemented("score")
		}
		req, err := sdk.DecodeScoreRequest(in, false)
		if err != nil {
			return nil, err
		}
		resp, err := p.Score(ctx(req.Config), req)
		if err != nil {
			return nil, err
		}
		return sdk.AppendScoreResponse(out, resp), nil
	case PointSegment:
		if p.Segment == nil {
			return nil, NotImplemented("segment")
		}
		req, err := sdk.DecodeSegmentRequest(in, false)
		if err != nil {
			return nil, err
		}
		resp, err := p.Segment(ctx(req.Config), req)
		if err != nil {
			return nil, err
		}
		return sdk.AppendSegmentResponse(out, resp), nil
	case PointReport:
		if p.Report == nil {
			return nil, NotImplemented("report")
		}
		req, err := sdk.DecodeReportRequest(in, false)
		if err != nil {
			return nil, err
		}
		resp, err := p.Report(ctx(req.Config), req)
		if err != nil {
			return nil, err
		}
		return sdk.AppendReport(out, resp), nil
	}
	return nil, NotImplemented("point")
}

// Points lists the extension points p implements.
func Points(p *sdk.Plugin) []string {
	var out []string
	if p.Score != nil {
		out = append(out, string(sdk.PointScore))
	}
	if p.Segment != nil {
		out = append(out, string(sdk.PointSegment))
	}
	if p.Report != nil {
		out = append(out, string(sdk.PointReport))
	}
	return out
}

// NotImplemented is the error for a point a plugin leaves nil.
type NotImplemented string

func (e NotImplemented) Error() string { return "extension point " + string(e) + " not implemented" }

// PanicError is a panic of the plugin's function, answered as an error.
type PanicError struct{ V any }

func (p PanicError) Error() string {
	if e, ok := p.V.(error); ok {
		return "panic: " + e.Error()
	}
	if s, ok := p.V.(string); ok {
		return "panic: " + s
	}
	return "panic"
}
