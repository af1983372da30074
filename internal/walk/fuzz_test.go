package walk

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/extract"
)

// FuzzLayer feeds arbitrary bytes (seeded with valid plain, gzip and zstd
// layers, hostile names and hardlinks) to Layer: it must never panic, every
// captured file must read back at its declared size, and the temp dir must be
// empty afterwards.
func FuzzLayer(f *testing.F) {
	raw := makeTar(f, []entry{
		{name: "etc/os-release", body: "ID=alpine\n"},
		{name: "../../etc/passwd", body: strings.Repeat("p", 40)},
		{name: "a/.wh..wh..opq"},
		{name: "a/.wh.gone"},
		{name: "hl", typ: tar.TypeLink, linkname: "etc/os-release"},
		{name: "sl", typ: tar.TypeSymlink, linkname: "/etc/os-release"},
	})
	f.Add(raw)
	f.Add(gzipBytes(f, raw))
	f.Add(zstdBytes(f, raw))
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})

	tmp := f.TempDir() // Layer makes (and removes) its own dir inside
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Layer(context.Background(), bytes.NewReader(data), wantAll(), func(_ context.Context, p string, _ fs.FileMode, fl extract.File) error {
			if !strings.HasPrefix(p, "/") {
				return fmt.Errorf("path %q not absolute", p)
			}
			rc, err := fl.Open()
			if err != nil {
				return err
			}
			defer rc.Close()
			n, err := io.Copy(io.Discard, rc)
			if err != nil {
				return err
			}
			if n != fl.Size() {
				t.Fatalf("%s: read %d bytes, Size %d", p, n, fl.Size())
			}
			if _, err := fl.LocalPath(); err != nil {
				return err
			}
			return nil
		}, Options{TempDir: tmp, MemThreshold: 16, MaxFileSize: 1 << 20, LinkCache: 64})
		_ = err
		assertEmptyDir(t, tmp)
	})
}
