package libcontainer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/sys/user"
)

// execUser is a resolved Process.User.
type execUser struct {
	Uid, Gid uint32
	Groups   []uint32 // supplementary groups from /etc/group
	Home     string
}

// resolveUser resolves spec ("", "name", "uid", "uid:gid", "name:group",
// "uid:group", "name:gid") against passwd and group files (paths as seen by
// the caller: inside the container after pivot_root, or under a root), with
// moby/sys/user, the parser runc and dockerd use. A name the files do not
// know is an error; a number needs no entry.
func resolveUser(spec, passwdPath, groupPath string) (execUser, error) {
	if spec == "" {
		spec = "0"
	}
	eu, err := user.GetExecUserPath(spec, &user.ExecUser{Home: "/"}, passwdPath, groupPath)
	if err != nil {
		return execUser{Home: "/"}, err
	}
	u := execUser{Uid: uint32(eu.Uid), Gid: uint32(eu.Gid), Home: eu.Home}
	if u.Home == "" {
		u.Home = "/"
	}
	// the primary group is always among the groups, first (what `id`
	// shows in docker: groups=0(root),10(wheel) for root in busybox), then
	// the supplementary ones /etc/group lists the user in, like initgroups(3)
	u.Groups = []uint32{u.Gid}
	for _, g := range eu.Sgids {
		if !slices.Contains(u.Groups, uint32(g)) {
			u.Groups = append(u.Groups, uint32(g))
		}
	}
	return u, nil
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func envValue(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// lookPath finds file like exec.LookPath but in the PATH of env (the
// container's), and words its errors the way docker does.
func lookPath(file string, env []string) (string, *StartError) {
	if strings.Contains(file, "/") {
		if err := checkExecutable(file); err != nil {
			return "", execError(file, err)
		}
		return file, nil
	}
	p, ok := envValue(env, "PATH")
	if !ok {
		p = defaultPath
	}
	for _, dir := range filepath.SplitList(p) {
		if dir == "" {
			dir = "."
		}
		path := filepath.Join(dir, file)
		if checkExecutable(path) == nil {
			return path, nil
		}
	}
	return "", &StartError{Code: 127, Message: fmt.Sprintf("exec: %q: executable file not found in $PATH", file)}
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return &fs.PathError{Op: "exec", Path: path, Err: syscall.EACCES}
	}
	return nil
}

// execError turns a failed stat or execve into docker's message and code:
// 127 when the file is not there, 126 when it cannot be executed.
func execError(file string, err error) *StartError {
	var pe *fs.PathError
	msg := err.Error()
	if errors.As(err, &pe) && pe.Op == "exec" {
		msg = pe.Err.Error()
	}
	code := 126
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
		code = 127
	}
	return &StartError{Code: code, Message: fmt.Sprintf("exec: %q: %s", file, msg)}
}
