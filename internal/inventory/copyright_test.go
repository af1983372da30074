package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMergeCopyright: a Debian copyright pseudo-package gives its licences
// to the package of its name, or to the packages of that source whose doc
// directory is a symlink; a package's own licences are kept; the
// pseudo-package is dropped.
func TestMergeCopyright(t *testing.T) {
	copyright := func(name string, ls ...string) Package {
		return Package{Name: name, Ecosystem: EcoDpkg, Licenses: ls, Metadata: map[string]string{MetaKind: KindCopyright}}
	}
	pkg := func(name, source string, ls ...string) Package {
		return Package{Name: name, Version: "1", Ecosystem: EcoDpkg, SourceName: source, Licenses: ls}
	}
	lr := LayerResult{Files: []FileResult{
		{Path: "/var/lib/dpkg/status", Extractor: "os/dpkg", Packages: []Package{
			pkg("e2fsprogs", "e2fsprogs"),
			pkg("libext2fs2", "e2fsprogs"),    // doc dir symlinked: the source's file
			pkg("libcom-err2", "e2fsprogs"),   // its own file wins
			pkg("bash", "bash"),               // free-form copyright: nothing
			pkg("has-own", "x", "MIT"),        // already known: kept
			pkg("npm-like", "", "Apache-2.0"), // no source
		}},
		{Path: "/usr/share/doc/e2fsprogs/copyright", Extractor: "os/dpkg", Packages: []Package{copyright("e2fsprogs", "GPL-2", "LGPL-2")}},
		{Path: "/usr/share/doc/libcom-err2/copyright", Extractor: "os/dpkg", Packages: []Package{copyright("libcom-err2", "Expat")}},
		{Path: "/usr/share/doc/has-own/copyright", Extractor: "os/dpkg", Packages: []Package{copyright("has-own", "GPL-3+")}},
	}}
	inv := Merge([]LayerResult{lr}, MergeOptions{})
	got := map[string][]string{}
	for _, p := range inv.Packages {
		got[p.Name] = p.Licenses
	}
	want := map[string][]string{
		"e2fsprogs":   {"GPL-2", "LGPL-2"},
		"libext2fs2":  {"GPL-2", "LGPL-2"},
		"libcom-err2": {"Expat"},
		"bash":        nil,
		"has-own":     {"MIT"},
		"npm-like":    {"Apache-2.0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("licences after Merge (-want +got)\n%s", diff)
	}
}
