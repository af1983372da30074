package dpkg

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

func TestCopyright(t *testing.T) {
	const dep5 = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
	tests := []struct {
		name string
		data string
		want []string // nil: no pseudo-package
	}{
		{
			name: "files paragraphs in order, without repeats; stand-alone licence paragraphs are definitions",
			data: dep5 + "Upstream-Name: zlib\nSource: https://zlib.net\n\n" +
				"Files: *\nCopyright: 1995 Jean-loup Gailly\nLicense: Zlib\n\n" +
				"Files: debian/*\nCopyright: 2000 Someone\nLicense: GPL-2+ or Artistic,\n and BSD-3-clause\n\n" +
				"Files: contrib/*\nCopyright: 2001 Other\nLicense: Zlib\n\n" +
				"License: Zlib\n This software is provided 'as-is'...\n\n" +
				"License: Unused-Elsewhere\n text\n",
			want: []string{"Zlib", "GPL-2+ or Artistic,"},
		},
		{
			name: "header licence",
			data: "Format: http://dep.debian.net/deps/dep5\nLicense: GPL-2\n\nFiles: *\nCopyright: x\nLicense: GPL-2\n",
			want: []string{"GPL-2"},
		},
		{
			name: "comments and CRLF",
			data: "# a comment\r\n" + strings.ReplaceAll(dep5, "\n", "\r\n") + "\r\nFiles: *\r\nLicense: MIT\r\n",
			want: []string{"MIT"},
		},
		{
			name: "free form: unknown, never guessed",
			data: "This is the Debian GNU/Linux prepackaged version of bash.\n\nCopyright (C) 1987-2022 Free Software Foundation, Inc.\n" +
				"Bash is free software; you can redistribute it under the GNU GPL version 3 or later.\n" +
				"On Debian systems, see /usr/share/common-licenses/GPL-3.\n",
		},
		{
			name: "fields but no Format",
			data: "Upstream-Name: foo\n\nFiles: *\nLicense: MIT\n",
		},
		{
			name: "format of another kind",
			data: "Format: something else\n\nFiles: *\nLicense: MIT\n",
		},
		{name: "empty", data: ""},
		{name: "machine-readable, no licence", data: dep5 + "\nFiles: *\nCopyright: x\n"},
	}
	const path = "/usr/share/doc/zlib1g/copyright"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := extractData(path, []byte(tc.data))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			var want []inventory.Package
			if tc.want != nil {
				want = []inventory.Package{withID(inventory.Package{
					Name:     "zlib1g",
					Licenses: tc.want,
					Metadata: map[string]string{inventory.MetaKind: inventory.KindCopyright},
				}, path)}
			}
			if diff := cmp.Diff(want, inv.Packages); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestCopyrightMalformed(t *testing.T) {
	data := "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: MIT\nnot a field line\n"
	inv, err := extractData("/usr/share/doc/x/copyright", []byte(data))
	if err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("Extract error = %v, want one naming line 5", err)
	}
	if len(inv.Packages) != 1 || len(inv.Packages[0].Licenses) != 1 {
		t.Errorf("partial result lost: %+v", inv.Packages)
	}
}

func TestWantsCopyright(t *testing.T) {
	e := New()
	for _, tc := range []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"/usr/share/doc/libc6/copyright", 0o644, 30 << 10, true},
		{"/usr/share/doc/libc6/copyright", 0o644, maxCopyright + 1, false},
		{"/usr/share/doc/libc6/copyright", fs.ModeSymlink | 0o777, 10, false},
		{"/usr/share/doc/libc6/changelog.Debian.gz", 0o644, 10, false},
		{"/usr/share/doc/copyright", 0o644, 10, false},
		{"/usr/share/doc//copyright", 0o644, 10, false},
		{"/usr/share/doc/libc6/sub/copyright", 0o644, 10, false},
		{"/usr/local/share/doc/libc6/copyright", 0o644, 10, false},
	} {
		if got := e.Wants(tc.path, tc.mode, tc.size); got != tc.want {
			t.Errorf("Wants(%q, %v, %d) = %v, want %v", tc.path, tc.mode, tc.size, got, tc.want)
		}
	}
}

// TestCopyrightDebian12 reads the copyright files of the 88 packages of
// the Debian 12 minbase image (testdata/README.md) and merges them with its
// status file: every package with a machine-readable file gets licences.
func TestCopyrightDebian12(t *testing.T) {
	files := extracttest.TarGz(t, "testdata/debian-12-copyright.tar.gz")
	layerRes := inventory.LayerResult{Layer: inventory.Layer{DiffID: layer.DiffID}}
	add := func(path string, data []byte) {
		inv := extracttest.Extract(t, New(), layer.Input(path, data))
		layerRes.Files = append(layerRes.Files, inventory.FileResult{Path: path, Extractor: Name, Packages: inv.Packages})
	}
	add(statusPath, extracttest.Testdata(t, "debian-12.15-status"))
	machine := 0
	for path, data := range files {
		before := len(layerRes.Files)
		add(path, data)
		if len(layerRes.Files[before].Packages) > 0 {
			machine++
		}
	}
	merged := inventory.Merge([]inventory.LayerResult{layerRes}, inventory.MergeOptions{})
	withLicence := 0
	for _, p := range merged.Packages {
		if p.Metadata[inventory.MetaKind] == inventory.KindCopyright {
			t.Errorf("copyright pseudo-package %s left after Merge", p.Name)
		}
		if len(p.Licenses) > 0 {
			withLicence++
		}
	}
	// Measured on these files (Debian 12, December 2025): 88 copyright
	// files, of which this many are machine-readable.
	if len(files) != 88 || machine != 74 || len(merged.Packages) != 88 || withLicence != 74 {
		t.Errorf("files %d, machine-readable %d, packages %d, with licences %d; want 88, 74, 88, 74",
			len(files), machine, len(merged.Packages), withLicence)
	}
	byName := extracttest.ByName(merged.Packages)
	for name, want := range map[string][]string{
		"zlib1g": {"Zlib"},
		"libc6":  nil, // glibc's copyright file is free-form
	} {
		if diff := cmp.Diff(want, byName[name].Licenses); diff != "" {
			t.Errorf("%s licences (-want +got)\n%s", name, diff)
		}
	}
}
