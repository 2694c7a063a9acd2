package libcontainer

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// execUser is a resolved Process.User.
type execUser struct {
	Uid, Gid uint32
	Groups   []uint32 // supplementary groups from /etc/group
	Home     string
}

// resolveUser resolves spec ("", "name", "uid", "uid:gid", "name:group",
// "uid:group", "name:gid") against passwd and group files (paths as seen by
// the caller: inside the container after pivot_root, or under a root).
func resolveUser(spec, passwdPath, groupPath string) (execUser, error) {
	u := execUser{Home: "/"}
	if spec == "" {
		spec = "0"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	passwd := readColonFile(passwdPath)
	groups := readColonFile(groupPath)

	var name string
	found := false
	if uid, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		u.Uid = uint32(uid)
		for _, p := range passwd {
			if len(p) >= 4 && p[2] == userPart {
				name, found = p[0], true
				u.Gid = atou32(p[3])
				if len(p) >= 6 && p[5] != "" {
					u.Home = p[5]
				}
				break
			}
		}
	} else {
		for _, p := range passwd {
			if len(p) >= 4 && p[0] == userPart {
				name, found = p[0], true
				u.Uid, u.Gid = atou32(p[2]), atou32(p[3])
				if len(p) >= 6 && p[5] != "" {
					u.Home = p[5]
				}
				break
			}
		}
		if !found {
			return u, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
	}
	if hasGroup {
		if gid, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			u.Gid = uint32(gid)
		} else {
			ok := false
			for _, g := range groups {
				if len(g) >= 3 && g[0] == groupPart {
					u.Gid, ok = atou32(g[2]), true
					break
				}
			}
			if !ok {
				return u, fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
			}
		}
	} else if found {
		// supplementary groups, like initgroups(3): every group that
		// lists the user (the primary group is added below)
		for _, g := range groups {
			if len(g) < 4 || g[3] == "" {
				continue
			}
			for _, m := range strings.Split(g[3], ",") {
				if m == name {
					gid := atou32(g[2])
					if gid != u.Gid {
						u.Groups = append(u.Groups, gid)
					}
				}
			}
		}
	}
	// the primary group is always among the groups (what `id` shows in
	// docker: groups=0(root),10(wheel) for root in busybox)
	u.Groups = append([]uint32{u.Gid}, u.Groups...)
	return u, nil
}

func atou32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

func readColonFile(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
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
