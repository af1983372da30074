package extracttest

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

// TarGz returns the regular files (and hard links) of a .tar.gz test archive by absolute
// path ("usr/share/doc/x/copyright" → "/usr/share/doc/x/copyright"): for
// test data that is many small real files, kept as one archive.
func TarGz(t testing.TB, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("reading %q: %v", file, err)
	}
	out := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading %q: %v", file, err)
		}
		name := "/" + strings.TrimPrefix(h.Name, "/")
		if h.Typeflag == tar.TypeLink {
			// A hard link: the same bytes as its target, read earlier.
			out[name] = out["/"+strings.TrimPrefix(h.Linkname, "/")]
			continue
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %q: %v", file, err)
		}
		out[name] = b
	}
}
