// Package volume is the "local" volume driver: a named directory under
// <data-root>/volumes/<name>/_data that outlives the containers using it.
//
// Article section: 3 containers (data that survives `docker rm`), and the
// Compose section of chapter 05 (a project's named volume).
//
// Start reading at Store.Create. A volume is a directory and a small JSON
// record beside it (volume.json: labels, whether it is anonymous, when it
// was made); the store never knows which containers use a volume — the
// daemon checks that before it asks for a removal (daemon/volumes.go).
package volume
