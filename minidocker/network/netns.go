package network

import (
	"errors"
	"fmt"
	"os"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// createNetns makes a new, empty network namespace and pins it at path by
// bind-mounting the creating thread's ns file onto it (what `ip netns add`
// does). The thread that unshared is thrown away (libcontainer.OnThrowawayThread:
// never the main thread, which Go would keep alive in the new namespace),
// so no other goroutine ever runs in the new namespace by accident.
func createNetns(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	err = nil
	libcontainer.OnThrowawayThread(func() {
		if e := unix.Unshare(unix.CLONE_NEWNET); e != nil {
			err = fmt.Errorf("unshare net: %w", e)
			return
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if e := unix.Mount(src, path, "none", unix.MS_BIND, ""); e != nil {
			err = fmt.Errorf("pin netns at %s: %w", path, e)
		}
	})
	if err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// removeNetns unpins a namespace file; a missing file is fine.
func removeNetns(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// RunInNetns runs fn on an OS thread that has joined the network namespace
// at path. Sockets fn creates belong to that namespace and may be used from
// any goroutine afterwards. The thread is discarded when fn returns (and it
// is never the process's main thread; see libcontainer.OnThrowawayThread).
func RunInNetns(path string, fn func() error) error {
	var err error
	libcontainer.OnThrowawayThread(func() {
		h, e := netns.GetFromPath(path)
		if e != nil {
			err = e
			return
		}
		defer h.Close()
		if e := netns.Set(h); e != nil {
			err = e
			return
		}
		err = fn()
	})
	return err
}
