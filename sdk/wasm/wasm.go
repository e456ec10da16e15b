// Package wasm serves an sdk.Plugin from a WebAssembly module built with
// GOOS=wasip1 GOARCH=wasm -buildmode=c-shared. It implements the guest side
// of the ABI in sdk/ABI.md: authors never call it directly, `rapport plugin
// build` generates the one line that registers their Plugin.
package wasm

import (
	"github.com/rapportcrm/rapport/sdk"
)

// Point numbers of the ABI's rapport_call.
const (
	pointScore   = 1
	pointSegment = 2
	pointReport  = 3
)

var plugin sdk.Plugin

// Register makes p the plugin this module serves. Call it from an init
// function of the module's main package.
func Register(p sdk.Plugin) { plugin = p }

// guestContext is the sdk.Context of one call.
type guestContext struct{ config []byte }

func (c guestContext) Config() []byte { return c.config }

func (c guestContext) Log(level, msg string) { hostLog(level, msg) }

// dispatch decodes the request of one call, runs the plugin and encodes the
// response into out. It is separate from the export so that it can be
// tested on any platform.
func dispatch(point uint32, in []byte, out []byte) (res []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	switch point {
	case pointScore:
		if plugin.Score == nil {
			return nil, errNotImplemented("score")
		}
		req, err := sdk.DecodeScoreRequest(in, false)
		if err != nil {
			return nil, err
		}
		resp, err := plugin.Score(guestContext{req.Config}, req)
		if err != nil {
			return nil, err
		}
		return sdk.AppendScoreResponse(out, resp), nil
	case pointSegment:
		if plugin.Segment == nil {
			return nil, errNotImplemented("segment")
		}
		req, err := sdk.DecodeSegmentRequest(in, false)
		if err != nil {
			return nil, err
		}
		resp, err := plugin.Segment(guestContext{req.Config}, req)
		if err != nil {
			return nil, err
		}
		return sdk.AppendSegmentResponse(out, resp), nil
	case pointReport:
		if plugin.Report == nil {
			return nil, errNotImplemented("report")
		}
		req, err := sdk.DecodeReportRequest(in, false)
		if err != nil {
			return nil, err
		}
		resp, err := plugin.Report(guestContext{req.Config}, req)
		if err != nil {
			return nil, err
		}
		return sdk.AppendReport(out, resp), nil
	}
	return nil, errNotImplemented("point")
}

type errNotImplemented string

func (e errNotImplemented) Error() string { return "extension point " + string(e) + " not implemented" }

type panicError struct{ v any }

func (p panicError) Error() string {
	if e, ok := p.v.(error); ok {
		return "panic: " + e.Error()
	}
	if s, ok := p.v.(string); ok {
		return "panic: " + s
	}
	return "panic"
}
