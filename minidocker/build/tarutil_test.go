package build

import (
	"archive/tar"
	"io"
	"os"
	"testing"
)

func readTarMember(t testing.TB, file, name string) []byte {
	f, err := os.Open(file)
	must(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in %s: %v", name, file, err)
		}
		if h.Name == name {
			data, err := io.ReadAll(tr)
			must(t, err)
			return data
		}
	}
}
