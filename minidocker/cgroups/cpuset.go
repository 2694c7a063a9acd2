package cgroups

// --cpuset-cpus, --cpuset-mems and --blkio-weight.
//
// cpuset pins a container to some CPUs and memory nodes. On v1 a new
// cpuset group is born empty (no CPUs, no nodes) and refuses processes
// until it is filled, so every level New creates is given its parent's
// sets first. On v2 an empty cpuset.cpus means "what the parent has".
//
// The block I/O weight is a share of the disk's time under contention. It
// needs an I/O scheduler that implements weights (BFQ): v1's blkio.weight
// (or blkio.bfq.weight), v2's io.bfq.weight, or v2's io.weight (the iocost
// controller, on a 1..10000 scale). Many kernels have none of these files;
// BlkioWeightSupported says so before anyone asks for a weight.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxCPUList bounds a CPU or node list, as dockerd's parser does (a
// "0-9223372036854775807" must not allocate for ever).
const maxCPUList = 8192

// ParseCPUList reads a cpuset list ("0-2,5") into the set of its
// numbers, with dockerd's errors.
func ParseCPUList(list string) (map[int]bool, error) {
	out := map[int]bool{}
	if list == "" {
		return out, nil
	}
	bad := fmt.Errorf("invalid format: %s", list)
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			return nil, bad
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				return nil, bad
			}
		}
		if last > maxCPUList {
			return nil, fmt.Errorf("value of out range, maximum is %d", maxCPUList)
		}
		for i := first; i <= last; i++ {
			out[i] = true
		}
	}
	return out, nil
}

// CpusetAvailable is what containers may be pinned to: the CPUs and
// memory nodes of the hierarchy's root. ok is false without a cpuset
// controller.
func CpusetAvailable() (cpus, mems string, ok bool) {
	root, cpusFile, memsFile := cpusetRoot()
	if root == "" {
		return "", "", false
	}
	cpus, err1 := readString(filepath.Join(root, cpusFile))
	mems, err2 := readString(filepath.Join(root, memsFile))
	return cpus, mems, err1 == nil && err2 == nil
}

// cpusetRoot is the directory and file names that hold the machine's
// CPUs and nodes ("" when the controller is missing).
func cpusetRoot() (dir, cpusFile, memsFile string) {
	if Detect() == V2 {
		ctls, err := readString(filepath.Join(mountRoot, "cgroup.controllers"))
		if err != nil || !hasWord(ctls, "cpuset") {
			return "", "", ""
		}
		return mountRoot, "cpuset.cpus.effective", "cpuset.mems.effective"
	}
	m, err := v1Mounts()
	if err != nil || m["cpuset"] == "" {
		return "", "", ""
	}
	return m["cpuset"], "cpuset.cpus", "cpuset.mems"
}

// BlkioWeightSupported reports whether a cgroup can be given a block I/O
// weight on this machine.
func BlkioWeightSupported() bool {
	if Detect() == V2 {
		// the root has no io.* files: look at the children
		ents, _ := os.ReadDir(mountRoot)
		for _, e := range ents {
			if e.IsDir() && blkioWeightFile(filepath.Join(mountRoot, e.Name())) != "" {
				return true
			}
		}
		return false
	}
	m, err := v1Mounts()
	return err == nil && m["blkio"] != "" && blkioWeightFile(m["blkio"]) != ""
}

// blkioWeightFile is the file of dir that takes a weight, "" if none.
func blkioWeightFile(dir string) string {
	for _, f := range []string{"blkio.weight", "blkio.bfq.weight", "io.bfq.weight", "io.weight"} {
		if exists(filepath.Join(dir, f)) {
			return filepath.Join(dir, f)
		}
	}
	return ""
}

// fillCpusetV1 gives each cpuset level from the hierarchy's root down to c
// its parent's CPUs and nodes where it has none yet.
func (c *Cgroup) fillCpusetV1() error {
	d, ok := c.dirs["cpuset"]
	if !ok {
		return nil
	}
	m, err := v1Mounts()
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(m["cpuset"], d)
	if err != nil {
		return err
	}
	parent := m["cpuset"]
	for _, part := range strings.Split(rel, "/") {
		dir := filepath.Join(parent, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if err := inheritIfEmpty(dir, parent, f); err != nil {
				return err
			}
		}
		parent = dir
	}
	return nil
}

// inheritIfEmpty copies parent's file into dir's when dir's is empty.
func inheritIfEmpty(dir, parent, file string) error {
	cur, err := readString(filepath.Join(dir, file))
	if err != nil || cur != "" {
		return err
	}
	v, err := readString(filepath.Join(parent, file))
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, file), v)
}

// setCpusetAndBlkio writes the cpuset and the block I/O weight of r.
func (c *Cgroup) setCpusetAndBlkio(r Resources) error {
	cpusetDir, ioDir := c.dir, c.dir
	if c.version == V1 {
		cpusetDir, ioDir = c.dirs["cpuset"], c.dirs["blkio"]
	}
	if err := c.setCpuset(cpusetDir, r); err != nil {
		return err
	}
	if r.BlkioWeight == 0 {
		return nil
	}
	f := ""
	if ioDir != "" {
		f = blkioWeightFile(ioDir)
	}
	if f == "" {
		return errors.New("cgroups: --blkio-weight needs an I/O scheduler with weights (BFQ), and this kernel gives the cgroup no weight file")
	}
	w := uint64(r.BlkioWeight)
	if filepath.Base(f) == "io.weight" {
		w = 1 + (w-10)*9999/990 // the 10..1000 scale onto 1..10000, as runc does
	}
	return writeFile(f, strconv.FormatUint(w, 10))
}

// setCpuset writes cpuset.cpus and cpuset.mems of dir: the requested sets,
// or when none is requested everything the parent has (v1) or nothing,
// which means the same (v2).
func (c *Cgroup) setCpuset(dir string, r Resources) error {
	if dir == "" {
		if r.CpusetCpus != "" || r.CpusetMems != "" {
			return errors.New("cgroups: --cpuset-cpus and --cpuset-mems need the cpuset controller, which is not mounted")
		}
		return nil
	}
	for _, f := range []struct{ file, want string }{{"cpuset.cpus", r.CpusetCpus}, {"cpuset.mems", r.CpusetMems}} {
		v := f.want
		switch {
		case v != "":
		case c.version == V1:
			var err error
			if v, err = readString(filepath.Join(filepath.Dir(dir), f.file)); err != nil {
				return err
			}
		default:
			v = "\n" // v2: an empty set is the parent's (a write of no bytes would change nothing)
		}
		if err := setOpt(filepath.Join(dir, f.file), v, f.want != ""); err != nil {
			return err
		}
	}
	return nil
}

// hasWord reports whether the space-separated list s holds w.
func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}
