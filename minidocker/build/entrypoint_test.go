package build

import (
	"slices"
	"testing"
)

// TestEntrypointCmdMatrix: the image's ENTRYPOINT and CMD after each
// Dockerfile form docker documents: the shell form behind SHELL, the exec
// form as written, and ENTRYPOINT resetting a CMD inherited from the base
// image but not one set earlier in the same stage.
func TestEntrypointCmdMatrix(t *testing.T) {
	f := newFake(t)
	f.busybox(t) // its config has CMD ["sh"]
	for _, tc := range []struct {
		name, dockerfile string
		entrypoint, cmd  []string
	}{
		{"inherited CMD", "FROM busybox\n", nil, []string{"sh"}},
		{"shell-form CMD", "FROM busybox\nCMD echo $HOME hi\n", nil, []string{"/bin/sh", "-c", "echo $HOME hi"}},
		{"exec-form CMD", "FROM busybox\nCMD [\"echo\", \"a b\"]\n", nil, []string{"echo", "a b"}},
		{"ENTRYPOINT resets the base's CMD", "FROM busybox\nENTRYPOINT [\"/bin/echo\"]\n", []string{"/bin/echo"}, nil},
		{"CMD after ENTRYPOINT", "FROM busybox\nENTRYPOINT [\"/bin/echo\"]\nCMD [\"x\"]\n", []string{"/bin/echo"}, []string{"x"}},
		{"CMD of this stage survives ENTRYPOINT", "FROM busybox\nCMD [\"x\"]\nENTRYPOINT [\"/bin/echo\"]\n", []string{"/bin/echo"}, []string{"x"}},
		{"shell-form ENTRYPOINT", "FROM busybox\nENTRYPOINT exec top -b\n", []string{"/bin/sh", "-c", "exec top -b"}, nil},
		{"SHELL changes the shell form", "FROM busybox\nSHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]\nCMD echo hi\n", nil, []string{"/bin/ash", "-eo", "pipefail", "-c", "echo hi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, _ := mustBuild(t, f, writeCtx(t, map[string]string{"Dockerfile": tc.dockerfile}), Options{})
			c := img.Config.Config
			if !slices.Equal(c.Entrypoint, tc.entrypoint) || !slices.Equal(c.Cmd, tc.cmd) {
				t.Errorf("%s: ENTRYPOINT %q CMD %q; want %q %q", tc.name, c.Entrypoint, c.Cmd, tc.entrypoint, tc.cmd)
			}
			if (c.Entrypoint == nil) != (tc.entrypoint == nil) || (c.Cmd == nil) != (tc.cmd == nil) {
				t.Errorf("%s: null vs empty list: ENTRYPOINT %#v CMD %#v", tc.name, c.Entrypoint, c.Cmd)
			}
		})
	}
}
