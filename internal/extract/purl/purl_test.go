package purl

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/inventory"
)

func TestBuild(t *testing.T) {
	tests := []struct {
		name                       string
		typ, ns, pkgName, ver, sub string
		quals                      []Qualifier
		want                       string
	}{
		{
			name: "apk with arch", typ: TypeApk, ns: "alpine", pkgName: "busybox", ver: "1.35.0-r17",
			quals: []Qualifier{{"arch", "x86_64"}},
			want:  "pkg:apk/alpine/busybox@1.35.0-r17?arch=x86_64",
		},
		{
			name: "empty qualifier dropped and keys sorted", typ: TypeRPM, ns: "almalinux", pkgName: "glibc", ver: "2.34-28.el9_0",
			quals: []Qualifier{{"epoch", "1"}, {"distro", ""}, {"arch", "aarch64"}},
			want:  "pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64&epoch=1",
		},
		{
			name: "deb epoch colon stays literal (allowed by the spec)", typ: TypeDebian, ns: "debian", pkgName: "zlib1g", ver: "1:1.2.13.dfsg-1",
			quals: []Qualifier{{"arch", "amd64"}},
			want:  "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64",
		},
		{
			name: "no namespace no version", typ: TypeRPM, pkgName: "gpg-pubkey",
			want: "pkg:rpm/gpg-pubkey",
		},
		{
			name: "plus sign in name", typ: TypeDebian, ns: "debian", pkgName: "libstdc++6", ver: "12.2.0-14",
			want: "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14",
		},
		{
			name: "subpath", typ: TypeMaven, ns: "org.apache.logging.log4j", pkgName: "log4j-core", ver: "2.14.1", sub: "lib/x.jar",
			want: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1#lib/x.jar",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BuildWithSubpath(tt.typ, tt.ns, tt.pkgName, tt.ver, tt.sub, tt.quals...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BuildWithSubpath() mismatch (-want +got):\n%s", diff)
			}
			if tt.sub == "" {
				if diff := cmp.Diff(got, Build(tt.typ, tt.ns, tt.pkgName, tt.ver, tt.quals...)); diff != "" {
					t.Errorf("Build() differs from BuildWithSubpath(…, \"\", …):\n%s", diff)
				}
			}
		})
	}
}

func TestPackageID(t *testing.T) {
	p := inventory.Package{
		Ecosystem: inventory.EcoDpkg, Name: "libc6", Version: "2.36-9+deb12u14", Arch: "amd64",
		Locations: []inventory.Location{{Path: "/var/lib/dpkg/status", LayerDiffID: "sha256:aa"}},
	}
	want := inventory.StableID(&p)
	if diff := cmp.Diff(want, PackageID(&p)); diff != "" {
		t.Errorf("PackageID() mismatch (-want +got):\n%s", diff)
	}
	// The layer is not part of the ID.
	p.Locations[0].LayerDiffID = "sha256:bb"
	if diff := cmp.Diff(want, PackageID(&p)); diff != "" {
		t.Errorf("PackageID() depends on the layer (-want +got):\n%s", diff)
	}
}

// FuzzBuild checks that every PURL Build produces parses back to the same
// name, version and qualifiers.
func FuzzBuild(f *testing.F) {
	f.Add("busybox", "1.35.0-r17", "x86_64", "")
	f.Add("zlib1g", "1:1.2.13.dfsg-1", "amd64", "1")
	f.Add("a b/c?d#e", "1.0@x", "&=", "%")
	f.Fuzz(func(t *testing.T, name, version, arch, epoch string) {
		if name == "" {
			return
		}
		s := Build(TypeRPM, "almalinux", name, version, Qualifier{"arch", arch}, Qualifier{"epoch", epoch})
		got, err := packageurl.FromString(s)
		if err != nil {
			t.Fatalf("FromString(%q): %v", s, err)
		}
		if got.Name != name || got.Version != version {
			t.Errorf("round trip of %q: name %q version %q, want %q %q", s, got.Name, got.Version, name, version)
		}
		m := got.Qualifiers.Map()
		if m["arch"] != arch || m["epoch"] != epoch {
			t.Errorf("round trip of %q: qualifiers %v, want arch=%q epoch=%q", s, m, arch, epoch)
		}
	})
}

func TestTypesMatchLibrary(t *testing.T) {
	got := []string{TypeApk, TypeDebian, TypeRPM, TypeGolang, TypeNPM, TypePyPI, TypeMaven, TypeGem, TypeCargo, TypeNuGet, TypeComposer}
	want := []string{packageurl.TypeApk, packageurl.TypeDebian, packageurl.TypeRPM, packageurl.TypeGolang, packageurl.TypeNPM,
		packageurl.TypePyPi, packageurl.TypeMaven, packageurl.TypeGem, packageurl.TypeCargo, packageurl.TypeNuget, packageurl.TypeComposer}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("type constants differ from packageurl-go (-want +got):\n%s", diff)
	}
}
