package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestControlAndStatus(t *testing.T) {
	control := "Package: libc6\nSource: glibc\nVersion: 2.36-9+deb12u14\nArchitecture: amd64\nMulti-Arch: same\nDescription: GNU C Library\n Shared libraries.\n"
	f := controlFields(control)
	want := map[string]string{
		"Package": "libc6", "Source": "glibc", "Version": "2.36-9+deb12u14", "Architecture": "amd64",
		"Multi-Arch": "same", "Description": "GNU C Library\n Shared libraries.",
	}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("controlFields (-want +got):\n%s", d)
	}
	wantStatus := "Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u14\nArchitecture: amd64\nMulti-Arch: same\nDescription: GNU C Library\n Shared libraries.\n\n"
	if d := cmp.Diff(wantStatus, statusStanza(control)); d != "" {
		t.Errorf("statusStanza (-want +got):\n%s", d)
	}
}

func TestSpecs(t *testing.T) {
	for _, size := range []string{"small", "full", "xl"} {
		s, err := specFor(size)
		if err != nil {
			t.Fatal(err)
		}
		if top := s.Layers[len(s.Layers)-1]; !top.App {
			t.Errorf("%s: top layer is %q, want the app layer (the one the changed image replaces)", size, top.Name)
		}
	}
	if _, err := specFor("huge"); err == nil {
		t.Error("unknown size accepted")
	}
}

// readTar lists a tar's entries as "type name [-> link]".
func readTar(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		e := string(h.Typeflag) + " " + h.Name
		if h.Linkname != "" {
			e += " -> " + h.Linkname
		}
		out = append(out, e)
	}
}

func TestLayerWriter(t *testing.T) {
	var buf bytes.Buffer
	lw := newLayerWriter(&buf)
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: "./"},
		{Typeflag: tar.TypeDir, Name: "./usr/"},
		{Typeflag: tar.TypeReg, Name: "./usr/bin/tool", Size: 2},
		{Typeflag: tar.TypeLink, Name: "./usr/bin/tool2", Linkname: "./usr/bin/tool"},
		{Typeflag: tar.TypeDir, Name: "usr/bin"}, // again: written once
		{Typeflag: tar.TypeSymlink, Name: "../../etc/escape", Linkname: "/etc/passwd"},
	} {
		var r io.Reader
		if h.Size > 0 {
			r = bytes.NewReader([]byte("hi"))
		}
		if err := lw.add(h, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := lw.tw.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"5 usr/", "5 usr/bin/", "0 usr/bin/tool", "1 usr/bin/tool2 -> usr/bin/tool", "5 etc/", "2 etc/escape -> /etc/passwd",
	}
	if d := cmp.Diff(want, readTar(t, buf.Bytes())); d != "" {
		t.Errorf("layer entries (-want +got):\n%s", d)
	}
}

// TestAddDeb builds a real .deb with dpkg-deb and unpacks it into a layer.
func TestAddDeb(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	root := t.TempDir()
	for p, c := range map[string]string{
		"DEBIAN/control":             "Package: hello-bench\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Bench <bench@example.org>\nDescription: test package\n",
		"usr/share/doc/hello/README": "hello\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	debPath := filepath.Join(t.TempDir(), "hello.deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, debPath).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
	var buf bytes.Buffer
	lw := newLayerWriter(&buf)
	d := deb{Name: "hello-bench", Version: "1.0-1", Arch: "all", Path: debPath}
	b := &builder{logf: t.Logf}
	if err := b.fillDebLayer(context.Background(), lw, []deb{d}, []deb{d}, nil); err != nil {
		t.Fatal(err)
	}
	if err := lw.tw.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(tr)
		got[h.Name] = string(c)
	}
	if got["usr/share/doc/hello/README"] != "hello\n" {
		t.Errorf("file content: %q", got["usr/share/doc/hello/README"])
	}
	wantList := "/.\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/hello\n/usr/share/doc/hello/README\n"
	if d := cmp.Diff(wantList, got["var/lib/dpkg/info/hello-bench.list"]); d != "" {
		t.Errorf("file list (-want +got):\n%s", d)
	}
	wantStatus := "Package: hello-bench\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Bench <bench@example.org>\nDescription: test package\n\n"
	if d := cmp.Diff(wantStatus, got["var/lib/dpkg/status"]); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
}
