//go:build race

package interrupt

// raceEnabled: the race detector slows compiling the real modules tenfold.
const raceEnabled = true
