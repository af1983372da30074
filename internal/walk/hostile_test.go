package walk

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"

	"github.com/drydock-scan/drydock/internal/extract"
)

// zstdBomb is a zstd layer holding one file of size zeros: a few KB that
// decompress to size bytes (issue 13, item 7: 16 GiB from a 524 KB blob).
func zstdBomb(t testing.TB, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "data/zero.img", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMaxLayerBytes: the bytes decompressed from one layer are capped, and
// hitting the cap is an error (not a silently shorter layer).
func TestMaxLayerBytes(t *testing.T) {
	blob := zstdBomb(t, 64<<20)
	raw := int64(64<<20 + 3*512) // header, data, end of archive (before padding)
	tests := []struct {
		name    string
		max     int64
		wantErr bool
	}{
		{"under the cap", 128 << 20, false},
		{"over the cap", 16 << 20, true},
		{"one byte short", raw - 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Layer(context.Background(), bytes.NewReader(blob), wantPaths("/etc/x"), func(context.Context, string, fs.FileMode, extract.File) error {
				return nil
			}, Options{TempDir: t.TempDir(), MaxLayerBytes: tt.max})
			if got := errors.Is(err, ErrLayerTooLarge); got != tt.wantErr {
				t.Fatalf("error %v; want ErrLayerTooLarge: %v", err, tt.wantErr)
			}
			if tt.wantErr && !strings.Contains(err.Error(), fmt.Sprintf("more than %d bytes (the limit per layer)", tt.max)) {
				t.Errorf("error %q does not give the limit", err)
			}
		})
	}
	if blobLen := len(blob); blobLen > 64<<10 {
		t.Errorf("the bomb is %d bytes compressed, want a few KB", blobLen)
	}
}

// spillLayer is a plain tar of files of size bytes each (spilled: over
// MemThreshold).
func spillLayer(t testing.TB, names []string, size int) []byte {
	var es []entry
	for _, n := range names {
		es = append(es, entry{name: n, body: strings.Repeat("z", size)})
	}
	return makeTar(t, es)
}

// TestSpillBudgetShared: layers walked at once share one budget of temp
// space. Two layers each spilling a file of 60% of it never hold more than
// it together (before, each had its own: 512 MiB × --parallel), and the
// temp dir never holds more either.
func TestSpillBudgetShared(t *testing.T) {
	const limit, size = 1000, 600
	budget := extract.NewBudget(extract.BudgetLimits{SpillBytes: limit})
	tmp := t.TempDir()
	var mu sync.Mutex
	peak, peakDisk := int64(0), int64(0)
	var got []string
	var wg sync.WaitGroup
	for i := range 4 {
		blob := spillLayer(t, []string{fmt.Sprintf("app/l%d-a.jar", i), fmt.Sprintf("app/l%d-b.jar", i)}, size)
		wg.Go(func() {
			_, err := Layer(context.Background(), bytes.NewReader(blob), wantAll(), func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
				mu.Lock()
				defer mu.Unlock()
				peak = max(peak, budget.Spilled())
				peakDisk = max(peakDisk, dirBytes(t, tmp))
				got = append(got, p)
				return nil
			}, Options{TempDir: tmp, MemThreshold: 100, Budget: budget})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(got) != 8 {
		t.Errorf("captured %d files, want 8: %v", len(got), got)
	}
	if peak > limit || peakDisk > limit {
		t.Errorf("peak spill %d bytes, on disk %d; the budget is %d", peak, peakDisk, limit)
	}
	if budget.Spilled() != 0 {
		t.Errorf("%d spill bytes still held", budget.Spilled())
	}
	assertEmptyDir(t, tmp)
}

// dirBytes is the bytes of the files under dir.
func dirBytes(t *testing.T, dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// TestSpillBudgetOwnLinkCache: a walk whose link cache holds spilled files
// gives their space back before it waits for more, rather than waiting for
// itself.
func TestSpillBudgetOwnLinkCache(t *testing.T) {
	budget := extract.NewBudget(extract.BudgetLimits{SpillBytes: 1000})
	blob := spillLayer(t, []string{"a.jar", "b.jar", "c.jar"}, 600)
	got, _, err := collect(t, blob, wantAll(), Options{TempDir: t.TempDir(), MemThreshold: 100, LinkCache: 10 << 20, Budget: budget})
	if err != nil || len(got) != 3 {
		t.Fatalf("captured %d files, %v", len(got), err)
	}
	if budget.Spilled() != 0 {
		t.Errorf("%d spill bytes still held", budget.Spilled())
	}
}

// TestSpillBudgetTooSmall: a file larger than the whole temp space is not
// captured, and the result says why.
func TestSpillBudgetTooSmall(t *testing.T) {
	budget := extract.NewBudget(extract.BudgetLimits{SpillBytes: 500})
	blob := spillLayer(t, []string{"big.jar"}, 600)
	got, res, err := collect(t, blob, wantAll(), Options{TempDir: t.TempDir(), MemThreshold: 100, Budget: budget})
	if err != nil || len(got) != 0 {
		t.Fatalf("captured %d files, %v", len(got), err)
	}
	want := []Skip{{"/big.jar", "file size 600 exceeds the scan's temp space of 500 bytes"}}
	if diff := cmp.Diff(want, res.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

// whiteoutLayer is a plain tar of n whiteouts spread over dirs of 1000.
func whiteoutLayer(t testing.TB, n int, distinct int) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := range n {
		j := i % distinct
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("srv/d%04d/.wh.file-%07d", j/1000, j), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "srv/d0000/.wh..wh..opq", Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMaxPaths: the whiteouts recorded for one layer are bounded; the ones
// past the bound are counted, and the first of them named, in a Skip.
// Duplicates do not count.
func TestMaxPaths(t *testing.T) {
	tests := []struct {
		name      string
		n, unique int
		opt       Options
		want      int // whiteouts + opaque dirs recorded
		wantSkip  []Skip
	}{
		{"under", 30, 30, Options{MaxPaths: 100}, 31, nil},
		{"duplicates make room", 3000, 20, Options{MaxPaths: 40}, 21, nil},
		{"over", 30, 30, Options{MaxPaths: 20}, 20, []Skip{{"/srv/d0000/file-0000020",
			"11 whiteouts and opaque dirs past the first 20 (or 16777216 bytes) of the layer are not recorded, from this one on: files they delete in lower layers may be reported"}}},
		{"over in bytes", 30, 30, Options{MaxPathBytes: 230}, 10, []Skip{{"/srv/d0000/file-0000010",
			"21 whiteouts and opaque dirs past the first 250000 (or 230 bytes) of the layer are not recorded, from this one on: files they delete in lower layers may be reported"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res, err := collect(t, whiteoutLayer(t, tt.n, tt.unique), wantAll(), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.Whiteouts) + len(res.OpaqueDirs); got != tt.want {
				t.Errorf("recorded %d paths, want %d", got, tt.want)
			}
			if diff := cmp.Diff(tt.wantSkip, res.Skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

// TestManyWhiteoutsMemory: a layer of 100,000 whiteouts keeps ~100 bytes
// of heap per whiteout (path and slice), not a map and a copy of each; with
// MaxPaths 30,000 it keeps a third of that.
func TestManyWhiteoutsMemory(t *testing.T) {
	blob := whiteoutLayer(t, 100_000, 100_000)
	for _, tt := range []struct {
		max, want int
	}{{0, 100_001}, {30_000, 30_000}} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, res, err := collect(t, blob, wantAll(), Options{MaxPaths: tt.max})
		runtime.GC()
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		n := len(res.Whiteouts) + len(res.OpaqueDirs)
		if n != tt.want {
			t.Errorf("MaxPaths %d: recorded %d, want %d", tt.max, n, tt.want)
		}
		if kept, limit := int64(after.HeapAlloc)-int64(before.HeapAlloc), int64(tt.want)*100; kept > limit {
			t.Errorf("MaxPaths %d: %d whiteouts keep %d bytes of heap, want at most %d", tt.max, n, kept, limit)
		}
		runtime.KeepAlive(res)
	}
}

// TestSkippedBounded: files not captured are listed up to 1000, then
// counted.
func TestSkippedBounded(t *testing.T) {
	var es []entry
	for i := range 1500 {
		es = append(es, entry{name: fmt.Sprintf("l%d", i), typ: tar.TypeLink, linkname: "nowhere"})
	}
	_, res, err := collect(t, makeTar(t, es), wantAll(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1001 || res.Skipped[1000] != (Skip{"/", "500 more wanted files not read (only the first 1000 are listed)"}) {
		t.Errorf("%d skipped, last %v", len(res.Skipped), res.Skipped[len(res.Skipped)-1])
	}
}

// TestLinkCacheEntries: the link cache counts an overhead per entry, so
// 100,000 empty captured files do not all stay in it (before, files of 0
// bytes were kept for free, without bound).
func TestLinkCacheEntries(t *testing.T) {
	lc := newLinkCache(1 << 20)
	for i := range 100_000 {
		lc.put(fmt.Sprintf("/f%d", i), &content{})
	}
	if n, limit := len(lc.m), (1<<20)/linkEntryOverhead; n > limit {
		t.Errorf("%d entries kept, want at most %d", n, limit)
	}
	if lc.get("/f99999") == nil || lc.get("/f0") != nil {
		t.Error("the newest entry must be kept, the oldest evicted")
	}
	if n := len(lc.order) - lc.head; n > 2*len(lc.m)+1024 {
		t.Errorf("queue of %d for %d entries", n, len(lc.m))
	}
	// One path put again and again: the queue does not grow with the puts.
	lc = newLinkCache(1 << 20)
	for range 100_000 {
		lc.put("/same", &content{size: 10})
	}
	if n := len(lc.order) - lc.head; len(lc.m) != 1 || n > 1025 || lc.used != 10+linkEntryOverhead {
		t.Errorf("one path put 100,000 times: %d entries, queue of %d, %d bytes used", len(lc.m), n, lc.used)
	}
}

// BenchmarkManySmallWanted walks a layer of 200,000 small wanted files (a
// node_modules of package.json) with the scan's 8 MiB link cache: each
// eviction is O(1). It was a copy of the whole eviction queue (~56k entries
// here), quadratic in the files: 5.3 s against 1.9 s on a 2-CPU EPYC.
func BenchmarkManySmallWanted(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte(`{"name":"p","version":"1.0.0","description":"a package of the benchmark, about as long as a real package.json","license":"MIT","main":"index.js"}`)
	for i := range 200_000 {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("app/node_modules/p%06d/package.json", i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	tw.Close()
	blob := buf.Bytes()
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Layer(context.Background(), bytes.NewReader(blob), wantAll(), func(context.Context, string, fs.FileMode, extract.File) error { return nil }, Options{LinkCache: 8 << 20}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWhiteouts walks layers of 100k and 400k whiteouts: time and
// bytes per entry stay flat.
func BenchmarkWhiteouts(b *testing.B) {
	for _, n := range []int{100_000, 400_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			blob := whiteoutLayer(b, n, n)
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := Layer(context.Background(), bytes.NewReader(blob), wantAll(), func(context.Context, string, fs.FileMode, extract.File) error { return nil }, Options{})
				if err != nil || len(res.Whiteouts) != n {
					b.Fatal(len(res.Whiteouts), err)
				}
			}
		})
	}
}

// BenchmarkZstdBomb walks a zstd layer of 256 MiB of zeros: the cost per
// decompressed byte (no memory, no disk) that DefaultMaxLayerBytes caps.
func BenchmarkZstdBomb(b *testing.B) {
	blob := zstdBomb(b, 256<<20)
	b.SetBytes(256 << 20)
	for b.Loop() {
		if _, err := Layer(context.Background(), bytes.NewReader(blob), wantPaths("/etc/x"), func(context.Context, string, fs.FileMode, extract.File) error { return nil }, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
