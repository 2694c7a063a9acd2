package cli

import (
	"bytes"
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
	for _, cmd := range []string{"version", "info", "daemon", "registry serve"} {
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
