package source

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/klauspost/compress/gzip"
)

// tarDirBytes tars the files under dir (test helper for seeds).
func tarDirBytes(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzOpenArchive feeds arbitrary files to Open's auto-detection (docker
// archive / OCI archive): it must return an error or an image whose layers
// can be read, never panic, and leave no temp files behind after Close.
func FuzzOpenArchive(f *testing.F) {
	docker, err := os.ReadFile(dockerSave(f, savedImage{tags: []string{"a:1"}, layers: [][]file{{{name: "etc/x", body: "x"}}}}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(docker)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(docker); err != nil {
		f.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(gz.Bytes())
	dir := f.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		f.Fatal(err)
	}
	if err := lp.AppendImage(imageOf(f, "linux", "amd64", "", layerOf(f, file{name: "a", body: "a"}))); err != nil {
		f.Fatal(err)
	}
	f.Add(tarDirBytes(f, dir))
	f.Add([]byte{})

	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(tmp, "in.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TMPDIR", tmp)
		img, err := Open(context.Background(), p, Options{})
		if err != nil {
			return
		}
		for _, l := range img.Layers {
			rc, err := l.Open(context.Background())
			if err != nil {
				continue
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(rc, 16<<20))
			rc.Close()
		}
		if err := img.Close(); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(tmp)
		if len(ents) != 1 {
			t.Fatalf("temp files left: %v", ents)
		}
	})
}
