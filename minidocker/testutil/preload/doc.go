// Package preload puts the offline busybox image into a test daemon's image
// store before the daemon starts, straight through image.Store.Load, so that
// a test does not depend on the load endpoint (testutil's LoadBusybox goes
// through `load -i` instead). It lives apart from testutil because it imports
// the image package, which testutil must not; for the same reason the image
// package's own tests must not import it.
package preload
