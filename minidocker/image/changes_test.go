package image

import (
	"slices"
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// TestHealthcheckChange: commit and import take HEALTHCHECK as dockerd
// does, read as a Dockerfile's (flags, both CMD forms, NONE); a bad one is
// a 400.
func TestHealthcheckChange(t *testing.T) {
	var c dockerspec.DockerOCIImageConfig
	if err := ApplyChanges(&c, []string{"HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost"}); err != nil {
		t.Fatal(err)
	}
	h := c.Healthcheck
	if h == nil || !slices.Equal(h.Test, []string{"CMD-SHELL", "wget -q localhost"}) || h.Interval != 5*time.Second || h.Retries != 2 {
		t.Fatalf("healthcheck %+v", h)
	}
	if err := ApplyChanges(&c, []string{"HEALTHCHECK NONE"}); err != nil || !slices.Equal(c.Healthcheck.Test, []string{"NONE"}) {
		t.Errorf("HEALTHCHECK NONE: %v %+v", err, c.Healthcheck)
	}
	if err := ApplyChanges(&c, []string{"HEALTHCHECK --bogus=1 CMD true"}); !errdefs.IsInvalid(err) {
		t.Errorf("bad HEALTHCHECK: %v, want a 400", err)
	}
}

// TestCheckPullPlatform: a pull's --platform that names the platform Pull
// fetches (linux/amd64) passes; another is refused, not ignored.
func TestCheckPullPlatform(t *testing.T) {
	for _, ok := range []string{"linux/amd64", "linux", "LINUX/x86_64"} {
		if err := CheckPullPlatform(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"linux/arm64", "windows/amd64", "linux/arm/v7"} {
		err := CheckPullPlatform(bad)
		if !errdefs.IsInvalid(err) || err.Error() != "minidocker pulls linux/amd64 images only: --platform "+bad+" is not supported yet" {
			t.Errorf("%s: %v, want a 400", bad, err)
		}
	}
}
