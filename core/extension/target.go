package extension

import (
	"context"
	"errors"
	"fmt"

	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

// WASMTarget adapts a loaded module to the conformance kit, so that
// `rapport plugin test` and tests can run sdk/pluginkit on the very code
// path the server uses. The module's own error answers become
// pluginkit.ErrRefused; every other fault stays a failure.
func WASMTarget(m *manifest.Manifest, mod *wasm.Module) pluginkit.Target {
	return &wasmTarget{m: m, mod: mod}
}

type wasmTarget struct {
	m   *manifest.Manifest
	mod *wasm.Module
}

func (w *wasmTarget) Manifest() *manifest.Manifest { return w.m }

func (w *wasmTarget) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	r, err := w.mod.Score(ctx, req)
	return r, refusal(err)
}

func (w *wasmTarget) Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	r, err := w.mod.Segment(ctx, req)
	return r, refusal(err)
}

func (w *wasmTarget) Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	r, err := w.mod.Report(ctx, req)
	return r, refusal(err)
}

var pointNumbers = map[sdk.Point]uint32{
	sdk.PointScore:   wasm.PointScore,
	sdk.PointSegment: wasm.PointSegment,
	sdk.PointReport:  wasm.PointReport,
}

func (w *wasmTarget) Raw(ctx context.Context, point sdk.Point, req []byte) ([]byte, error) {
	num, ok := pointNumbers[point]
	if !ok {
		return nil, fmt.Errorf("no ABI number for point %q", point)
	}
	var out []byte
	err := w.mod.Call(ctx, num, req, func(b []byte) error {
		out = append([]byte(nil), b...)
		return nil
	})
	return out, refusal(err)
}

// refusal marks the module's own error answers as refusals.
func refusal(err error) error {
	var f *wasm.Fault
	if errors.As(err, &f) && f.Cause == "plugin_error" {
		return fmt.Errorf("%w: %w", pluginkit.ErrRefused, err)
	}
	return err
}
