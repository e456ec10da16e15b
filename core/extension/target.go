package extension

import (
	"context"
	"fmt"

	"github.com/rapportcrm/rapport/core/extension/process"
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

func (w *wasmTarget) Raw(ctx context.Context, point sdk.Point, req []byte) ([]byte, error) {
	var out []byte
	err := w.mod.CallPoint(ctx, point, req, func(b []byte) error {
		out = append([]byte(nil), b...)
		return nil
	})
	return out, refusal(err)
}

// refusal marks the plugin's own error answers as refusals.
func refusal(err error) error {
	if err != nil && faultCause(err) == "plugin_error" {
		return fmt.Errorf("%w: %w", pluginkit.ErrRefused, err)
	}
	return err
}

// ProcessTarget adapts a process plugin's client to the conformance kit,
// as WASMTarget does a module: the plugin's own error answers become
// pluginkit.ErrRefused; every other fault (a crash, a timeout, a broken
// answer) stays a failure.
func ProcessTarget(m *manifest.Manifest, c *process.Client) pluginkit.Target {
	return &processTarget{m: m, c: c}
}

type processTarget struct {
	m *manifest.Manifest
	c *process.Client
}

func (p *processTarget) Manifest() *manifest.Manifest { return p.m }

func (p *processTarget) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	r, err := p.c.Score(ctx, req)
	return r, refusal(err)
}

func (p *processTarget) Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	r, err := p.c.Segment(ctx, req)
	return r, refusal(err)
}

func (p *processTarget) Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	r, err := p.c.Report(ctx, req)
	return r, refusal(err)
}

func (p *processTarget) Raw(ctx context.Context, point sdk.Point, req []byte) ([]byte, error) {
	var out []byte
	err := p.c.Call(ctx, point, req, func(b []byte) error {
		out = append([]byte(nil), b...)
		return nil
	})
	return out, refusal(err)
}
