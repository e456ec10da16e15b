//go:build !race

package export_test

// raceDetector: see race_on_test.go.
const raceDetector = false
