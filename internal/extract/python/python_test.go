package python

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{Index: 1, DiffID: "sha256:0123456789abcdef"}

func pkg(name, orig, version, p string, licenses ...string) inventory.Package {
	if len(licenses) == 0 {
		licenses = nil
	}
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoPyPI,
		PURL:      "pkg:pypi/" + name + "@" + version,
		Licenses:  licenses,
		Locations: layer.Locations(p),
		FoundBy:   "lang/python",
		Metadata:  map[string]string{"name": orig},
	}
}

func TestWants(t *testing.T) {
	tests := []extracttest.WantsCase{
		{Path: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", Mode: 0o644, Size: 2005, Want: true},
		{Path: "/usr/local/lib/python3.11/site-packages/pip-23.0.dist-info/METADATA", Mode: 0o644, Size: 100, Want: true},
		{Path: "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", Mode: 0o644, Size: 100, Want: true},
		{Path: "/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info", Mode: 0o644, Size: 234, Want: true},
		{Path: "/usr/lib/python3/dist-packages/foo-1.0-py3.11.egg", Mode: 0o644, Size: 4096, Want: true},
		{Path: "/usr/lib/python3/dist-packages/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO", Mode: 0o644, Size: 100, Want: true},
		// Directories, symlinks and other files are not wanted.
		{Path: "/usr/lib/python3/dist-packages/six-1.16.0.egg-info", Mode: fs.ModeDir | 0o755, Size: 0, Want: false},
		{Path: "/usr/lib/python3/dist-packages/six-1.16.0.egg-info", Mode: fs.ModeSymlink | 0o777, Size: 10, Want: false},
		{Path: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/RECORD", Mode: 0o644, Size: 100, Want: false},
		{Path: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/WHEEL", Mode: 0o644, Size: 100, Want: false},
		{Path: "/srv/METADATA", Mode: 0o644, Size: 100, Want: false},
		{Path: "/srv/PKG-INFO", Mode: 0o644, Size: 100, Want: false},
		{Path: "/srv/EGG-INFO/PKG-INFO", Mode: 0o644, Size: 100, Want: false},
		{Path: "/srv/.egg-info", Mode: 0o644, Size: 100, Want: false},
		{Path: "/srv/.egg", Mode: 0o644, Size: 100, Want: false},
		// Size caps.
		{Path: "/x/a-1.dist-info/METADATA", Mode: 0o644, Size: maxMetadataSize, Want: true},
		{Path: "/x/a-1.dist-info/METADATA", Mode: 0o644, Size: maxMetadataSize + 1, Want: false},
		{Path: "/x/a-1.egg", Mode: 0o644, Size: maxEggSize, Want: true},
		{Path: "/x/a-1.egg", Mode: 0o644, Size: maxEggSize + 1, Want: false},
		{Path: "/x/a-1.egg", Mode: 0o644, Size: -1, Want: false},
	}
	e := New()
	extracttest.CheckWants(t, e, tests)
}

// TestExtractDebian reads metadata files shipped by Debian 12 packages.
func TestExtractDebian(t *testing.T) {
	const dp = "/usr/lib/python3/dist-packages/"
	tests := []struct {
		file string // under testdata
		path string // in the image
		want inventory.Package
	}{
		{
			// python3-yaml 6.0-3+b2: wheel-style dist-info, License header.
			file: "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
			path: dp + "PyYAML-6.0.dist-info/METADATA",
			want: pkg("pyyaml", "PyYAML", "6.0", dp+"PyYAML-6.0.dist-info/METADATA", "MIT"),
		},
		{
			// python3-urllib3 1.26.12-1+deb12u4: egg-info directory, 46 KB with description.
			file: "usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO",
			path: dp + "urllib3-1.26.12.egg-info/PKG-INFO",
			want: pkg("urllib3", "urllib3", "1.26.12", dp+"urllib3-1.26.12.egg-info/PKG-INFO", "MIT"),
		},
		{
			// python3-requests 2.28.1+dfsg-1.
			file: "usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO",
			path: dp + "requests-2.28.1.egg-info/PKG-INFO",
			want: pkg("requests", "requests", "2.28.1", dp+"requests-2.28.1.egg-info/PKG-INFO", "Apache 2.0"),
		},
		{
			// python3-six 1.16.0-4.
			file: "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
			path: dp + "six-1.16.0.egg-info/PKG-INFO",
			want: pkg("six", "six", "1.16.0", dp+"six-1.16.0.egg-info/PKG-INFO", "MIT"),
		},
		{
			// python3-apt 2.6.0's PKG-INFO, laid out as an egg-info FILE. The
			// file has no blank line after the headers.
			file: "crafted/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
			path: dp + "python_apt-2.6.0.egg-info",
			want: pkg("python-apt", "python-apt", "2.6.0", dp+"python_apt-2.6.0.egg-info", "GNU GPL"),
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			inv := extracttest.Extract(t, e, layer.Input(tt.path, extracttest.Testdata(t, tt.file)))
			if diff := cmp.Diff([]inventory.Package{tt.want}, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractHeaders(t *testing.T) {
	const p = "/site-packages/x-1.dist-info/METADATA"
	tests := []struct {
		name    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{
			name: "license expression wins",
			data: "Metadata-Version: 2.4\nName: Foo.Bar_baz\nVersion: 1.0rc1\nLicense-Expression: MIT OR Apache-2.0\nLicense: BSD\n\nbody\n",
			want: []inventory.Package{pkg("foo-bar-baz", "Foo.Bar_baz", "1.0rc1", p, "MIT OR Apache-2.0")},
		},
		{
			name: "classifiers when License is UNKNOWN",
			data: "Name: a\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved\n" +
				"Classifier: License :: OSI Approved :: BSD License\nClassifier: Topic :: Utilities\n" +
				"Classifier: License :: Public Domain\n\n",
			want: []inventory.Package{pkg("a", "a", "1", p, "BSD License", "Public Domain")},
		},
		{
			name: "License holding the licence text is not a name",
			data: "Name: a\nVersion: 1\nLicense: Copyright (c) 2020 Someone\n        Permission is hereby granted, free of charge, to any person obtaining a copy\n" +
				"        of this software\nClassifier: License :: OSI Approved :: MIT License\n\n",
			want: []inventory.Package{pkg("a", "a", "1", p, "MIT License")},
		},
		{
			name: "continued short License",
			data: "Name: a\nVersion: 1\nLicense: GPL-2.0-only\n  OR MIT\n\n",
			want: []inventory.Package{pkg("a", "a", "1", p, "GPL-2.0-only OR MIT")},
		},
		{
			name: "no licence",
			data: "Name: a\nVersion: 1\n",
			want: []inventory.Package{pkg("a", "a", "1", p)},
		},
		{
			name: "CRLF line ends",
			data: "Name: a\r\nVersion: 2.0\r\n\r\n",
			want: []inventory.Package{pkg("a", "a", "2.0", p)},
		},
		{
			name:    "no version",
			data:    "Metadata-Version: 2.1\nName: foo\n\n",
			wantErr: `parsing python metadata "` + p + `": no Version header for "foo"`,
		},
		{
			name:    "no name",
			data:    "Metadata-Version: 2.1\nVersion: 1.0\n\n",
			wantErr: `parsing python metadata "` + p + `": no Name header`,
		},
		{
			name:    "empty",
			data:    "\n\n",
			wantErr: `parsing python metadata "` + p + `": empty metadata`,
		},
		{
			name:    "garbage before name",
			data:    "this is not metadata\nName: a\nVersion: 1\n",
			wantErr: `parsing python metadata "` + p + `": malformed MIME header: missing colon: "this is not metadata"`,
		},
		{
			// A broken line after Name and Version keeps the package.
			name:    "garbage after version",
			data:    "Name: a\nVersion: 1\nnot a header\n",
			want:    []inventory.Package{pkg("a", "a", "1", p)},
			wantErr: `parsing python metadata "` + p + `": malformed MIME header: missing colon: "not a header"`,
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := e.Extract(context.Background(), layer.Input(p, []byte(tt.data)))
			extracttest.CheckError(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func makeZip(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"EGG-INFO/PKG-INFO", "EGG-INFO/top_level.txt", "requests/__init__.py"} {
		data, ok := files[name]
		if !ok {
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractEgg(t *testing.T) {
	const p = "/usr/lib/python3.11/site-packages/requests-2.28.1-py3.11.egg"
	// The egg is built here from python3-requests' real PKG-INFO.
	pkgInfo := extracttest.Testdata(t, "usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO")
	tests := []struct {
		name    string
		data    []byte
		want    []inventory.Package
		wantErr string
	}{
		{
			name: "egg",
			data: makeZip(t, map[string][]byte{"EGG-INFO/PKG-INFO": pkgInfo, "EGG-INFO/top_level.txt": []byte("requests\n"), "requests/__init__.py": nil}),
			want: []inventory.Package{pkg("requests", "requests", "2.28.1", p, "Apache 2.0")},
		},
		{
			name:    "egg without PKG-INFO",
			data:    makeZip(t, map[string][]byte{"requests/__init__.py": nil}),
			wantErr: `reading python metadata "` + p + `": no EGG-INFO/PKG-INFO in egg`,
		},
		{
			name:    "not a zip",
			data:    []byte("Name: a\nVersion: 1\n"),
			wantErr: `reading python metadata "` + p + `": opening egg zip: zip: not a valid zip file`,
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := e.Extract(context.Background(), layer.Input(p, tt.data))
			extracttest.CheckError(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractNotApplicable(t *testing.T) {
	_, err := New().Extract(context.Background(), layer.Input("/etc/passwd", []byte("root:x:0:0")))
	if !errors.Is(err, extract.ErrNotApplicable) {
		t.Errorf("error = %v, want ErrNotApplicable", err)
	}
}

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"PyYAML":               "pyyaml",
		"python_apt":           "python-apt",
		"zope.interface":       "zope-interface",
		"Foo__Bar--baz..Qux":   "foo-bar-baz-qux",
		" ruamel.yaml.clib ":   "ruamel-yaml-clib",
		"friendly-bard":        "friendly-bard",
		"FRIENDLY._-._BARD":    "friendly-bard",
		"":                     "",
		"typing_extensions":    "typing-extensions",
		"backports.zoneinfo":   "backports-zoneinfo",
		"Jinja2":               "jinja2",
		"setuptools_scm[toml]": "setuptools-scm[toml]",
	}
	for in, want := range tests {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(extracttest.Testdata(f, "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA"), false)
	f.Add(extracttest.Testdata(f, "crafted/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info"), false)
	f.Add([]byte("Name: a\nVersion: 1\nClassifier: License ::\n"), false)
	f.Add(makeZip(f, map[string][]byte{"EGG-INFO/PKG-INFO": []byte("Name: a\nVersion: 1\n")}), true)
	e := New()
	f.Fuzz(func(t *testing.T, data []byte, egg bool) {
		p := "/x/a-1.dist-info/METADATA"
		if egg {
			p = "/x/a-1.egg"
		}
		extracttest.Complete(t, extracttest.Fuzz(t, e, layer.Input(p, data)))
	})
}
