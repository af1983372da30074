// Command mkfixtures rebuilds the fixture images the repo carries in
// testdata/images from the real root filesystems in ../shared/data:
//
//	go run ./internal/testimage/mkfixtures -data ../shared/data -out testdata/images
//
// The images are data (Alpine's minirootfs, unchanged, as one layer); this
// program only wraps them the way "docker save" would.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/drydock-scan/drydock/internal/testimage"
)

func main() {
	data := flag.String("data", "../shared/data", "the shared data directory")
	out := flag.String("out", "testdata/images", "where to write the images")
	flag.Parse()
	if err := run(*data, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkfixtures:", err)
		os.Exit(1)
	}
}

func run(data, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	img, err := testimage.Build(testimage.Config{Config: v1.Config{
		Cmd: []string{"/bin/sh"},
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	}}, testimage.Layer{
		TarPath:   filepath.Join(data, "rootfs", "alpine-minirootfs-3.16.9-x86_64.tar.gz"),
		CreatedBy: "/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.16.9-x86_64.tar.gz in / ",
	})
	if err != nil {
		return err
	}
	return testimage.WriteDockerArchive(filepath.Join(out, "alpine-3.16.9.tar"), "alpine:3.16.9", img)
}
