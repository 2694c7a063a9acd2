package image

import "testing"

// TestParsePlatform: docker's spellings of a platform, and the malformed
// ones it refuses; Matches ignores a variant the image does not name.
func TestParsePlatform(t *testing.T) {
	good := map[string]Platform{
		"linux":          {OS: "linux"},
		"arm64":          {OS: "linux", Architecture: "arm64"},
		"Linux/X86_64":   {OS: "linux", Architecture: "amd64"},
		"linux/arm64/v8": {OS: "linux", Architecture: "arm64"},
		"linux/arm/v7":   {OS: "linux", Architecture: "arm", Variant: "v7"},
		"windows/amd64":  {OS: "windows", Architecture: "amd64"},
	}
	for s, want := range good {
		if got, err := ParsePlatform(s); err != nil || got != want {
			t.Errorf("ParsePlatform(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "bogus", "linux//", "a/b/c/d", "linux/amd 64"} {
		if _, err := ParsePlatform(s); err == nil {
			t.Errorf("ParsePlatform(%q) accepted", s)
		}
	}
	img := Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	for want, ok := range map[Platform]bool{
		{OS: "linux"}: true, {OS: "linux", Architecture: "arm"}: true, {OS: "linux", Architecture: "arm", Variant: "v6"}: false,
		{OS: "windows"}: false, {OS: "linux", Architecture: "amd64"}: false,
	} {
		if want.Matches(img) != ok {
			t.Errorf("%v.Matches(%v) = %v", want, img, !ok)
		}
	}
}
