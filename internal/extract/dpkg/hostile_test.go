package dpkg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// descLine is one continuation line of a long Description.
const descLine = " lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod\n"

// longDescription is a status file whose second package has a Description
// of about size bytes of continuation lines (issue 13, item 5: 2/4/8 MB
// took 7.8/25/58 s, 200 MB never finished).
func longDescription(size int) []byte {
	var b strings.Builder
	b.WriteString("Package: a\nStatus: install ok installed\nVersion: 1\n\n")
	b.WriteString("Package: big\nStatus: install ok installed\nVersion: 2\nDescription: long\n")
	for b.Len() < size {
		b.WriteString(descLine)
	}
	b.WriteString("Homepage: https://example.org/\n\nPackage: c\nVersion: 3\n")
	return []byte(b.String())
}

// statusOf is a status file of n ordinary stanzas of about 1 KB.
func statusOf(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Package: pkg%06d\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 1234\n"+
			"Maintainer: Example <pkg@example.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: src%05d (1.2.3-4)\nVersion: 1.2.3-4+b1\n"+
			"Depends: libc6 (>= 2.34), libgcc-s1 (>= 3.0), zlib1g (>= 1:1.2.0)\nDescription: example library %d\n"+
			" This package provides the example library used by several programs of\n the example suite.\n .\n"+
			" The library offers parsing, formatting and validation of example data.\nHomepage: https://example.org/\n\n", i, i/3, i)
	}
	return []byte(b.String())
}

// allocated is the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLongDescriptionLinear: a Description's continuation lines are read and
// dropped, never joined, so parsing allocates about the size of the input
// (each line once), not its square. The old parser joined them with += and
// allocated ~1 GB for the 1 MB case, ~20 GB for 4 MB.
func TestLongDescriptionLinear(t *testing.T) {
	for _, size := range []int{1 << 20, 4 << 20} {
		t.Run(fmt.Sprintf("%dMiB", size>>20), func(t *testing.T) {
			data := longDescription(size)
			var names []string
			n := allocated(func() {
				inv, err := extractData(statusPath, data)
				if err != nil {
					t.Fatal(err)
				}
				names = extracttest.NameVersions(inv.Packages)
			})
			if diff := cmp.Diff([]string{"a@1", "big@2", "c@3"}, names); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if limit := uint64(3*len(data) + 1<<20); n > limit {
				t.Errorf("parsing %d bytes allocated %d bytes, want at most %d (linear)", len(data), n, limit)
			}
		})
	}
}

// retained is the heap a status file's packages keep.
func retained(t *testing.T, data []byte) (int, int64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	inv, err := extractData(statusPath, data)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(inv)
	return len(inv.Packages), int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestStatusMemoryBounded: what a status file leaves in memory is its
// packages, not the fields no one reads: the same packages with
// Descriptions 20 times longer keep no more memory.
func TestStatusMemoryBounded(t *testing.T) {
	short := statusOf(5000) // ~2.6 MB
	long := strings.ReplaceAll(string(short), " The library offers parsing, formatting and validation of example data.\n",
		strings.Repeat(" The library offers parsing, formatting and validation of example data.\n", 60))
	n1, r1 := retained(t, short)
	n2, r2 := retained(t, []byte(long))
	if n1 != 5000 || n2 != 5000 {
		t.Fatalf("got %d and %d packages, want 5000", n1, n2)
	}
	if len(long) < 5*len(short) {
		t.Fatalf("long file of %d bytes, want 5× %d", len(long), len(short))
	}
	if r2 > r1+r1/5 {
		t.Errorf("%d bytes keep %d bytes of heap, %d bytes keep %d: dropped fields are held", len(short), r1, len(long), r2)
	}
}

func TestLimits(t *testing.T) {
	many := func(n int, stanza string) string { return strings.Repeat(stanza, n) }
	tests := []struct {
		name      string
		path      string
		data      string
		wantCount int
		wantErrs  []string
	}{
		{
			name:      "packages past the limit are not read",
			path:      statusPath,
			data:      many(maxPackages+5, "Package: a\nVersion: 1\n\n"),
			wantCount: maxPackages,
			wantErrs:  []string{fmt.Sprintf("line %d: stopped after 10000 packages, the limit for one file: the rest is not read", 3*maxPackages)},
		},
		{
			name:      "duplicate fields are reported, 20 of them",
			path:      statusPath,
			data:      "Package: a\nVersion: 1\n" + many(maxFields, "X-F: 1\n") + "\nPackage: b\nVersion: 2\n",
			wantCount: 2,
			wantErrs:  []string{"line 4: duplicate field", "and 979 more errors"},
		},
		{
			name: "a stanza of too many distinct fields is malformed",
			path: statusPath,
			data: func() string {
				var b strings.Builder
				b.WriteString("Package: a\nVersion: 1\n")
				for i := range maxFields + 10 {
					fmt.Fprintf(&b, "X-F%d: 1\n", i)
				}
				return b.String() + "\nPackage: b\nVersion: 2\n"
			}(),
			wantCount: 1,
			wantErrs:  []string{"line 1001: more than 1000 fields in the stanza of line 1"},
		},
		{
			name:      "a kept field too long is malformed",
			path:      statusPath,
			data:      "Package: a\nVersion: 1\nMaintainer: x\n" + many(maxValue/4, " abc\n") + "\nPackage: b\nVersion: 2\n",
			wantCount: 1,
			wantErrs:  []string{"field value longer than 65536 bytes (field on line 3)"},
		},
		{
			name:      "errors are counted past 20",
			path:      statusPath,
			data:      many(100, "garbage\n") + "\nPackage: a\nVersion: 1\n",
			wantCount: 1,
			wantErrs:  []string{"line 20: not a", "and 81 more errors"},
		},
		{
			name:      "file list past the limit",
			path:      "/var/lib/dpkg/info/big.list",
			data:      many(maxListFiles+3, "/usr/x\n"),
			wantCount: 1,
			wantErrs:  []string{"line 100001: stopped after 100000 paths"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := extractData(tt.path, []byte(tt.data))
			if len(inv.Packages) != tt.wantCount {
				t.Errorf("got %d packages, want %d", len(inv.Packages), tt.wantCount)
			}
			extracttest.CheckFileError(t, err, tt.path, tt.wantErrs...)
			if err != nil && len(err.Error()) > 4096 {
				t.Errorf("error of %d bytes: errors are not bounded", len(err.Error()))
			}
		})
	}
}

// BenchmarkLongDescription parses status files with a Description of 1, 4
// and 16 MiB: MB/s stays the same (linear); before, each 4× took ~16× longer.
func BenchmarkLongDescription(b *testing.B) {
	for _, size := range []int{1 << 20, 4 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			data := longDescription(size)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := extractData(statusPath, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStatus parses status files of 5k and 50k ordinary packages (~3
// and ~30 MB).
func BenchmarkStatus(b *testing.B) {
	for _, n := range []int{5_000, 50_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			data := statusOf(n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseStatus(context.Background(), strings.NewReader(string(data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// quadraticParseStatus is ParseStatus as it was before it read line by line
// (whole stanzas, every field kept, continuations joined with +=), turning
// each stanza into packages with today's toPackage: the reference for the
// packages the new parser must find.
func quadraticParseStatus(ctx context.Context, r io.Reader) []inventory.Package {
	type oldField struct {
		value string
		line  int
	}
	var pkgs []inventory.Package
	sr := extract.NewStanzaReader(ctx, r, maxLine)
	sr.Separator = isBlank
	for sr.Next() {
		var (
			fields  map[string]*oldField
			last    *oldField
			first   int
			started bool
		)
		for _, l := range sr.Stanza() {
			line := l.Text
			switch {
			case line[0] == '#':
			case line[0] == ' ' || line[0] == '\t':
				if started && last != nil {
					last.value += "\n" + strings.TrimSpace(line)
				}
			default:
				if !started {
					started, first, fields = true, l.N, map[string]*oldField{}
				}
				name, value, ok := strings.Cut(line, ":")
				name = strings.TrimSpace(name)
				if !ok || name == "" || strings.ContainsAny(name, " \t") {
					last = nil
					break
				}
				key := strings.ToLower(name)
				if fields[key] != nil {
					last = &oldField{}
					break
				}
				last = &oldField{value: strings.TrimSpace(value), line: l.N}
				fields[key] = last
			}
		}
		if !started {
			continue
		}
		var s stanza
		s.reset(first)
		for key, f := range fields {
			if i, ok := keptField(key); ok {
				s.fields[i].set, s.fields[i].line = true, f.line
				s.fields[i].value.WriteString(f.value)
			}
		}
		if p, ok, _ := toPackage(&s); ok {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// FuzzSamePackagesAsBefore: the line-by-line parser finds the packages the
// old one found, for any input within the new limits.
func FuzzSamePackagesAsBefore(f *testing.F) {
	f.Add(extracttest.Testdata(f, "debian-12.15-status")[:4000])
	f.Add([]byte("Package: a\nVersion: 1\nVersion: 2\n cont\nSource: s\n (1)\n\n# c\n \tx\nPackage: b\nStatus: install ok installed\nVersion: 2\n\n"))
	f.Add([]byte("Package: a\r\nMaintainer: x\r\n y\r\n\t.\r\nVersion: 1\n \t \nPackage: b\nVersion: 1 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := quadraticParseStatus(context.Background(), bytes.NewReader(b))
		got, _ := ParseStatus(context.Background(), bytes.NewReader(b))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ParseStatus(%q) (-before +now):\n%s", b, diff)
		}
	})
}
