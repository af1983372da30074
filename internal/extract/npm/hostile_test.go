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
