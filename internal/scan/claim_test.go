package scan

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// claimingCache is an in-memory LayerCache and LayerClaimer: one mutex per
// key. It counts the walks (Puts) per key and holds the first Put of the
// shared layer's key until a second scan shows up for that key — waiting on its claim, or
// (were claims not used) looking the key up — so that the two scans
// overlap on the shared layer whatever the scheduling.
type claimingCache struct {
	mu       sync.Mutex
	locks    map[string]chan struct{} // a claimed key's channel, closed on release
	stored   map[string]*inventory.LayerResult
	puts     map[string]int
	gets     map[string]int
	waiting  map[string]int
	claims   int
	releases int
	hold     string        // the key whose first Put waits for a second scan
	changed  chan struct{} // closed and replaced on every change
}

func newClaimingCache() *claimingCache {
	return &claimingCache{locks: map[string]chan struct{}{}, stored: map[string]*inventory.LayerResult{},
		puts: map[string]int{}, gets: map[string]int{}, waiting: map[string]int{}, changed: make(chan struct{})}
}

// signal wakes whoever waits for a change; c.mu is held.
func (c *claimingCache) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *claimingCache) Claim(ctx context.Context, key string) (func(), error) {
	c.mu.Lock()
	c.claims++
	for {
		held, ok := c.locks[key]
		if !ok {
			break
		}
		c.waiting[key]++
		c.signal()
		c.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			c.mu.Lock()
			c.waiting[key]--
			c.mu.Unlock()
			return nil, ctx.Err()
		}
		c.mu.Lock()
		c.waiting[key]--
	}
	ch := make(chan struct{})
	c.locks[key] = ch
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.releases++
			delete(c.locks, key)
			close(ch)
		})
	}, nil
}

func (c *claimingCache) Get(_ context.Context, key string) (*inventory.LayerResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets[key]++
	c.signal()
	r, ok := c.stored[key]
	if !ok {
		return nil, false
	}
	cp := *r
	return &cp, true
}

func (c *claimingCache) Put(ctx context.Context, key string, r *inventory.LayerResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts[key]++
	// Hold the first walk's result until another scan is at this key.
	deadline := time.After(10 * time.Second)
	for key == c.hold && c.waiting[key] == 0 && c.gets[key] < 2 {
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			c.mu.Lock()
			return errors.New("no second scan came to this layer within 10s")
		case <-ctx.Done():
			c.mu.Lock()
			return ctx.Err()
		}
		c.mu.Lock()
	}
	if _, ok := c.stored[key]; !ok {
		c.stored[key] = r
	}
	return nil
}

// TestSharedLayerWalkedOnce: two scans run at the same moment on two images
// that share their base layer; with a cache that can be claimed, the base
// layer is walked once (the second scan waits, then reads the cache) and
// each image's own layer once; both results equal an uncached scan's.
func TestSharedLayerWalkedOnce(t *testing.T) {
	base := mustLayer(t)
	var (
		refs   []string
		diffID string
	)
	for _, app := range []string{"one", "two"} {
		img, err := testimage.Build(testimage.Config{},
			testimage.Layer{TarPath: base, CreatedBy: "ADD rootfs /"},
			testimage.Layer{Files: map[string][]byte{"app/" + app: []byte(app)}, CreatedBy: "COPY " + app + " /app/"})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir() + "/layout"
		if err := testimage.WriteOCILayout(dir, app, img); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, "oci:"+dir)
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		d, err := ls[0].DiffID()
		if err != nil {
			t.Fatal(err)
		}
		diffID = d.String()
	}
	c := newClaimingCache()
	c.hold = diffID + "|" + ExtractorKey(DefaultExtractors())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	got := make([]any, len(refs))
	errs := make([]error, len(refs))
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = Run(ctx, Config{Reference: ref, Cache: c, Parallel: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("scan %d: %v", i, err)
		}
	}
	shared := 0
	for key, n := range c.puts {
		if n != 1 {
			t.Errorf("layer %s walked %d times, want once", key, n)
		}
		if c.gets[key] == 2 {
			shared++
		}
	}
	if len(c.puts) != 3 || shared != 1 {
		t.Errorf("%d layers walked (%d looked up by both scans), want 3 (1): %v", len(c.puts), shared, c.puts)
	}
	if c.claims != 4 || c.releases != 4 {
		t.Errorf("%d claims, %d releases; want 4 and 4", c.claims, c.releases)
	}
	for i, ref := range refs {
		want, err := Run(ctx, Config{Reference: ref})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got[i]); d != "" {
			t.Errorf("scan of %s with the shared cache differs from an uncached scan (-uncached +cached):\n%s", ref, d)
		}
	}
}

// failingClaimer is a LayerCache whose claims fail or wait forever.
type failingClaimer struct {
	countingCache
	err error // nil: wait for ctx
}

func (f *failingClaimer) Claim(ctx context.Context, key string) (func(), error) {
	if f.err != nil {
		return nil, f.err
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestClaimFailures: a claim that fails for another reason than the scan's
// context (the database went away) does not fail the scan — the layer is
// analysed unclaimed; a scan cancelled while it waits for a claim stops
// with the context's error.
func TestClaimFailures(t *testing.T) {
	t.Run("claim error", func(t *testing.T) {
		c := &failingClaimer{err: errors.New("connection refused")}
		res, err := Run(context.Background(), Config{Reference: "docker-archive:" + alpineImage, Cache: c})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Packages) != 14 || len(c.put) != 1 {
			t.Errorf("%d packages, %d layers stored; want 14 and 1", len(res.Packages), len(c.put))
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := Run(ctx, Config{Reference: "docker-archive:" + alpineImage, Cache: &failingClaimer{}})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for another scan") {
			t.Errorf("err = %v, want the deadline while waiting for another scan", err)
		}
	})
}

// mapCache is an in-memory LayerCache.
type mapCache struct {
	mu sync.Mutex
	m  map[string]*inventory.LayerResult
}

func (c *mapCache) Get(_ context.Context, key string) (*inventory.LayerResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[key]
	if !ok {
		return nil, false
	}
	cp := *r
	return &cp, true
}

func (c *mapCache) Put(_ context.Context, key string, r *inventory.LayerResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*inventory.LayerResult{}
	}
	c.m[key] = r
	return nil
}

// TestCacheHitFetchesNoBlob: a layer found in the cache is not fetched
// from the registry — a scan of an image whose layers are all cached
// completes while the registry would never answer a GET of their blobs.
func TestCacheHitFetchesNoBlob(t *testing.T) {
	reg := testimage.StartMisbehavingRegistry(t)
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{TarPath: mustLayer(t), CreatedBy: "ADD rootfs /"},
		testimage.Layer{Files: map[string][]byte{"etc/motd": []byte("hi\n")}, CreatedBy: "COPY motd /etc/"})
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/team/app:1"
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var blobs []string
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, d.String())
	}
	c := &mapCache{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, err := Run(ctx, Config{Reference: ref, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.m) != 2 {
		t.Fatalf("%d layers cached, want 2", len(c.m))
	}
	reg.Misbehave(testimage.NoAnswer, func(r *http.Request) bool {
		return slices.ContainsFunc(blobs, func(d string) bool { return testimage.IsBlob(d)(r) })
	})
	got, err := Run(ctx, Config{Reference: ref, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.Hits(); n != 0 {
		t.Errorf("%d GETs of layer blobs with every layer cached, want 0", n)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("the cached scan differs (-first +cached):\n%s", d)
	}
}
