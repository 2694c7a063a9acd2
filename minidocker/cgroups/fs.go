package cgroups

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// writeFile writes one value into a cgroup control file. Control files
// exist already; O_CREAT and O_TRUNC would be meaningless there.
func writeFile(path, value string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	for {
		_, err = unix.Write(fd, []byte(value))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("cgroups: write %q to %s: %w", value, path, err)
	}
	return nil
}

func exists(path string) bool {
	return unix.Access(path, unix.F_OK) == nil
}

func readString(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// readUint reads a file holding one number; "max" (v2) reads as 0 with
// unlimited=true.
func readUint(path string) (v uint64, unlimited bool, err error) {
	s, err := readString(path)
	if err != nil {
		return 0, false, err
	}
	if s == "max" {
		return 0, true, nil
	}
	v, err = strconv.ParseUint(s, 10, 64)
	if err != nil {
		// v1 writes -1 as a huge number, but be lenient with "-1".
		if n, err2 := strconv.ParseInt(s, 10, 64); err2 == nil && n < 0 {
			return 0, true, nil
		}
		return 0, false, fmt.Errorf("cgroups: %s: %w", path, err)
	}
	return v, false, nil
}

// readKeyValues parses files of "key value" lines (memory.stat,
// memory.events, memory.oom_control, cpu.stat, pids.events).
func readKeyValues(path string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseKeyValues(b), nil
}

func parseKeyValues(b []byte) map[string]uint64 {
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			out[f[0]] = v
		}
	}
	return out
}

func readPids(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("cgroups: %s: %w", path, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// setOpt writes value to file. A missing file is an error only when the
// limit was asked for (requested); writing "no limit" to a controller that
// does not exist is nothing to complain about.
func setOpt(path, value string, requested bool) error {
	err := writeFile(path, value)
	if err != nil && !requested && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
