package composer

// There is no Composer (nor Packagist access) on the machine that wrote these
// tests, so the files in testdata/ were written by hand from Composer's
// documented formats, with package entries trimmed from composer/composer's
// own composer.lock (MIT). See testdata/README.md.

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const layerID = "sha256:0123456789abcdef"

func input(p string, data []byte) *extract.Input {
	return &extract.Input{Path: p, Mode: 0o644, File: extract.NewMemFile(data), Layer: inventory.Layer{Index: 4, DiffID: layerID}}
}

func readTestdata(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func pkg(name, version, p, purl string, declared bool, licenses []string, meta map[string]string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoPackagist,
		PURL:      purl,
		Licenses:  licenses,
		Locations: []inventory.Location{{Path: p, LayerDiffID: layerID}},
		Declared:  declared,
		FoundBy:   "lang/composer",
		Metadata:  meta,
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"/var/www/html/vendor/composer/installed.json", 0o644, 3000, true},
		{"/var/www/html/composer.lock", 0o644, 3000, true},
		{"/app/composer.lock", 0o644, 3000, true},
		{"/app/vendor/acme/lib/composer.lock", 0o644, 3000, false},
		{"/app/vendor/composer/composer.lock", 0o644, 3000, false},
		{"/app/composer/installed.json", 0o644, 3000, false},
		{"/app/vendor/installed.json", 0o644, 3000, false},
		{"/app/vendor/composer/installed.php", 0o644, 3000, false},
		{"/app/composer.json", 0o644, 3000, false},
		{"/app/vendor-app/composer.lock", 0o644, 3000, true},
		{"/app/composer.lock", fs.ModeDir | 0o755, 0, false},
		{"/app/composer.lock", fs.ModeSymlink | 0o777, 10, false},
		{"/app/composer.lock", 0o644, maxFileSize, true},
		{"/app/composer.lock", 0o644, maxFileSize + 1, false},
		{"/app/composer.lock", 0o644, -1, false},
	}
	e := New()
	for _, tt := range tests {
		if got := e.Wants(tt.path, tt.mode, tt.size); got != tt.want {
			t.Errorf("Wants(%q, %v, %d) = %v, want %v", tt.path, tt.mode, tt.size, got, tt.want)
		}
	}
}

func TestExtract(t *testing.T) {
	mit := []string{"MIT"}
	dev := map[string]string{"dev": "true"}
	const (
		lock   = "/var/www/app/composer.lock"
		inst   = "/var/www/app/vendor/composer/installed.json"
		legacy = "/srv/legacy/vendor/composer/installed.json"
	)
	tests := []struct {
		rel, path string
		want      []inventory.Package
	}{
		{
			rel:  "app/composer.lock",
			path: lock,
			want: []inventory.Package{
				pkg("acme/internal-tool", "dev-main", lock, "pkg:composer/acme/internal-tool@dev-main", true, []string{"proprietary"}, nil),
				pkg("composer/semver", "1.4.2", lock, "pkg:composer/composer/semver@1.4.2", true, mit, nil),
				pkg("phpunit/phpunit", "7.5.20", lock, "pkg:composer/phpunit/phpunit@7.5.20", true, []string{"BSD-3-Clause"}, dev),
				pkg("psr/log", "1.1.0", lock, "pkg:composer/psr/log@1.1.0", true, mit, nil),
				pkg("symfony/console", "v2.8.48", lock, "pkg:composer/symfony/console@v2.8.48", true, mit, nil),
				pkg("symfony/polyfill-mbstring", "v1.10.0", lock, "pkg:composer/symfony/polyfill-mbstring@v1.10.0", true, mit, nil),
			},
		},
		{
			// Composer 2: {"packages": […], "dev-package-names": […]}.
			rel:  "app/vendor/composer/installed.json",
			path: inst,
			want: []inventory.Package{
				pkg("composer/semver", "1.4.2", inst, "pkg:composer/composer/semver@1.4.2", false, mit, map[string]string{"normalized": "1.4.2.0"}),
				pkg("phpunit/phpunit", "7.5.20", inst, "pkg:composer/phpunit/phpunit@7.5.20", false, []string{"BSD-3-Clause"}, map[string]string{"normalized": "7.5.20.0", "dev": "true"}),
				pkg("symfony/console", "v2.8.48", inst, "pkg:composer/symfony/console@v2.8.48", false, mit, map[string]string{"normalized": "2.8.48.0"}),
			},
		},
		{
			// Composer 1: a bare array; a licence given as a string.
			rel:  "legacy/vendor/composer/installed.json",
			path: legacy,
			want: []inventory.Package{
				pkg("monolog/monolog", "1.25.1", legacy, "pkg:composer/monolog/monolog@1.25.1", false, mit, map[string]string{"normalized": "1.25.1.0"}),
				pkg("psr/log", "1.1.0", legacy, "pkg:composer/psr/log@1.1.0", false, mit, map[string]string{"normalized": "1.1.0.0"}),
			},
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			data := readTestdata(t, tt.rel)
			if !e.Wants(tt.path, 0o644, int64(len(data))) {
				t.Fatalf("Wants(%q) = false", tt.path)
			}
			inv, err := e.Extract(context.Background(), input(tt.path, data))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractErrors(t *testing.T) {
	const (
		lock = "/app/composer.lock"
		inst = "/app/vendor/composer/installed.json"
	)
	tests := []struct {
		name    string
		path    string
		data    string
		want    []string // name@version
		wantErr string
	}{
		{name: "lock not json", path: lock, data: "packages:\n", wantErr: `parsing composer.lock "/app/composer.lock": invalid character 'p' looking for beginning of value`},
		{name: "lock truncated", path: lock, data: `{"packages": [{"name": "a/b", "version": "1.0.0"}`, wantErr: `parsing composer.lock "/app/composer.lock": unexpected end of JSON input`},
		{name: "installed not json", path: inst, data: "", wantErr: `parsing installed.json "/app/vendor/composer/installed.json": unexpected end of JSON input`},
		{name: "installed truncated v1", path: inst, data: `[{"name": "a/b"`, wantErr: `parsing installed.json "/app/vendor/composer/installed.json": unexpected end of JSON input`},
		{
			name:    "missing fields keep the rest",
			path:    lock,
			data:    `{"packages": [{"name": "a/b", "version": "1.0.0"}, {"name": "c/d"}, {"version": "2.0"}], "packages-dev": [{"name": "nodash", "version": "3"}]}`,
			want:    []string{"a/b@1.0.0", "nodash@3"},
			wantErr: `parsing composer.lock "/app/composer.lock": 2 packages without a name or version skipped`,
		},
		{
			name: "type error keeps the rest",
			path: inst,
			data: `{"packages": [{"name": "a/b", "version": "1.0.0"}, {"name": "c/d", "version": 2}]}`,
			want: []string{"a/b@1.0.0"},
			wantErr: `parsing installed.json "/app/vendor/composer/installed.json": json: cannot unmarshal number into Go struct field composerPackage.packages.version of type string` +
				"\n1 package without a name or version skipped",
		},
		{name: "BOM and empty", path: inst, data: "\ufeff{\"packages\": []}"},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := e.Extract(context.Background(), input(tt.path, []byte(tt.data)))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("error = %q, want %q", got, tt.wantErr)
			}
			var nv []string
			for _, p := range inv.Packages {
				nv = append(nv, p.Name+"@"+p.Version)
			}
			if diff := cmp.Diff(tt.want, nv); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
	// A name without a vendor still gets a valid PURL.
	inv, _ := e.Extract(context.Background(), input(lock, []byte(`{"packages": [{"name": "nodash", "version": "3"}]}`)))
	if len(inv.Packages) != 1 || inv.Packages[0].PURL != "pkg:composer/nodash@3" {
		t.Errorf("packages = %+v, want one with PURL pkg:composer/nodash@3", inv.Packages)
	}
}

func TestNotApplicable(t *testing.T) {
	_, err := New().Extract(context.Background(), input("/app/composer.json", []byte("{}")))
	if !errors.Is(err, extract.ErrNotApplicable) {
		t.Errorf("error = %v, want ErrNotApplicable", err)
	}
}

func fuzzExtract(f *testing.F, p string, seeds ...string) {
	for _, s := range seeds {
		f.Add(readTestdata(f, s))
	}
	e := New()
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := e.Extract(context.Background(), input(p, data))
		if err != nil && !strings.Contains(err.Error(), `"`+p+`"`) {
			t.Errorf("error %q does not name the file", err)
		}
		for _, pk := range inv.Packages {
			if pk.Name == "" || pk.Version == "" || pk.PURL == "" {
				t.Errorf("incomplete package %+v", pk)
			}
		}
	})
}

func FuzzInstalledJSON(f *testing.F) {
	fuzzExtract(f, "/app/vendor/composer/installed.json", "app/vendor/composer/installed.json", "legacy/vendor/composer/installed.json")
}

func FuzzComposerLock(f *testing.F) {
	fuzzExtract(f, "/app/composer.lock", "app/composer.lock")
}
