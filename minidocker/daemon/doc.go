// Package daemon is dockerd and containerd folded into one process (article
// section 1): it owns the image store, the container records, the networks
// and the builder, and starts one shim per container.
//
// Start reading at New in daemon.go: it makes the directories under the data
// root and exec root, opens every subsystem and reconciles what a crash may
// have left. info.go answers `docker info` from what the host really has.
// Create refuses every request field minidocker does not implement with a
// 400 that names it (unsupported.go: one table, delete a line when a field
// is implemented); security.go checks and translates the confinement
// settings (capabilities, --privileged, --security-opt with seccomp and
// no-new-privileges, --read-only) into the runtime's Spec. runopts.go does
// the same for the other run options (the json-file log's options in
// logconfig.go: rotation, compression, attrs and the non-blocking mode;
// --ulimit, --shm-size, --sysctl, --init, --domainname, --group-add, and
// --ipc, --pid, --uts: the host's namespaces or another container's,
// --device with its permissions; devices_cgroup.go turns those,
// --device-cgroup-rule and --privileged into the device cgroup's list).
// userns.go is --userns-remap: dockerd's user and range lookup (dockremap
// made when missing), its refusals, and the files the remapped root must own.
// A container keeps the maps it was created with (Container.UserNamespace):
// its upper dir, hosts files and new volumes belong to them, so a daemon
// restarted under another setting refuses to start it and says why, rather
// than run a remapped container as the host's root or a host-root container
// with files its remapped root cannot write. (dockerd keeps one data root
// per range, where such a container is simply not seen; minidocker's image
// layers are idmapped, so there is one store for every setting.) Commit,
// export and cp always map with the recorded maps.
// The api package turns HTTP into calls on *Daemon; nothing here knows HTTP.
// volumes.go and mounts.go tie containers to volumes (package volume), binds
// and tmpfs; networks_connect.go and networks_dns.go put a container on
// several networks and give it names (--network-alias, --add-host, --ip,
// the embedded DNS server of package network); links.go is --link on the
// default bridge (docker's variables); networks_filters.go is network ls.
// containers_pause.go freezes and thaws a container (docker pause) and
// containers_update.go changes the limits of a running one (docker update;
// resources_cpuset.go checks --cpuset-* and --blkio-weight as dockerd does);
// containers_export.go is docker export and docker diff; prune.go is
// container and network prune, disk_usage.go the sizes of ps -s, inspect -s
// and system df.
// events.go is `docker events`: each operation publishes an event (the
// calls sit at the operations: create, start, die, tag, connect, mount…)
// to a small bus that keeps the last 256 for --since and disconnects a
// subscriber too slow to keep up rather than ever making an operation wait.
// health.go runs healthchecks: one checker per running container execs the
// probe on schedule and keeps State.Health (ps shows it, status changes are
// health_status events).
// containers_shutdown.go is what SIGTERM does to the containers (stops
// them unless live-restore is on) and which ones the next start brings
// back (docker's restart-policy rules).
//
// # Lock order
//
// Many API calls run at once, so the locks are always taken in one order,
// top to bottom; a goroutine holding one may take only those below it:
//
//  1. Container.op: one whole operation on a container (start, stop,
//     restart, rm), which may last seconds.
//  2. Daemon.imageUse: create holds it for reading from resolving its image
//     until the new container is in the store; rmi holds it for writing.
//  3. peerHostsMu: edits of the /etc/hosts files of a network's peers;
//     the volume store's lock (volume.Store.Remove asks volumeUsers, levels
//     4–5, while it holds it: nothing may call the volume store while it
//     holds a container).
//  4. containerStore.mu: the ID → container map (and the names).
//  5. Container.mu: one container's fields. Never two containers' at once.
//  6. Leaves, which call nothing of the daemon while held: the image
//     store's locks, the network manager's, the exec store's, the event
//     bus's and the healthcheck table's.
//
// The rule the order encodes: a container's record is self-contained.
// Create merges what the container needs of its image (Env, Cmd,
// ExposedPorts, …) into Config, as dockerd does, so ps and inspect never
// read the image store while they hold a container. And rmi learns which
// images are in use (imagesInUse, levels 4–5) before it calls the image
// store, which gets the answer as data, never as a callback. When ps held a
// container and read the image store while rmi held the store and asked
// every container, the two waited on each other for ever (issue 10).
// TestPsAndRmiDoNotDeadlock and TestStress guard the order.
//
// # Where a `run --rm` spends its time
//
// Start the daemon with _MINIDOCKER_TRACE=/some/file and each step of the
// daemon, the shim and init lands in that file (libcontainer's trace).
// On this course's 2-core machine, a quiet `run --rm --net none busybox
// true` went like this (milliseconds, each step after the one before):
//
//	CLI start, then create                          ~25 (the CLI), create 1-2
//	attach and wait requests, start: inputs, bundle  ~1 + ~1 (bridge +1: AttachBegin)
//	shim claimed: spec read, cgroup made             ~1 + 1-2.5
//	spare init sent its stdio and spec, enters cgroup ~0.5 (a move by the shim waited 10-20: placeInit)
//	init: spec read, root built (overlay, pivot_root) ~1 + ~4.5
//	meanwhile: shim reports, daemon attaches, starts  ~3 (hidden behind init)
//	"go": user, seccomp filter, capabilities, exec   ~0.5 + 1 + 1, exec seen ~3
//	the CMD runs and its namespaces end              3-9
//	shim: exit.json, answers Wait; daemon sees it    ~1.5 + ~1.5
//	network, exit, record: the removal is answered   ~1.5-2 (then cgroup, bundle: ~5)
//
// Init building the root is the longest step the daemon does not wait
// on elsewhere; the veth of a bridged container (AttachBegin/Ready) and
// the host side of the removal (removeContainer) are kept off the path.
//
// # Crashes and a full disk
//
// Every record is written to a temporary file and renamed, and New
// reconciles what a crash left (image.Open empties the work area and
// collects unreferenced layers; initContainers drops half-made containers,
// reconnects live shims and records the exits of dead ones; the network
// manager and initBuilds remove endpoints and build steps nobody owns).
// A removal (rm, and --rm at the exit) answers its client once what a
// client can see is gone: the network (ports, address), the record
// (renamed away, so a crash cannot bring the container back), the
// store's entry and, for rm -v and --rm, the anonymous volumes, which go
// before the container's destroy event as in docker
// (removal_order_test.go). The shim's files, the cgroup and the bundle go after; ps
// and a lookup that finds nothing wait for that (Daemon.removals), so none
// of them sees a container gone while something of it is left on the
// host, and a crash in between leaves a bundle no record owns, which New
// removes. That keeps the host work (about 5 ms) off `run --rm`'s path.
// faults_test.go proves it by killing the daemon (kill -9) at random points
// during pull, load, build, run and rm, and a container's shim or init;
// diskfull_test.go runs the daemon on a small, full file system.
package daemon
