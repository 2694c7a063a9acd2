package rootpath

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
)

// Tree is what Resolve reads: *os.Root has both methods.
type Tree interface {
	Lstat(name string) (fs.FileInfo, error)
	Readlink(name string) (string, error)
}

// maxSymlinks bounds the links followed in one resolution, as the kernel's
// limit does, so a loop fails with ELOOP instead of running forever.
const maxSymlinks = 255

// Resolve resolves p inside t as a chroot would. With followFinal false the
// last component is left as it is (cp copies a symlink itself, not what it
// points to). Components that do not exist are kept as written. The result
// is a clean path relative to t ("." for its top) whose directories
// contained no symlink at the time of the call.
func Resolve(t Tree, p string, followFinal bool) (string, error) {
	// exercise:begin 03-rootpath
	todo := split(p)
	var done []string
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		if len(todo) == 0 && !followFinal {
			done = append(done, name)
			break
		}
		cur := join(append(done, name))
		fi, err := t.Lstat(cur)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				done = append(done, name)
				continue
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, name)
			continue
		}
		if links++; links > maxSymlinks {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
		}
		target, err := t.Readlink(cur)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = nil
		}
		todo = append(split(target), todo...)
	}
	return join(done), nil
	// exercise:end 03-rootpath
}

func split(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

func join(parts []string) string {
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}
