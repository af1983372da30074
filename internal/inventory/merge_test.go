package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pkg(name, version string) Package {
	return Package{Name: name, Version: version, Ecosystem: EcoAPK}
}

func layerOf(i int, files ...FileResult) LayerResult {
	return LayerResult{Layer: Layer{Index: i, DiffID: "sha256:l" + string(rune('0'+i))}, Files: files}
}

const apkDB = "/lib/apk/db/installed"

func apkFile(pkgs ...Package) FileResult {
	return FileResult{Path: apkDB, Extractor: "os/apk", Packages: pkgs}
}

// summary is name@version → introducing layer index.
func summary(inv Inventory) map[string]int {
	m := map[string]int{}
	for _, p := range inv.Packages {
		m[p.Name+"@"+p.Version] = p.Layer.Index
	}
	return m
}

func TestMergeOriginLayer(t *testing.T) {
	tests := []struct {
		name   string
		layers []LayerResult
		want   map[string]int
	}{
		{
			name:   "single layer",
			layers: []LayerResult{layerOf(0, apkFile(pkg("musl", "1"), pkg("busybox", "1")))},
			want:   map[string]int{"musl@1": 0, "busybox@1": 0},
		},
		{
			name: "package added in upper layer keeps lower packages' origin",
			layers: []LayerResult{
				layerOf(0, apkFile(pkg("musl", "1"))),
				layerOf(1),
				layerOf(2, apkFile(pkg("musl", "1"), pkg("curl", "8"))),
			},
			want: map[string]int{"musl@1": 0, "curl@8": 2},
		},
		{
			name: "upgraded package is introduced by the upgrading layer",
			layers: []LayerResult{
				layerOf(0, apkFile(pkg("musl", "1"), pkg("zlib", "1"))),
				layerOf(1, apkFile(pkg("musl", "1"), pkg("zlib", "2"))),
			},
			want: map[string]int{"musl@1": 0, "zlib@2": 1},
		},
		{
			name: "package removed in upper layer is gone",
			layers: []LayerResult{
				layerOf(0, apkFile(pkg("musl", "1"), pkg("curl", "8"))),
				layerOf(1, apkFile(pkg("musl", "1"))),
			},
			want: map[string]int{"musl@1": 0},
		},
		{
			name: "database whited out",
			layers: []LayerResult{
				layerOf(0, apkFile(pkg("musl", "1"))),
				{Layer: Layer{Index: 1}, Whiteouts: []string{apkDB}},
			},
			want: map[string]int{},
		},
		{
			name: "parent directory whited out",
			layers: []LayerResult{
				layerOf(0, apkFile(pkg("musl", "1"))),
				{Layer: Layer{Index: 1}, Whiteouts: []string{"/lib/apk"}},
			},
			want: map[string]int{},
		},
		{
			name: "opaque dir hides lower but not same layer",
			layers: []LayerResult{
				layerOf(0, apkFile(pkg("musl", "1"))),
				{Layer: Layer{Index: 1}, OpaqueDirs: []string{"/lib/apk/db"}, Files: []FileResult{apkFile(pkg("musl", "2"))}},
			},
			want: map[string]int{"musl@2": 1},
		},
		{
			name: "deleted then re-added restarts origin",
			layers: []LayerResult{
				layerOf(0, apkFile(pkg("musl", "1"))),
				{Layer: Layer{Index: 1}, Whiteouts: []string{apkDB}},
				layerOf(2, apkFile(pkg("musl", "1"))),
			},
			want: map[string]int{"musl@1": 2},
		},
		{
			name: "whiteout of a sibling with a shared prefix does not hide",
			layers: []LayerResult{
				layerOf(0, apkFile(pkg("musl", "1"))),
				{Layer: Layer{Index: 1}, Whiteouts: []string{"/lib/apk/db/installed.bak", "/lib/ap"}},
			},
			want: map[string]int{"musl@1": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(Merge(tc.layers, MergeOptions{}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Merge() origin layers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeDistroAndOwners(t *testing.T) {
	layers := []LayerResult{
		layerOf(0,
			FileResult{Path: "/etc/os-release", Extractor: "os/release", Distro: &Distro{ID: "debian", VersionID: "11", Release: "11"}},
			FileResult{Path: "/var/lib/dpkg/status", Extractor: "os/dpkg", Packages: []Package{{Name: "python3-yaml", Version: "6.0-3", Ecosystem: EcoDpkg}}},
			FileResult{Path: "/var/lib/dpkg/info/python3-yaml.list", Extractor: "os/dpkg", Packages: []Package{{
				Name: "python3-yaml", Ecosystem: EcoDpkg, Metadata: map[string]string{"kind": "filelist"},
				Files: []string{"/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA"},
			}}},
		),
		layerOf(1,
			FileResult{Path: "/etc/os-release", Extractor: "os/release", Distro: &Distro{ID: "debian", VersionID: "12", Release: "12"}},
			FileResult{Path: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", Extractor: "lang/python", Packages: []Package{{
				Name: "pyyaml", Version: "6.0", Ecosystem: EcoPyPI,
				Locations: []Location{{Path: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA"}},
			}}},
		),
	}
	inv := Merge(layers, MergeOptions{})
	if inv.Distro == nil || inv.Distro.Release != "12" {
		t.Fatalf("Distro = %+v, want the top layer's release 12", inv.Distro)
	}
	if len(inv.Packages) != 2 {
		t.Fatalf("got %d packages, want 2 (the file list folds into its package): %+v", len(inv.Packages), inv.Packages)
	}
	var deb, py Package
	for _, p := range inv.Packages {
		if p.Ecosystem == EcoDpkg {
			deb = p
		} else {
			py = p
		}
	}
	if py.Owner == "" || py.Owner != deb.ID {
		t.Errorf("python package owner = %q, want the dpkg package %q", py.Owner, deb.ID)
	}
	if py.Layer.Index != 1 || deb.Layer.Index != 0 {
		t.Errorf("layers: python %d dpkg %d, want 1 and 0", py.Layer.Index, deb.Layer.Index)
	}
	again := Merge(layers, MergeOptions{})
	if diff := cmp.Diff(inv, again); diff != "" {
		t.Errorf("Merge is not deterministic (-first +second):\n%s", diff)
	}
}

func TestStableID(t *testing.T) {
	a := Package{Ecosystem: EcoAPK, Name: "ab", Version: "c", Locations: []Location{{Path: "/p"}}}
	b := Package{Ecosystem: EcoAPK, Name: "a", Version: "bc", Locations: []Location{{Path: "/p"}}}
	if StableID(&a) == StableID(&b) {
		t.Errorf("StableID(ab|c) == StableID(a|bc) == %s", StableID(&a))
	}
	if got := len(StableID(&a)); got != 16 {
		t.Errorf("len(StableID) = %d, want 16", got)
	}
	before := StableID(&a)
	a.Locations[0].LayerDiffID = "sha256:bb"
	if StableID(&a) != before {
		t.Error("StableID depends on the layer")
	}
}

// TestMergeDropsNamelessPackages: a package without a name (in the report
// it would be "pkg:npm/@0") never reaches the inventory; a warning names
// the file and the extractor.
func TestMergeDropsNamelessPackages(t *testing.T) {
	const lock = "/app/package-lock.json"
	inv := Merge([]LayerResult{layerOf(0,
		apkFile(pkg("musl", "1")),
		FileResult{Path: lock, Extractor: "lang/npm", Packages: []Package{
			{Name: "", Version: "0", Ecosystem: EcoNPM, PURL: "pkg:npm/@0"},
			{Name: "a", Version: "1", Ecosystem: EcoNPM},
			{Name: "", Version: "2", Ecosystem: EcoNPM},
		}},
	)}, MergeOptions{})
	var got []string
	for _, p := range inv.Packages {
		got = append(got, p.Ecosystem+"/"+p.Name+"@"+p.Version)
	}
	if diff := cmp.Diff([]string{"apk/musl@1", "npm/a@1"}, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	want := []Note{{Level: "warning", Path: lock, Layer: "sha256:l0", Extractor: "lang/npm", Message: "2 packages without a name left out"}}
	if diff := cmp.Diff(want, inv.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

// TestMergePlacesMalware: a known-bad file is reported whatever the upper
// layers did with it, with the layer that holds it and the one that
// deleted (whiteout, opaque directory) or replaced it.
func TestMergePlacesMalware(t *testing.T) {
	eicar := MalwareHit{Engine: "hash", Name: "EICAR-Test-File", Source: "builtin", SHA256: "275a", Size: 68}
	bad := MalwareHit{Engine: "hash", Name: "Mirai", Source: "malware-hashes/list.csv", SHA256: "abcd", Size: 9}
	file := func(p string, h ...MalwareHit) FileResult {
		return FileResult{Path: p, Extractor: "malware/files", Malware: h}
	}
	layers := []LayerResult{
		{Layer: Layer{Index: 0, DiffID: "sha256:0"}, Files: []FileResult{file("/tmp/eicar.com", eicar), file("/opt/x/bad", bad)},
			PathHashes: []uint64{PathHash("/tmp/eicar.com"), PathHash("/opt/x/bad"), PathHash("/usr/bin/kept")}},
		{Layer: Layer{Index: 1, DiffID: "sha256:1"}, Whiteouts: []string{"/tmp/eicar.com"}},
		{Layer: Layer{Index: 2, DiffID: "sha256:2"}, OpaqueDirs: []string{"/opt/x"}, Files: []FileResult{file("/usr/bin/kept", bad)},
			PathHashes: []uint64{PathHash("/usr/bin/kept")}},
	}
	inv := Merge(layers, MergeOptions{})
	type row struct {
		Path    string
		Name    string
		Layer   int
		Deleted int
	}
	var got []row
	for _, m := range inv.Malware {
		d := -1
		if m.DeletedInLayer != nil {
			d = *m.DeletedInLayer
		}
		got = append(got, row{m.Path, m.Name, m.Layer.Index, d})
	}
	want := []row{{"/tmp/eicar.com", "EICAR-Test-File", 0, 1}, {"/opt/x/bad", "Mirai", 0, 2}, {"/usr/bin/kept", "Mirai", 2, -1}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("malware (-want +got):\n%s", d)
	}
	if len(inv.Packages) != 0 || len(inv.Notes) != 0 {
		t.Errorf("malware hits made packages %v or notes %v", inv.Packages, inv.Notes)
	}
}
