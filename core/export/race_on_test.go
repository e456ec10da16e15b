//go:build race

package export_test

// raceDetector is true when the tests run under the race detector, which
// slows the exporter down and lets more garbage pile up between the
// collections the memory test samples.
const raceDetector = true
