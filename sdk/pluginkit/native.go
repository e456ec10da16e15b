package pluginkit

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// Native returns a Target that runs p in-process, as the native runtime
// would: each call gets an sdk.Context whose Config is the request's config
// and whose Log discards. A point p leaves nil is refused, as the WASM
// guest refuses it.
//
// A panic in p fails the call with an error that carries the panic's value
// and stack and does not wrap ErrRefused: the kit reports it as a crash,
// even though the WASM guest would turn it into an error answer. Native
// functions cannot be cancelled, so a call that passes its context's
// deadline returns the context's error and leaves the plugin running in
// the background.
//
// Raw decodes the request bytes with the SDK's decoder, refusing what it
// cannot decode, and encodes the response with the SDK's encoder.
func Native(m *manifest.Manifest, p sdk.Plugin) Target { return &native{m: m, p: p} }

type native struct {
	m *manifest.Manifest
	p sdk.Plugin
}

var _ Target = (*native)(nil)

// hostContext is the sdk.Context of a native call.
type hostContext struct{ config []byte }

func (c hostContext) Config() []byte        { return c.config }
func (c hostContext) Log(level, msg string) {}

func (n *native) Manifest() *manifest.Manifest { return n.m }

func (n *native) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if n.p.Score == nil {
		return nil, notImplemented(sdk.PointScore)
	}
	var resp *sdk.ScoreResponse
	err := call(ctx, sdk.PointScore, func() (err error) {
		resp, err = n.p.Score(hostContext{req.Config}, req)
		return err
	})
	return resp, err
}

func (n *native) Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	if n.p.Segment == nil {
		return nil, notImplemented(sdk.PointSegment)
	}
	var resp *sdk.SegmentResponse
	err := call(ctx, sdk.PointSegment, func() (err error) {
		resp, err = n.p.Segment(hostContext{req.Config}, req)
		return err
	})
	return resp, err
}

func (n *native) Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	if n.p.Report == nil {
		return nil, notImplemented(sdk.PointReport)
	}
	var resp *sdk.Report
	err := call(ctx, sdk.PointReport, func() (err error) {
		resp, err = n.p.Report(hostContext{req.Config}, req)
		return err
	})
	return resp, err
}

func (n *native) Raw(ctx context.Context, point sdk.Point, b []byte) ([]byte, error) {
	switch point {
	case sdk.PointScore:
		req, err := sdk.DecodeScoreRequest(b, true)
		if err != nil {
			return nil, refused(err)
		}
		resp, err := n.Score(ctx, req)
		if err != nil || resp == nil {
			return nil, err
		}
		return sdk.AppendScoreResponse(nil, resp), nil
	case sdk.PointSegment:
		req, err := sdk.DecodeSegmentRequest(b, true)
		if err != nil {
			return nil, refused(err)
		}
		resp, err := n.Segment(ctx, req)
		if err != nil || resp == nil {
			return nil, err
		}
		return sdk.AppendSegmentResponse(nil, resp), nil
	case sdk.PointReport:
		req, err := sdk.DecodeReportRequest(b, true)
		if err != nil {
			return nil, refused(err)
		}
		resp, err := n.Report(ctx, req)
		if err != nil || resp == nil {
			return nil, err
		}
		return sdk.AppendReport(nil, resp), nil
	}
	return nil, notImplemented(point)
}

func refused(err error) error { return fmt.Errorf("%w: %w", ErrRefused, err) }

func notImplemented(p sdk.Point) error {
	return fmt.Errorf("%w: extension point %s not implemented", ErrRefused, p)
}

// call runs fn, the plugin's function, in its own goroutine so that a hang
// cannot outlive ctx and a panic cannot escape.
func call(ctx context.Context, point sdk.Point, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", point, err)
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("%s: plugin panicked: %v\n%s", point, r, debug.Stack())
			}
		}()
		if err := fn(); err != nil {
			done <- refused(err)
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer: %w", point, ctx.Err())
	}
}
