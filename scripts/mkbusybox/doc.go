// Command mkbusybox builds a small busybox image offline, from a statically
// linked busybox binary that is already on this machine (Debian's
// busybox-static puts one at /bin/busybox).
//
// Docker Hub cannot be reached on the development and CI machines, so the labs
// need a busybox image that is made locally. The rootfs holds:
//
//   - /bin/busybox and one absolute symlink to it per applet
//     (the list comes from `busybox --list-full`: /bin/sh -> /bin/busybox, ...);
//   - /etc/passwd (root, nobody) and /etc/group (root, nogroup);
//   - the empty directories /dev /proc /sys /root /home /var /var/www and /tmp (1777).
//
// The layer tar looks like the one `docker import` makes: names start with
// "./", owners are numeric 0/0.
// The output is deterministic: entries are sorted, every mtime is the same
// fixed time (SOURCE_DATE_EPOCH, or the Unix epoch), and so is the image's
// "created" time. Two runs with the same busybox binary give the same image ID.
//
// Usage:
//
//	go run ./scripts/mkbusybox -o busybox.tar                # docker-archive, tag busybox:latest
//	go run ./scripts/mkbusybox -o busybox.tar -tag busybox:1.35
//	go run ./scripts/mkbusybox -rootfs-tar rootfs.tar        # only the rootfs (for `import`)
//	go run ./scripts/mkbusybox -busybox /path/to/busybox -o busybox.tar
//
// The archive (manifest.json, the config blob, one layer) is written with
// go-containerregistry's tarball package, so `docker load -i busybox.tar`
// and `minidocker load -i busybox.tar` both accept it. The layer is stored
// uncompressed (`<diff_id>.tar`, as `docker save` does) unless -gzip is given.
package main
