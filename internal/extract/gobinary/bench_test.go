package gobinary

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/gobinary/gobuildtest"
)

// BenchmarkExtract runs the extractor — build info, function table and its
// compaction — on a large real Go executable as the layer walk hands it
// over (a spilled file), and reports time and peak heap per MB of
// executable. The budget: a 100 MB binary in ≤ 300 ms and ≤ 64 MB.
//
//	DRYDOCK_BENCH_GOBINARY=/path/to/binary go test -run XXX -bench Extract ./internal/extract/gobinary
//
// Without the variable it reads Debian's docker-registry (a Go 1.19
// program, 20 MB), which .ci/run installs.
func BenchmarkExtract(b *testing.B) {
	path := os.Getenv("DRYDOCK_BENCH_GOBINARY")
	if path == "" {
		path = "/usr/bin/docker-registry"
	}
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("no Go binary to read (set DRYDOCK_BENCH_GOBINARY): %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	in := layer.Executable(path, nil)
	in.File = osFile{f, st.Size()}
	mb := float64(st.Size()) / (1 << 20)
	run := func() {
		inv, err := New().Extract(context.Background(), in)
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.GoBinaries) != 1 || inv.GoBinaries[0].Unknown != "" {
			b.Fatalf("functions not read: %+v", inv.GoBinaries)
		}
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		run()
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N)/mb, "ms/MB")
	b.ReportMetric(float64(gobuildtest.PeakHeap(run))/(1<<20)/mb, "peak-heap-MB/MB")
}

// osFile is a file on disk as the walker hands a spilled file over.
type osFile struct {
	*os.File
	size int64
}

var _ extract.File = osFile{}

func (f osFile) Size() int64 { return f.size }
func (f osFile) Open() (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(f.File, 0, f.size)), nil
}
func (f osFile) LocalPath() (string, error) { return f.Name(), nil }
