// Package libcontainer is everything below the daemon: the shim that holds a
// container, the container's init, and exec into a running container. It is
// named after runc's library of the same name, which plays the same part
// (and does not shadow the standard library's runtime package). It
// teaches the article's section 4 — what a container really is: a process
// (PID 1 is the CMD) in its own namespaces, in a cgroup, on a root made
// with pivot_root.
//
// One static binary plays the roles (see RunReexecEntrypoint):
//
//	daemon ── CreateShim ──▶ minidocker shim (a spare, claimed)      (spareshim_linux.go, shim_linux.go)
//	                           │ clone(NEWNS|NEWPID|NEWUTS|NEWIPC[|NEWNET]),
//	                           │ ahead of need (a spare init) or on claim,
//	                           │ gets its spec, into the cgroup, builds
//	                           │ the root, waits for "go"            (spareinit_linux.go)
//	                           ▼                    ▲ pty master (-t), SCM_RIGHTS
//	                         minidocker init ──execve──▶ CMD = PID 1   (init_linux.go, mounts_linux.go,
//	                                                                    console_linux.go)
//	daemon ── Exec: a locked thread setns()es into PID 1's namespaces
//	          and forks the command from there                         (exec_linux.go, execns_linux.go)
//
// With a user namespace (Spec.UserNamespace, --userns-remap) the shim
// starts a "minidocker userns-helper" with CLONE_NEWUSER instead, which
// clones init with the other flags and CLONE_PARENT (init stays the shim's
// child) and then serves exec from inside that user namespace
// (usernshelper_linux.go; the daemon's side: usernsexec_linux.go). The
// shim mounts init's root itself, from idmapped layers, in init's mount
// namespace (userns_linux.go). Init, which may not mknod there, binds the
// host's node for /dev's standard devices and for each --device
// (bindHostNode); the device cgroup still decides what may be opened.
//
// A fourth role: with --init, /sbin/docker-init (this binary, mounted in)
// is PID 1 and runs the CMD as its child (reaper_linux.go).
// runopts_linux.go applies rlimits, /dev/shm, sysctls and --group-add,
// and says which namespaces are shared (--ipc, --pid, --uts: the shim
// clones init without them, or from a thread that joined another
// container's).
//
// Start reading at shim_linux.go (create, then run), then init_linux.go and
// mounts_linux.go for the root file system and pivot_root, console_linux.go
// for the container's terminal, execns_linux.go
// for setns (usernshelper_linux.go under a user namespace),
// security_linux.go and caps_linux.go for capabilities and
// seccomp, and jsonlog.go for docker's json-file log. shimruntime_linux.go
// says how the shim keeps its memory small (when its collector runs).
// trace_linux.go prints where a start's time goes: with
// _MINIDOCKER_TRACE=/some/file on the daemon, the daemon, the shims and
// the inits append their steps to one file, one timeline per run.
//
// The daemon's contract:
//
//   - it writes a Spec into a bundle directory (WriteSpec);
//   - CreateShim starts the shim (own session: it survives the daemon,
//     even kill -9), hands it the bundle and returns when init waits, in
//     its namespaces and cgroup; Attach then, and Start: no output is
//     lost. StartShim does both at once. A daemon keeps a SpareShims and
//     calls its CreateShim: the shim was started before it was needed;
//     and its Refill once that start is over, so the next spare's start
//     does not compete with this one for the CPU;
//   - ConnectShim reconnects after a daemon restart; Attach, Resize, Kill,
//     Wait, State talk to the shim over <bundle>/shim.sock;
//   - when PID 1 has exited the shim writes <bundle>/exit.json
//     (ReadExitStatus), answers Wait and exits; Cleanup removes the cgroup
//     and the runtime's files (idempotent; it also stops a container that
//     still runs);
//   - Shim.Exec runs a process in a running container: Exec from the
//     daemon's own thread, or through the container's userns-helper when
//     PID 1 is in a user namespace of its own;
//   - ReadLog reads the json-file log (tail, since, until, follow), across
//     the files the shim's LogWriter rotated (--log-opt max-size, max-file,
//     compress: jsonlog_gzip.go), with each line's attrs (labels, env, tag);
//     jsonlog_buffer.go is mode=non-blocking, a bounded buffer that drops
//     output rather than make the container wait for the disk.
//
// Why the choices:
//
//   - Shims are started ahead of need (spareshim_linux.go). A Go process
//     pays its runtime's start-up and package inits (milliseconds, more
//     under load) before main; runc, in C, does not. The daemon keeps one
//     spare "minidocker shim" waiting on a control socket (its fd 3) and a
//     start only sends it the bundle's path, so that cost is paid while no
//     one waits. A spare is no container: no bundle, cgroup or record, and
//     it works in / until claimed; claimed, it works in its bundle, which
//     is how Cleanup tells its process from a reused pid (its command line
//     was fixed before it knew the bundle). It must not outlive an
//     unclaimed daemon, yet a claimed one must outlive the daemon: so not
//     a parent-death signal, but EOF on the control socket, which it reads
//     only until claimed (a daemon's kill -9 closes its end too).
//   - Inits are started ahead of need too (spareinit_linux.go): a spare
//     shim starts its init at once, cloned into the namespaces of the
//     common case (PID, UTS, IPC, network), blocked on its sync socket.
//     Its mount namespace is made on the claim, not at birth: a copy of
//     the host's mounts made earlier would miss every mount made since
//     (a shareable /dev/shm, a volume, an admin's mount). A claim whose spec asks for exactly those (or joins a
//     network namespace: init setns()es into it, sent as an fd) sends
//     it its stdio and its spec; init enters the cgroup before anything
//     else (on v1 it moves its own thread, the one that will exec the CMD:
//     shim.placeInit says why that is the fast way), and all that is per
//     container is done from the spec, as for any init. Any other spec (user namespace, shared --pid,
//     --ipc, --uts, --net host) discards it and starts init on claim
//     (claimOrStartInit is the one place that decides). The pages init's
//     Go runtime touched before the move stay charged to the daemon's
//     cgroup, and on v1 its other threads stay there until the exec
//     ends them; they run nothing of the container's.
//   - The create/start split (CreateShim + Start) is docker's and
//     containerd's: `docker run` attaches before it starts, so the very
//     first line of output reaches the terminal. As with runc create,
//     init gets its spec at the create and builds the root then, while
//     the daemon attaches and asks for the start; "go" leaves it only the
//     rlimits and the exec (an error before "go" is reported at "go").
//   - init is this Go binary, not a C shim: everything init does happens
//     in namespaces it was born in (clone flags), so Go's threads are no
//     problem. Joining an existing netns (Network.Mode "join") is done by
//     the shim on a locked thread before the clone: the child inherits the
//     thread's namespaces.
//   - exec runs in the daemon's process, with no helper process: a goroutine
//     locks a throwaway thread (OnThrowawayThread: never the main thread,
//     which Go would keep, wedged, in the container's namespaces),
//     unshare(CLONE_FS), setns ipc, uts, net, pid, mnt, resolves user,
//     PATH and cwd inside the container, drops capabilities, and forks the
//     command. The child gets the container's cgroup at its fork (v2:
//     clone3 CLONE_INTO_CGROUP) or stopped at its execve (ptrace; always
//     on v1), never through the thread: a daemon thread in the container's
//     cgroup lists the daemon in its cgroup.procs, where the shim's
//     KillAll at PID 1's death would kill it. No helper process: an
//     exec costs one fork+exec (a re-executed helper cost a whole Go
//     start-up of a 16 MB binary, 3-4x slower here).
//   - PID 1 and exec'd processes are confined as docker does it
//     (Process.Security, security_linux.go): docker's default capabilities
//     (CapBnd a80425fb; no CAP_SYS_ADMIN, so no mount inside) changed by
//     --cap-add/--cap-drop, optional no_new_privs, and docker's default
//     seccomp profile (package seccomp), installed on the thread that
//     execs or forks, in runc's order. They see docker's masked
//     (/proc/kcore, /proc/keys, …) and read-only (/proc/sys, …) paths;
//     Spec.Privileged lifts those, copies the host's devices and leaves
//     /sys writable; Spec.ReadonlyRootfs remounts / read-only, with
//     Spec.Tmpfs for writable spots. The shim gives the cgroup its device
//     allow list (Spec.Cgroup.Devices, cgroups.SetDevices) before init
//     starts: root in a container may mknod the host's disk, but not open
//     it. No AppArmor yet.
//   - A container's terminal is made as runc makes it (console_linux.go):
//     init opens the pty in the container's own devpts instance
//     (newinstance, ptmxmode=0666) once it stands in the new root, binds
//     the slave on /dev/console, keeps it as stdio and controlling
//     terminal, and passes the master to the shim over a unix socket
//     (SCM_RIGHTS, runc's console socket). So `tty` prints /dev/pts/0, a
//     name that exists inside; an exec -t gets /dev/pts/1… of the same
//     devpts (openContainerPty). The shim resizes it (TIOCSWINSZ on the
//     master) and never closes it because a client stopped sending stdin:
//     with a terminal that only ends the attachment (detaching, as
//     docker); without one, StdinOnce closes the container's stdin.
//   - A host that runs from its initramfs (the cgroup-v2 test VM) cannot
//     pivot_root away from it; init then moves the new root over / and
//     chroots (docker's DOCKER_RAMDISK).
//   - Mount points inside the image are opened through os.Root and mounted
//     on /proc/self/fd/N, so symlinks in an image cannot redirect a mount
//     to the host.
//   - Rlimits are inherited, never raised (there is no CAP_SYS_RESOURCE
//     here); Go's own RLIMIT_NOFILE bump is undone by syscall.Exec.
//   - --userns-remap uses idmapped mounts of the image layers, not
//     chowned copies of them (dockerd's old way: a whole second image
//     store per remapped range): one mount_setattr per layer, no copy, one
//     page cache, one pull for every range. The shim (host root) makes
//     them and the overlay, so the overlay's trusted.* xattrs work as
//     without a user namespace; init, root only in its namespace, could
//     not.
//   - Exec under a user namespace goes through a helper process, not the
//     daemon's thread: the kernel refuses setns(CLONE_NEWUSER) to a
//     multithreaded process, every Go process is one, and runc's way (C
//     that joins before the Go runtime starts) needs cgo. So a process is
//     born in the namespace instead (the shim clones the helper with
//     CLONE_NEWUSER and it clones init) and stays, outside the PID
//     namespace. It may setns into the container's other namespaces
//     because its user namespace owns them. What it cannot do as host uid
//     100000 the daemon does: it opens the pty and gives it to the
//     container's root, and it moves the child, stopped at its execve
//     (ptrace), into the cgroup. The helper reaps the child and sends the
//     exit code on the request's connection (a pidfd would tell the
//     daemon when, not the code: only a parent may wait). Other ways
//     considered: joining only the non-user namespaces from the daemon
//     runs the command as host root inside the container (getuid 0 of
//     the host: the very thing remapping prevents); a new helper per exec
//     cannot join an existing user namespace either; forking from PID 1
//     would put the helper in the container's `ps`. The cost: one helper
//     per remapped container (1.6 MiB PSS idle, under 4 MiB after a
//     burst of execs: the shim's memory rules and trim) and an exec a few
//     ms slower (here 7-9 ms against 4-8 on a quiet host, 10-14 against
//     7-10 on a busy one: the stop at execve and one more round trip).
//   - The shim drops the start-up pages of the (large) binary once it is
//     running (trim_linux.go): the per-container cost is what its loop
//     touches, about 3 MiB of RSS (1.7 MiB PSS) instead of 11 MiB. It
//     does not force a collection to return its heap's free pages: the
//     collector's memory would cost more than the garbage it frees.
package libcontainer
