package scan

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/walk"
)

// hitCache is a mapCache (claim_test.go) that counts hits.
type hitCache struct {
	mapCache
	hits int
}

func (c *hitCache) Get(ctx context.Context, key string) (*inventory.LayerResult, bool) {
	r, ok := c.mapCache.Get(ctx, key)
	if ok {
		c.mu.Lock()
		c.hits++
		c.mu.Unlock()
	}
	return r, ok
}

// TestSkipDirs: with --skip-dirs the packages under the skipped directory
// (a vulnerable lodash) are not reported, the hostile package.json next
// to them is never parsed (without the skip, the npm extractor fails on
// it with a warning), and a note per pattern says what was skipped. The
// layer cache keeps the two walks apart both ways.
func TestSkipDirs(t *testing.T) {
	lodash, err := os.ReadFile("../extract/npm/testdata/installed/app/node_modules/lodash/package.json")
	if err != nil {
		t.Fatal(err)
	}
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{Files: map[string][]byte{
			"app/package.json":                     []byte(`{"name":"shop","version":"1.0.0"}`),
			"app/node_modules/lodash/package.json": lodash,
			"app/node_modules/evil/package.json":   []byte("\x00{{{ not json " + strings.Repeat("\xff", 1<<20)),
		}, CreatedBy: "COPY app /app"},
		testimage.Layer{Files: map[string][]byte{"etc/motd": []byte("hi\n")}, CreatedBy: "COPY motd"},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/layout"
	if err := testimage.WriteOCILayout(dir, "t", img); err != nil {
		t.Fatal(err)
	}
	skip, err := walk.NewSkipper([]string{"**/node_modules", "/opt/none"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cache := &hitCache{}
	scanWith := func(sk *walk.Skipper) *result.Result {
		t.Helper()
		res, err := Run(context.Background(), Config{Reference: "oci:" + dir, Cache: cache, Skip: sk})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	names := func(res *result.Result) []string {
		var out []string
		for _, p := range res.Packages {
			out = append(out, p.Name+"@"+p.Version)
		}
		slices.Sort(out)
		return out
	}
	hostileNote := func(res *result.Result) bool {
		return slices.ContainsFunc(res.Notes, func(n inventory.Note) bool {
			return n.Path == "/app/node_modules/evil/package.json" && n.Extractor == "lang/npm" && n.Level == "warning"
		})
	}
	wantNotes := []inventory.Note{
		{Level: "warning", Path: "/app/node_modules/evil/package.json",
			Message: `--skip-dirs "**/node_modules": 2 files in 1 layer not read (not scanned for packages, secrets or malware)`},
		{Level: "info", Message: `--skip-dirs "/opt/none" matched no file in the image`},
	}
	skipNotes := func(res *result.Result) []inventory.Note {
		var out []inventory.Note
		for _, n := range res.Notes {
			if strings.HasPrefix(n.Message, "--skip-") {
				out = append(out, n)
			}
		}
		return out
	}

	for i, sk := range []*walk.Skipper{skip, nil, skip} {
		hits := cache.hits
		res := scanWith(sk)
		if sk == nil {
			if d := cmp.Diff([]string{"lodash@4.17.15", "shop@1.0.0"}, names(res)); d != "" {
				t.Errorf("run %d, no skips: packages (-want +got):\n%s", i, d)
			}
			if !hostileNote(res) {
				t.Errorf("run %d, no skips: the hostile package.json was not read (no npm warning): %+v", i, res.Notes)
			}
			if n := skipNotes(res); len(n) != 0 {
				t.Errorf("run %d, no skips: skip notes %+v", i, n)
			}
		} else {
			if d := cmp.Diff([]string{"shop@1.0.0"}, names(res)); d != "" {
				t.Errorf("run %d, skips: packages (-want +got):\n%s", i, d)
			}
			if hostileNote(res) {
				t.Errorf("run %d, skips: the hostile file under the skipped dir was parsed", i)
			}
			if d := cmp.Diff(wantNotes, skipNotes(res)); d != "" {
				t.Errorf("run %d, skips: notes (-want +got):\n%s", i, d)
			}
		}
		// Run 0 fills the cache; run 1 (no skips) must not be served
		// run 0's walks (every layer's key names the skips); run 2 is
		// served both layers of run 0, skip counts included.
		wantHits := []int{0, 0, 2}[i]
		if got := cache.hits - hits; got != wantHits {
			t.Errorf("run %d: %d cache hits, want %d", i, got, wantHits)
		}
	}
}
