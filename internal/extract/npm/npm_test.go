package npm

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

const layerID = "sha256:0123456789abcdef"

func input(p string, data []byte) *extract.Input {
	return &extract.Input{Path: p, Mode: 0o644, File: extract.NewMemFile(data), Layer: inventory.Layer{Index: 2, DiffID: layerID}}
}

func readTestdata(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// extractTestdata runs the extractor on testdata/rel as if it were at p.
func extractTestdata(t *testing.T, rel, p string) inventory.Inventory {
	t.Helper()
	data := readTestdata(t, rel)
	e := New()
	if !e.Wants(p, 0o644, int64(len(data))) {
		t.Fatalf("Wants(%q) = false", p)
	}
	inv, err := e.Extract(context.Background(), input(p, data))
	if err != nil {
		t.Fatalf("Extract(%q): %v", p, err)
	}
	return inv
}

func checkGolden(t *testing.T, name string, got []inventory.Package) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", name+".json")
	if *update {
		data, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	var want []inventory.Package
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"/app/package.json", 0o644, 300, true},
		{"/app/node_modules/lodash/package.json", 0o644, 300, true},
		{"/app/node_modules/@types/ms/package.json", 0o644, 300, true},
		{"/app/node_modules/debug/node_modules/ms/package.json", 0o644, 300, true},
		{"/app/node_modules/.pnpm/lodash@4.17.15/node_modules/lodash/package.json", 0o644, 300, true},
		{"/usr/lib/node_modules/npm/package.json", 0o644, 300, true},
		// Not package roots.
		{"/app/node_modules/glob/dist/esm/package.json", 0o644, 23, false},
		{"/app/node_modules/@types/package.json", 0o644, 23, false},
		{"/app/node_modules/package.json", 0o644, 23, false},
		{"/app/node_modules/.cache/package.json", 0o644, 23, false},
		{"/app/node_modules/@types/ms/lib/package.json", 0o644, 23, false},
		{"/app/node_modules/@/x/package.json", 0o644, 23, false},
		// A directory merely named like node_modules is not one.
		{"/app/my_node_modules/a/b/package.json", 0o644, 23, true},
		// Lockfiles, but not those shipped inside installed packages.
		{"/app/package-lock.json", 0o644, 3000, true},
		{"/app/npm-shrinkwrap.json", 0o644, 3000, true},
		{"/app/yarn.lock", 0o644, 3000, true},
		{"/app/pnpm-lock.yaml", 0o644, 3000, true},
		{"/app/node_modules/.package-lock.json", 0o644, 3000, false},
		{"/app/node_modules/foo/package-lock.json", 0o644, 3000, false},
		{"/app/node_modules/foo/yarn.lock", 0o644, 3000, false},
		{"/app/node_modules/foo/pnpm-lock.yaml", 0o644, 3000, false},
		{"/app/package.json5", 0o644, 30, false},
		{"/app/bun.lockb", 0o644, 30, false},
		// Mode and size.
		{"/app/package.json", fs.ModeDir | 0o755, 0, false},
		{"/app/package.json", fs.ModeSymlink | 0o777, 10, false},
		{"/app/package.json", 0o644, maxManifestSize, true},
		{"/app/package.json", 0o644, maxManifestSize + 1, false},
		{"/app/package-lock.json", 0o644, maxLockfileSize, true},
		{"/app/package-lock.json", 0o644, maxLockfileSize + 1, false},
		{"/app/yarn.lock", 0o644, -1, false},
	}
	e := New()
	for _, tt := range tests {
		if got := e.Wants(tt.path, tt.mode, tt.size); got != tt.want {
			t.Errorf("Wants(%q, %v, %d) = %v, want %v", tt.path, tt.mode, tt.size, got, tt.want)
		}
	}
}

func installed(name, version, p string, licenses []string, meta map[string]string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoNPM,
		PURL:      purl(name, version),
		Licenses:  licenses,
		Locations: []inventory.Location{{Path: p, LayerDiffID: layerID}},
		FoundBy:   "lang/npm",
		Metadata:  meta,
	}
}

// TestInstalled reads package.json files installed by npm from the registry.
func TestInstalled(t *testing.T) {
	mit := []string{"MIT"}
	tests := []struct {
		rel  string // under testdata/installed, also the path in the image under /
		want []inventory.Package
	}{
		{"app/package.json", []inventory.Package{installed("drydock-fixture-small", "0.1.0", "/app/package.json", mit, map[string]string{"root": "true"})}},
		{"app/node_modules/lodash/package.json", []inventory.Package{installed("lodash", "4.17.15", "/app/node_modules/lodash/package.json", mit, nil)}},
		{"app/node_modules/minimist/package.json", []inventory.Package{installed("minimist", "1.2.0", "/app/node_modules/minimist/package.json", mit, nil)}},
		{"app/node_modules/handlebars/node_modules/minimist/package.json", []inventory.Package{installed("minimist", "1.2.8", "/app/node_modules/handlebars/node_modules/minimist/package.json", mit, nil)}},
		{"app/node_modules/debug/node_modules/ms/package.json", []inventory.Package{installed("ms", "2.0.0", "/app/node_modules/debug/node_modules/ms/package.json", mit, nil)}},
		{"app/node_modules/@types/ms/package.json", []inventory.Package{installed("@types/ms", "0.7.31", "/app/node_modules/@types/ms/package.json", mit, nil)}},
		// "license": {"type": "MIT", "url": …}
		{"app/node_modules/config-chain/package.json", []inventory.Package{installed("config-chain", "1.1.13", "/app/node_modules/config-chain/package.json", mit, nil)}},
		// "licenses": [{"type": "MIT", "url": …}]
		{"app/node_modules/deep-extend/package.json", []inventory.Package{installed("deep-extend", "0.6.0", "/app/node_modules/deep-extend/package.json", mit, nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			inv := extractTestdata(t, "installed/"+tt.rel, "/"+tt.rel)
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
	if got := installed("@types/ms", "0.7.31", "", nil, nil).PURL; got != "pkg:npm/%40types/ms@0.7.31" {
		t.Errorf("scoped purl = %q", got)
	}
}

func TestManifest(t *testing.T) {
	const root = "/srv/app/package.json"
	const dep = "/srv/app/node_modules/x/package.json"
	tests := []struct {
		name    string
		path    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "no version", path: dep, data: `{"name":"x"}`},
		{name: "no name", path: root, data: `{"version":"1.0.0","private":true}`},
		{name: "type marker", path: dep, data: `{"type":"module"}`},
		{
			name: "licence forms",
			path: dep,
			data: `{"name":"x","version":"1.0.0","license":["MIT",{"type":"ISC"},[1],3,""]}`,
			want: []inventory.Package{installed("x", "1.0.0", dep, []string{"MIT", "ISC"}, nil)},
		},
		{
			name: "licenses string list",
			path: dep,
			data: `{"name":"x","version":"1.0.0","license":null,"licenses":["BSD-3-Clause","Apache-2.0"]}`,
			want: []inventory.Package{installed("x", "1.0.0", dep, []string{"BSD-3-Clause", "Apache-2.0"}, nil)},
		},
		{
			name: "odd licence kept out, package kept",
			path: dep,
			data: `{"name":"x","version":"1.0.0","license":42}`,
			want: []inventory.Package{installed("x", "1.0.0", dep, nil, nil)},
		},
		{
			name: "scoped root",
			path: root,
			data: `{"name":"@acme/app","version":"2.0.0-rc.1"}`,
			want: []inventory.Package{installed("@acme/app", "2.0.0-rc.1", root, nil, map[string]string{"root": "true"})}},
		{name: "not json", path: dep, data: `name: x`, wantErr: `parsing package.json "` + dep + `": invalid character 'a' in literal null (expecting 'u')`},
		{name: "truncated", path: dep, data: `{"name":"x","vers`, wantErr: `parsing package.json "` + dep + `": unexpected end of JSON input`},
		{name: "array", path: dep, data: `[]`, wantErr: `parsing package.json "` + dep + `": json: cannot unmarshal array into Go value of type npm.manifest`},
		{name: "numeric version", path: dep, data: `{"name":"x","version":1}`, wantErr: `parsing package.json "` + dep + `": json: cannot unmarshal number into Go struct field manifest.version of type string`},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := e.Extract(context.Background(), input(tt.path, []byte(tt.data)))
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	got := ""
	if err != nil {
		got = err.Error()
	}
	if got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

// nameVersions lists name@version[ dev] of packages, for compact comparison.
func nameVersions(pkgs []inventory.Package) []string {
	var out []string
	for _, p := range pkgs {
		s := p.Name + "@" + p.Version
		if p.Metadata["dev"] == "true" {
			s += " dev"
		}
		if !p.Declared {
			s += " NOT-DECLARED"
		}
		out = append(out, s)
	}
	return out
}

// TestLockfiles reads lockfiles that npm 6 (v1), npm 11 (v2, v3), Yarn
// 1.22 and 4.18, and pnpm 7 (5.4), 8 (6.0) and 9 (9.0) wrote for the same
// package.json (testdata/lock/package.json): the same six packages must come
// out of each, with ms 2.1.3 a devDependency where the format says so.
func TestLockfiles(t *testing.T) {
	withDev := []string{"@types/ms@0.7.31", "debug@2.6.9", "lodash@4.17.15", "minimist@1.2.0", "ms@2.0.0", "ms@2.1.3 dev"}
	noDev := []string{"@types/ms@0.7.31", "debug@2.6.9", "lodash@4.17.15", "minimist@1.2.0", "ms@2.0.0", "ms@2.1.3"}
	tests := []struct {
		dir, file string
		want      []string
	}{
		{"npm-v1", "package-lock.json", withDev},
		{"npm-v2", "package-lock.json", withDev},
		{"npm-v3", "package-lock.json", withDev},
		{"yarn-v1", "yarn.lock", noDev},
		{"yarn-berry", "yarn.lock", noDev},
		{"pnpm-v5.4", "pnpm-lock.yaml", withDev},
		{"pnpm-v6.0", "pnpm-lock.yaml", withDev},
		{"pnpm-v9.0", "pnpm-lock.yaml", withDev},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			inv := extractTestdata(t, "lock/"+tt.dir+"/"+tt.file, "/srv/"+tt.dir+"/"+tt.file)
			if diff := cmp.Diff(tt.want, nameVersions(inv.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			checkGolden(t, "lock-"+tt.dir, inv.Packages)
		})
	}
}

// TestSharedLockfile reads the 91-entry lockfileVersion 3 fixture from
// /work/shared/data/lockfiles/npm (copied to testdata/shared).
func TestSharedLockfile(t *testing.T) {
	inv := extractTestdata(t, "shared/package-lock.json", "/app/package-lock.json")
	// 91 entries besides the root; qs 6.7.0 is installed twice (under
	// body-parser and under express) and is reported once.
	if got, want := len(inv.Packages), 90; got != want {
		t.Errorf("got %d packages, want %d", got, want)
	}
	for _, want := range []string{"lodash@4.17.15", "minimist@1.2.0"} {
		found := false
		for _, p := range inv.Packages {
			if p.Name+"@"+p.Version == want && p.Declared {
				found = true
			}
		}
		if !found {
			t.Errorf("%s not among the declared packages", want)
		}
	}
	checkGolden(t, "shared-package-lock", inv.Packages)
}

func TestLockfileErrors(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		data    string
		want    []string
		wantErr string
	}{
		{
			name:    "package-lock not json",
			path:    "/a/package-lock.json",
			data:    "lockfileVersion: 3",
			wantErr: `parsing lockfile "/a/package-lock.json": invalid character 'l' looking for beginning of value`,
		},
		{
			name:    "package-lock truncated",
			path:    "/a/package-lock.json",
			data:    `{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0"}`,
			wantErr: `parsing lockfile "/a/package-lock.json": unexpected end of JSON input`,
		},
		{
			name: "package-lock v3 missing version, link, workspace, alias, optional",
			path: "/a/package-lock.json",
			data: `{"lockfileVersion": 3, "packages": {
				"": {"name": "root", "version": "1.0.0"},
				"node_modules/a": {"version": "1.0.0"},
				"node_modules/b": {"resolved": "x"},
				"node_modules/ws-a": {"resolved": "packages/ws-a", "link": true},
				"packages/ws-a": {"name": "ws-a", "version": "0.1.0"},
				"packages/ws-b": {},
				"node_modules/alias": {"name": "real", "version": "2.0.0"},
				"node_modules/fsevents": {"version": "2.3.2", "optional": true},
				"node_modules/a/node_modules/c": {"version": "3.0.0", "dev": true},
				"node_modules/d/node_modules/c": {"version": "3.0.0"}
			}}`,
			want:    []string{"a@1.0.0", "c@3.0.0", "fsevents@2.3.2", "real@2.0.0", "ws-a@0.1.0"},
			wantErr: `parsing lockfile "/a/package-lock.json": 1 entry without a version skipped`,
		},
		{
			name: "package-lock type error keeps the rest",
			path: "/a/package-lock.json",
			data: `{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0"}, "node_modules/b": {"version": 2}}}`,
			want: []string{"a@1.0.0"},
			wantErr: `parsing lockfile "/a/package-lock.json": json: cannot unmarshal number into Go struct field lockPackage.packages.version of type string` +
				"\n1 entry without a version skipped",
		},
		{
			name: "package-lock v1 alias and file",
			path: "/a/package-lock.json",
			data: `{"lockfileVersion": 1, "dependencies": {
				"sw": {"version": "npm:string-width@4.2.3"},
				"local": {"version": "file:../local"},
				"git": {"version": "github:user/repo#abc"},
				"bad": {"dependencies": {"x": {"version": "1.0.0", "dev": true}}}
			}}`,
			want:    []string{"git@github:user/repo#abc", "string-width@4.2.3", "x@1.0.0 dev"},
			wantErr: `parsing lockfile "/a/package-lock.json": 1 entry without a version skipped`,
		},
		{
			name: "yarn v1 malformed entries keep the rest",
			path: "/a/yarn.lock",
			data: "# yarn lockfile v1\n\na@^1.0.0:\n  version \"1.0.0\"\n\nb@^2:\n  resolved \"x\"\n\ngarbage line\n\n" +
				"\"string-width-cjs@npm:string-width@^4.2.0\":\n  version \"4.2.3\"\n  dependencies:\n    version \"9.9.9\"\n\n" +
				"local@file:../local:\n  version \"0.0.1\"\n\n\"@s/c@^1\", \"@s/c@^1.1\":\n  version \"1.1.0\"\n",
			want:    []string{"@s/c@1.1.0", "a@1.0.0", "string-width@4.2.3"},
			wantErr: `parsing lockfile "/a/yarn.lock": line 6: entry "b" has no version; line 9: unexpected "garbage line"`,
		},
		{
			name:    "yarn v1 nothing",
			path:    "/a/yarn.lock",
			data:    "# yarn lockfile v1\n",
			wantErr: ``,
		},
		{
			name: "yarn berry skips workspace and patch",
			path: "/a/yarn.lock",
			data: "__metadata:\n  version: 8\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n\n" +
				"\"resolve@patch:resolve@npm%3A^1.22.1#~builtin<compat/resolve>\":\n  version: 1.22.1\n  resolution: \"resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=c3c19d\"\n\n" +
				"\"resolve@npm:^1.22.1\":\n  version: 1.22.1\n  resolution: \"resolve@npm:1.22.1\"\n\n" +
				"\"sw-cjs@npm:string-width@^4.2.0, string-width@npm:^4.2.0\":\n  version: 4.2.3\n  resolution: \"string-width@npm:4.2.3\"\n\n" +
				"\"nover@npm:1\":\n  resolution: \"nover@npm:1.0.0\"\n",
			want:    []string{"resolve@1.22.1", "string-width@4.2.3"},
			wantErr: `parsing lockfile "/a/yarn.lock": entry "nover@npm:1" has no version`,
		},
		{
			name:    "yarn berry not yaml",
			path:    "/a/yarn.lock",
			data:    "__metadata:\n  version: 8\n\"a@npm:1\": [\n",
			wantErr: `parsing lockfile "/a/yarn.lock": yaml: line 3: did not find expected node content`,
		},
		{
			name:    "pnpm not yaml",
			path:    "/a/pnpm-lock.yaml",
			data:    "lockfileVersion: '9.0'\npackages: [\n",
			wantErr: `parsing lockfile "/a/pnpm-lock.yaml": yaml: line 2: did not find expected node content`,
		},
		{
			name:    "pnpm no version",
			path:    "/a/pnpm-lock.yaml",
			data:    "packages:\n  a@1.0.0: {}\n",
			wantErr: `parsing lockfile "/a/pnpm-lock.yaml": no lockfileVersion`,
		},
		{
			name: "pnpm v6 peers, tarball, registry prefix",
			path: "/a/pnpm-lock.yaml",
			data: "lockfileVersion: '6.0'\npackages:\n  /react-dom@18.2.0(react@18.2.0):\n    dev: false\n" +
				"  '@registry.example.com/foo/-/foo-1.0.0.tgz':\n    name: foo\n    version: 1.0.0\n" +
				"  github.com/user/repo/abc123:\n    dev: true\n" +
				"  /@babel/core@7.22.0:\n    dev: true\n  /local@file:../local:\n    dev: false\n",
			want:    []string{"@babel/core@7.22.0 dev", "foo@1.0.0", "react-dom@18.2.0"},
			wantErr: `parsing lockfile "/a/pnpm-lock.yaml": package "github.com/user/repo/abc123" has no version`,
		},
		{
			name: "pnpm v5 peers and registry host",
			path: "/a/pnpm-lock.yaml",
			data: "lockfileVersion: 5.3\npackages:\n  /react-dom/18.2.0_react@18.2.0:\n    dev: false\n" +
				"  registry.example.com/@acme/x/1.2.3:\n    dev: true\n",
			want: []string{"@acme/x@1.2.3 dev", "react-dom@18.2.0"},
		},
		{
			name: "pnpm v9 dev through snapshots, alias",
			path: "/a/pnpm-lock.yaml",
			data: "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1\n        version: 1.0.0(p@1.0.0)\n" +
				"      sw:\n        specifier: npm:string-width@^4\n        version: string-width@4.2.3\n" +
				"    devDependencies:\n      t:\n        specifier: ^2\n        version: 2.0.0\n" +
				"packages:\n  a@1.0.0: {}\n  b@1.0.0: {}\n  c@1.0.0: {}\n  p@1.0.0: {}\n  string-width@4.2.3: {}\n  t@2.0.0: {}\n" +
				"snapshots:\n  a@1.0.0(p@1.0.0):\n    dependencies:\n      b: 1.0.0\n  b@1.0.0: {}\n  c@1.0.0: {}\n  p@1.0.0: {}\n  string-width@4.2.3: {}\n" +
				"  t@2.0.0:\n    dependencies:\n      b: 1.0.0\n      c: 1.0.0\n",
			want: []string{"a@1.0.0", "b@1.0.0", "c@1.0.0 dev", "p@1.0.0", "string-width@4.2.3", "t@2.0.0 dev"},
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := e.Extract(context.Background(), input(tt.path, []byte(tt.data)))
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, nameVersions(inv.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotApplicable(t *testing.T) {
	_, err := New().Extract(context.Background(), input("/app/node_modules/a/lib/package.json", []byte(`{}`)))
	if !errors.Is(err, extract.ErrNotApplicable) {
		t.Errorf("error = %v, want ErrNotApplicable", err)
	}
}

func TestSplitNameVersion(t *testing.T) {
	tests := []struct {
		in, name, version string
		ok                bool
	}{
		{"lodash@4.17.15", "lodash", "4.17.15", true},
		{"@types/ms@0.7.31", "@types/ms", "0.7.31", true},
		{"foo@https://x/y@z.tgz", "foo", "https://x/y@z.tgz", true},
		{"@types/ms", "@types/ms", "", false},
		{"a", "a", "", false},
		{"@", "@", "", false},
		{"@@1", "@", "1", true},
		{"", "", "", false},
	}
	for _, tt := range tests {
		n, v, ok := splitNameVersion(tt.in)
		if n != tt.name || v != tt.version || ok != tt.ok {
			t.Errorf("splitNameVersion(%q) = %q, %q, %v; want %q, %q, %v", tt.in, n, v, ok, tt.name, tt.version, tt.ok)
		}
	}
}

// fuzzExtract runs the extractor on arbitrary bytes at path p and checks the
// invariants: errors name the file, packages are complete.
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

func FuzzPackageJSON(f *testing.F) {
	fuzzExtract(f, "/app/node_modules/x/package.json",
		"installed/app/node_modules/config-chain/package.json", "installed/app/node_modules/deep-extend/package.json")
}

func FuzzPackageLock(f *testing.F) {
	fuzzExtract(f, "/app/package-lock.json", "lock/npm-v1/package-lock.json", "lock/npm-v3/package-lock.json")
}

func FuzzYarnLock(f *testing.F) {
	fuzzExtract(f, "/app/yarn.lock", "lock/yarn-v1/yarn.lock", "lock/yarn-berry/yarn.lock")
}

func FuzzPnpmLock(f *testing.F) {
	fuzzExtract(f, "/app/pnpm-lock.yaml", "lock/pnpm-v5.4/pnpm-lock.yaml", "lock/pnpm-v6.0/pnpm-lock.yaml", "lock/pnpm-v9.0/pnpm-lock.yaml")
}
