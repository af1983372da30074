package walk

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/drydock-scan/drydock/internal/extract"
)

// benchLayer builds a gzip layer of about 50 MB uncompressed: 2,000 files of
// ~25 KB of pseudo-random text (compressible like real files), every 50th of
// them named like a package database.
func benchLayer(b *testing.B) (blob []byte, rawSize int64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua 0x1f 0x8b ELF libc.so.6 /usr/lib")
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	tw := tar.NewWriter(zw)
	var body bytes.Buffer
	for i := range 2000 {
		body.Reset()
		for body.Len() < 25000 {
			body.WriteString(words[rng.IntN(len(words))])
			body.WriteByte(' ')
		}
		name := fmt.Sprintf("usr/share/doc/pkg%04d/file", i)
		if i%50 == 0 {
			name = fmt.Sprintf("var/lib/db%04d/status", i)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(body.Len()), Typeflag: tar.TypeReg}); err != nil {
			b.Fatal(err)
		}
		if _, err := tw.Write(body.Bytes()); err != nil {
			b.Fatal(err)
		}
		rawSize += int64(body.Len())
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), rawSize
}

// BenchmarkDecompressOnly is the baseline: gunzip the layer and discard it.
func BenchmarkDecompressOnly(b *testing.B) {
	blob, raw := benchLayer(b)
	b.SetBytes(raw)
	b.ResetTimer()
	for b.Loop() {
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLayer walks the same layer, capturing the 40 "status" files.
func BenchmarkLayer(b *testing.B) {
	blob, raw := benchLayer(b)
	tmp := b.TempDir()
	want := WantFunc(func(p string, _ fs.FileMode, _ int64) bool { return strings.HasSuffix(p, "/status") })
	b.SetBytes(raw)
	b.ResetTimer()
	for b.Loop() {
		var n int
		_, err := Layer(context.Background(), bytes.NewReader(blob), want, func(_ context.Context, _ string, _ fs.FileMode, f extract.File) error {
			n++
			return nil
		}, Options{TempDir: tmp})
		if err != nil {
			b.Fatal(err)
		}
		if n != 40 {
			b.Fatalf("captured %d files, want 40", n)
		}
	}
}
