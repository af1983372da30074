package extract_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"

	"github.com/drydock-scan/drydock/internal/extract"
)

func TestBudgetSpill(t *testing.T) {
	b := extract.NewBudget(extract.BudgetLimits{SpillBytes: 100})
	ctx := context.Background()
	if err := b.ReserveSpill(ctx, 101); !errors.Is(err, extract.ErrBudget) {
		t.Errorf("ReserveSpill over the limit: %v, want ErrBudget", err)
	}
	if err := b.ReserveSpill(ctx, 60); err != nil {
		t.Fatal(err)
	}
	if b.TryReserveSpill(41) {
		t.Error("TryReserveSpill(41) with 40 left succeeded")
	}
	if !b.TryReserveSpill(40) || b.Spilled() != 100 {
		t.Fatalf("TryReserveSpill(40) with 40 left failed; spilled %d", b.Spilled())
	}

	// A waiter gets its bytes when enough are released, not before.
	done := make(chan error)
	go func() { done <- b.ReserveSpill(ctx, 50) }()
	b.ReleaseSpill(40) // 60 held: 50 does not fit
	b.ReleaseSpill(60) // 0 held
	if err := <-done; err != nil || b.Spilled() != 50 {
		t.Fatalf("waiter: %v, spilled %d; want nil, 50", err, b.Spilled())
	}

	// A waiter stops when its context ends.
	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- b.ReserveSpill(cctx, 60) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled waiter: %v", err)
	}
	b.ReleaseSpill(50)
	if b.Spilled() != 0 {
		t.Errorf("spilled %d after releasing all", b.Spilled())
	}
}

// TestBudgetSpillConcurrent: many holders never hold more than the limit
// together (run with -race).
func TestBudgetSpillConcurrent(t *testing.T) {
	b := extract.NewBudget(extract.BudgetLimits{SpillBytes: 100})
	var mu sync.Mutex
	held, peak := int64(0), int64(0)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 200 {
				n := int64(1 + (i*7+j*13)%60)
				if err := b.ReserveSpill(context.Background(), n); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				held += n
				peak = max(peak, held)
				mu.Unlock()
				mu.Lock()
				held -= n
				mu.Unlock()
				b.ReleaseSpill(n)
			}
		})
	}
	wg.Wait()
	if peak > 100 || b.Spilled() != 0 {
		t.Errorf("peak %d (limit 100), %d left held", peak, b.Spilled())
	}
}

func TestBudgetInflate(t *testing.T) {
	b := extract.NewBudget(extract.BudgetLimits{InflateBytes: 100})
	if !b.TakeInflate(70) || b.TakeInflate(31) || !b.TakeInflate(30) {
		t.Fatalf("take 70, 31, 30 of 100: inflated %d", b.Inflated())
	}
	b.ReturnInflate(20)
	if b.Inflated() != 80 || !b.TakeInflate(20) || b.TakeInflate(1) {
		t.Errorf("after returning 20: inflated %d", b.Inflated())
	}
}

// TestNilBudget: a nil Budget (an extractor run alone) limits nothing.
func TestNilBudget(t *testing.T) {
	var b *extract.Budget
	if err := b.ReserveSpill(context.Background(), 1<<50); err != nil || !b.TryReserveSpill(1<<50) || !b.TakeInflate(1<<50) {
		t.Error("nil budget refused")
	}
	b.ReleaseSpill(1)
	b.ReturnInflate(1)
	if b.SpillLimit() != math.MaxInt64 || b.InflateLimit() != math.MaxInt64 || b.TempDir() == "" || b.Spilled() != 0 || b.Inflated() != 0 {
		t.Error("nil budget limits")
	}
}

func TestBudgetDefaults(t *testing.T) {
	b := extract.NewBudget(extract.BudgetLimits{TempDir: "/x"})
	if b.SpillLimit() != extract.DefaultSpillBytes || b.InflateLimit() != extract.DefaultInflateBytes || b.TempDir() != "/x" {
		t.Errorf("defaults: %d, %d, %q", b.SpillLimit(), b.InflateLimit(), b.TempDir())
	}
}

func TestBudgetPackages(t *testing.T) {
	b := extract.NewBudget(extract.BudgetLimits{Packages: 5})
	type take struct {
		layer       string
		n           int
		wantGranted int
		wantFirst   bool
	}
	steps := []take{
		{"A", 2, 2, false},
		{"A", 0, 0, false},
		{"B", 2, 2, false},
		{"A", 3, 1, true},  // the limit is reached in A: A's first cut
		{"A", 1, 0, false}, // A has said so already
		{"B", 4, 0, true},  // B's first cut
		{"B", 1, 0, false},
		{"C", 1, 0, true},
	}
	for i, s := range steps {
		g, first := b.TakePackages(s.layer, s.n)
		if g != s.wantGranted || first != s.wantFirst {
			t.Errorf("step %d: TakePackages(%q, %d) = %d, %t; want %d, %t", i, s.layer, s.n, g, first, s.wantGranted, s.wantFirst)
		}
	}
	if left := b.PackagesLeft(); left != 0 {
		t.Errorf("PackagesLeft = %d, want 0", left)
	}
	if d := extract.NewBudget(extract.BudgetLimits{}); d.PackageLimit() != extract.DefaultPackages {
		t.Errorf("default package limit %d, want %d", d.PackageLimit(), extract.DefaultPackages)
	}
	var none *extract.Budget
	if g, first := none.TakePackages("A", 1<<30); g != 1<<30 || first || none.PackagesLeft() != math.MaxInt {
		t.Errorf("nil budget: granted %d, first %t, left %d", g, first, none.PackagesLeft())
	}
}
