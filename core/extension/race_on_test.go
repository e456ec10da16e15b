//go:build race

package extension_test

// raceDetector is true under -race: the end-to-end tests over every
// plugin build, which run in the ordinary test run, are skipped there.
const raceDetector = true
