package npm

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

var layer = extracttest.Layer{Index: 2, DiffID: "sha256:0123456789abcdef"}

// extractTestdata runs the extractor on testdata/rel as if it were at p.
func extractTestdata(t *testing.T, rel, p string) inventory.Inventory {
	t.Helper()
	return extracttest.Extract(t, New(), layer.Input(p, extracttest.Testdata(t, rel)))
}

func TestWants(t *testing.T) {
	tests := []extracttest.WantsCase{
		{Path: "/app/package.json", Mode: 0o644, Size: 300, Want: true},
		{Path: "/app/node_modules/lodash/package.json", Mode: 0o644, Size: 300, Want: true},
		{Path: "/app/node_modules/@types/ms/package.json", Mode: 0o644, Size: 300, Want: true},
		{Path: "/app/node_modules/debug/node_modules/ms/package.json", Mode: 0o644, Size: 300, Want: true},
		{Path: "/app/node_modules/.pnpm/lodash@4.17.15/node_modules/lodash/package.json", Mode: 0o644, Size: 300, Want: true},
		{Path: "/usr/lib/node_modules/npm/package.json", Mode: 0o644, Size: 300, Want: true},
		// Not package roots.
		{Path: "/app/node_modules/glob/dist/esm/package.json", Mode: 0o644, Size: 23, Want: false},
		{Path: "/app/node_modules/@types/package.json", Mode: 0o644, Size: 23, Want: false},
		{Path: "/app/node_modules/package.json", Mode: 0o644, Size: 23, Want: false},
		{Path: "/app/node_modules/.cache/package.json", Mode: 0o644, Size: 23, Want: false},
		{Path: "/app/node_modules/@types/ms/lib/package.json", Mode: 0o644, Size: 23, Want: false},
		{Path: "/app/node_modules/@/x/package.json", Mode: 0o644, Size: 23, Want: false},
		// A directory merely named like node_modules is not one.
		{Path: "/app/my_node_modules/a/b/package.json", Mode: 0o644, Size: 23, Want: true},
		// Lockfiles, but not those shipped inside installed packages.
		{Path: "/app/package-lock.json", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/app/npm-shrinkwrap.json", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/app/yarn.lock", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/app/pnpm-lock.yaml", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/app/node_modules/.package-lock.json", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/node_modules/foo/package-lock.json", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/node_modules/foo/yarn.lock", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/node_modules/foo/pnpm-lock.yaml", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/package.json5", Mode: 0o644, Size: 30, Want: false},
		{Path: "/app/bun.lockb", Mode: 0o644, Size: 30, Want: false},
		// Mode and size.
		{Path: "/app/package.json", Mode: fs.ModeDir | 0o755, Size: 0, Want: false},
		{Path: "/app/package.json", Mode: fs.ModeSymlink | 0o777, Size: 10, Want: false},
		{Path: "/app/package.json", Mode: 0o644, Size: maxManifestSize, Want: true},
		{Path: "/app/package.json", Mode: 0o644, Size: maxManifestSize + 1, Want: true}, // refused by Extract, with a note
		{Path: "/app/package-lock.json", Mode: 0o644, Size: maxLockfileSize, Want: true},
		{Path: "/app/package-lock.json", Mode: 0o644, Size: maxLockfileSize + 1, Want: true}, // refused by Extract, with an error
		{Path: "/app/yarn.lock", Mode: 0o644, Size: -1, Want: false},
	}
	e := New()
	extracttest.CheckWants(t, e, tests)
}

func installed(name, version, p string, licenses []string, meta map[string]string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoNPM,
		PURL:      purl(name, version),
		Licenses:  licenses,
		Locations: layer.Locations(p),
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
			inv, err := e.Extract(context.Background(), layer.Input(tt.path, []byte(tt.data)))
			extracttest.CheckError(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// nameVersions lists name@version[ dev][ NOT-DECLARED] of packages, for
// compact comparison.
func nameVersions(pkgs []inventory.Package) []string {
	return extracttest.NameVersions(pkgs, func(p inventory.Package) string {
		if p.Metadata["dev"] == "true" {
			return "dev"
		}
		return ""
	}, func(p inventory.Package) string {
		if !p.Declared {
			return "NOT-DECLARED"
		}
		return ""
	})
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
			extracttest.Golden(t, "testdata/golden/lock-"+tt.dir+".json", inv.Packages)
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
	extracttest.Golden(t, "testdata/golden/shared-package-lock.json", inv.Packages)
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
			name:    "yarn berry indented whole",
			path:    "/a/yarn.lock",
			data:    "  \"a@npm:1\":\n    version: 1.0.0\n__metadata:\n  version: 8\n",
			wantErr: `parsing lockfile "/a/yarn.lock": line 1: 2 indented lines outside any entry skipped`,
		},
		{
			name:    "pnpm indented whole",
			path:    "/a/pnpm-lock.yaml",
			data:    "  lockfileVersion: '9.0'\n  packages:\n    a@1.0.0: {}\n",
			wantErr: "parsing lockfile \"/a/pnpm-lock.yaml\": line 1: 3 indented lines outside any entry skipped\nno lockfileVersion",
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
			inv, err := e.Extract(context.Background(), layer.Input(tt.path, []byte(tt.data)))
			extracttest.CheckError(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, nameVersions(inv.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNoPackageWithoutName: no lockfile entry or package.json becomes a
// package without a valid name (the lockfile gave "pkg:npm/@0");
// such entries are skipped and reported. The "" key of lockfile v2/v3
// "packages" is the project itself, not a dependency: skipped silently.
func TestNoPackageWithoutName(t *testing.T) {
	const lock = "/a/package-lock.json"
	tests := []struct {
		name    string
		path    string
		data    string
		want    []string
		wantErr string
	}{
		{
			name:    "v1 dependency named empty (the issue's file)",
			path:    lock,
			data:    `{"dependencies":{"":{"version":"0"}}}`,
			wantErr: `parsing lockfile "/a/package-lock.json": 1 entry without a valid package name ("") skipped`,
		},
		{
			name: "v1 nested empty name and alias to a bare scope",
			path: lock,
			data: `{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","dependencies":{"":{"version":"2.0.0"}}},
				"b":{"version":"npm:@@1.0.0"}}}`,
			want:    []string{"a@1.0.0"},
			wantErr: `parsing lockfile "/a/package-lock.json": 2 entries without a valid package name (first "") skipped`,
		},
		{
			name: "v2 root project with name is not a dependency",
			path: lock,
			data: `{"lockfileVersion":2,"packages":{"":{"name":"app","version":"1.0.0"},"node_modules/a":{"version":"1.0.0"}},
				"dependencies":{"a":{"version":"1.0.0"}}}`,
			want: []string{"a@1.0.0"},
		},
		{
			name: "v3 root project without name",
			path: lock,
			data: `{"lockfileVersion":3,"packages":{"":{"version":"0"}}}`,
		},
		{
			name: "v3 keys and name fields that name no package",
			path: lock,
			data: `{"lockfileVersion":3,"packages":{"":{"name":"app","version":"1.0.0"},
				"node_modules/":{"version":"0"},
				"node_modules/@s/":{"version":"1.0.0"},
				"node_modules/x":{"name":"@s","version":"1.0.0"},
				"node_modules/ok":{"version":"1.0.0"}}}`,
			want:    []string{"ok@1.0.0"},
			wantErr: `parsing lockfile "/a/package-lock.json": 3 entries without a valid package name (first "") skipped`,
		},
		{
			name:    "yarn v1 bare scope",
			path:    "/a/yarn.lock",
			data:    "# yarn lockfile v1\n\n\"@@1\":\n  version \"1\"\n\n@s@^1:\n  version \"1.0.0\"\n\nok@^1:\n  version \"1.0.0\"\n",
			want:    []string{"ok@1.0.0"},
			wantErr: `parsing lockfile "/a/yarn.lock": 2 entries without a valid package name (first "@") skipped`,
		},
		{
			name:    "yarn berry bare scope",
			path:    "/a/yarn.lock",
			data:    "__metadata:\n  version: 8\n\n\"@@npm:1\":\n  version: 1.0.0\n  resolution: \"@@npm:1.0.0\"\n",
			wantErr: `parsing lockfile "/a/yarn.lock": 1 entry without a valid package name ("@") skipped`,
		},
		{
			name:    "pnpm v5 empty name in a scope",
			path:    "/a/pnpm-lock.yaml",
			data:    "lockfileVersion: 5.4\npackages:\n  /@s//1.0.0:\n    dev: false\n  //2.0.0:\n    dev: false\n  /ok/1.0.0:\n    dev: false\n",
			want:    []string{"ok@1.0.0"},
			wantErr: `parsing lockfile "/a/pnpm-lock.yaml": 2 entries without a valid package name (first "") skipped`,
		},
		{
			name:    "pnpm v9 name field",
			path:    "/a/pnpm-lock.yaml",
			data:    "lockfileVersion: '9.0'\npackages:\n  x@1.0.0:\n    name: '@'\n",
			wantErr: `parsing lockfile "/a/pnpm-lock.yaml": 1 entry without a valid package name ("@") skipped`,
		},
		{
			name:    "installed package.json with a bare scope",
			path:    "/a/node_modules/x/package.json",
			data:    `{"name":"@","version":"1.0.0"}`,
			wantErr: `parsing package.json "/a/node_modules/x/package.json": package name "@" is not valid`,
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := e.Extract(context.Background(), layer.Input(tt.path, []byte(tt.data)))
			extracttest.CheckError(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, nameVersions(inv.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			for _, p := range inv.Packages {
				if p.Name == "" || p.PURL == "pkg:npm/@"+p.Version {
					t.Errorf("package without a name: %+v", p)
				}
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"lodash": true, "@types/ms": true, "a": true,
		"": false, "@": false, "@types": false, "@types/": false, "@/ms": false, "@a/b/c": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNotApplicable(t *testing.T) {
	_, err := New().Extract(context.Background(), layer.Input("/app/node_modules/a/lib/package.json", []byte(`{}`)))
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

// fuzzExtract fuzzes the file at path p, seeded with the testdata files
// named: the kit's invariants, and complete packages.
func fuzzExtract(f *testing.F, p string, seeds ...string) {
	for _, s := range seeds {
		f.Add(extracttest.Testdata(f, s))
	}
	extracttest.FuzzFile(f, New(), layer.Input(p, nil), extracttest.Complete)
}

func FuzzPackageJSON(f *testing.F) {
	fuzzExtract(f, "/app/node_modules/x/package.json",
		"installed/app/node_modules/config-chain/package.json", "installed/app/node_modules/deep-extend/package.json")
}

func FuzzPackageLock(f *testing.F) {
	// The file: a dependency named "" became pkg:npm/@0.
	f.Add([]byte(`{"dependencies":{"":{"version":"0"}}}`))
	fuzzExtract(f, "/app/package-lock.json", "lock/npm-v1/package-lock.json", "lock/npm-v3/package-lock.json")
}

func FuzzYarnLock(f *testing.F) {
	f.Add(yarnV1(3))
	f.Add(yarnBerry(3))
	// An entry's fields at column 0, a flow mapping over lines, a key
	// deeper than the next.
	f.Add([]byte("__metadata:\n  version: 8\n\"a@npm:1\": {\nversion: 1,\n}\n    \"b@npm:1\":\n  version: 2\n"))
	fuzzExtract(f, "/app/yarn.lock", "lock/yarn-v1/yarn.lock", "lock/yarn-berry/yarn.lock")
}

func FuzzPnpmLock(f *testing.F) {
	f.Add(pnpmV9(3))
	f.Add([]byte("lockfileVersion: '6.0'\npackages: {/a@1.0.0: {dev: true}}\nsnapshots:\n    a@1: {}\n  b@1:\n      dependencies: {a: 1}\n"))
	fuzzExtract(f, "/app/pnpm-lock.yaml", "lock/pnpm-v5.4/pnpm-lock.yaml", "lock/pnpm-v6.0/pnpm-lock.yaml", "lock/pnpm-v9.0/pnpm-lock.yaml")
}
