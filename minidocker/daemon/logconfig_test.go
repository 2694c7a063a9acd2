package daemon_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/testutil/preload"
)

// TestLogAttrsAndDetails: --log-opt labels, env-regex and tag put the
// container's chosen labels, variables and tag into every json-file line's
// "attrs", as docker's writer does, and `logs --details` (docker's CLI and
// ours) shows them before each line; without attrs --details adds only
// the space.
func TestLogAttrsAndDetails(t *testing.T) {
	d := preload.StartDaemon(t)
	id := strings.TrimSpace(dockerOK(t, d, "run", "-d", "--name", "tagged", "--net", "none",
		"--label", "tier=db", "--label", "other=x", "-e", "APP=web", "-e", "SECRET=s",
		"--log-opt", "labels=tier,missing", "--log-opt", "env-regex=^AP", "--log-opt", "tag={{.Name}}/{{.ImageName}}",
		"busybox", "echo", "hello"))
	dockerOK(t, d, "wait", id)
	raw, err := os.ReadFile(filepath.Join(d.DataRoot, "containers", id, id+"-json.log"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"log":"hello\n","stream":"stdout","attrs":{"APP":"web","tag":"tagged/busybox","tier":"db"},"time":"`; !bytes.HasPrefix(raw, []byte(want)) {
		t.Fatalf("log line:\n%s\nwant it to start with\n%s", raw, want)
	}
	want := "APP=web,tag=tagged%2Fbusybox,tier=db hello\n"
	if got := dockerOK(t, d, "logs", "--details", "tagged"); got != want {
		t.Errorf("docker logs --details: %q, want %q", got, want)
	}
	if got := d.MustCLI("logs", "--details", "tagged"); got != want {
		t.Errorf("minidocker logs --details: %q, want %q", got, want)
	}
	if got := dockerOK(t, d, "logs", "tagged"); got != "hello\n" {
		t.Errorf("docker logs without --details: %q", got)
	}
	dockerOK(t, d, "run", "--name", "plain", "--net", "none", "busybox", "echo", "hello")
	if got := dockerOK(t, d, "logs", "--details", "plain"); got != " hello\n" {
		t.Errorf("docker logs --details without attrs: %q", got)
	}
}

// TestLogCompressAndMode: compress=true gzips the rotated files (.1.gz,
// .2.gz, nothing plain left) and logs reads them back in order, --tail
// included; mode=non-blocking with a buffer larger than the output loses
// nothing; and the values docker refuses are refused in its words.
func TestLogCompressAndMode(t *testing.T) {
	d := preload.StartDaemon(t)
	id := strings.TrimSpace(dockerOK(t, d, "run", "-d", "--net", "none", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
		"--log-opt", "compress=true", "busybox", "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done"))
	dockerOK(t, d, "wait", id)
	logPath := filepath.Join(d.DataRoot, "containers", id, id+"-json.log")
	for _, name := range []string{logPath + ".1.gz", logPath + ".2.gz"} {
		b, err := os.ReadFile(name)
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Fatalf("%s is not a gzip file: %v", filepath.Base(name), err)
		}
	}
	for _, name := range []string{logPath + ".1", logPath + ".2", logPath + ".3.gz"} {
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Errorf("%s exists (%v)", filepath.Base(name), err)
		}
	}
	lines := strings.Split(strings.TrimSpace(dockerOK(t, d, "logs", id)), "\n")
	if len(lines) < 20 || lines[len(lines)-1] != "line 299" {
		t.Fatalf("logs: %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	first := 300 - len(lines)
	for i, l := range lines {
		if want := "line " + strconv.Itoa(first+i); l != want {
			t.Fatalf("logs line %d is %q, want %q: the compressed files are not read in order", i, l, want)
		}
	}
	if got := dockerOK(t, d, "logs", "--tail", "20", id); got != strings.Join(lines[len(lines)-20:], "\n")+"\n" {
		t.Errorf("logs --tail 20 (into a compressed file):\n%s", got)
	}

	id = strings.TrimSpace(dockerOK(t, d, "run", "-d", "--net", "none", "--log-opt", "mode=non-blocking", "--log-opt", "max-buffer-size=64k",
		"busybox", "sh", "-c", "i=0; while [ $i -lt 100 ]; do echo line $i; i=$((i+1)); done"))
	dockerOK(t, d, "wait", id)
	if got := strings.Split(strings.TrimSpace(dockerOK(t, d, "logs", id)), "\n"); len(got) != 100 || got[99] != "line 99" {
		t.Errorf("non-blocking log: %d lines, last %q", len(got), got[len(got)-1])
	}

	d.RemoveAllContainers() // a refusal is checked by an empty ps -a
	for opt, want := range map[string][]string{
		"mode=fast":                {"logger: logging mode not supported: fast"},
		"max-buffer-size=1m":       {"logger: max-buffer-size option is only supported with 'mode=non-blocking'"},
		"max-buffer-size=lots":     {"error parsing option max-buffer-size: invalid size: 'lots'", "mode=non-blocking"},
		"compress=maybe":           {`strconv.ParseBool: parsing "maybe": invalid syntax`},
		"labels-regex=(":           {"error parsing regexp: missing closing ): `(`"},
		"tag={{.Name":              {"unclosed action"},
		"env=A,B":                  nil, // accepted
		"labels=a":                 nil,
		"tag={{.ID}}-{{.Command}}": nil,
	} {
		t.Run(opt, func(t *testing.T) {
			args := []string{"create", "--net", "none", "--log-opt", opt}
			if len(want) > 1 {
				args = append(args, "--log-opt", want[1])
			}
			args = append(args, "busybox", "true")
			if want == nil {
				dockerOK(t, d, append([]string{"rm"}, strings.TrimSpace(dockerOK(t, d, args...)))...)
				return
			}
			refused(t, d, want[0], args...)
		})
	}
}
