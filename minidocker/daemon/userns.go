package daemon

// --userns-remap (daemon.json "userns-remap"): every container gets a user
// namespace of its own whose root is an unprivileged host uid, the first of
// the remapping user's subordinate range in /etc/subuid (and /etc/subgid).
// The value is dockerd's: "default" (the user dockremap, made with its
// range when missing), "user", "user:group", "uid" or "uid:gid". A
// container opts out with --userns=host (HostConfig.UsernsMode).
//
// The daemon's part: resolve the ranges once at start, refuse what cannot
// be remapped (--privileged, the host's network or PID namespace, as
// dockerd), and give the remapped root what it must own or traverse: the
// container's upper dir and /etc files, new volumes' _data, and search
// permission (0711) on the directories on the way to them. The image
// layers stay as they are, owned by host root: the shim mounts them
// idmapped (libcontainer/userns_linux.go). What the container writes is
// the remapped uids' on disk, so whatever turns its files into an archive
// (commit, export, cp out, a RUN step's layer) maps them back (100000 → 0,
// archiveIDs), and cp in maps the other way (diskIDs).

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/sys/user"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// defaultRemapUser is the user "default" stands for, as in dockerd.
const defaultRemapUser = "dockremap"

// remapRangeSize is the size of the range made for dockremap: 65536 ids,
// a container's whole 16-bit uid space, as dockerd (and useradd) make.
const remapRangeSize = 65536

// firstSubordinateID is where made ranges start, at the earliest (below
// are the host's own users).
const firstSubordinateID = 100000

// idFiles are the account files the remapping is read from (tests use
// copies).
type idFiles struct {
	passwd, group, subuid, subgid string
}

var hostIDFiles = idFiles{"/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid"}

// initUserns resolves --userns-remap into the maps every remapped container
// gets, making dockremap first for "default", and opens the daemon's
// directories to the remapped root.
func (d *Daemon) initUserns() error {
	if d.cfg.UsernsRemap == "" {
		return nil
	}
	// the group is checked, but both ranges are the user's, as in dockerd
	name, _, err := parseRemappedRoot(d.cfg.UsernsRemap, hostIDFiles)
	if err != nil {
		return err
	}
	ns, err := loadIDMaps(name, hostIDFiles)
	if err != nil {
		return err
	}
	for _, dir := range []string{d.cfg.DataRoot, d.cfg.ExecRoot, d.containersDir(), d.bundlesDir()} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o711); err != nil { // search only: nothing to list
			return err
		}
	}
	d.remap = ns
	return nil
}

// parseRemappedRoot resolves --userns-remap's value to a user and a group
// name, with dockerd's rules and words: a uid (or gid) must have an entry,
// a name must exist, a lone user name is its own group, a lone uid its
// own gid.
func parseRemappedRoot(value string, files idFiles) (userName, groupName string, err error) {
	parts := strings.Split(value, ":")
	if len(parts) > 2 || parts[0] == "" {
		return "", "", fmt.Errorf("Invalid user/group specification in --userns-remap: %q", value)
	}
	if parts[0] == "default" && len(parts) == 1 {
		if err := ensureDefaultRemapUser(files); err != nil {
			return "", "", err
		}
		return defaultRemapUser, defaultRemapUser, nil
	}
	if userName, err = lookupName(parts[0], files.passwd, "Uid", "/etc/passwd", "uid"); err != nil {
		return "", "", err
	}
	groupSpec := parts[0]
	if len(parts) == 2 {
		groupSpec = parts[1]
	}
	if groupName, err = lookupName(groupSpec, files.group, "Gid", "/etc/group", "gid"); err != nil {
		return "", "", err
	}
	if userName == "root" {
		return "", "", fmt.Errorf("cannot use root as --userns-remap user: the containers' root would be the host's")
	}
	return userName, groupName, nil
}

// lookupName finds the entry of a number or a name in passwd (or group)
// and returns its name.
func lookupName(spec, path, idWord, fileName, kind string) (string, error) {
	id, numErr := strconv.ParseUint(spec, 10, 32)
	type entry struct {
		name string
		id   int
	}
	var entries []entry
	if kind == "uid" {
		us, err := user.ParsePasswdFile(path)
		if err != nil {
			return "", err
		}
		for _, u := range us {
			entries = append(entries, entry{u.Name, u.Uid})
		}
	} else {
		gs, err := user.ParseGroupFile(path)
		if err != nil {
			return "", err
		}
		for _, g := range gs {
			entries = append(entries, entry{g.Name, g.Gid})
		}
	}
	for _, e := range entries {
		if (numErr == nil && e.id == int(id)) || (numErr != nil && e.name == spec) {
			return e.name, nil
		}
	}
	if numErr == nil {
		return "", fmt.Errorf("%s %d has no entry in %s", idWord, id, fileName)
	}
	return "", fmt.Errorf("Error during %s lookup for %q: no matching entries in %s file", kind, spec, strings.TrimPrefix(fileName, "/etc/"))
}

// ensureDefaultRemapUser makes the user and group dockremap (a system
// account without a shell or home, as dockerd's useradd call does) when
// missing, and gives it a subordinate range in both files when it has none.
func ensureDefaultRemapUser(files idFiles) error {
	if _, err := lookupName(defaultRemapUser, files.passwd, "", "", "uid"); err != nil {
		args := []string{"--system", "--shell", "/bin/false", "--no-create-home", "--user-group", defaultRemapUser}
		if _, gerr := lookupName(defaultRemapUser, files.group, "", "", "gid"); gerr == nil {
			args = []string{"--system", "--shell", "/bin/false", "--no-create-home", "--gid", defaultRemapUser, defaultRemapUser}
		}
		if out, err := exec.Command("useradd", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("couldn't create the %s user for --userns-remap: useradd: %v: %s", defaultRemapUser, err, strings.TrimSpace(string(out)))
		}
	}
	for _, path := range []string{files.subuid, files.subgid} {
		if err := ensureSubordinateRange(path, defaultRemapUser); err != nil {
			return fmt.Errorf("couldn't give %s a subordinate range in %s: %w", defaultRemapUser, path, err)
		}
	}
	return nil
}

// ensureSubordinateRange appends "name:start:65536" to a subuid or subgid
// file that has no range for name, starting past every range it has (and
// at 100000 at the earliest), so that no two users share host ids.
func ensureSubordinateRange(path, name string) error {
	ranges, err := user.ParseSubIDFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	start := int64(firstSubordinateID)
	for _, r := range ranges {
		if r.Name == name {
			return nil
		}
		start = max(start, r.SubID+r.Count)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s:%d:%d\n", name, start, remapRangeSize)
	if st, err := f.Stat(); err == nil && st.Size() > 0 && !endsWithNewline(path) {
		line = "\n" + line
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func endsWithNewline(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && len(b) > 0 && b[len(b)-1] == '\n'
}

// loadIDMaps reads name's ranges from /etc/subuid and /etc/subgid (lines
// may name the user or its uid, as shadow's tools accept) and lays them
// one after the other from container id 0.
func loadIDMaps(name string, files idFiles) (*libcontainer.UserNamespace, error) {
	uid := ""
	if us, err := user.ParsePasswdFileFilter(files.passwd, func(u user.User) bool { return u.Name == name }); err == nil && len(us) > 0 {
		uid = strconv.Itoa(us[0].Uid)
	}
	var ns libcontainer.UserNamespace
	for _, f := range []struct {
		path, kind string
		out        *[]libcontainer.IDMap
	}{{files.subuid, "subuid", &ns.UIDMap}, {files.subgid, "subgid", &ns.GIDMap}} {
		ranges, err := user.ParseSubIDFileFilter(f.path, func(s user.SubID) bool { return s.Name == name || (uid != "" && s.Name == uid) })
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if len(ranges) == 0 {
			return nil, fmt.Errorf("No %s ranges found for user %q", f.kind, name)
		}
		next := uint32(0)
		for _, r := range ranges {
			*f.out = append(*f.out, libcontainer.IDMap{ContainerID: next, HostID: uint32(r.SubID), Size: uint32(r.Count)})
			next += uint32(r.Count)
		}
	}
	return &ns, nil
}

// usernsOf is the user namespace a container gets: the daemon's remapping,
// unless the container asked for the host's (--userns=host).
func (d *Daemon) usernsOf(hc *container.HostConfig) *libcontainer.UserNamespace {
	if d.remap == nil || hc == nil || hc.UsernsMode == "host" {
		return nil
	}
	return d.remap
}

// checkRecordedUserns refuses to start a container under a remapping
// other than the one it was created with (a daemon restarted with another
// --userns-remap, or without). Its files on disk belong to the ids it was
// created with, and the daemon's setting is a promise about every
// container it runs: a container made as the host's root must not run
// under a daemon that remaps, and one made remapped must not become the
// host's root. dockerd keeps a separate root per remapping, where such a
// container is invisible; minidocker shares the image store (idmapped
// layers) and says why instead.
func (d *Daemon) checkRecordedUserns(c *Container, hc *container.HostConfig) error {
	recorded, now := c.UserNamespace, d.usernsOf(hc)
	if sameUserns(recorded, now) {
		return nil
	}
	return errdefs.Conflict("container %s was created %s and this daemon would start it %s: "+
		"its files belong to the ids it was created with (start the daemon with the --userns-remap it was created under, or remove the container)",
		c.Name, describeUserns(recorded), describeUserns(now))
}

func sameUserns(a, b *libcontainer.UserNamespace) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.Equal(a.UIDMap, b.UIDMap) && slices.Equal(a.GIDMap, b.GIDMap)
}

func describeUserns(ns *libcontainer.UserNamespace) string {
	if ns == nil {
		return "without --userns-remap (root is the host's root)"
	}
	return fmt.Sprintf("with --userns-remap (root is host uid %d)", ns.RootUID())
}

// recordOldUserns gives a record from before UserNamespace existed the
// remapping it was made under, as that code did: the daemon's current one.
func (d *Daemon) recordOldUserns(c *Container) {
	c.UserNamespace, c.UsernsRecorded = d.usernsOf(c.HostConfig), true
	if err := c.save(); err != nil {
		slog.Warn("saving a container record after recording its user namespace", "id", c.ID, "err", err)
	}
}

// archiveIDs maps the owners of a remapped container's files from disk
// to an archive (host 100000 → 0: commit, export, cp out); nil when the
// container is not remapped. The recorded maps are the ones its files
// were written with, whatever the daemon's setting is now.
func (d *Daemon) archiveIDs(c *Container) func(uid, gid int) (int, int) {
	if ns := c.UserNamespace; ns != nil {
		return ns.ContainerIDs
	}
	return nil
}

// diskIDs maps the owners in an archive to a remapped container's disk
// (0 → host 100000: cp in); nil when the container is not remapped.
func (d *Daemon) diskIDs(c *Container) func(uid, gid int) (int, int) {
	if ns := c.UserNamespace; ns != nil {
		return ns.HostIDs
	}
	return nil
}

// openBuildDirs lets the remapped root of RUN steps reach their
// directories (the builder makes them 0700).
func openBuildDirs(buildDir string) error {
	for _, dir := range []string{buildDir, filepath.Join(buildDir, "tmp")} {
		if err := os.Chmod(dir, 0o711); err != nil {
			return err
		}
	}
	return nil
}

// validateUserns refuses, as dockerd does, what a remapped container
// cannot have: the host's privileges, network or PID namespace, and (here
// only) another container's PID namespace. (--device
// works: init binds the host's node, since a user namespace cannot mknod,
// and the device cgroup rule applies as without remapping; exec and
// healthchecks go through the container's userns-helper.)
func (d *Daemon) validateUserns(_ *container.Config, hc *container.HostConfig) error {
	if d.usernsOf(hc) == nil {
		return nil
	}
	switch {
	case hc.Privileged:
		return errdefs.Invalid("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode")
	case hc.NetworkMode == "host":
		return errdefs.Invalid("cannot share the host's network namespace when user namespaces are enabled")
	case hc.PidMode == "host":
		return errdefs.Invalid("cannot share the host PID namespace when user namespaces are enabled")
	case hc.PidMode.IsContainer():
		// dockerd joins the other container's user namespace too; our init
		// gets a user namespace of its own, which owns no right to mount the
		// other one's /proc
		return errdefs.Invalid("minidocker does not support --pid container: with user namespaces yet; add --userns host to share another container's PID namespace")
	}
	return nil
}

// chownForUserns gives the remapped root the container's writable upper
// dir (its "/") and the /etc files the daemon writes, and opens the
// bundle to it (init, as that root, opens the root file system there).
func chownForUserns(c *Container, ns *libcontainer.UserNamespace) error {
	uid, gid := int(ns.RootUID()), int(ns.RootGID())
	for _, p := range []string{filepath.Join(c.Dir, "diff"), c.HostnamePath, c.HostsPath, c.ResolvConfPath} {
		if err := os.Lchown(p, uid, gid); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return os.Chmod(c.BundleDir, 0o711)
}
