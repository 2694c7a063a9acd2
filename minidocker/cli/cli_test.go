package cli

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb, nil)
	return out.String(), errb.String(), code
}

func TestUnknownFlagAndCommand(t *testing.T) {
	_, stderr, code := runCLI("--bogus")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "unknown flag --bogus")
	assert.Contains(t, stderr, "minidocker --help")

	_, stderr, code = runCLI("frobnicate")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "unexpected argument frobnicate")
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, cmd := range []string{"version", "info", "daemon", "registry serve", "volume ls", "volume prune",
		"network connect", "network disconnect", "container ls", "container inspect", "system info", "update", "pause"} {
		out, _, code := runCLI(append(strings.Fields(cmd), "--help")...)
		assert.Equal(t, 0, code, cmd)
		assert.Contains(t, out, "Usage: minidocker "+cmd, cmd)
	}
}

func TestNoDaemonMessage(t *testing.T) {
	sock := "unix://" + t.TempDir() + "/none.sock"
	_, stderr, code := runCLI("-H", sock, "info")
	assert.Equal(t, 1, code)
	assert.Equal(t, "Cannot connect to the minidocker daemon at "+sock+". Is the minidocker daemon running?\n", stderr)

	t.Setenv("MINIDOCKER_HOST", sock)
	_, stderr, _ = runCLI("version")
	assert.Contains(t, stderr, "Cannot connect to the minidocker daemon at "+sock)
}

// TestGroupsReuseTheShortForms: every command of a management group
// (`container ls`, `image rm`, `system info`) that has a top-level short
// form (`ps`, `rmi`, `info`) is the same command struct, so that the two
// cannot drift apart in flags or behaviour.
func TestGroupsReuseTheShortForms(t *testing.T) {
	topLevel := map[reflect.Type]bool{}
	for _, group := range []any{SystemCommands{}, ImageCommands{}, ContainerCommands{}, NetworkCommands{}, ContainerToolCommands{}, BuildCommands{}} {
		v := reflect.TypeOf(group)
		for i := 0; i < v.NumField(); i++ {
			topLevel[v.Field(i).Type] = true
		}
	}
	ownTypes := map[string]bool{"ContainerInspectCmd": true, "ImageInspectCmd": true, "ImagePruneCmd": true,
		"ContainerPruneCmd": true, "SystemDfCmd": true, "SystemPruneCmd": true} // docker has them only in a group
	for _, group := range []any{ContainerCmd{}, ImageCmd{}, SystemCmd{}} {
		v := reflect.TypeOf(group)
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !topLevel[f.Type] && !ownTypes[f.Type.Name()] {
				t.Errorf("%s.%s is a %s, which no top-level command uses", v.Name(), f.Name, f.Type.Name())
			}
		}
	}
	inGroup := map[reflect.Type]bool{}
	for _, group := range []any{ContainerCmd{}, ImageCmd{}} {
		v := reflect.TypeOf(group)
		for i := 0; i < v.NumField(); i++ {
			inGroup[v.Field(i).Type] = true
		}
	}
	for _, short := range []any{ContainerCommands{}, ContainerToolCommands{}, ImageCommands{}, BuildCommands{}} {
		v := reflect.TypeOf(short)
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			switch f.Name {
			case "Inspect", "Login", "Logout", "Image": // docker's inspect spans objects; login is top-level only
				continue
			}
			if !inGroup[f.Type] {
				t.Errorf("the top-level %s (%s) is in no management group", f.Name, f.Type.Name())
			}
		}
	}
	for _, args := range [][]string{{"container", "ls", "--help"}, {"container", "list", "--help"}, {"container", "ps", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, _, code := runCLI(args...)
			if code != 0 || !strings.Contains(out, "Usage: minidocker container ls") || !strings.Contains(out, "--no-trunc") {
				t.Errorf("%q: exit %d\n%s", args, code, out)
			}
		})
	}
}
