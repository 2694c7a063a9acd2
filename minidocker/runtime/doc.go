// Package runtime is everything below the daemon: the shim that holds a
// container, the container's init, and exec into a running container. It
// teaches the article's section 4 — what a container really is: a process
// (PID 1 is the CMD) in its own namespaces, in a cgroup, on a root made
// with pivot_root.
//
// One static binary plays every role (see RunReexecEntrypoint):
//
//	daemon ── StartShim/CreateShim ──▶ minidocker shim <bundle>   (shim_linux.go)
//	                                     │ clone(NEWNS|NEWPID|NEWUTS|NEWIPC[|NEWNET]),
//	                                     │ into the cgroup, waits for "go"
//	                                     ▼
//	                                   minidocker init ──execve──▶ CMD = PID 1  (init_linux.go, mounts_linux.go)
//	daemon ── Exec ──▶ minidocker nsexec ──setns, fork/exec──▶ process in PID 1's namespaces  (exec_linux.go)
//
// Start reading at shim_linux.go (create, then run), then init_linux.go and
// mounts_linux.go for the root file system and pivot_root, exec_linux.go
// for setns, and jsonlog.go for docker's json-file log.
//
// The daemon's contract:
//
//   - it writes a Spec into a bundle directory (WriteSpec);
//   - CreateShim starts the shim (own session: it survives the daemon,
//     even kill -9) and returns when init waits, in its namespaces and
//     cgroup; Attach then, and Start: no output is lost. StartShim does
//     both at once;
//   - ConnectShim reconnects after a daemon restart; Attach, Resize, Kill,
//     Wait, State talk to the shim over <bundle>/shim.sock;
//   - when PID 1 has exited the shim writes <bundle>/exit.json
//     (ReadExitStatus), answers Wait and exits; Cleanup removes the cgroup
//     and the runtime's files (idempotent; it also stops a container that
//     still runs);
//   - Exec runs a process in a running container;
//   - ReadLog reads the json-file log (tail, since, until, follow).
//
// Why the choices:
//
//   - The create/start split (CreateShim + Start) is docker's and
//     containerd's: `docker run` attaches before it starts, so the very
//     first line of output reaches the terminal.
//   - init is this Go binary, not a C shim: everything init does happens
//     in namespaces it was born in (clone flags), so Go's threads are no
//     problem. Joining an existing netns (Network.Mode "join") is done by
//     the shim on a locked thread before the clone: the child inherits the
//     thread's namespaces.
//   - exec re-executes the binary as "nsexec": a fresh single-purpose
//     process can unshare(CLONE_FS) and setns into the mount namespace on
//     its locked main thread, and look the command up (PATH, user, cwd)
//     inside the container before it forks; the daemon's own threads never
//     change namespace.
//   - Mount points inside the image are opened through os.Root and mounted
//     on /proc/self/fd/N, so symlinks in an image cannot redirect a mount
//     to the host.
//   - Rlimits are inherited, never raised (there is no CAP_SYS_RESOURCE
//     here); Go's own RLIMIT_NOFILE bump is undone by syscall.Exec.
//   - The shim drops the start-up pages of the (large) binary once it is
//     running (trim_linux.go): the per-container cost is what its loop
//     touches, about 4.5 MiB instead of 11 MiB.
package runtime
