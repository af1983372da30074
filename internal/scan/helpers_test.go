package scan

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// extractLayer copies the first .tar.gz entry of a docker archive to a temp
// file and returns its path.
func extractLayer(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no layer in %s: %v", archive, err)
		}
		if !strings.HasSuffix(h.Name, ".tar.gz") {
			continue
		}
		p := filepath.Join(t.TempDir(), "layer.tar.gz")
		out, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
