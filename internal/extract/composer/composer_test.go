package composer

// There is no Composer (nor Packagist access) on the machine that wrote these
// tests, so the files in testdata/ were written by hand from Composer's
// documented formats, with package entries trimmed from composer/composer's
// own composer.lock (MIT). See testdata/README.md.

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{Index: 4, DiffID: "sha256:0123456789abcdef"}

func pkg(name, version, p, purl string, declared bool, licenses []string, meta map[string]string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoPackagist,
		PURL:      purl,
		Licenses:  licenses,
		Locations: layer.Locations(p),
		Declared:  declared,
		FoundBy:   "lang/composer",
		Metadata:  meta,
	}
}

func TestWants(t *testing.T) {
	tests := []extracttest.WantsCase{
		{Path: "/var/www/html/vendor/composer/installed.json", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/var/www/html/composer.lock", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/app/composer.lock", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/app/vendor/acme/lib/composer.lock", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/vendor/composer/composer.lock", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/composer/installed.json", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/vendor/installed.json", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/vendor/composer/installed.php", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/composer.json", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/vendor-app/composer.lock", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/app/composer.lock", Mode: fs.ModeDir | 0o755, Size: 0, Want: false},
		{Path: "/app/composer.lock", Mode: fs.ModeSymlink | 0o777, Size: 10, Want: false},
		{Path: "/app/composer.lock", Mode: 0o644, Size: maxFileSize, Want: true},
		{Path: "/app/composer.lock", Mode: 0o644, Size: maxFileSize + 1, Want: false},
		{Path: "/app/composer.lock", Mode: 0o644, Size: -1, Want: false},
	}
	e := New()
	extracttest.CheckWants(t, e, tests)
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
			inv := extracttest.Extract(t, e, layer.Input(tt.path, extracttest.Testdata(t, tt.rel)))
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
			inv, err := e.Extract(context.Background(), layer.Input(tt.path, []byte(tt.data)))
			extracttest.CheckError(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, extracttest.NameVersions(inv.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
	// A name without a vendor still gets a valid PURL.
	inv, _ := e.Extract(context.Background(), layer.Input(lock, []byte(`{"packages": [{"name": "nodash", "version": "3"}]}`)))
	if len(inv.Packages) != 1 || inv.Packages[0].PURL != "pkg:composer/nodash@3" {
		t.Errorf("packages = %+v, want one with PURL pkg:composer/nodash@3", inv.Packages)
	}
}

func TestNotApplicable(t *testing.T) {
	_, err := New().Extract(context.Background(), layer.Input("/app/composer.json", []byte("{}")))
	if !errors.Is(err, extract.ErrNotApplicable) {
		t.Errorf("error = %v, want ErrNotApplicable", err)
	}
}

func FuzzInstalledJSON(f *testing.F) {
	f.Add(extracttest.Testdata(f, "app/vendor/composer/installed.json"))
	f.Add(extracttest.Testdata(f, "legacy/vendor/composer/installed.json"))
	extracttest.FuzzFile(f, New(), layer.Input("/app/vendor/composer/installed.json", nil), extracttest.Complete)
}

func FuzzComposerLock(f *testing.F) {
	f.Add(extracttest.Testdata(f, "app/composer.lock"))
	extracttest.FuzzFile(f, New(), layer.Input("/app/composer.lock", nil), extracttest.Complete)
}
