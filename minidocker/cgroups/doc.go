// Package cgroups puts a container's processes in a control group and sets
// the limits that `docker run --memory`, `--memory-swap`, `--cpus` and
// `--pids-limit` promise, and the device allow list behind `--device`,
// `--device-cgroup-rule` and `--privileged`. It belongs to section 4 of the article ("PID 1,
// namespaces and cgroups"): namespaces decide what a container can *see*,
// cgroups decide how much it may *use*.
//
// # Where to start reading
//
//  1. Detect (cgroups.go): which cgroup world the machine lives in.
//  2. New and Set (cgroups.go, then v1.go / v2.go): a directory per container,
//     and a handful of small files written into it. That is all a limit is.
//  3. AddProcess and DirFD: how the container's first process gets inside
//     before it runs any of the image's code (chapter 04's pid1 part, "cgroups").
//  4. OOMKilled and Stats: reading back what the kernel did.
//  5. Freeze and Thaw (freezer.go): `docker pause`, the v1 freezer
//     controller's freezer.state or v2's cgroup.freeze.
//  6. KillAll and Destroy: how a container is torn down without leaving a
//     directory behind.
//  7. Validate (validate.go): docker's own error messages for bad flags.
//  8. SetDevices (devices.go, devices_bpf.go): the devices controller, which
//     device nodes the container may open or make. v1 writes the allow list
//     into devices.deny and devices.allow; v2 has no such files and runs a
//     small eBPF program instead, assembled here by hand and attached to the
//     cgroup's directory with bpf(2). It goes when the directory goes.
//  9. cpuset.go: --cpuset-cpus/--cpuset-mems (a v1 cpuset group is born
//     empty and is filled from its parent) and --blkio-weight (only where
//     the kernel has a weight file: BFQ, or v2's iocost).
//
// # v1, v2 and the hybrid
//
// A cgroup is a directory in a special file system; creating a directory
// creates a group, writing a pid into its cgroup.procs moves the process
// there, and writing into files such as memory.max sets a limit.
//
// cgroup v1 (the original design) has one separate tree per controller: the
// memory controller is mounted at /sys/fs/cgroup/memory, the pids controller
// at /sys/fs/cgroup/pids, and so on. A container therefore is *several*
// directories, /sys/fs/cgroup/memory/minidocker/<id>,
// /sys/fs/cgroup/pids/minidocker/<id>, …, and its process must be written into
// each of them. The file names differ per controller (memory.limit_in_bytes,
// cpu.cfs_quota_us, pids.max).
//
// cgroup v2 (the "unified hierarchy") has a single tree mounted at
// /sys/fs/cgroup. A container is one directory, /sys/fs/cgroup/minidocker/<id>;
// a parent must list the controllers its children may use in
// cgroup.subtree_control ("+memory +cpu +pids"). The files are memory.max,
// memory.swap.max, cpu.max ("150000 100000") and pids.max. v2 also lets clone3
// start a process directly inside a cgroup (CLONE_INTO_CGROUP; in Go
// SysProcAttr.UseCgroupFD), which DirFD serves: the container's init is
// born inside its cgroup, with no moment outside it.
//
// A hybrid machine mounts every controller on v1 and, in addition, an (almost
// empty) v2 tree at /sys/fs/cgroup/unified. The development and CI machines of
// this project are such hybrids: the v2 tree there holds only hugetlb. Some
// runtimes (crun) refuse that layout; we do not. The rule is simple and is the
// one runc uses: if /sys/fs/cgroup itself is a cgroup2 file system
// (statfs f_type == CGROUP2_SUPER_MAGIC) the machine is v2, otherwise every
// controller is looked up in /proc/self/mountinfo as a v1 mount and the
// unified side tree is ignored.
//
// EL9 machines are pure v2. Because the dev machines cannot show v2,
// scripts/cgroup2-vm-test.sh boots Debian's kernel under qemu (TCG) with
// cgroup_no_v1=all and runs this package's root tests inside it, from an
// initramfs holding busybox and the static test binary:
//
//	sudo scripts/cgroup2-vm-test.sh -v                      # this package
//	sudo scripts/cgroup2-vm-test.sh -run OOM ./minidocker/cgroups ./labs/04-dockerfile
//
// The tests need nothing from the guest: the processes they put into
// cgroups (a sleeper, a memory hog, a forker) are the test binary itself,
// re-executed with MINIDOCKER_CGROUPS_HELPER set (helper_test.go).
//
// # Beyond the brief's API
//
// Version, Path and Name describe a cgroup; List and RemoveParent let the
// daemon reconcile and clean its --cgroup-parent (and tests find leaks);
// SwapLimitSupported tells when docker's swap warning is due;
// QuotaFromNanoCPUs and ValidateNanoCPUs turn --cpus into a quota the way
// dockerd does; KillTimeout bounds KillAll.
//
// # Docker semantics worth knowing
//
//   - --memory-swap is the *total* of memory and swap. Unset means twice
//     --memory; -1 means unlimited swap. On v1 it is written to
//     memory.memsw.limit_in_bytes (absent when the kernel does not account swap:
//     then it is skipped, as docker skips it with the warning "Your kernel does
//     not support swap limit capabilities or the cgroup is not mounted. Memory
//     limited without swap."; see SwapLimitSupported). On v2 the kernel wants the
//     swap part alone, so memory.swap.max = total - memory.
//   - --cpus=1.5 is a quota of 150000 µs per 100000 µs period (QuotaFromNanoCPUs).
//   - --cpu-shares is v1's cpu.shares (default 1024); v2 has cpu.weight
//     (1..10000, default 100) instead, and the shares are mapped onto it
//     linearly (1024 → 39, 512 → 20), as runc maps them.
//   - `docker stats` shows memory usage without the page cache that could be
//     dropped: usage minus inactive file pages (v1: total_inactive_file,
//     v2: inactive_file). Stats.MemoryUsage is that figure; the raw value and the
//     whole memory.stat are there too for the Engine API.
//   - The OOM killer leaves a count: memory.events "oom_kill" on v2,
//     memory.oom_control "oom_kill" on v1. OOMKilled reads it, and that is how
//     State.OOMKilled becomes true.
//
// Nothing here raises an rlimit: the machines lack CAP_SYS_RESOURCE, and
// cgroup limits do not need it.
package cgroups
