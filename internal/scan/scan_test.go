package scan

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/testimage"
)

const alpineImage = "../../testdata/images/alpine-3.16.9.tar"

// TestDeterministicAcrossParallelism: the report does not depend on how
// many layers are read at once.
func TestDeterministicAcrossParallelism(t *testing.T) {
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{TarPath: mustLayer(t), CreatedBy: "ADD rootfs /"},
		testimage.Layer{Files: map[string][]byte{"etc/motd": []byte("hi\n")}, CreatedBy: "RUN echo hi > /etc/motd"},
		testimage.Layer{Files: map[string][]byte{"lib/apk/db/installed": testimage.Whiteout}, CreatedBy: "RUN rm -rf /lib/apk/db"},
		testimage.Layer{Files: map[string][]byte{"usr/share/x": []byte("x")}, CreatedBy: "COPY x /usr/share/x"},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/layout"
	if err := testimage.WriteOCILayout(dir, "t", img); err != nil {
		t.Fatal(err)
	}
	var first any
	for _, par := range []int{1, 2, 8} {
		rep, err := Run(context.Background(), Config{Reference: "oci:" + dir, Parallel: par})
		if err != nil {
			t.Fatalf("parallel %d: %v", par, err)
		}
		if len(rep.Image.Layers) != 4 {
			t.Fatalf("layers = %d, want 4", len(rep.Image.Layers))
		}
		if len(rep.Packages) != 0 {
			t.Errorf("parallel %d: %d packages survive the deleted database", par, len(rep.Packages))
		}
		if first == nil {
			first = rep
			continue
		}
		if diff := cmp.Diff(first, rep); diff != "" {
			t.Errorf("parallel %d differs from parallel 1:\n%s", par, diff)
		}
	}
}

func mustLayer(t *testing.T) string {
	t.Helper()
	// The fixture archive's only layer is the minirootfs tarball; let the
	// source package find it.
	return extractLayer(t, alpineImage)
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Reference: "docker-archive:" + alpineImage})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: err = %v, want context.Canceled", err)
	}
}

// countingCache is an in-memory LayerCache that counts what is stored.
type countingCache struct {
	mu  sync.Mutex
	put map[string]*inventory.LayerResult
}

func (c *countingCache) Get(context.Context, string) (*inventory.LayerResult, bool) {
	return nil, false
}
func (c *countingCache) Put(_ context.Context, key string, r *inventory.LayerResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.put == nil {
		c.put = map[string]*inventory.LayerResult{}
	}
	c.put[key] = r
	return nil
}

// TestBudgetCutLayersNotCached: a layer an extractor could not finish
// because the scan-wide budget ran out depends on the other layers of that
// scan; it is reported (a warning note) but never cached as the layer's
// result.
func TestBudgetCutLayersNotCached(t *testing.T) {
	var jar bytes.Buffer
	zw := zip.NewWriter(&jar)
	w, err := zw.Create("META-INF/maven/org.example/big/pom.properties")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("groupId=org.example\nartifactId=big\nversion=1.0\n# " + strings.Repeat("x", 64<<10) + "\n"))
	zw.Close()
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{Files: map[string][]byte{"etc/motd": []byte("hi\n")}, CreatedBy: "COPY motd"},
		testimage.Layer{Files: map[string][]byte{"app/big.jar": jar.Bytes()}, CreatedBy: "COPY big.jar"},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/layout"
	if err := testimage.WriteOCILayout(dir, "t", img); err != nil {
		t.Fatal(err)
	}
	c := &countingCache{}
	res, err := Run(context.Background(), Config{Reference: "oci:" + dir, Cache: c, Budget: extract.BudgetLimits{InflateBytes: 1 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	cutNote := false
	for _, n := range res.Notes {
		cutNote = cutNote || (n.Path == "/app/big.jar" && n.Level == "warning")
	}
	if !cutNote {
		t.Errorf("no warning for the jar the budget cut: %+v", res.Notes)
	}
	if len(c.put) != 1 {
		t.Errorf("%d layers cached, want 1 (only the layer the budget did not cut)", len(c.put))
	}
	for _, r := range c.put {
		if r.Layer.Index != 0 {
			t.Errorf("cached layer %d, want only layer 0", r.Layer.Index)
		}
	}
}
