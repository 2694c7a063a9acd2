package libcontainer

// --log-opt compress=true: each file rotated away from the json-file log is
// gzipped, <path>.1 becoming <path>.1.gz, as dockerd does. A reader
// decompresses such a file into a temporary file and reads that like any
// other (the tail and the order need a file it can seek in).

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
)

// gzSuffix ends the name of a compressed rotated log file.
const gzSuffix = ".gz"

// compressLogFile gzips name into name.gz and removes name. The .gz is
// written under a temporary name and renamed when complete, so a reader
// finds either the plain file or a whole .gz. On an error name stays as it
// was (readers take a plain rotated file too).
func compressLogFile(name string) (err error) {
	in, err := os.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := name + gzSuffix + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	zw := gzip.NewWriter(out)
	if _, err = io.Copy(zw, in); err != nil {
		return err
	}
	if err = zw.Close(); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, name+gzSuffix); err != nil {
		return err
	}
	return os.Remove(name)
}

// openRotatedLog opens the rotated file name, or else its compressed
// form name.gz, decompressed.
func openRotatedLog(name string) (*logFile, error) {
	lf, err := openLogFile(name)
	if !os.IsNotExist(err) {
		return lf, err
	}
	return openCompressedLog(name + gzSuffix)
}

// openCompressedLog decompresses the .gz log file gz into a temporary file
// next to it, already unlinked: it goes away when it is closed.
func openCompressedLog(gz string) (*logFile, error) {
	in, err := os.Open(gz)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(gz), ".read-*")
	if err != nil {
		return nil, err
	}
	os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, zr); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return nil, err
	}
	return &logFile{f: tmp, r: bufio.NewReaderSize(tmp, 64*1024)}, nil
}
