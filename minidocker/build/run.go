package build

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// ContainerRun runs RUN steps in real containers made by package libcontainer:
// the rootfs is overlay(lower = the parent image's layers, upper = the
// step's upperdir), the process runs as PID 1 in its own namespaces and
// cgroup, its output goes to the build output. It is the one
// implementation of Backend.Run: the daemon uses it (with its cgroup
// parent and a bridge endpoint per step), and so do this package's tests
// that run real containers.
type ContainerRun struct {
	// LayerDirs gives the unpacked layers of an image, top first.
	LayerDirs func(imageID string) ([]string, error)
	// CgroupParent is where the step's cgroup (named after its ID) goes.
	CgroupParent string
	// Network, when not nil, gives the step its network namespace and a
	// function that releases it (called after the container is gone). nil
	// means a namespace of its own with only lo (docker's --network none).
	Network func(ctx context.Context, spec RunSpec) (libcontainer.Network, func(), error)
	// UserNamespace, when set, runs each step remapped (the daemon's
	// --userns-remap): the upper dir is its root's, the step's directory
	// searchable by it.
	UserNamespace *libcontainer.UserNamespace
}

// Run is Backend.Run. The bundle (spec, shim socket) lives beside the
// upperdir, in the step's scratch directory the builder removes. Whatever
// happens — the command fails, the client goes away (ctx), the process
// cannot start — the container is gone when Run returns: no process, no
// cgroup; the overlay was only ever mounted in the container's own mount
// namespace.
func (r ContainerRun) Run(ctx context.Context, spec RunSpec) (code int, err error) {
	var lower []string
	if spec.ImageID != "" {
		if lower, err = r.LayerDirs(spec.ImageID); err != nil {
			return 0, err
		}
	}
	for _, d := range []string{spec.WorkDir, spec.MergedDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return 0, err
		}
	}
	bundle := filepath.Join(filepath.Dir(spec.UpperDir), "bundle")
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return 0, err
	}
	netw := libcontainer.Network{Mode: "none"}
	if r.Network != nil {
		n, release, err := r.Network(ctx, spec)
		if err != nil {
			return 0, err
		}
		defer release()
		netw = n
	}
	rs := &libcontainer.Spec{
		ID:       spec.ID,
		Rootfs:   libcontainer.Rootfs{LowerDirs: lower, UpperDir: spec.UpperDir, WorkDir: spec.WorkDir, MergedDir: spec.MergedDir},
		Process:  libcontainer.Process{Args: spec.Args, Env: spec.Env, Cwd: spec.WorkingDir, User: spec.User},
		Hostname: spec.Hostname,
		Network:  netw,
		Cgroup:   libcontainer.Cgroup{Parent: r.CgroupParent, Name: spec.ID},
	}
	if ns := r.UserNamespace; ns != nil {
		rs.UserNamespace = ns
		if err := openToRemappedRoot(spec, ns); err != nil {
			return 0, err
		}
	}
	if err := libcontainer.WriteSpec(bundle, rs); err != nil {
		return 0, err
	}
	defer libcontainer.Cleanup(bundle) // kills what still runs, removes the cgroup
	sh, err := libcontainer.CreateShim(ctx, bundle)
	if err != nil {
		var se *libcontainer.StartError
		if errors.As(err, &se) {
			fmt.Fprintln(spec.Stderr, se.Message)
			return se.Code, nil
		}
		return 0, err
	}
	conn, err := sh.Attach(ctx, false, true, true)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() { done <- demuxStd(conn, spec.Stdout, spec.Stderr) }()
	if err := sh.Start(ctx); err != nil {
		var se *libcontainer.StartError
		if errors.As(err, &se) {
			// docker's 126/127 cases: the message, then the code
			conn.Close()
			<-done
			fmt.Fprintln(spec.Stderr, se.Message)
			return se.Code, nil
		}
		return 0, err
	}
	st, err := sh.Wait(ctx)
	if err != nil {
		return 0, err
	}
	<-done // all of the output has been written before the step ends
	return st.ExitCode, nil
}

// demuxStd splits the shim's multiplexed stream (8-byte stdcopy headers)
// into stdout and stderr.
func demuxStd(r io.Reader, stdout, stderr io.Writer) error {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		w := stdout
		if hdr[0] == 2 {
			w = stderr
		}
		if _, err := io.CopyN(w, r, int64(binary.BigEndian.Uint32(hdr[4:]))); err != nil {
			return err
		}
	}
}

// openToRemappedRoot gives a remapped step's root its upper dir and lets
// it reach the merged dir (init opens it as that root).
func openToRemappedRoot(spec RunSpec, ns *libcontainer.UserNamespace) error {
	if err := os.Chown(spec.UpperDir, int(ns.RootUID()), int(ns.RootGID())); err != nil {
		return err
	}
	return os.Chmod(filepath.Dir(spec.MergedDir), 0o711)
}
