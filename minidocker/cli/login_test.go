package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minidocker/minidocker/minidocker/reference"
)

// encodedAuthFor reads what `docker login` left: an "auths" entry in the
// file, or, with credHelpers, the answer of docker-credential-<helper>.
func TestEncodedAuthForReadsDockerConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	bin := t.TempDir()
	// a credential helper answers `get` with the secret for the server on stdin
	helper := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"helped\",\"Secret\":\"fromhelper\"}' \"$server\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker-credential-fake"), []byte(helper), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := `{"auths":{"reg.test:5000":{"auth":"c3R1ZGVudDpzM2NyZXQ="}},"credHelpers":{"helped.test":"fake"}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))

	cases := []struct {
		name, ref, user, password string
	}{
		{"auths entry", "reg.test:5000/private:v1", "student", "s3cret"},
		{"credential helper", "helped.test/app", "helped", "fromhelper"},
		{"no credential", "other.test/app", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			named, err := reference.ParseNormalizedNamed(tc.ref)
			require.NoError(t, err)
			got := encodedAuthFor(named)
			if tc.user == "" {
				assert.Equal(t, "e30=", got)
				return
			}
			ac, err := authconfig.Decode(got)
			require.NoError(t, err)
			assert.Equal(t, tc.user, ac.Username)
			assert.Equal(t, tc.password, ac.Password)
		})
	}
}
