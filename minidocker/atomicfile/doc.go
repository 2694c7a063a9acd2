// Package atomicfile replaces a file's whole content in one step: the
// daemon's records, the image store's index, the registry's manifests and
// links, the network's endpoints and the shim's state all depend on it
// (article section 1: a daemon that can crash at any moment and restart
// without losing track of its images and containers).
//
// Start reading at Write: new content goes to a temp file on the same
// filesystem, then rename(2) swaps it in, so a reader — or a daemon
// restarting after a crash — sees the old file or the new one, never a
// torn one. How durable that is (fsync of the data, of the directory) is
// each caller's choice, spelled out in Options.
package atomicfile
