package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Clock is a settable clock for store.Options.Now: a fleet's scans can be
// dated over past days.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// FleetSpec describes a synthetic fleet.
type FleetSpec struct {
	Images           int
	Repositories     int // images are spread over them
	FindingsPerImage int
	// Days spreads the first scans over that many days before End, and
	// scans a third of the images again at End with a tenth of their
	// findings fixed (so the trend has a history and resolutions).
	Days int
	End  time.Time
	// Clock must be the store's Options.Now clock when Days > 0.
	Clock *Clock
	Seed  uint64
}

// Fleet saves a synthetic fleet of scans (deterministic for a seed): every
// image has a shared base layer and two layers of its own, packages in
// each, and findings of every severity, some known exploited, most with a
// fix. It returns the image IDs in the order saved.
func Fleet(t testing.TB, st *store.Store, spec FleetSpec) []int64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(spec.Seed, 42))
	repos := max(spec.Repositories, 1)
	var ids []int64
	results := make([]*result.Result, spec.Images)
	keys := make([]store.ImageKey, spec.Images)
	for i := range spec.Images {
		res := &result.Result{Scanners: []string{"sbom", "vuln", "secret"}}
		res.Image = inventory.Image{Digest: fmt.Sprintf("sha256:%064x", i+1), Layers: []inventory.Layer{
			{Index: 0, DiffID: "sha256:" + fmt.Sprintf("%064x", 1<<40+i%5), CreatedBy: "ADD rootfs.tar.gz / # base " + fmt.Sprint(i%5)},
			{Index: 1, DiffID: "sha256:" + fmt.Sprintf("%064x", 2<<40+i), CreatedBy: "RUN apt-get install -y libfoo"},
			{Index: 2, DiffID: "sha256:" + fmt.Sprintf("%064x", 3<<40+i), CreatedBy: "COPY app /app"},
		}}
		res.Database = &result.Database{BuiltAt: spec.End.Add(-24 * time.Hour)}
		for j := range spec.FindingsPerImage {
			layer := rng.IntN(3)
			pkg := finding.PackageRef{ID: fmt.Sprintf("pkg-%d-%d", i, j), Name: fmt.Sprintf("lib%d", rng.IntN(300)),
				Version: fmt.Sprintf("1.%d.%d", rng.IntN(10), rng.IntN(10)), Ecosystem: "Debian:12", LayerIndex: layer,
				LayerDiffID: res.Image.Layers[layer].DiffID}
			sev := vocab.SevMedium
			switch r := rng.IntN(100); {
			case r < 5:
				sev = vocab.SevCritical
			case r < 25:
				sev = vocab.SevHigh
			case r < 65:
				sev = vocab.SevMedium
			case r < 90:
				sev = vocab.SevLow
			default:
				sev = vocab.SevUnknown
			}
			f := finding.Finding{ID: fmt.Sprintf("CVE-2026-%05d", rng.IntN(2000)), Package: pkg, InstalledVersion: pkg.Version,
				Severity: sev, KEV: rng.IntN(100) == 0, Status: "fixed", Title: "A flaw in " + pkg.Name}
			if rng.IntN(10) < 6 {
				f.FixedVersion = "2.0.0"
			}
			res.Findings = append(res.Findings, f)
		}
		results[i] = res
		keys[i] = store.ImageKey{Repository: fmt.Sprintf("registry.example/team%d/app%d", i%repos%7, i%repos), Tags: []string{fmt.Sprintf("v%d", i)}}
	}
	save := func(i int) {
		saved, err := st.SaveScan(t.Context(), keys[i], results[i])
		if err != nil {
			t.Fatalf("saving image %d of the fleet: %v", i, err)
		}
		if len(ids) < spec.Images {
			ids = append(ids, saved.ImageID)
		}
	}
	for i := range spec.Images {
		if spec.Days > 0 && spec.Clock != nil {
			spec.Clock.Set(spec.End.Add(-time.Duration(spec.Days-i*spec.Days/max(spec.Images, 1)) * 24 * time.Hour))
		}
		save(i)
	}
	if spec.Days > 0 && spec.Clock != nil {
		spec.Clock.Set(spec.End)
		for i := 0; i < spec.Images; i += 3 {
			res := results[i]
			res.Findings = res.Findings[:len(res.Findings)-len(res.Findings)/10]
			save(i)
		}
	}
	return ids
}
