package testutil

import (
	"archive/tar"
	"io"
	"sort"
	"testing"
)

// TarNames reads a tar stream to its end and returns its entry names,
// sorted, so tests can compare what an archive holds.
func TarNames(t testing.TB, r io.Reader) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	sort.Strings(names)
	return names
}

// TarFile reads a tar stream and returns the content of its entry name
// ("" when there is none), for tests of what docker cp or export copied.
func TarFile(t testing.TB, r io.Reader, name string) string {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}
