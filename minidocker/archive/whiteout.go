package archive

import (
	"io/fs"
	"syscall"
)

// Overlay whiteout conventions shared by the OCI layer format and overlayfs.
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	opaqueMarker   = ".wh..wh..opq"

	xattrOpaque     = "trusted.overlay.opaque"
	xattrOpaqueUser = "user.overlay.opaque"

	// paxXattr prefixes a PAX record that carries an extended attribute.
	paxXattr = "SCHILY.xattr."
	// xattrCapability holds a file's capabilities (setcap's attribute).
	xattrCapability = "security.capability"
)

// statRdev is the device number of a device node (1 if unknown, which is
// never a whiteout).
func statRdev(fi fs.FileInfo) uint64 {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 1
	}
	return st.Rdev
}
