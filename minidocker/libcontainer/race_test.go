//go:build race

package libcontainer

const raceEnabled = true // the race detector multiplies memory use
