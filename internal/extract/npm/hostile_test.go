package npm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const lockPath = "/app/package-lock.json"

// lockV3 is a lockfile v3 of n entries of about 1 KB each (resolved,
// integrity, a dependencies map, engines: fields the parser does not keep),
// and, when v2, the same tree again in "dependencies".
func lockV3(n int, v2 bool) []byte {
	var b strings.Builder
	b.WriteString(`{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"pkg0":"^1.0.0"}}`)
	for i := range n {
		fmt.Fprintf(&b, `,"node_modules/pkg%06d":{"version":"1.%d.0","resolved":"https://registry.npmjs.org/pkg%06d/-/pkg%06d-1.%d.0.tgz",`+
			`"integrity":"sha512-%s","license":"MIT","dev":%t,`+
			`"dependencies":{"dep-a":"^1.0.0","dep-b":"^2.0.0","dep-c":"~3.1.4","dep-d":">=4","dep-e":"^5.0.0-beta.1","dep-f":"*"},`+
			`"engines":{"node":">=14"},"funding":{"url":"https://github.com/sponsors/someone-who-maintains-pkg%06d"},"bin":{"pkg%06d":"bin/cli.js"},`+
			`"peerDependencies":{"react":"^16.8.0 || ^17.0.0 || ^18.0.0","react-dom":"^16.8.0 || ^17.0.0 || ^18.0.0"}}`,
			i, i%100, i, i, i%100, strings.Repeat("Zm9v", 60), i%3 == 0, i, i)
	}
	b.WriteString(`}`)
	if v2 {
		b.WriteString(`,"dependencies":{`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"pkg%06d":{"version":"1.%d.0","resolved":"https://registry.npmjs.org/pkg%06d/-/pkg%06d-1.%d.0.tgz","requires":{"dep-a":"^1.0.0"}}`,
				i, i%100, i, i, i%100)
		}
		b.WriteString(`}`)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// lockV1 is a lockfile v1 of n top-level dependencies, each with one nested
// dependency.
func lockV1(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"name":"app","version":"1.0.0","lockfileVersion":1,"requires":true,"dependencies":{`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"pkg%06d":{"version":"1.0.0","dependencies":{"inner%06d":{"version":"2.0.0"}}}`, i, i)
	}
	b.WriteString("}}\n")
	return []byte(b.String())
}

func extractLock(data []byte) ([]string, error) {
	inv, err := New().Extract(context.Background(), layer.Input(lockPath, data))
	names := make([]string, len(inv.Packages))
	for i, p := range inv.Packages {
		names[i] = p.Name
	}
	return names, err
}

// allocated is the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestPackageLockCut: past maxLockEntries entries the rest of a lockfile is
// not read, and the error (a warning note, the coverage of the file
// partial) names the file and says so. Under the limit nothing is cut.
func TestPackageLockCut(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want int
		cut  bool
	}{
		{"v3 at the limit", lockV3(maxLockEntries, false), maxLockEntries, false},
		{"v3 over", lockV3(maxLockEntries+10, false), maxLockEntries, true},
		{"v2 over", lockV3(maxLockEntries+10, true), maxLockEntries, true},
		// Each top-level entry is two entries: the nested one counts.
		{"v1 at the limit", lockV1(maxLockEntries / 2), maxLockEntries, false},
		{"v1 over", lockV1(maxLockEntries/2 + 5), maxLockEntries, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, err := extractLock(tt.data)
			if len(names) != tt.want {
				t.Errorf("%d packages, want %d", len(names), tt.want)
			}
			if !tt.cut {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			extracttest.CheckFileError(t, err, lockPath, fmt.Sprintf("stopped after %d entries, the limit for one file: the rest is not read", maxLockEntries))
			if names[0] != "inner000000" && names[0] != "pkg000000" {
				t.Errorf("first package %q: the first entries must be kept", names[0])
			}
		})
	}
}

// TestPackageLockMemory: a lockfile is read entry by entry, keeping only the
// fields used, so what reading it allocates follows the entries, not the
// bytes: a 35 MB lockfile of 45,000 entries (under the limit, all read)
// allocates under 1 KB per entry, and the same entries with 3 times more
// bytes of fields nobody reads allocate no more than 2 MB more (the
// decoder's buffer holds one entry). The whole extraction, with its 45,000
// inventory packages, stays under the file's bytes plus 4 KB per package.
func TestPackageLockMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 35 MB lockfile")
	}
	const entries = 45_000
	data := lockV3(entries, false)
	if len(data) < 30<<20 || len(data) > 50<<20 {
		t.Fatalf("lockfile of %d bytes, want 30–50 MB", len(data))
	}
	read := func(data []byte) uint64 {
		var lock packageLock
		var jerr, cut error
		n := allocated(func() { lock, jerr, cut = readPackageLock(bytesOpener(data)) })
		if jerr != nil || cut != nil {
			t.Fatal(jerr, cut)
		}
		if len(lock.Packages) != entries+1 {
			t.Fatalf("%d entries read", len(lock.Packages))
		}
		return n
	}
	n := read(data)
	t.Logf("read %d bytes: %d allocated (%d per entry)", len(data), n, n/entries)
	if bound := uint64(entries) << 10; n > bound {
		t.Errorf("reading a %d byte lockfile of %d entries allocated %d bytes, over %d", len(data), entries, n, bound)
	}
	pad := strings.Repeat("Zm9v", 60)
	fat := []byte(strings.ReplaceAll(string(data), pad, pad+pad+pad+pad+pad+pad))
	nf := read(fat)
	t.Logf("read %d bytes: %d allocated", len(fat), nf)
	if nf > n+2<<20 {
		t.Errorf("the same entries with %d more bytes of unread fields allocated %d bytes, %d more", len(fat)-len(data), nf, nf-n)
	}
	fat = nil

	// The whole extraction, with its inventory packages.
	var names []string
	var err error
	n = allocated(func() { names, err = extractLock(data) })
	if err != nil || len(names) != entries {
		t.Fatal(len(names), err)
	}
	t.Logf("extracted: %d allocated (%d per package, the file's bytes included)", n, n/entries)
	if limit := uint64(len(data)) + entries<<12; n > limit {
		t.Errorf("extracting a %d byte lockfile allocated %d bytes, over %d", len(data), n, limit)
	}
}

// bigFile is a file whose Size is over the lockfile limit; reading it fails
// the test.
type bigFile struct {
	t    *testing.T
	size int64
}

func (f bigFile) Size() int64 { return f.size }
func (f bigFile) ReadAt([]byte, int64) (int, error) {
	f.t.Error("ReadAt of a file over the limit")
	return 0, io.EOF
}
func (f bigFile) Open() (io.ReadCloser, error) {
	f.t.Error("Open of a file over the limit")
	return io.NopCloser(strings.NewReader("")), nil
}
func (f bigFile) LocalPath() (string, error) { return "", errors.New("no") }

// TestLockfileOverSizeLimit: the 100 MB package-lock.json gave no
// package and no note (Wants turned it down by size). It is now wanted and
// refused, unread, with an error naming the file: a warning note.
func TestLockfileOverSizeLimit(t *testing.T) {
	e := New()
	for _, p := range []string{"/app/package-lock.json", "/app/npm-shrinkwrap.json", "/app/yarn.lock", "/app/pnpm-lock.yaml"} {
		t.Run(p, func(t *testing.T) {
			const size = 100 << 20
			if !e.Wants(p, 0o644, size) {
				t.Fatal("a lockfile over the size limit is not wanted: it would be skipped without a note")
			}
			inv, err := e.Extract(context.Background(), &extract.Input{Path: p, Mode: 0o644, File: bigFile{t, size}, Layer: layer.Input(p, nil).Layer})
			if len(inv.Packages) != 0 {
				t.Errorf("%d packages", len(inv.Packages))
			}
			if !errors.Is(err, extract.ErrTooLarge) {
				t.Errorf("error %v, want one wrapping extract.ErrTooLarge", err)
			}
			extracttest.CheckFileError(t, err, p, "reading lockfile", fmt.Sprintf("file is %d bytes, over the %d byte limit", size, maxLockfileSize))
		})
	}
}

// TestManifestOverSizeLimit: a package.json over the size limit is refused
// with an error naming it (a warning note), not skipped without a word.
func TestManifestOverSizeLimit(t *testing.T) {
	e := New()
	const p = "/app/node_modules/huge/package.json"
	const size = maxManifestSize + 1
	if !e.Wants(p, 0o644, size) {
		t.Fatal("a package.json over the size limit is not wanted: it would be skipped without a note")
	}
	inv, err := e.Extract(context.Background(), &extract.Input{Path: p, Mode: 0o644, File: bigFile{t, size}, Layer: layer.Input(p, nil).Layer})
	if len(inv.Packages) != 0 {
		t.Errorf("%d packages", len(inv.Packages))
	}
	if !errors.Is(err, extract.ErrTooLarge) {
		t.Errorf("error %v, want one wrapping extract.ErrTooLarge", err)
	}
}

// TestPackageLimit: once the scan's package limit (extract.Budget) is
// reached, the file that reaches it keeps its first packages and says so
// with an error wrapping ErrBudget (a warning naming the file; the layer is
// not cached); later package files of the same layer are not read and add
// no note; the first such file of another layer says so for that layer.
func TestPackageLimit(t *testing.T) {
	ctx := context.Background()
	b := extract.NewBudget(extract.BudgetLimits{Packages: 5})
	other := extracttest.Layer{Index: 3, DiffID: "sha256:fedcba9876543210"}
	manifest := func(l extracttest.Layer, name string) *extract.Input {
		in := l.Input("/app/node_modules/"+name+"/package.json", []byte(`{"name":"`+name+`","version":"1.0.0"}`))
		in.Budget = b
		return in
	}
	lock := layer.Input(lockPath, lockV3(4, false))
	lock.Budget = b
	steps := []struct {
		in        *extract.Input
		wantNames []string
		wantErr   string // "" for none; else a part of the error, which wraps ErrBudget
	}{
		{manifest(layer, "a"), []string{"a"}, ""},
		{manifest(layer, "b"), []string{"b"}, ""},
		{lock, []string{"pkg000000", "pkg000001", "pkg000002"}, "the scan reports at most 5 language packages: 1 of this file's 4 packages are left out"},
		{manifest(layer, "c"), nil, ""},
		{manifest(other, "d"), nil, "this file and the package files after it in this layer are not read"},
		{manifest(other, "e"), nil, ""},
	}
	for i, s := range steps {
		inv, err := New().Extract(ctx, s.in)
		var names []string
		for _, p := range inv.Packages {
			names = append(names, p.Name)
		}
		if d := cmp.Diff(s.wantNames, names); d != "" {
			t.Errorf("step %d (%s): packages (-want +got):\n%s", i, s.in.Path, d)
		}
		switch {
		case s.wantErr == "" && err != nil:
			t.Errorf("step %d (%s): %v, want no error", i, s.in.Path, err)
		case s.wantErr != "" && (!errors.Is(err, extract.ErrBudget) || !strings.Contains(err.Error(), s.wantErr) || !strings.Contains(err.Error(), s.in.Path)):
			t.Errorf("step %d (%s): error %v, want ErrBudget naming the file and %q", i, s.in.Path, err, s.wantErr)
		}
	}
}

// yarnV1 is a Yarn 1 lockfile of n entries.
func yarnV1(n int) []byte {
	var b strings.Builder
	b.WriteString("# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n")
	for i := range n {
		fmt.Fprintf(&b, "\"pkg%06d@^1.0.0\", \"pkg%06d@^1.%d\":\n  version \"1.%d.0\"\n  resolved \"https://registry.yarnpkg.com/pkg%06d/-/pkg%06d-1.%d.0.tgz#%s\"\n"+
			"  integrity sha512-%s\n  dependencies:\n    dep-a \"^1.0.0\"\n    dep-b \"^2.0.0\"\n\n",
			i, i, i%100, i%100, i, i, i%100, strings.Repeat("ab", 20), strings.Repeat("Zm9v", 22))
	}
	return []byte(b.String())
}

// yarnBerry is a Yarn 2+ lockfile of n entries (and the project's own).
func yarnBerry(n int) []byte {
	var b strings.Builder
	b.WriteString("# This file is generated by running \"yarn install\" inside your project.\n\n__metadata:\n  version: 8\n  cacheKey: 10c0\n\n")
	b.WriteString("\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n  languageName: unknown\n  linkType: soft\n\n")
	for i := range n {
		fmt.Fprintf(&b, "\"pkg%06d@npm:^1.0.0, pkg%06d@npm:^1.%d\":\n  version: 1.%d.0\n  resolution: \"pkg%06d@npm:1.%d.0\"\n"+
			"  dependencies:\n    dep-a: \"npm:^1.0.0\"\n  checksum: 10c0/%s\n  languageName: node\n  linkType: hard\n\n",
			i, i, i%100, i%100, i, i%100, strings.Repeat("0f", 64))
	}
	return []byte(b.String())
}

// pnpmV9 is a pnpm lockfile v9 of n packages, each with its snapshot;
// pkg000000 is a devDependency of the project, the others dependencies of
// it.
func pnpmV9(n int) []byte {
	var b strings.Builder
	b.WriteString("lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n\nimporters:\n\n  .:\n    devDependencies:\n      pkg000000:\n        specifier: ^1.0.0\n        version: 1.0.0\n\npackages:\n\n")
	for i := range n {
		fmt.Fprintf(&b, "  pkg%06d@1.%d.0:\n    resolution: {integrity: sha512-%s}\n    engines: {node: '>=14'}\n\n", i, i%100, strings.Repeat("Zm9v", 22))
	}
	b.WriteString("snapshots:\n\n")
	for i := range n {
		fmt.Fprintf(&b, "  pkg%06d@1.%d.0:\n    dependencies:\n      pkg%06d: 1.%d.0\n\n", i, i%100, i+1, (i+1)%100)
	}
	return []byte(b.String())
}

// TestYarnPnpmCut: past maxLockEntries entries the rest of a yarn.lock is
// not read, and of a pnpm-lock.yaml's section; the error (a warning note)
// names the file and says so. Under the limit nothing is cut, and what is
// read is what decoding the whole document gave.
func TestYarnPnpmCut(t *testing.T) {
	tests := []struct {
		name, path string
		data       []byte
		want       int
		cut        string // "" for none
		dev        int    // packages marked dev
	}{
		{"yarn v1 at the limit", "/app/yarn.lock", yarnV1(maxLockEntries), maxLockEntries, "", 0},
		{"yarn v1 over", "/app/yarn.lock", yarnV1(maxLockEntries + 10), maxLockEntries, "stopped after 50000 entries, the limit for one file: the rest is not read", 0},
		// The project's own entry counts.
		{"yarn berry at the limit", "/app/yarn.lock", yarnBerry(maxLockEntries - 1), maxLockEntries - 1, "", 0},
		{"yarn berry over", "/app/yarn.lock", yarnBerry(maxLockEntries + 10), maxLockEntries - 1, "stopped after 50000 entries, the limit for one file: the rest is not read", 0},
		// Every package reaches the next through the snapshots, all from
		// the devDependency: all dev.
		{"pnpm at the limit", "/app/pnpm-lock.yaml", pnpmV9(maxLockEntries), maxLockEntries, "", maxLockEntries},
		{"pnpm over", "/app/pnpm-lock.yaml", pnpmV9(maxLockEntries + 10), maxLockEntries, `stopped after 50000 entries of "packages", the limit for one file: the rest of them is not read` +
			"\n" + `stopped after 50000 entries of "snapshots", the limit for one file: the rest of them is not read`, maxLockEntries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := New().Extract(context.Background(), layer.Input(tt.path, tt.data))
			if len(inv.Packages) != tt.want {
				t.Errorf("%d packages, want %d", len(inv.Packages), tt.want)
			}
			dev := 0
			for _, p := range inv.Packages {
				if p.Metadata["dev"] == "true" {
					dev++
				}
			}
			if dev != tt.dev {
				t.Errorf("%d dev packages, want %d", dev, tt.dev)
			}
			if tt.cut == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			extracttest.CheckFileError(t, err, tt.path, tt.cut)
			if inv.Packages[0].Name != "pkg000000" {
				t.Errorf("first package %q: the first entries must be kept", inv.Packages[0].Name)
			}
		})
	}
}

// TestYarnPnpmMemory: yarn.lock and pnpm-lock.yaml are read one entry at a
// time, so what reading one allocates is linear in its entries (twice the
// entries, at most 2.5 times the bytes) and under 64 KB per entry. (What
// is held at once, one entry and the packages, is the hostile benchmark's
// peak RSS.)
func TestYarnPnpmMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates lockfiles of 10–20 MB")
	}
	const entries = 45_000
	for _, tt := range []struct {
		path string
		gen  func(int) []byte
	}{
		{"/app/yarn.lock", yarnV1},
		{"/app/yarn.lock", yarnBerry},
		{"/app/pnpm-lock.yaml", pnpmV9},
	} {
		run := func(entries int) uint64 {
			data := tt.gen(entries)
			var err error
			var got int
			n := allocated(func() {
				var inv inventory.Inventory
				inv, err = New().Extract(context.Background(), layer.Input(tt.path, data))
				got = len(inv.Packages)
			})
			if err != nil || got != entries {
				t.Fatalf("%s: %d packages, %v", tt.path, got, err)
			}
			t.Logf("%s of %d bytes: %d allocated (%d per package)", tt.path, len(data), n, n/uint64(entries))
			// Allocated in total, not held at once: yaml.v3 allocates
			// about 20 KB to decode one entry; what is held is one
			// entry and the packages (see the hostile benchmark's peak
			// RSS).
			if limit := uint64(entries) << 16; n > limit {
				t.Errorf("%s: extracting %d bytes allocated %d bytes, over %d", tt.path, len(data), n, limit)
			}
			return n
		}
		// Linear: twice the entries, at most 2.5 times the allocations.
		half, all := run(entries/2), run(entries)
		if all > half*5/2 {
			t.Errorf("%s: %d entries allocated %d bytes, %d entries %d: not linear", tt.path, entries/2, half, entries, all)
		}
	}
}

// TestYarnPnpmLongLine: a line over maxLockLine ends the reading with an
// error naming the file and the line; the entries before it are kept (in
// pnpm's, the entry it cut, whose key names it).
func TestYarnPnpmLongLine(t *testing.T) {
	long := strings.Repeat("x", maxLockLine+1)
	tests := []struct {
		path, data string
		want       []string
	}{
		{"/app/yarn.lock", "a@^1:\n  version \"1.0.0\"\n\nb@^1:\n  resolved \"" + long + "\"\n", []string{"a@1.0.0"}},
		{"/app/yarn.lock", "__metadata:\n  version: 8\n\n\"a@npm:1\":\n  version: 1.0.0\n  resolution: \"a@npm:1.0.0\"\n\n\"b@npm:1\":\n  checksum: " + long + "\n", []string{"a@1.0.0"}},
		{"/app/pnpm-lock.yaml", "lockfileVersion: '6.0'\npackages:\n  /a@1.0.0:\n    dev: false\n  /b@1.0.0:\n    resolution: {integrity: " + long + "}\n", []string{"a@1.0.0", "b@1.0.0"}},
	}
	for _, tt := range tests {
		inv, err := New().Extract(context.Background(), layer.Input(tt.path, []byte(tt.data)))
		if d := cmp.Diff(tt.want, nameVersions(inv.Packages)); d != "" {
			t.Errorf("%s: packages (-want +got):\n%s", tt.path, d)
		}
		extracttest.CheckFileError(t, err, tt.path, fmt.Sprintf("line longer than %d bytes", maxLockLine))
	}
}
