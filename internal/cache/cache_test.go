package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/klauspost/compress/zstd"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// sample is a layer result with every kind of field set, including the
// Package.Files that JSON alone would lose.
func sample(i int) *inventory.LayerResult {
	return &inventory.LayerResult{
		Layer:      inventory.Layer{Index: i, DiffID: fmt.Sprintf("sha256:%064d", i), Size: 1234, CreatedBy: "RUN apk add"},
		Whiteouts:  []string{"/etc/old"},
		OpaqueDirs: []string{"/var/cache"},
		Files: []inventory.FileResult{
			{
				Path: "/lib/apk/db/installed", Extractor: "apk",
				Packages: []inventory.Package{
					{Name: "musl", Version: "1.2.3-r3", Ecosystem: "apk", PURL: "pkg:apk/alpine/musl@1.2.3-r3",
						Licenses: []string{"MIT"}, Locations: []inventory.Location{{Path: "/lib/apk/db/installed"}},
						Files: []string{"/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"}, Metadata: map[string]string{"origin": "musl"}},
					{Name: "empty-locations", Version: "1", Ecosystem: "apk", Locations: []inventory.Location{}},
					{Name: "nil-locations", Version: "1", Ecosystem: "apk"},
				},
				Notes: []inventory.Note{{Level: "warning", Path: "/lib/apk/db/installed", Message: "odd line"}},
			},
			{Path: "/etc/os-release", Extractor: "os-release", Distro: &inventory.Distro{ID: "alpine", VersionID: "3.16.9"}},
			{Path: "/app/.env", Extractor: "secrets", Hits: []inventory.SecretHit{{RuleID: "aws-access-key", Title: "AWS", Severity: "HIGH", Line: 3, Match: "AKIA****"}}},
			{Path: "/usr/local/bin/app", Extractor: "lang/gobinary", GoBinaries: []inventory.GoBinary{{Path: "/usr/local/bin/app",
				GoSymbols: inventory.GoSymbols{GOOS: "linux", GOARCH: "amd64", Packages: []string{"example.com/app", "runtime"}, Symbols: inventory.SymbolHashes{3, 1 << 63, ^uint64(0)}}}}},
			{Path: "/usr/local/bin/old", Extractor: "lang/gobinary", GoBinaries: []inventory.GoBinary{{Path: "/usr/local/bin/old",
				GoSymbols: inventory.GoSymbols{Unknown: "built with go1.17.13, whose function table (before Go 1.18) is not read"}}}},
		},
		Notes: []inventory.Note{{Level: "info", Message: "layer note"}},
		Facts: inventory.Facts{
			Setuid:     []inventory.FileFact{{Path: "/bin/su", Mode: 0o4755, LayerIndex: i}},
			CacheBytes: map[string]int64{"/var/cache/apk": 42},
		},
		PathHashes: []uint64{1, 2, 1 << 63},
	}
}

func open(t *testing.T, dir string, opt Options) *Cache {
	t.Helper()
	c, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := open(t, t.TempDir(), Options{})
	tests := []struct {
		name string
		key  string
		r    *inventory.LayerResult
	}{
		{"full", "sha256:aaa|apk@1,dpkg@2", sample(0)},
		{"empty", "sha256:bbb|apk@1", &inventory.LayerResult{}},
		{"long key", strings.Repeat("k", 10000), sample(7)},
		{"unicode key", "sha256:ççç|é@1", sample(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := c.Get(ctx, tt.key); ok {
				t.Fatal("hit before Put")
			}
			if err := c.Put(ctx, tt.key, tt.r); err != nil {
				t.Fatal(err)
			}
			got, ok := c.Get(ctx, tt.key)
			if !ok {
				t.Fatal("miss after Put")
			}
			if d := cmp.Diff(stored(tt.r), got); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != len(tests) || st.Bytes <= 0 || st.Dir != c.Dir() {
		t.Errorf("Stats = %+v, want %d entries", st, len(tests))
	}
}

// TestRoundTripInvalidUTF8: JSON cannot hold bytes that are not UTF-8, so
// an entry gives back what inventory.LayerResult.WithValidUTF8 makes of the
// result stored — the form Merge brings every layer result to, so that a
// cached layer and a walked one give the same inventory.
func TestRoundTripInvalidUTF8(t *testing.T) {
	ctx := context.Background()
	c := open(t, t.TempDir(), Options{})
	r := sample(1)
	p := &r.Files[0].Packages[0]
	p.Name, p.Version = "mu\xffsl", "1.2.3\xfe-r3"
	p.Files = append(p.Files, "/lib/x\xe2\x82")
	p.Metadata["m\xff"] = "v\xed\xa0\x80"
	r.Whiteouts = append(r.Whiteouts, "/etc/\xffold")
	r.Files[2].Hits[0].Match = "AKIA\xff***"
	if err := c.Put(ctx, "k", r); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(ctx, "k")
	if !ok {
		t.Fatal("miss after Put")
	}
	want := stored(r).WithValidUTF8()
	if want.Files[0].Packages[0].Name != "mu\ufffdsl" {
		t.Fatalf("WithValidUTF8 did not replace the invalid byte: %q", want.Files[0].Packages[0].Name)
	}
	if d := cmp.Diff(&want, got); d != "" {
		t.Errorf("round trip (-WithValidUTF8 +got):\n%s", d)
	}
}

// TestHiddenFields guards encodeResult: every field JSON skips must be carried
// by hand. A new `json:"-"` field reachable from LayerResult fails this test
// until the payload carries it too.
func TestHiddenFields(t *testing.T) {
	var hidden []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if f.Tag.Get("json") == "-" && f.IsExported() {
					hidden = append(hidden, t.Name()+"."+f.Name)
				}
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeFor[inventory.LayerResult]())
	slices.Sort(hidden)
	if d := cmp.Diff([]string{"Package.Files"}, hidden); d != "" {
		t.Errorf("fields hidden from JSON (-handled +found):\n%s", d)
	}
}

func TestFingerprintChangesWithShape(t *testing.T) {
	type a struct {
		X int `json:"x"`
	}
	type b struct {
		X int `json:"y"`
	}
	type c struct {
		X int64 `json:"x"`
	}
	fa, fb, fc := typeFingerprint(reflect.TypeFor[a]()), typeFingerprint(reflect.TypeFor[b]()), typeFingerprint(reflect.TypeFor[c]())
	if fa == fb || fa == fc || fb == fc {
		t.Errorf("fingerprints collide: %x %x %x", fa, fb, fc)
	}
	if fa != typeFingerprint(reflect.TypeFor[a]()) {
		t.Error("fingerprint not stable")
	}
}

// corrupt rewrites the entry file of key.
func corrupt(t *testing.T, c *Cache, key string, f func([]byte) []byte) {
	t.Helper()
	p := c.path(key)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, f(slices.Clone(b)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptEntries(t *testing.T) {
	ctx := context.Background()
	const key = "sha256:corrupt|apk@1"
	tests := []struct {
		name string
		f    func(b []byte) []byte
	}{
		{"payload bit flip", func(b []byte) []byte { b[len(b)-5] ^= 0x40; return b }},
		{"key bit flip", func(b []byte) []byte { b[headerLen+2] ^= 1; return b }},
		{"checksum bit flip", func(b []byte) []byte { b[30] ^= 1; return b }},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"other format version", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[4:6], FormatVersion+1); return b }},
		{"other result shape", func(b []byte) []byte { b[9] ^= 0xff; return b }},
		{"huge payload length", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[20:24], 1<<31); return b }},
		{"truncated to nothing", func(b []byte) []byte { return nil }},
		{"truncated in header", func(b []byte) []byte { return b[:headerLen-1] }},
		{"truncated header only", func(b []byte) []byte { return b[:headerLen] }},
		{"truncated in payload", func(b []byte) []byte { return b[:len(b)-1] }},
		{"trailing bytes", func(b []byte) []byte { return append(b, 0) }},
		{"garbage", func(b []byte) []byte { return bytes.Repeat([]byte{0xa5}, len(b)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := open(t, t.TempDir(), Options{Logger: debugLogger(&logs)})
			if err := c.Put(ctx, key, sample(1)); err != nil {
				t.Fatal(err)
			}
			corrupt(t, c, key, tt.f)
			if r, ok := c.Get(ctx, key); ok {
				t.Fatalf("corrupt entry was a hit: %+v", r)
			}
			if _, err := os.Stat(c.path(key)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("corrupt entry not deleted: %v", err)
			}
			if !strings.Contains(logs.String(), "dropping layer cache entry") {
				t.Errorf("corrupt entry not logged; log:\n%s", logs.String())
			}
			// The caller recomputes and stores it again.
			if err := c.Put(ctx, key, sample(1)); err != nil {
				t.Fatal(err)
			}
			got, ok := c.Get(ctx, key)
			if !ok {
				t.Fatal("miss after recompute")
			}
			if d := cmp.Diff(stored(sample(1)), got); d != "" {
				t.Errorf("recomputed entry (-want +got):\n%s", d)
			}
		})
	}
}

// An entry copied under another key's name (or a hash collision) is never
// returned for the wrong key.
func TestEntryUnderWrongKey(t *testing.T) {
	ctx := context.Background()
	c := open(t, t.TempDir(), Options{})
	if err := c.Put(ctx, "a", sample(1)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(c.path("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(c.path("b")), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.path("b"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(ctx, "b"); ok {
		t.Error("entry of key a returned for key b")
	}
	if _, ok := c.Get(ctx, "a"); !ok {
		t.Error("key a lost")
	}
}

func TestCancelledContext(t *testing.T) {
	c := open(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Put(ctx, "k", sample(1)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, ok := c.Get(ctx, "k"); ok {
		t.Error("hit with a cancelled context")
	}
	if err := c.Put(ctx, "k", sample(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v", err)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	ctx := context.Background()
	c := open(t, t.TempDir(), Options{MaxBytes: 1 << 20})
	const workers, rounds, keys = 16, 50, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				k := (w + i) % keys
				key := fmt.Sprintf("key-%d", k)
				if r, ok := c.Get(ctx, key); ok {
					if d := cmp.Diff(stored(sample(k)), r); d != "" {
						errs <- fmt.Errorf("worker %d read a wrong entry for %s: %s", w, key, d)
						return
					}
				}
				if err := c.Put(ctx, key, sample(k)); err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for k := range keys {
		if _, ok := c.Get(ctx, fmt.Sprintf("key-%d", k)); !ok {
			t.Errorf("key-%d missing at the end", k)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(c.Dir(), "*", tempPrefix+"*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

const helperEnv = "DRYDOCK_CACHE_TEST_HELPER_DIR"

// hammer puts and gets the shared keys, checking every hit.
func hammer(ctx context.Context, c *Cache, id, rounds, keys int) error {
	for i := range rounds {
		k := (id*7 + i) % keys
		key := fmt.Sprintf("shared-%d", k)
		if r, ok := c.Get(ctx, key); ok {
			if d := cmp.Diff(stored(sample(k)), r); d != "" {
				return fmt.Errorf("process %d read a wrong entry for %s: %s", id, key, d)
			}
		}
		if err := c.Put(ctx, key, sample(k)); err != nil {
			return fmt.Errorf("process %d: %w", id, err)
		}
	}
	return nil
}

// TestHelperProcess is the second process of TestTwoProcesses.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	id, _ := strconv.Atoi(os.Getenv(helperEnv + "_ID"))
	c := open(t, dir, Options{MaxBytes: 64 << 10})
	if err := hammer(context.Background(), c, id, 300, 12); err != nil {
		t.Fatal(err)
	}
}

// TestTwoProcesses runs this process and two children on one directory at
// once, on the same keys, with a bound small enough that all of them evict
// each other's entries: nobody may fail or read a wrong entry.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, Options{MaxBytes: 64 << 10})
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for id := 1; id <= 2; id++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir, helperEnv+"_ID="+strconv.Itoa(id))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, &out)
	}
	if err := hammer(context.Background(), c, 0, 300, 12); err != nil {
		t.Error(err)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process %d failed: %v\n%s", i+1, err, outs[i])
		} else if !strings.Contains(outs[i].String(), "PASS") {
			t.Errorf("helper process %d did not run the helper:\n%s", i+1, outs[i])
		}
	}
	st, err := c.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries == 0 {
		t.Error("no entries left")
	}
}

func TestEviction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Measure one entry's size (all samples encode to nearly the same size).
	probe := open(t, t.TempDir(), Options{})
	if err := probe.Put(ctx, "k0", sample(0)); err != nil {
		t.Fatal(err)
	}
	st, err := probe.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	one := st.Bytes
	// Room for 4.5 entries: the 5th Put evicts down to 90% (4.05 entries),
	// so the oldest one goes.
	c := open(t, dir, Options{MaxBytes: one*9/2 + 2})
	base := time.Now().Add(-time.Hour)
	for i := range 4 {
		key := fmt.Sprintf("k%d", i)
		if err := c.Put(ctx, key, sample(i)); err != nil {
			t.Fatal(err)
		}
		// k0 oldest … k3 newest.
		mt := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(c.path(key), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	// A hit on k0 makes it the most recently used: k1 is now the oldest.
	if _, ok := c.Get(ctx, "k0"); !ok {
		t.Fatal("k0 missing")
	}
	if err := c.Put(ctx, "k4", sample(4)); err != nil {
		t.Fatal(err)
	}
	var present []string
	for i := range 5 {
		key := fmt.Sprintf("k%d", i)
		if _, err := os.Stat(c.path(key)); err == nil {
			present = append(present, key)
		}
	}
	if d := cmp.Diff([]string{"k0", "k2", "k3", "k4"}, present); d != "" {
		t.Errorf("entries after eviction (-want +got):\n%s", d)
	}

	// Prune to two entries removes the two least recently used (k2, k3).
	n, err := c.Prune(ctx, 2*one+one/2)
	if err != nil {
		t.Fatal(err)
	}
	present = present[:0]
	for i := range 5 {
		key := fmt.Sprintf("k%d", i)
		if _, ok := c.Get(ctx, key); ok {
			present = append(present, key)
		}
	}
	if n != 2 {
		t.Errorf("Prune removed %d entries, want 2", n)
	}
	if d := cmp.Diff([]string{"k0", "k4"}, present); d != "" {
		t.Errorf("entries after Prune (-want +got):\n%s", d)
	}
}

// A second process's entries count toward the bound once this process has
// sized the directory: the walk happens once, on the first Put.
func TestSizeEstimateIncludesExistingEntries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first := open(t, dir, Options{})
	for i := range 6 {
		if err := first.Put(ctx, fmt.Sprintf("k%d", i), sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	st, err := first.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := open(t, dir, Options{MaxBytes: st.Bytes / 2})
	if err := second.Put(ctx, "new", sample(9)); err != nil {
		t.Fatal(err)
	}
	after, err := second.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Bytes > st.Bytes/2 {
		t.Errorf("cache holds %d bytes after Put, bound %d", after.Bytes, st.Bytes/2)
	}
	if _, ok := second.Get(ctx, "new"); !ok {
		t.Error("the entry just written was evicted")
	}
}

func TestCleanAndStaleTemp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := open(t, dir, Options{})
	for i := range 3 {
		if err := c.Put(ctx, fmt.Sprintf("k%d", i), sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	shard := filepath.Dir(c.path("k0"))
	stale := filepath.Join(shard, tempPrefix+"crashed")
	fresh := filepath.Join(shard, tempPrefix+"writing")
	foreign := filepath.Join(dir, "db.sqlite")
	for _, p := range []string{stale, fresh, foreign} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 3 {
		t.Errorf("Stats: %d entries, want 3", st.Entries)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a live writer's temporary file was deleted: %v", err)
	}
	if err := c.Clean(ctx); err != nil {
		t.Fatal(err)
	}
	st, err = c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 0 || st.Bytes != 0 {
		t.Errorf("after Clean: %+v", st)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("Clean deleted a file it did not create: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, tagFile)); err != nil {
		t.Errorf("cache directory tag missing: %v", err)
	}
	if _, ok := c.Get(ctx, "k0"); ok {
		t.Error("hit after Clean")
	}
}

func TestNotWritable(t *testing.T) {
	ctx := context.Background()
	// Open on a path below a regular file cannot create the directory.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "cache"), Options{}); err == nil || !strings.Contains(err.Error(), "creating layer cache directory") {
		t.Errorf("Open below a file: %v", err)
	}
	if _, err := Open("", Options{}); err == nil {
		t.Error("Open with no directory succeeded")
	}

	// A shard directory that cannot be created (a file in its place; this
	// works even as root, where permission bits do not stop writes).
	c := open(t, t.TempDir(), Options{})
	shard := filepath.Dir(c.path("k"))
	if err := os.WriteFile(shard, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "k", sample(1)); err == nil {
		t.Error("Put into an unwritable directory succeeded")
	}
	if _, ok := c.Get(ctx, "k"); ok {
		t.Error("Get hit after a failed Put")
	}

	// A read-only directory: only testable when permissions apply.
	if os.Geteuid() == 0 {
		return
	}
	dir := t.TempDir()
	rw := open(t, dir, Options{})
	if err := rw.Put(ctx, "present", sample(2)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	shardRO := filepath.Dir(rw.path("present"))
	if err := os.Chmod(shardRO, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(shardRO, 0o755)
	ro := open(t, dir, Options{})
	if err := ro.Put(ctx, "new", sample(3)); err == nil {
		t.Error("Put into a read-only directory succeeded")
	}
	if _, ok := ro.Get(ctx, "present"); !ok {
		t.Error("read-only cache lost its entry")
	}
}

// FuzzRead feeds arbitrary bytes as an entry file: read must return an
// error or a result, never panic, and never accept bytes that were altered.
func FuzzRead(f *testing.F) {
	dir := f.TempDir()
	c, err := Open(dir, Options{})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	for i, r := range []*inventory.LayerResult{sample(1), {}} {
		key := fmt.Sprintf("seed-%d", i)
		if err := c.Put(ctx, key, r); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(c.path(key))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, key)
	}
	f.Add([]byte("DDLC"), "k")
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		r, err := c.read(bytes.NewReader(b), int64(len(b)), key)
		if err == nil && r == nil {
			t.Fatal("nil result without error")
		}
	})
}

func debugLogger(w *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestPutLeavesResultAlone(t *testing.T) {
	c := open(t, t.TempDir(), Options{})
	r := sample(5)
	if err := c.Put(context.Background(), "k", r); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sample(5), r); d != "" {
		t.Errorf("Put changed its argument (-before +after):\n%s", d)
	}
}

func TestDecodeResultErrors(t *testing.T) {
	pkg := `{"package":{"id":"","name":"p","version":"1","ecosystem":"npm","locations":null}}`
	tests := []struct{ name, js, want string }{
		{"not JSON", `{`, "decoding JSON"},
		{"nothing", ``, "decoding JSON"},
		{"no result", `{}`, "no result"},
		{"negative file count", `{"result":{},"files":-1}`, "-1 files"},
		{"files in the head", `{"result":{"files":[{"path":"/a","extractor":"x"}]},"files":0}`, "files in the head"},
		{"fewer files than claimed", `{"result":{},"files":2} {"file":{"path":"/a","extractor":"x"}}`, "file 1 of 2"},
		{"file missing", `{"result":{},"files":1} {}`, "file 0 of 1 is missing"},
		{"negative package count", `{"result":{},"files":1} {"file":{"path":"/a","extractor":"x"},"packages":-3}`, "claims -3 packages"},
		{"packages inline", `{"result":{},"files":1} {"file":{"path":"/a","extractor":"x","packages":[{"name":"p"}]}}`, "inline"},
		{"fewer packages than claimed", `{"result":{},"files":1} {"file":{"path":"/a","extractor":"x"},"packages":2} ` + pkg, "package 1 of 2"},
		{"package missing", `{"result":{},"files":1} {"file":{"path":"/a","extractor":"x"},"packages":1} {}`, "package 0 of file 0 is missing"},
		{"more values than claimed", `{"result":{},"files":1} {"file":{"path":"/a","extractor":"x"},"packages":1} ` + pkg + ` ` + pkg, "after the last value"},
		{"trailing garbage", `{"result":{},"files":0} x`, "after the last value"},
		{"hashes not 8-byte", `{"result":{},"path_hashes_le":"AAAA"}`, "not a multiple of 8"},
		{"hashes twice", `{"result":{"path_hashes":[1]},"path_hashes_le":"AAAAAAAAAAA="}`, "stored twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeResult(strings.NewReader(tt.js))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("decodeResult(%s) = %v, want an error containing %q", tt.js, err, tt.want)
			}
		})
	}
}

// FuzzDecodeResult feeds arbitrary JSON to the payload decoder: an error or
// a result, never a panic; a result re-encodes and decodes to itself.
func FuzzDecodeResult(f *testing.F) {
	for _, r := range []*inventory.LayerResult{sample(1), {}} {
		var js bytes.Buffer
		if err := encodeResult(&js, r); err != nil {
			f.Fatal(err)
		}
		f.Add(js.Bytes())
	}
	f.Add([]byte(`{"result":{},"files":1} {"file":{"path":"/a","extractor":"x"},"packages":1} {"package":{"name":"p"},"files":[]}`))
	f.Fuzz(func(t *testing.T, js []byte) {
		r, err := decodeResult(bytes.NewReader(js))
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := encodeResult(&again, r); err != nil {
			t.Fatalf("re-encoding a decoded result: %v", err)
		}
		r2, err := decodeResult(&again)
		if err != nil {
			t.Fatalf("decoding a re-encoded result: %v", err)
		}
		// omitempty fields lose the difference between nil and empty,
		// as they do in every JSON report.
		if d := cmp.Diff(r, r2, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("decode/encode/decode differs:\n%s", d)
		}
	})
}

// stored is what an entry gives back for r: the layer's history text is not
// kept.
func stored(r *inventory.LayerResult) *inventory.LayerResult {
	c := *r
	c.Layer.CreatedBy, c.Layer.Comment = "", ""
	return &c
}

// TestEntriesArePrivate: entries and directories are readable by the user
// only, and an entry never holds the layer's created_by (which can carry a
// build argument's secret), even compressed.
func TestEntriesArePrivate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.MkdirAll(dir, 0o755); err != nil { // an older, world-readable cache
		t.Fatal(err)
	}
	c := open(t, dir, Options{})
	r := sample(2)
	r.Layer.CreatedBy = "|1 NPM_TOKEN=npm_4f9d8c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e RUN npm ci"
	r.Layer.Comment = "buildkit.dockerfile.v0 AKIAIOSFODNN7EXAMPLE"
	if err := c.Put(ctx, "sha256:secret|x@1", r); err != nil {
		t.Fatal(err)
	}
	var entries int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if mode := info.Mode().Perm(); (d.IsDir() && mode != 0o700) || (!d.IsDir() && mode != 0o600) {
			t.Errorf("%s: mode %o", p, mode)
		}
		if d.IsDir() || filepath.Base(p) == tagFile {
			return nil
		}
		entries++
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		plain, err := zstdDecode(raw[headerLen+len("sha256:secret|x@1"):])
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		for _, s := range []string{"npm_4f9d8c7b", "AKIAIOSFODNN7EXAMPLE", "NPM_TOKEN"} {
			if bytes.Contains(plain, []byte(s)) || bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s holds %q", p, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if entries != 1 {
		t.Errorf("%d entries, want 1", entries)
	}
}

func zstdDecode(b []byte) ([]byte, error) {
	d, err := zstd.NewReader(nil)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.DecodeAll(b, nil)
}

// bigResult is a layer result of one lockfile with n packages and n
// package.json files with one package each.
func bigResult(n int) *inventory.LayerResult {
	r := &inventory.LayerResult{Layer: inventory.Layer{DiffID: "sha256:big"}}
	lock := inventory.FileResult{Path: "/app/package-lock.json", Extractor: "lang/npm"}
	for i := range n {
		name := fmt.Sprintf("p%06d", i)
		p := inventory.Package{Name: name, Version: "1.0.0", Ecosystem: "npm", PURL: "pkg:npm/" + name + "@1.0.0",
			Licenses: []string{"MIT"}, Locations: []inventory.Location{{Path: "/app/node_modules/" + name + "/package.json", LayerDiffID: "sha256:big"}}}
		lock.Packages = append(lock.Packages, p)
		r.Files = append(r.Files, inventory.FileResult{Path: p.Locations[0].Path, Extractor: "lang/npm", Packages: []inventory.Package{p}})
	}
	r.Files = append(r.Files, lock)
	return r
}

// Put streams the entry to its file: it never holds the result's JSON (here
// ~20 MB) nor its compressed form whole. Before it did, it allocated more
// than twice the JSON's size.
func TestPutStreams(t *testing.T) {
	ctx := context.Background()
	c := open(t, t.TempDir(), Options{})
	r := bigResult(40_000)
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := c.Put(ctx, "big", r); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Put allocated %d bytes; the JSON is %d bytes", alloc, len(js))
	if alloc > uint64(len(js))/2 {
		t.Errorf("Put allocated %d bytes for a result of %d bytes of JSON", alloc, len(js))
	}
	got, ok := c.Get(ctx, "big")
	if !ok {
		t.Fatal("miss")
	}
	if d := cmp.Diff(r, got); d != "" {
		t.Errorf("round trip (-put +got):\n%s", d)
	}
}
