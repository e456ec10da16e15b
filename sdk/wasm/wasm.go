// Package wasm serves an sdk.Plugin from a WebAssembly module built with
// GOOS=wasip1 GOARCH=wasm -buildmode=c-shared. It implements the guest side
// of the ABI in sdk/ABI.md: authors never call it directly, `rapport plugin
// build` generates the one line that registers their Plugin.
package wasm

import (
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/internal/guest"
)

var plugin sdk.Plugin

// Register makes p the plugin this module serves. Call it from an init
// function of the module's main package.
func Register(p sdk.Plugin) { plugin = p }

// guestContext is the sdk.Context of one call.
type guestContext struct{ config []byte }

func (c guestContext) Config() []byte { return c.config }

func (c guestContext) Log(level, msg string) { hostLog(level, msg) }

func newContext(config []byte) sdk.Context { return guestContext{config} }

// dispatch decodes the request of one call, runs the plugin and encodes the
// response into out. It is separate from the export so that it can be
// tested on any platform.
func dispatch(point uint32, in []byte, out []byte) ([]byte, error) {
	return guest.Dispatch(&plugin, newContext, point, in, out)
}
