//go:build race

package runtime

const raceEnabled = true // the race detector multiplies memory use
