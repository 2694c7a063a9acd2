// Package stringid makes and shortens the 64-hex IDs that containers,
// execs, networks and endpoints carry, and the short 12-hex form docker
// prints in its tables and messages. It exists so the rule lives once: the
// daemon, the network manager, the image store and the builder all call it.
//
// Start reading at GenerateRandomID; TruncateID is the short form.
package stringid
