package symbols

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/extract/gobinary/gobuildtest"
)

// benchBinary is the large real Go executable benchmarks read:
// $DRYDOCK_BENCH_GOBINARY, else Debian's docker-registry (a Go 1.19
// program, 20 MB; .ci/run installs it).
func benchBinary(b *testing.B) (*os.File, int64) {
	b.Helper()
	path := os.Getenv("DRYDOCK_BENCH_GOBINARY")
	if path == "" {
		path = "/usr/bin/docker-registry"
	}
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("no Go binary to read (set DRYDOCK_BENCH_GOBINARY): %v", err)
	}
	b.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return f, st.Size()
}

// BenchmarkRead reads the function table of a large real Go executable and
// reports time and peak heap per MB of executable (the budget: a 100 MB
// binary in ≤ 300 ms and ≤ 64 MB). The peak is sampled during one extra,
// untimed read.
//
//	DRYDOCK_BENCH_GOBINARY=/path/to/binary go test -run XXX -bench Read ./internal/extract/gobinary/symbols
func BenchmarkRead(b *testing.B) {
	f, size := benchBinary(b)
	mb := float64(size) / (1 << 20)
	var tab *Table
	b.SetBytes(size)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		var err error
		if tab, err = Read(context.Background(), f, size, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N)/mb, "ms/MB")
	b.ReportMetric(float64(tab.Funcs), "funcs")
	peak := gobuildtest.PeakHeap(func() {
		if _, err := Read(context.Background(), f, size, Options{}); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(peak)/(1<<20)/mb, "peak-heap-MB/MB")
}
