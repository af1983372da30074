package dpkg

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/extract/purl"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{DiffID: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}

func extractData(path string, data []byte) (inventory.Inventory, error) {
	return New().Extract(context.Background(), layer.Input(path, data))
}

// withID fills the fields every package gets from Extract.
func withID(p inventory.Package, path string) inventory.Package {
	p.Ecosystem = inventory.EcoDpkg
	p.Locations = layer.Locations(path)
	p.FoundBy = Name
	p.ID = purl.PackageID(&p)
	return p
}

func TestGolden(t *testing.T) {
	inv := extracttest.Extract(t, New(), layer.Input(statusPath, extracttest.Testdata(t, "debian-12.15-status")))
	// Must-pass number from /work/shared/data/README.md.
	if got := len(inv.Packages); got != 88 {
		t.Errorf("got %d packages, want 88", got)
	}
	extracttest.Golden(t, "testdata/debian-12.15-status.golden.json", inv.Packages)
}

func TestKeyPackages(t *testing.T) {
	inv := extracttest.Extract(t, New(), layer.Input(statusPath, extracttest.Testdata(t, "debian-12.15-status")))
	byName := extracttest.ByName(inv.Packages)
	want := []inventory.Package{
		{
			Name: "libc6", Version: "2.36-9+deb12u14", Arch: "amd64",
			SourceName: "glibc", SourceVersion: "2.36-9+deb12u14",
			PURL:     "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64",
			Metadata: map[string]string{"maintainer": "GNU Libc Maintainers <debian-glibc@lists.debian.org>", "multi_arch": "same"},
		},
		{
			Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Arch: "amd64",
			SourceName: "zlib", SourceVersion: "1:1.2.13.dfsg-1",
			PURL:     "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64",
			Metadata: map[string]string{"maintainer": "Mark Brown <broonie@debian.org>", "multi_arch": "same"},
		},
		{
			// binNMU: "Source: bash (5.2.15-2)".
			Name: "bash", Version: "5.2.15-2+b13", Arch: "amd64",
			SourceName: "bash", SourceVersion: "5.2.15-2",
			PURL:     "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64",
			Metadata: map[string]string{"maintainer": "Matthias Klose <doko@debian.org>", "multi_arch": "foreign"},
		},
		{
			// No Source field: the source is the binary package itself.
			Name: "adduser", Version: "3.134", Arch: "all",
			SourceName: "adduser", SourceVersion: "3.134",
			PURL:     "pkg:deb/debian/adduser@3.134?arch=all",
			Metadata: map[string]string{"maintainer": "Debian Adduser Developers <adduser@packages.debian.org>", "multi_arch": "foreign"},
		},
	}
	for _, w := range want {
		w = withID(w, statusPath)
		if diff := cmp.Diff(w, byName[w.Name]); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", w.Name, diff)
		}
	}
	for name, ver := range map[string]string{"apt": "2.6.1", "perl-base": "5.36.0-7+deb12u3"} {
		if got := byName[name].Version; got != ver {
			t.Errorf("%s version = %q, want %q", name, got, ver)
		}
	}
}

func TestFileLists(t *testing.T) {
	tests := []struct {
		file, path string
		want       inventory.Package
		wantFiles  int
	}{
		{
			file: "info/zlib1g%3Aamd64.list", path: "/var/lib/dpkg/info/zlib1g:amd64.list",
			want: inventory.Package{
				Name: "zlib1g", Arch: "amd64", Metadata: map[string]string{"kind": "filelist"},
				Files: []string{
					"/lib", "/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1.2.13",
					"/usr", "/usr/share", "/usr/share/doc", "/usr/share/doc/zlib1g",
					"/usr/share/doc/zlib1g/changelog.Debian.gz", "/usr/share/doc/zlib1g/changelog.gz", "/usr/share/doc/zlib1g/copyright",
				},
			},
		},
		{
			file: "info/libc6%3Aamd64.list", path: "/var/lib/dpkg/info/libc6:amd64.list",
			want: inventory.Package{Name: "libc6", Arch: "amd64", Metadata: map[string]string{"kind": "filelist"}},
			// 12564-byte list: every line but "/." is a path.
			wantFiles: strings.Count(string(extracttest.Testdata(t, "info/libc6%3Aamd64.list")), "\n") - 1,
		},
		{
			file: "info/base-files.list", path: "/var/lib/dpkg/info/base-files.list",
			want:      inventory.Package{Name: "base-files", Metadata: map[string]string{"kind": "filelist"}},
			wantFiles: strings.Count(string(extracttest.Testdata(t, "info/base-files.list")), "\n") - 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			inv := extracttest.Extract(t, New(), layer.Input(tt.path, extracttest.Testdata(t, tt.file)))
			if len(inv.Packages) != 1 {
				t.Fatalf("got %d packages, want 1", len(inv.Packages))
			}
			got := inv.Packages[0]
			if tt.wantFiles > 0 {
				if len(got.Files) != tt.wantFiles {
					t.Errorf("got %d files, want %d", len(got.Files), tt.wantFiles)
				}
				if !slices.Contains(got.Files, "/usr/share/doc/"+tt.want.Name+"/copyright") {
					t.Errorf("files lack the copyright file: %v", got.Files)
				}
				got.Files = nil
			}
			if diff := cmp.Diff(withID(tt.want, tt.path), got); diff != "" {
				t.Errorf("file list package mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusD(t *testing.T) {
	// A distroless status.d file: no Status field, may hold several stanzas.
	const path = "/var/lib/dpkg/status.d/libssl3"
	data := "Package: libssl3\nVersion: 3.0.15-1~deb12u1\nArchitecture: amd64\nMaintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>\n" +
		"Installed-Size: 6353\nDepends: libc6 (>= 2.34)\nSection: libs\nPriority: optional\nMulti-Arch: same\nHomepage: https://www.openssl.org/\n" +
		"Description: Secure Sockets Layer toolkit - shared libraries\n This package is part of the OpenSSL project's implementation.\nSource: openssl\n\n" +
		"Package: libssl3-extra\nVersion: 1\nArchitecture: amd64\n"
	inv := extracttest.Extract(t, New(), layer.Input(path, []byte(data)))
	want := []inventory.Package{
		withID(inventory.Package{
			Name: "libssl3", Version: "3.0.15-1~deb12u1", Arch: "amd64", SourceName: "openssl", SourceVersion: "3.0.15-1~deb12u1",
			PURL:     "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64",
			Metadata: map[string]string{"maintainer": "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>", "multi_arch": "same"},
		}, path),
		withID(inventory.Package{
			Name: "libssl3-extra", Version: "1", Arch: "amd64", SourceName: "libssl3-extra", SourceVersion: "1",
			PURL: "pkg:deb/debian/libssl3-extra@1?arch=amd64",
		}, path),
	}
	if diff := cmp.Diff(want, inv.Packages); diff != "" {
		t.Errorf("packages mismatch (-want +got):\n%s", diff)
	}
}

func TestStatusEdgeCases(t *testing.T) {
	pkg := func(name, version string) inventory.Package {
		return withID(inventory.Package{
			Name: name, Version: version, SourceName: name, SourceVersion: version,
			PURL: purl.Build(purl.TypeDebian, "debian", name, version),
		}, statusPath)
	}
	tests := []struct {
		name     string
		data     string
		want     []inventory.Package
		wantErrs []string // nil: no error expected
	}{
		{
			name: "only installed states are kept",
			data: "Package: a\nStatus: install ok installed\nVersion: 1\n\n" +
				"Package: b\nStatus: hold ok installed\nVersion: 2\n\n" +
				"Package: c\nStatus: deinstall ok config-files\nVersion: 3\n\n" +
				"Package: d\nStatus: purge ok not-installed\n\n" +
				"Package: e\nStatus: install ok unpacked\nVersion: 5\n\n" +
				"Package: f\nStatus: install ok half-configured\nVersion: 6\n\n" +
				"Package: g\nStatus: install ok triggers-pending\nVersion: 7\n\n" +
				"Package: h\nStatus: deinstall ok installed\nVersion: 8\n",
			want: []inventory.Package{pkg("a", "1"), pkg("b", "2"), pkg("g", "7"), pkg("h", "8")},
		},
		{
			name: "CRLF, missing trailing newline, whitespace-only separator, field case",
			data: "package: a\r\nstatus: install ok installed\r\nVERSION: 1\r\n \t\r\nPackage: b\r\nVersion: 2",
			want: []inventory.Package{pkg("a", "1"), pkg("b", "2")},
		},
		{
			name: "continuation lines and description blocks",
			data: "Package: a\nVersion: 1\nDescription: short\n long line\n .\n more\nConffiles:\n /etc/a 0123\n\tinline tab\n",
			want: []inventory.Package{pkg("a", "1")},
		},
		{
			name: "source with version and extra spaces",
			data: "Package: a\nVersion: 1+b1\nSource:  src  ( 1 ) \n",
			want: []inventory.Package{withID(inventory.Package{
				Name: "a", Version: "1+b1", SourceName: "src", SourceVersion: "1",
				PURL: "pkg:deb/debian/a@1%2Bb1",
			}, statusPath)},
		},
		{
			name:     "duplicate field: first wins, reported",
			data:     "Package: a\nVersion: 1\nVersion: 2\n cont\n",
			want:     []inventory.Package{pkg("a", "1")},
			wantErrs: []string{`line 3: duplicate field "Version" (first on line 2)`},
		},
		{
			name:     "stanza without Package is skipped",
			data:     "Version: 1\nStatus: install ok installed\n\nPackage: b\nVersion: 2\n",
			want:     []inventory.Package{pkg("b", "2")},
			wantErrs: []string{"line 1: stanza without Package field"},
		},
		{
			name:     "installed package without version is skipped",
			data:     "Package: a\nStatus: install ok installed\n\nPackage: b\nVersion: 2\n",
			want:     []inventory.Package{pkg("b", "2")},
			wantErrs: []string{`line 1: package "a": missing or malformed Version ""`},
		},
		{
			name:     "malformed status is skipped",
			data:     "Package: a\nStatus: installed\nVersion: 1\n\nPackage: b\nVersion: 2\n",
			want:     []inventory.Package{pkg("b", "2")},
			wantErrs: []string{`line 2: package "a": malformed Status "installed"`},
		},
		{
			name:     "malformed source is skipped",
			data:     "Package: a\nVersion: 1\nSource: (1)\n\nPackage: b\nVersion: 2\n",
			want:     []inventory.Package{pkg("b", "2")},
			wantErrs: []string{`line 3: package "a": malformed Source "(1)"`},
		},
		{
			name:     "garbage line and stray continuation",
			data:     " stray\nPackage: a\nno colon here\nVersion: 1\n",
			want:     []inventory.Package{pkg("a", "1")},
			wantErrs: []string{"line 1: continuation line outside a field", `line 3: not a "Field: value" line`},
		},
		{
			name:     "binary garbage",
			data:     "\x00\x01\x02\xff\xfe",
			wantErrs: []string{"not a \"Field: value\" line", "stanza without Package"},
		},
		{
			name:     "line too long keeps what came before",
			data:     "Package: a\nVersion: 1\n\nPackage: b\nDescription: " + strings.Repeat("x", maxLine) + "\nVersion: 2\n",
			want:     []inventory.Package{pkg("a", "1")},
			wantErrs: []string{"line 5: line longer than"},
		},
		{
			name: "comments are ignored",
			data: "# comment\nPackage: a\n# another\nVersion: 1\n",
			want: []inventory.Package{pkg("a", "1")},
		},
		{name: "empty file", data: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := extractData(statusPath, []byte(tt.data))
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages mismatch (-want +got):\n%s", diff)
			}
			if tt.wantErrs == nil {
				if err != nil {
					t.Errorf("Extract error: %v", err)
				}
				return
			}
			extracttest.CheckFileError(t, err, statusPath, tt.wantErrs...)
		})
	}
}

func TestFileListMalformed(t *testing.T) {
	const path = "/var/lib/dpkg/info/foo.list"
	inv, err := extractData(path, []byte("/.\r\n/usr\r\nrelative/path\n\n/usr/bin//foo/\n/usr"))
	want := []inventory.Package{withID(inventory.Package{
		Name: "foo", Metadata: map[string]string{"kind": "filelist"}, Files: []string{"/usr", "/usr/bin/foo"},
	}, path)}
	if diff := cmp.Diff(want, inv.Packages); diff != "" {
		t.Errorf("packages mismatch (-want +got):\n%s", diff)
	}
	extracttest.CheckFileError(t, err, path, `line 3: not an absolute path: "relative/path"`)
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ParseStatus(ctx, strings.NewReader(strings.Repeat("Package: a\nVersion: 1\n\n", 5000)))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ParseStatus error = %v, want context.Canceled", err)
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []extracttest.WantsCase{
		{Path: "/var/lib/dpkg/status", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/dpkg/status", Mode: fs.ModeSymlink, Size: 100, Want: false},
		{Path: "/var/lib/dpkg/status-old", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/dpkg/status.d/base-files", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/dpkg/status.d/libc6", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/dpkg/status.d/libc6.md5sums", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/dpkg/status.d/", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/dpkg/status.d/sub/x", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/dpkg/info/libc6:amd64.list", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/dpkg/info/base-files.list", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/dpkg/info/base-files.md5sums", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/dpkg/info/.list", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/dpkg/info/x/y.list", Mode: 0o644, Size: 100, Want: false},
		{Path: "/usr/var/lib/dpkg/status", Mode: 0o644, Size: 100, Want: false},
	}
	extracttest.CheckWants(t, e, tests)
	if e.Name() != "os/dpkg" {
		t.Errorf("Name() = %q", e.Name())
	}
}

// FuzzExtract checks the kit's invariants (errors name the file, packages
// have their location and absolute files, output is deterministic), that
// every package has an ID, and that status packages are complete.
func FuzzExtract(f *testing.F) {
	status := extracttest.Testdata(f, "debian-12.15-status")
	f.Add(false, status[:3000])
	f.Add(false, []byte("Package: a\nStatus: install ok installed\nVersion: 1\nSource: s (2)\n\n \nPackage: b\n"))
	f.Add(true, []byte("/.\n/usr\nrel\n"))
	f.Fuzz(func(t *testing.T, list bool, data []byte) {
		path := statusPath
		if list {
			path = "/var/lib/dpkg/info/x:amd64.list"
		}
		inv := extracttest.Fuzz(t, New(), layer.Input(path, data))
		extracttest.Identified(t, inv)
		for _, p := range inv.Packages {
			if !list && (p.Version == "" || p.PURL == "" || p.SourceName == "" || p.SourceVersion == "") {
				t.Fatalf("incomplete package %+v", p)
			}
		}
		if list && len(inv.Packages) != 1 {
			t.Fatalf("file list gave %d packages", len(inv.Packages))
		}
	})
}
