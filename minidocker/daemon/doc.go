// Package daemon is dockerd and containerd folded into one process (article
// section 1): it owns the image store, the container records, the networks
// and the builder, and starts one shim per container.
//
// Start reading at New in daemon.go: it makes the directories under the data
// root and exec root, opens every subsystem and reconciles what a crash may
// have left. info.go answers `docker info` from what the host really has.
// The api package turns HTTP into calls on *Daemon; nothing here knows HTTP.
package daemon
