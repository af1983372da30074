package apk

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/extract/purl"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const dbPath = "/lib/apk/db/installed"

var layer = extracttest.Layer{DiffID: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}

func extractData(data []byte) (inventory.Inventory, error) {
	return New().Extract(context.Background(), layer.Input(dbPath, data))
}

// withID fills the fields every package gets from Extract.
func withID(p inventory.Package) inventory.Package {
	p.Ecosystem = inventory.EcoAPK
	p.Locations = layer.Locations(dbPath)
	p.FoundBy = Name
	p.ID = purl.PackageID(&p)
	return p
}

// goldenPackage is a package as recorded in the golden file (Files is not
// serialised by inventory.Package).
type goldenPackage struct {
	inventory.Package
	Files []string `json:"files,omitempty"`
}

func TestGolden(t *testing.T) {
	inv := extracttest.Extract(t, New(), layer.Input(dbPath, extracttest.Testdata(t, "alpine-3.16.9-installed")))
	// Must-pass numbers from /work/shared/data/README.md.
	if got := len(inv.Packages); got != 14 {
		t.Errorf("got %d packages, want 14", got)
	}
	var got []goldenPackage
	for _, p := range inv.Packages {
		got = append(got, goldenPackage{p, p.Files})
	}
	extracttest.Golden(t, "testdata/alpine-3.16.9-installed.golden.json", got)
}

func TestKeyPackages(t *testing.T) {
	inv := extracttest.Extract(t, New(), layer.Input(dbPath, extracttest.Testdata(t, "alpine-3.16.9-installed")))
	byName := extracttest.ByName(inv.Packages)
	busyboxFiles := []string{
		"/bin/busybox", "/bin/sh", "/etc/logrotate.d/acpid", "/etc/network/if-up.d/dad",
		"/etc/securetty", "/etc/udhcpd.conf", "/usr/share/udhcpc/default.script",
	}
	want := []inventory.Package{
		withID(inventory.Package{
			Name: "busybox", Version: "1.35.0-r17", Arch: "x86_64",
			PURL:       "pkg:apk/alpine/busybox@1.35.0-r17?arch=x86_64",
			SourceName: "busybox", SourceVersion: "1.35.0-r17",
			Licenses: []string{"GPL-2.0-only"},
			Metadata: map[string]string{"maintainer": "Sören Tempel <soeren+alpine@soeren-tempel.net>"},
			Files:    busyboxFiles,
		}),
		withID(inventory.Package{
			Name: "ssl_client", Version: "1.35.0-r17", Arch: "x86_64",
			PURL:       "pkg:apk/alpine/ssl_client@1.35.0-r17?arch=x86_64",
			SourceName: "busybox", SourceVersion: "1.35.0-r17",
			Licenses: []string{"GPL-2.0-only"},
			Metadata: map[string]string{"maintainer": "Sören Tempel <soeren+alpine@soeren-tempel.net>"},
			Files:    []string{"/usr/bin/ssl_client"},
		}),
	}
	for _, w := range want {
		if diff := cmp.Diff(w, byName[w.Name]); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", w.Name, diff)
		}
	}
	// Spot checks from the data README and licence expressions kept whole.
	for name, ver := range map[string]string{"musl": "1.2.3-r3", "libcrypto1.1": "1.1.1w-r1", "libssl1.1": "1.1.1w-r1", "zlib": "1.2.12-r3", "apk-tools": "2.12.9-r3"} {
		if got := byName[name].Version; got != ver {
			t.Errorf("%s version = %q, want %q", name, got, ver)
		}
	}
	if diff := cmp.Diff([]string{"MPL-2.0 AND MIT"}, byName["ca-certificates-bundle"].Licenses); diff != "" {
		t.Errorf("ca-certificates-bundle licences (-want +got):\n%s", diff)
	}
	if got := byName["libcrypto1.1"].SourceName; got != "openssl" {
		t.Errorf("libcrypto1.1 SourceName = %q, want openssl", got)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		want      []inventory.Package
		wantErrs  []string // substrings of the error, in addition to the path
		wantNoErr bool
	}{
		{
			name: "no trailing newline, CRLF, R before any F",
			data: "P:a\r\nV:1-r0\r\nA:x86_64\r\nR:top\r\nF:usr/bin/\r\nR:x\r\n\r\nP:b\nV:2-r0",
			want: []inventory.Package{
				{Name: "a", Version: "1-r0", Arch: "x86_64", SourceName: "a", SourceVersion: "1-r0", PURL: "pkg:apk/alpine/a@1-r0?arch=x86_64", Files: []string{"/top", "/usr/bin/x"}},
				{Name: "b", Version: "2-r0", SourceName: "b", SourceVersion: "2-r0", PURL: "pkg:apk/alpine/b@2-r0"},
			},
			wantNoErr: true,
		},
		{
			name: "several blank lines between records, leading blank lines",
			data: "\n\nP:a\nV:1\n\n\n\nP:b\nV:2\n\n",
			want: []inventory.Package{
				{Name: "a", Version: "1", SourceName: "a", SourceVersion: "1", PURL: "pkg:apk/alpine/a@1"},
				{Name: "b", Version: "2", SourceName: "b", SourceVersion: "2", PURL: "pkg:apk/alpine/b@2"},
			},
			wantNoErr: true,
		},
		{
			name: "record without version is skipped",
			data: "P:good\nV:1\n\nC:xyz\nP:nover\nA:x86_64\n\nP:good2\nV:2\n",
			want: []inventory.Package{
				{Name: "good", Version: "1", SourceName: "good", SourceVersion: "1", PURL: "pkg:apk/alpine/good@1"},
				{Name: "good2", Version: "2", SourceName: "good2", SourceVersion: "2", PURL: "pkg:apk/alpine/good2@2"},
			},
			wantErrs: []string{`line 4: package "nover" without V: (version)`},
		},
		{
			name: "record without name is skipped",
			data: "V:1\no:x\n\nP:ok\nV:3\n",
			want: []inventory.Package{
				{Name: "ok", Version: "3", SourceName: "ok", SourceVersion: "3", PURL: "pkg:apk/alpine/ok@3"},
			},
			wantErrs: []string{`line 1: record without P: (name), version "1"`},
		},
		{
			name:     "garbage lines are reported, record kept",
			data:     "P:a\nthis is not a field\nV:1\n",
			want:     []inventory.Package{{Name: "a", Version: "1", SourceName: "a", SourceVersion: "1", PURL: "pkg:apk/alpine/a@1"}},
			wantErrs: []string{`line 2: not a "X:value" field`},
		},
		{
			name: "missing blank line between records",
			data: "P:a\nV:1\nP:b\nV:2\n",
			want: []inventory.Package{
				{Name: "a", Version: "1", SourceName: "a", SourceVersion: "1", PURL: "pkg:apk/alpine/a@1"},
				{Name: "b", Version: "2", SourceName: "b", SourceVersion: "2", PURL: "pkg:apk/alpine/b@2"},
			},
			wantErrs: []string{`line 3: P: "b" starts a new record`},
		},
		{
			name:     "only garbage",
			data:     "\x00\x01\x02\xff",
			wantErrs: []string{"line 1: not a"},
		},
		{
			name:      "empty file",
			data:      "",
			wantNoErr: true,
		},
		{
			name: "line too long",
			data: "P:a\nV:1\n\nP:b\nT:" + strings.Repeat("x", maxLine+10) + "\nV:2\n",
			want: []inventory.Package{
				{Name: "a", Version: "1", SourceName: "a", SourceVersion: "1", PURL: "pkg:apk/alpine/a@1"},
			},
			wantErrs: []string{"line 5: line longer than", `line 4: package "b" without V:`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := extractData([]byte(tt.data))
			var want []inventory.Package
			for _, p := range tt.want {
				want = append(want, withID(p))
			}
			if diff := cmp.Diff(want, inv.Packages); diff != "" {
				t.Errorf("packages mismatch (-want +got):\n%s", diff)
			}
			if tt.wantNoErr {
				if err != nil {
					t.Errorf("Extract error: %v", err)
				}
				return
			}
			extracttest.CheckFileError(t, err, dbPath, tt.wantErrs...)
		})
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := strings.Repeat("P:a\nV:1\n\n", 5000)
	_, err := Parse(ctx, strings.NewReader(data))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Parse error = %v, want context.Canceled", err)
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []extracttest.WantsCase{
		{Path: "/lib/apk/db/installed", Mode: 0o644, Size: 100, Want: true},
		{Path: "/usr/lib/apk/db/installed", Mode: 0o644, Size: 100, Want: true},
		{Path: "/lib/apk/db/installed", Mode: fs.ModeSymlink | 0o777, Size: 100, Want: false},
		{Path: "/lib/apk/db/scripts.tar", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/apk/db/installed", Mode: 0o644, Size: 100, Want: false},
		{Path: "/lib/apk/db/installed.bak", Mode: 0o644, Size: 100, Want: false},
	}
	extracttest.CheckWants(t, e, tests)
	if e.Name() != "os/apk" {
		t.Errorf("Name() = %q", e.Name())
	}
}

// FuzzParse checks the kit's invariants (errors name the file, packages
// have their location and absolute files, output is deterministic) and that
// every package is complete, with an ID.
func FuzzParse(f *testing.F) {
	f.Add(extracttest.Testdata(f, "alpine-3.16.9-installed")[:2000])
	f.Add([]byte("P:a\nV:1\nF:x\nR:y\n\nP:b\n"))
	f.Add([]byte("V:1\r\nP:a\r\nP:b"))
	extracttest.FuzzFile(f, New(), layer.Input(dbPath, nil), extracttest.Complete, extracttest.Identified)
}
