package extract

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
)

// Defaults for BudgetLimits fields left zero.
const (
	// DefaultSpillBytes is the temp space one scan may hold at once: files the
	// walker spilled to disk and archives extractors unpacked to temp files,
	// in all layers read at once together. It equals the walker's largest
	// captured file, so that one such file always fits once the others are
	// done.
	DefaultSpillBytes = 512 << 20
	// DefaultInflateBytes is what extractors may decompress from archives
	// (jar, war, ear entries) in one scan, in all layers together. Real
	// images inflate a few hundred MB at most (a Jenkins image with 200
	// plugins, whose nested jars are deflated, about 500 MB); a bomb stops
	// here however many archives it spreads over.
	DefaultInflateBytes = 2 << 30
	// DefaultPackages is how many packages the extractors that take them
	// from the budget (the language extractors: see LimitPackages) may
	// report in one scan, in all layers together. Every package costs memory until the report is written
	// (~1 KB each, whatever the parser); real images hold a few thousand
	// npm packages, the largest monorepo images a few tens of thousands.
	DefaultPackages = 50_000
)

// ErrBudget is wrapped by the errors of a Budget that cannot give what is
// asked: the request is larger than the whole budget, or what is left.
var ErrBudget = errors.New("scan budget exhausted")

// BudgetLimits are a Budget's limits; zero fields take the defaults.
type BudgetLimits struct {
	// SpillBytes bounds the bytes of temp files held at once (default
	// DefaultSpillBytes).
	SpillBytes int64
	// InflateBytes bounds the bytes decompressed from archives by
	// extractors in the whole scan (default DefaultInflateBytes).
	InflateBytes int64
	// TempDir is where temp files go (default os.TempDir()).
	TempDir string
	// Packages bounds the packages reported in the whole scan by the
	// extractors that take them from the budget (default DefaultPackages).
	Packages int
}

// Budget is what one scan may spend in total on the resources that would
// otherwise grow with the number of layers read at once and the number of
// files: temp space on disk and bytes inflated from archives. One Budget is
// made per scan (NewBudget) and handed to every layer walk (walk.Options)
// and every extractor (Input.Budget); it is safe for concurrent use.
//
// A nil *Budget sets no shared limit: every method works on it, reserving
// and taking whatever is asked (the per-file limits of the walker and the
// extractors still apply).
type Budget struct {
	limits BudgetLimits

	mu       sync.Mutex
	spilled  int64           // spill bytes held
	inflated int64           // bytes inflated so far
	freed    chan struct{}   // closed when spill bytes are released; nil when no one waits
	packages int             // packages taken so far
	cutIn    map[string]bool // layers (diff_id) in which packages were cut
}

// NewBudget returns a budget with limits l (zero fields: the defaults).
func NewBudget(l BudgetLimits) *Budget {
	if l.SpillBytes <= 0 {
		l.SpillBytes = DefaultSpillBytes
	}
	if l.InflateBytes <= 0 {
		l.InflateBytes = DefaultInflateBytes
	}
	if l.Packages <= 0 {
		l.Packages = DefaultPackages
	}
	return &Budget{limits: l}
}

// TempDir is the directory for temp files (os.TempDir() when unset).
func (b *Budget) TempDir() string {
	if b == nil || b.limits.TempDir == "" {
		return os.TempDir()
	}
	return b.limits.TempDir
}

// SpillLimit is the temp space the scan may hold at once (no limit on a nil
// Budget).
func (b *Budget) SpillLimit() int64 {
	if b == nil {
		return math.MaxInt64
	}
	return b.limits.SpillBytes
}

// InflateLimit is the bytes the scan may inflate (no limit on a nil Budget).
func (b *Budget) InflateLimit() int64 {
	if b == nil {
		return math.MaxInt64
	}
	return b.limits.InflateBytes
}

// ReserveSpill takes n bytes of temp space, waiting while other holders use
// it: the layers read at once share the space instead of each having its
// own. It fails at once, wrapping ErrBudget, when n is over the whole
// SpillLimit, and with ctx's error when ctx ends while waiting.
//
// A caller must not wait while it holds spill bytes itself (release them
// first, or use TryReserveSpill): two holders waiting for each other would
// never wake.
func (b *Budget) ReserveSpill(ctx context.Context, n int64) error {
	if b == nil || n <= 0 {
		return nil
	}
	if n > b.limits.SpillBytes {
		return fmt.Errorf("%w: %d bytes of temp space asked, the scan may use %d", ErrBudget, n, b.limits.SpillBytes)
	}
	for {
		b.mu.Lock()
		if b.spilled+n <= b.limits.SpillBytes {
			b.spilled += n
			b.mu.Unlock()
			return nil
		}
		if b.freed == nil {
			b.freed = make(chan struct{})
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-freed:
		}
	}
}

// TryReserveSpill takes n bytes of temp space if they are free now, and
// reports whether it did. Extractors, which run while the walker holds the
// file they read, use it rather than ReserveSpill.
func (b *Budget) TryReserveSpill(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spilled+n > b.limits.SpillBytes {
		return false
	}
	b.spilled += n
	return true
}

// ReleaseSpill gives back n bytes taken by ReserveSpill or TryReserveSpill.
func (b *Budget) ReleaseSpill(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spilled = max(b.spilled-n, 0)
	if b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
}

// Spilled is the temp space held now.
func (b *Budget) Spilled() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spilled
}

// TakeInflate takes n bytes from what the scan may still inflate and
// reports whether it could; when it cannot, nothing is taken (the caller
// stops and says so). A caller that inflated less than it took gives the
// rest back with ReturnInflate.
func (b *Budget) TakeInflate(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inflated+n > b.limits.InflateBytes {
		return false
	}
	b.inflated += n
	return true
}

// ReturnInflate gives back n bytes taken by TakeInflate and not inflated.
func (b *Budget) ReturnInflate(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflated = max(b.inflated-n, 0)
}

// Inflated is the bytes inflated so far.
func (b *Budget) Inflated() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inflated
}

// PackageLimit is the packages the scan may report (no limit on a nil
// Budget).
func (b *Budget) PackageLimit() int {
	if b == nil {
		return math.MaxInt
	}
	return b.limits.Packages
}

// PackagesLeft is how many more packages the scan may report.
func (b *Budget) PackagesLeft() int {
	if b == nil {
		return math.MaxInt
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limits.Packages - b.packages
}

// TakePackages takes n packages found in a file of the layer with the given
// diff_id, and returns how many of them (the first ones) the caller may
// report: n, or fewer once the scan's limit is reached. When some are cut,
// first tells whether this is the first cut in that layer: that caller
// reports it, with an error wrapping ErrBudget (a warning naming the file,
// and the layer, which then depends on the other layers, is not cached);
// the later package files of the same layer are cut without another note
// (the first one says so), so that 150,000 files over the limit make one
// warning, not 150,000.
func (b *Budget) TakePackages(layer string, n int) (granted int, first bool) {
	if b == nil || n <= 0 {
		return max(n, 0), false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	granted = min(n, b.limits.Packages-b.packages)
	b.packages += granted
	if granted == n {
		return n, false
	}
	if b.cutIn[layer] {
		return granted, false
	}
	if b.cutIn == nil {
		b.cutIn = map[string]bool{}
	}
	b.cutIn[layer] = true
	return granted, true
}
