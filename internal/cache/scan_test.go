package cache_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/drydock-scan/drydock/internal/cache"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// counting wraps a LayerCache and counts hits and misses.
type counting struct {
	scan.LayerCache
	hits, misses, puts atomic.Int64
}

func (c *counting) Get(ctx context.Context, key string) (*inventory.LayerResult, bool) {
	r, ok := c.LayerCache.Get(ctx, key)
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return r, ok
}

func (c *counting) Put(ctx context.Context, key string, r *inventory.LayerResult) error {
	c.puts.Add(1)
	return c.LayerCache.Put(ctx, key, r)
}

// The interface is met without package cache importing package scan.
var _ scan.LayerCache = (*cache.Cache)(nil)

// buildImage writes a 3-layer OCI layout: the real Alpine 3.16.9 minirootfs
// (the repo's docker-archive fixture), an npm layer and a layer that deletes
// a file and adds a Python package.
func buildImage(t *testing.T) string {
	t.Helper()
	src, err := tarball.ImageFromPath(filepath.Join("..", "..", "testdata", "images", "alpine-3.16.9.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := src.Layers()
	if err != nil || len(ls) != 1 {
		t.Fatalf("alpine fixture layers: %d, %v", len(ls), err)
	}
	rc, err := ls[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(t.TempDir(), "alpine.tar.gz")
	f, err := os.Create(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{TarPath: base, CreatedBy: "ADD alpine-minirootfs-3.16.9-x86_64.tar.gz /"},
		testimage.Layer{CreatedBy: "RUN npm install", Files: map[string][]byte{
			"app/":                                 {},
			"app/package.json":                     []byte(`{"name":"app","version":"1.0.0","dependencies":{"lodash":"4.17.20"}}`),
			"app/node_modules/lodash/package.json": []byte(`{"name":"lodash","version":"4.17.20","license":"MIT"}`),
		}},
		testimage.Layer{CreatedBy: "RUN pip install requests && rm /etc/motd", Files: map[string][]byte{
			"etc/motd": testimage.Whiteout,
			"usr/lib/python3.10/site-packages/requests-2.31.0.dist-info/METADATA": []byte("Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n"),
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if err := testimage.WriteOCILayout(dir, "app:1", img); err != nil {
		t.Fatal(err)
	}
	return dir
}

func scanWith(ctx context.Context, ref string, c scan.LayerCache) (*result.Result, error) {
	return scan.Run(ctx, scan.Config{Reference: "oci:" + ref, Cache: c})
}

// TestConcurrentScansShareCache: two scans of one image at the same time,
// each with its own Cache on one directory (as two processes would have),
// both succeed with identical reports; a third scan then hits the cache for
// every layer and still gives the same report.
func TestConcurrentScansShareCache(t *testing.T) {
	ctx := context.Background()
	ref := buildImage(t)
	dir := t.TempDir()

	// The reference report, computed with no cache at all.
	want, err := scanWith(ctx, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Image.Layers) != 3 {
		t.Fatalf("image has %d layers, want 3", len(want.Image.Layers))
	}
	names := map[string]bool{}
	for _, p := range want.Packages {
		names[p.Ecosystem+"/"+p.Name] = true
	}
	for _, n := range []string{"apk/musl", "apk/busybox", "npm/lodash", "PyPI/requests"} {
		if !names[n] {
			t.Errorf("reference scan lacks %s", n)
		}
	}

	var wg sync.WaitGroup
	reps := make([]*result.Result, 2)
	errs := make([]error, 2)
	counters := make([]*counting, 2)
	for i := range 2 {
		c, err := cache.Open(dir, cache.Options{})
		if err != nil {
			t.Fatal(err)
		}
		counters[i] = &counting{LayerCache: c}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = scanWith(ctx, ref, counters[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent scan %d: %v", i, err)
		}
	}
	if d := cmp.Diff(reps[0], reps[1]); d != "" {
		t.Errorf("concurrent scans differ (-first +second):\n%s", d)
	}
	if d := cmp.Diff(want, reps[0]); d != "" {
		t.Errorf("cached scan differs from the uncached one (-uncached +cached):\n%s", d)
	}
	for i, c := range counters {
		if got := c.hits.Load() + c.misses.Load(); got != 3 {
			t.Errorf("scan %d looked up %d layers, want 3", i, got)
		}
	}

	c, err := cache.Open(dir, cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	third := &counting{LayerCache: c}
	rep, err := scanWith(ctx, ref, third)
	if err != nil {
		t.Fatal(err)
	}
	if h, m, p := third.hits.Load(), third.misses.Load(), third.puts.Load(); h != 3 || m != 0 || p != 0 {
		t.Errorf("third scan: %d hits, %d misses, %d puts; want 3, 0, 0", h, m, p)
	}
	if d := cmp.Diff(want, rep); d != "" {
		t.Errorf("scan from the cache differs (-uncached +cached):\n%s", d)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 3 {
		t.Errorf("cache holds %d entries, want 3", st.Entries)
	}
}
