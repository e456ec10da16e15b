// Package runtimes holds the test that proves the conformance kit on every
// runtime: it runs pluginkit against examples/leadscore natively and as the
// WebAssembly module `rapport plugin build` makes of it. It has no API; it
// exists so that the test, which needs the server's WASM host, lives apart
// from pluginkit, which must not import anything of the server.
package runtimes
