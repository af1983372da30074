package dotnet

import (
	"context"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// The test files are written from the format specifications (no .NET SDK
// here): testdata/WebApp.deps.json follows dotnet/sdk's
// documentation/specs/runtime-configuration-file.md, with libraries of every
// type; testdata/packages.lock.json follows NuGet's lock file format
// (version 1) with two target frameworks. See testdata/README.md.

var layer = extracttest.Layer{DiffID: "sha256:00000000000000000000000000000000000000000000000000000000000000dd"}

func nuget(path, name, version string, declared bool, md map[string]string) inventory.Package {
	return inventory.Package{
		Name: name, Version: version, Ecosystem: "NuGet", PURL: "pkg:nuget/" + name + "@" + version,
		Locations: layer.Locations(path), Declared: declared, FoundBy: extractorName, Metadata: md,
	}
}

func TestExtractDepsJSON(t *testing.T) {
	const p = "/app/WebApp.deps.json"
	got, err := New().Extract(context.Background(), layer.Input(p, extracttest.Testdata(t, "WebApp.deps.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Inventory{Packages: []inventory.Package{
		nuget(p, "Microsoft.Data.SqlClient", "2.1.3", false, nil),
		nuget(p, "Microsoft.Identity.Client", "4.21.1", false, nil),
		nuget(p, "Newtonsoft.Json", "12.0.3", false, nil),
		nuget(p, "Serilog", "2.10.0", false, nil),
		nuget(p, "Serilog.AspNetCore", "4.1.0", false, nil),
		nuget(p, "System.Text.Encodings.Web", "4.7.1", false, nil),
		nuget(p, "WebApp", "1.0.0", false, map[string]string{"main_module": "true", "type": "project"}),
		nuget(p, "WebApp.Data", "1.0.0", false, map[string]string{"type": "project"}),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
	extracttest.Golden(t, "testdata/WebApp.deps.json.golden.json", got)
}

func TestExtractPackagesLock(t *testing.T) {
	const p = "/src/WebApp/packages.lock.json"
	got, err := New().Extract(context.Background(), layer.Input(p, extracttest.Testdata(t, "packages.lock.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Inventory{Packages: []inventory.Package{
		nuget(p, "Newtonsoft.Json", "12.0.3", true, map[string]string{"dependency_type": "direct", "target_frameworks": "net6.0"}),
		nuget(p, "Newtonsoft.Json", "13.0.1", true, map[string]string{"dependency_type": "direct", "target_frameworks": "net7.0"}),
		nuget(p, "Serilog", "2.10.0", true, map[string]string{"dependency_type": "transitive", "target_frameworks": "net6.0,net7.0"}),
		nuget(p, "Serilog.AspNetCore", "4.1.0", true, map[string]string{"dependency_type": "direct", "target_frameworks": "net6.0,net7.0"}),
		nuget(p, "System.Text.Encodings.Web", "4.7.1", true, map[string]string{"dependency_type": "centraltransitive", "target_frameworks": "net6.0"}),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
}

func TestExtractSmall(t *testing.T) {
	tests := []struct {
		name, path, data string
		want             []inventory.Package
	}{
		{
			name: "deps.json without libraries",
			path: "/app/a.deps.json",
			data: `{"runtimeTarget":{"name":".NETCoreApp,Version=v8.0"},"targets":{}}`,
		},
		{
			name: "odd library keys are skipped",
			path: "/app/a.deps.json",
			data: `{"libraries":{"NoVersion":{"type":"package"},"/1.0":{"type":"package"},"A/":{"type":"package"},"Ok/1.0.0":{"type":"Package"}}}`,
			want: []inventory.Package{nuget("/app/a.deps.json", "Ok", "1.0.0", false, nil)},
		},
		{
			name: "lock: same package in two spellings is one package",
			path: "/src/packages.lock.json",
			data: `{"version":2,"dependencies":{"net8.0":{"newtonsoft.json":{"type":"Transitive","resolved":"13.0.3"}},"net6.0":{"Newtonsoft.Json":{"type":"Direct","resolved":"13.0.3"}}}}`,
			want: []inventory.Package{nuget("/src/packages.lock.json", "Newtonsoft.Json", "13.0.3", true,
				map[string]string{"dependency_type": "direct", "target_frameworks": "net6.0,net8.0"})},
		},
		{
			name: "lock: unresolved entries are skipped",
			path: "/src/packages.lock.json",
			data: `{"version":1,"dependencies":{"net6.0":{"A":{"type":"Direct","requested":"[1.0, )"}}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Extract(context.Background(), layer.Input(tt.path, []byte(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(inventory.Inventory{Packages: tt.want}, got); diff != "" {
				t.Errorf("Extract (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractBadInput(t *testing.T) {
	deps := extracttest.Testdata(t, "WebApp.deps.json")
	tests := []struct{ path, data string }{
		{"/app/x.deps.json", ""},
		{"/app/x.deps.json", "garbage"},
		{"/app/x.deps.json", string(deps[:len(deps)/2])},
		{"/app/x.deps.json", `{"libraries":[1,2]}`},
		{"/app/x.deps.json", `{"libraries":{"A/1":{"type":7}}}`},
		{"/src/packages.lock.json", `{"dependencies":{"net6.0":[]}}`},
		{"/src/packages.lock.json", "\xff\xfe"},
	}
	for _, tt := range tests {
		_, err := New().Extract(context.Background(), layer.Input(tt.path, []byte(tt.data)))
		if !extracttest.CheckFileError(t, err, tt.path) {
			t.Logf("input was %q: %.20q", tt.path, tt.data)
		}
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []extracttest.WantsCase{
		{Path: "/app/WebApp.deps.json", Mode: 0o644, Size: 1000, Want: true},
		{Path: "/app/.deps.json", Mode: 0o644, Size: 1000, Want: false},
		{Path: "/app/WebApp.runtimeconfig.json", Mode: 0o644, Size: 1000, Want: false},
		{Path: "/src/packages.lock.json", Mode: 0o644, Size: 1000, Want: true},
		{Path: "/src/package-lock.json", Mode: 0o644, Size: 1000, Want: false},
		{Path: "/src/packages.lock.json", Mode: 0o644, Size: MaxFileSize + 1, Want: false},
		{Path: "/src/packages.lock.json", Mode: 0o644, Size: 0, Want: false},
		{Path: "/src/packages.lock.json", Mode: fs.ModeDir | 0o755, Size: 10, Want: false},
	}
	extracttest.CheckWants(t, e, tests)
}

func FuzzExtractDeps(f *testing.F) {
	f.Add(extracttest.Testdata(f, "WebApp.deps.json"))
	f.Add([]byte(`{"libraries":{"A/1":{"type":"package"}}}`))
	extracttest.FuzzFile(f, New(), layer.Input("/app/Fuzz.deps.json", nil), extracttest.Complete)
}

func FuzzExtractLock(f *testing.F) {
	f.Add(extracttest.Testdata(f, "packages.lock.json"))
	extracttest.FuzzFile(f, New(), layer.Input("/src/packages.lock.json", nil), extracttest.Complete, extracttest.Declared)
}
