package apk

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/extracttest"
)

// recordText is an ordinary database record with files R: lines.
func recordText(i, files int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "C:Q1abcdefghijklmnopqrstuvwxyz0123=\nP:pkg%d\nV:1.2.%d-r0\nA:x86_64\nS:12345\nI:45678\nT:a package\nU:https://example.org/\nL:MIT\no:pkg%d\nm:Someone <a@example.org>\nt:1700000000\nc:0123456789abcdef\nD:so:libc.musl-x86_64.so.1\nF:usr/lib/pkg%d\n", i, i%50, i, i)
	for j := range files {
		fmt.Fprintf(&b, "R:file%d.so\na:0:0:755\nZ:Q1abcdefghijklmnopqrstuvwxyz0123=\n", j)
	}
	b.WriteString("\n")
	return b.String()
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		wantCount int
		wantFiles int // of the last package
		wantErrs  []string
	}{
		{
			name:      "packages past the limit are not read",
			data:      strings.Repeat("P:a\nV:1\n\n", maxPackages+3),
			wantCount: maxPackages,
			wantErrs:  []string{"line 30000: stopped after 10000 packages, the limit for one file: the rest is not read"},
		},
		{
			name:      "file paths past the limit are not read; the record read so far is kept",
			data:      "P:a\nV:1\nF:usr/lib\n" + strings.Repeat("R:f\n", maxFiles+2) + "\nP:b\nV:2\n",
			wantCount: 1,
			wantFiles: 1, // the same path, deduplicated
			wantErrs:  []string{"line 500004: stopped after 500000 file paths"},
		},
		{
			name:      "errors are counted past 20",
			data:      strings.Repeat("garbage\n", 50) + "\nP:a\nV:1\n",
			wantCount: 1,
			wantErrs:  []string{"line 20: not a", "and 30 more errors"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := extractData([]byte(tt.data))
			if len(inv.Packages) != tt.wantCount {
				t.Fatalf("got %d packages, want %d", len(inv.Packages), tt.wantCount)
			}
			if got := len(inv.Packages[len(inv.Packages)-1].Files); tt.wantFiles > 0 && got != tt.wantFiles {
				t.Errorf("last package has %d files, want %d", got, tt.wantFiles)
			}
			extracttest.CheckFileError(t, err, dbPath, tt.wantErrs...)
			if err != nil && len(err.Error()) > 4096 {
				t.Errorf("error of %d bytes: errors are not bounded", len(err.Error()))
			}
		})
	}
}

// TestLargeRecordLinear: a record is read line by line (not held whole as
// lines, as with the StanzaReader): a record of 200,000 files allocates a
// small multiple of its size (each line once, the paths, the slice).
func TestLargeRecordLinear(t *testing.T) {
	data := []byte(recordText(0, 200_000)) // ~8.6 MB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	inv, err := extractData(data)
	runtime.ReadMemStats(&after)
	if err != nil || len(inv.Packages) != 1 {
		t.Fatalf("%d packages, %v", len(inv.Packages), err)
	}
	if diff := cmp.Diff("/usr/lib/pkg0/file0.so", inv.Packages[0].Files[0]); diff != "" {
		t.Error(diff)
	}
	if n, limit := after.TotalAlloc-before.TotalAlloc, uint64(4*len(data)); n > limit {
		t.Errorf("parsing %d bytes allocated %d, want at most %d", len(data), n, limit)
	}
}

// BenchmarkParse parses databases of 1k and 10k packages of 20 files.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			var sb strings.Builder
			for i := range n {
				sb.WriteString(recordText(i, 20))
			}
			data := []byte(sb.String())
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := extractData(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
