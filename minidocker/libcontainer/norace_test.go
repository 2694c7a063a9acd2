//go:build !race

package libcontainer

const raceEnabled = false
