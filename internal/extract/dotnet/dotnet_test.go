package dotnet

import (
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// The test files are written from the format specifications (no .NET SDK
// here): testdata/WebApp.deps.json follows dotnet/sdk's
// documentation/specs/runtime-configuration-file.md, with libraries of every
// type; testdata/packages.lock.json follows NuGet's lock file format
// (version 1) with two target frameworks. See testdata/README.md.

var update = flag.Bool("update", false, "rewrite golden files")

const testLayer = "sha256:00000000000000000000000000000000000000000000000000000000000000dd"

func input(path string, b []byte) *extract.Input {
	return &extract.Input{Path: path, Mode: 0o644, File: extract.NewMemFile(b), Layer: inventory.Layer{DiffID: testLayer}}
}

func nuget(path, name, version string, declared bool, md map[string]string) inventory.Package {
	return inventory.Package{
		Name: name, Version: version, Ecosystem: "NuGet", PURL: "pkg:nuget/" + name + "@" + version,
		Locations: []inventory.Location{{Path: path, LayerDiffID: testLayer}}, Declared: declared, FoundBy: extractorName, Metadata: md,
	}
}

func TestExtractDepsJSON(t *testing.T) {
	const p = "/app/WebApp.deps.json"
	b, err := os.ReadFile("testdata/WebApp.deps.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := New().Extract(context.Background(), input(p, b))
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
	checkGolden(t, "testdata/WebApp.deps.json.golden.json", got)
}

func TestExtractPackagesLock(t *testing.T) {
	const p = "/src/WebApp/packages.lock.json"
	b, err := os.ReadFile("testdata/packages.lock.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := New().Extract(context.Background(), input(p, b))
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
			got, err := New().Extract(context.Background(), input(tt.path, []byte(tt.data)))
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
	deps, err := os.ReadFile("testdata/WebApp.deps.json")
	if err != nil {
		t.Fatal(err)
	}
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
		_, err := New().Extract(context.Background(), input(tt.path, []byte(tt.data)))
		if err == nil || !strings.Contains(err.Error(), `"`+tt.path+`"`) {
			t.Errorf("Extract(%q, %.20q) error = %v, want one naming the file", tt.path, tt.data, err)
		}
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"/app/WebApp.deps.json", 0o644, 1000, true},
		{"/app/.deps.json", 0o644, 1000, false},
		{"/app/WebApp.runtimeconfig.json", 0o644, 1000, false},
		{"/src/packages.lock.json", 0o644, 1000, true},
		{"/src/package-lock.json", 0o644, 1000, false},
		{"/src/packages.lock.json", 0o644, MaxFileSize + 1, false},
		{"/src/packages.lock.json", 0o644, 0, false},
		{"/src/packages.lock.json", fs.ModeDir | 0o755, 10, false},
	}
	for _, tt := range tests {
		if got := e.Wants(tt.path, tt.mode, tt.size); got != tt.want {
			t.Errorf("Wants(%q, %v, %d) = %v, want %v", tt.path, tt.mode, tt.size, got, tt.want)
		}
	}
}

func checkGolden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func FuzzExtractDeps(f *testing.F) {
	if b, err := os.ReadFile("testdata/WebApp.deps.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"libraries":{"A/1":{"type":"package"}}}`))
	e := New()
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := e.Extract(context.Background(), input("/app/Fuzz.deps.json", b))
		if err != nil && !strings.Contains(err.Error(), `"/app/Fuzz.deps.json"`) {
			t.Errorf("error does not name the file: %v", err)
		}
		for _, p := range inv.Packages {
			if p.Name == "" || p.Version == "" {
				t.Errorf("empty name or version: %+v", p)
			}
		}
	})
}

func FuzzExtractLock(f *testing.F) {
	if b, err := os.ReadFile("testdata/packages.lock.json"); err == nil {
		f.Add(b)
	}
	e := New()
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := e.Extract(context.Background(), input("/src/packages.lock.json", b))
		if err != nil && !strings.Contains(err.Error(), `"/src/packages.lock.json"`) {
			t.Errorf("error does not name the file: %v", err)
		}
		for _, p := range inv.Packages {
			if !p.Declared || p.Version == "" {
				t.Errorf("bad lock package: %+v", p)
			}
		}
	})
}
