//go:build !wasip1

package wasm

import "log"

// hostLog outside a WASM host writes to the standard logger, so that plugin
// code runs unchanged in native tests.
func hostLog(level, msg string) { log.Printf("%s: %s", level, msg) }
