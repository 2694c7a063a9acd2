package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/minidocker/minidocker/minidocker/version"
)

// TestAPIVersionRule: the /vX.Y/ prefix is checked against the range the
// daemon advertises, numerically (1.9 is older than 1.41, 1.100 newer than
// 1.51), and a version outside it is the client's fault: a 400 with
// dockerd's wording.
func TestAPIVersionRule(t *testing.T) {
	for _, v := range []string{version.MinAPIVersion, version.APIVersion, "1.45"} {
		if err := checkAPIVersion(v); err != nil {
			t.Errorf("checkAPIVersion(%s) = %v, want accepted", v, err)
		}
	}
	for v, want := range map[string]string{
		"1.12":  "client version 1.12 is too old. Minimum supported API version is " + version.MinAPIVersion + ", please upgrade your client to a newer version",
		"1.9":   "client version 1.9 is too old",
		"0.99":  "client version 0.99 is too old",
		"1.100": "client version 1.100 is too new. Maximum supported API version is " + version.APIVersion,
		"2.0":   "client version 2.0 is too new",
	} {
		t.Run(v, func(t *testing.T) {
			err := checkAPIVersion(v)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("checkAPIVersion(%s) = %v, want %q", v, err, want)
				return
			}
			if code := httpStatus(err); code != http.StatusBadRequest {
				t.Errorf("checkAPIVersion(%s): status %d, want 400", v, code)
			}
		})
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{{"1.41", "1.41", 0}, {"1.9", "1.41", -1}, {"1.41", "1.9", 1}, {"2.0", "1.99", 1}, {"1.100", "1.51", 1}} {
		t.Run(tc.a+" vs "+tc.b, func(t *testing.T) {
			if got := compareVersions(tc.a, tc.b); got != tc.want {
				t.Errorf("compareVersions(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}
