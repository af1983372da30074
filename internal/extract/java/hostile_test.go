package java

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
)

// manifestBomb is a jar whose MANIFEST.MF is size bytes, nearly all of it
// continuation lines (issue 13, item 5: a 1.2 KB jar whose 1 MiB manifest
// took ~25 s of CPU; 8 nested copies did not finish in 300 s).
func manifestBomb(t testing.TB, size int) []byte {
	head := "Manifest-Version: 1.0\nImplementation-Version: 1.0\nImplementation-Title: bomb\n"
	return buildZip(t, entry{name: "META-INF/MANIFEST.MF", data: []byte(head + strings.Repeat(" a\n", (size-len(head))/3))})
}

// pomBomb is a jar whose pom.properties is size bytes of backslash
// continuation lines.
func pomBomb(t testing.TB, size int) []byte {
	head := "groupId=org.example\nartifactId=bomb\nversion=1.0\ndescription=a\\\n"
	return buildZip(t, entry{name: "META-INF/maven/org.example/bomb/pom.properties", data: []byte(head + strings.Repeat("a\\\n", (size-len(head)-4)/3) + "end\n")})
}

// nestedCopies is a jar holding n stored copies of inner.
func nestedCopies(t testing.TB, inner []byte, n int) []byte {
	var es []entry
	for i := range n {
		es = append(es, entry{name: fmt.Sprintf("lib/copy%d-1.0.jar", i), data: inner, store: true})
	}
	return buildZip(t, es...)
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestContinuationLinear: continuation lines are appended to one buffer, so
// a 1 MiB manifest or pom.properties of them allocates a few MiB (the old
// string += allocated tens of GB for the same file), and 8 nested copies
// eight times that.
func TestContinuationLinear(t *testing.T) {
	manifest, pom := manifestBomb(t, 1<<20), pomBomb(t, 1<<20)
	tests := []struct {
		name  string
		jar   []byte
		want  []string
		limit uint64
	}{
		{"manifest", manifest, []string{"bomb@1.0"}, 8 << 20},
		{"manifest, 8 nested copies", nestedCopies(t, manifest, 8), []string{"bomb@1.0", "copy0@1.0", "copy1@1.0", "copy2@1.0", "copy3@1.0", "copy4@1.0", "copy5@1.0", "copy6@1.0", "copy7@1.0"}, 64 << 20},
		{"pom.properties", pom, []string{"org.example:bomb@1.0"}, 8 << 20},
		{"pom.properties, 8 nested copies", nestedCopies(t, pom, 8), append([]string{"bomb@1.0"}, slices.Repeat([]string{"org.example:bomb@1.0"}, 8)...), 64 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			n := allocated(func() {
				inv := extracttest.Extract(t, New(), layer.Input("/app/bomb-1.0.jar", tt.jar))
				got = extracttest.NameVersions(inv.Packages)
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if n > tt.limit {
				t.Errorf("a %d-byte jar allocated %d bytes, want at most %d", len(tt.jar), n, tt.limit)
			}
		})
	}
}

// zerosJar is a jar with a nested "jar" of n zero bytes, deflated.
func zerosJar(t testing.TB, n int) []byte {
	return buildZip(t, pomEntry("com.example", "z", "1.0"), entry{name: "lib/zeros.jar", data: make([]byte, n)})
}

// TestScanInflateBudget: the bytes inflated from archives come from one
// budget for the whole scan. Eight jars that each stay under the per-file
// limit inflate no more than the scan's budget together; before, each had
// its own 1 GiB (8 bomb jars in a 1,237-byte layer inflated ~8 GiB).
func TestScanInflateBudget(t *testing.T) {
	budget := extract.NewBudget(extract.BudgetLimits{InflateBytes: 10 << 20})
	jar := zerosJar(t, 4<<20)
	var guarded []string
	for i := range 8 {
		in := layer.Input(fmt.Sprintf("/app/bomb%d.jar", i), jar)
		in.Budget = budget
		inv, err := New().Extract(context.Background(), in)
		if len(inv.Packages) != 1 {
			t.Errorf("jar %d: %d packages, want 1 (from pom.properties, read first)", i, len(inv.Packages))
		}
		if err != nil && strings.Contains(err.Error(), "zip bomb guard: the scan's budget of 10485760 decompressed bytes is spent") {
			extracttest.CheckFileError(t, err, in.Path)
			if !errors.Is(err, extract.ErrBudget) {
				t.Errorf("%v does not wrap extract.ErrBudget", err)
			}
			guarded = append(guarded, in.Path)
		}
	}
	if got := budget.Inflated(); got > 10<<20 {
		t.Errorf("inflated %d bytes, over the scan's budget of %d", got, 10<<20)
	}
	if diff := cmp.Diff([]string{"/app/bomb2.jar", "/app/bomb3.jar", "/app/bomb4.jar", "/app/bomb5.jar", "/app/bomb6.jar", "/app/bomb7.jar"}, guarded); diff != "" {
		t.Errorf("jars stopped by the budget (-want +got):\n%s", diff)
	}
}

// TestStoredNestedInPlace: a stored nested jar (Spring Boot) is read as a
// section of the outer one: only its metadata is inflated, nothing is
// copied to memory or to a temp file.
func TestStoredNestedInPlace(t *testing.T) {
	budget := extract.NewBudget(extract.BudgetLimits{SpillBytes: 1, TempDir: t.TempDir()})
	big := buildZip(t, pomEntry("com.example", "lib", "2.0"), entry{name: "data.bin", data: bytes.Repeat([]byte("x"), 8<<20)})
	jar := buildZip(t, pomEntry("com.example", "app", "1.0"), entry{name: "BOOT-INF/lib/lib-2.0.jar", data: big, store: true})
	in := layer.Input("/app/app.jar", jar)
	in.Budget = budget
	// MaxInMemory 0: a copy of the nested jar would need temp space, which
	// the budget does not have.
	e := NewWithLimits(Limits{MaxDepth: 8, MaxTotalBytes: 1 << 30, MaxEntryBytes: 1 << 30, MaxEntries: 1000, MaxInMemory: 0, MaxMetaFile: 1 << 20})
	inv := extracttest.Extract(t, e, in)
	if diff := cmp.Diff([]string{"com.example:app@1.0", "com.example:lib@2.0"}, extracttest.NameVersions(inv.Packages)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if got := budget.Inflated(); got > 1<<10 {
		t.Errorf("inflated %d bytes: the stored jar was copied", got)
	}
}

// TestNestedTempSpace: a deflated nested archive too large for memory goes
// to a temp file in the budget's TempDir, which takes its size from the
// scan's temp space: when that is in use, the archive is skipped with a
// guard error; afterwards nothing is left held or on disk.
func TestNestedTempSpace(t *testing.T) {
	inner := log4jCore2141(t)
	jar := buildZip(t, pomEntry("com.example", "outer", "1.0"), entry{name: "lib/log4j-core-2.14.1.jar", data: inner})
	limits := Limits{MaxDepth: 8, MaxTotalBytes: 1 << 30, MaxEntryBytes: 1 << 30, MaxEntries: 1000, MaxInMemory: 100, MaxMetaFile: 1 << 20}
	for _, tt := range []struct {
		name     string
		spill    int64
		wantPkgs []string
		wantErr  string
	}{
		{"room", 1 << 20, []string{"com.example:outer@1.0", "org.apache.logging.log4j:log4j-core@2.14.1"}, ""},
		{"no room", int64(len(inner)) - 1, []string{"com.example:outer@1.0"},
			fmt.Sprintf(`zip bomb guard: "/app/app.jar!/lib/log4j-core-2.14.1.jar" needs %d bytes of temp space; the scan's %d are in use; skipped`, len(inner), len(inner)-1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			budget := extract.NewBudget(extract.BudgetLimits{SpillBytes: tt.spill, TempDir: dir})
			in := layer.Input("/app/app.jar", jar)
			in.Budget = budget
			inv, err := NewWithLimits(limits).Extract(context.Background(), in)
			if diff := cmp.Diff(tt.wantPkgs, extracttest.NameVersions(inv.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if tt.wantErr == "" && err != nil {
				t.Errorf("error: %v", err)
			}
			if tt.wantErr != "" {
				extracttest.CheckFileError(t, err, in.Path, tt.wantErr)
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 || budget.Spilled() != 0 {
				t.Errorf("left %d files in the temp dir, %d bytes held", len(left), budget.Spilled())
			}
		})
	}
}

// TestNestedInMemoryBounded: MaxInMemory bounds the nested archives held in
// memory at once, not each one: an archive nested in one held in memory
// goes to a temp file when both would not fit (before, 8 levels of 32 MiB
// could be held at once).
func TestNestedInMemoryBounded(t *testing.T) {
	inner := log4jCore2141(t)
	middle := buildZip(t, pomEntry("com.example", "middle", "1.0"), entry{name: "lib/log4j-core-2.14.1.jar", data: inner}, classEntry("pad.class"))
	jar := buildZip(t, entry{name: "lib/middle-1.0.jar", data: middle})
	limits := Limits{MaxDepth: 8, MaxTotalBytes: 1 << 30, MaxEntryBytes: 1 << 30, MaxEntries: 1000, MaxInMemory: int64(len(middle) + len(inner) - 1), MaxMetaFile: 1 << 20}
	in := layer.Input("/app/app.jar", jar)
	in.Budget = extract.NewBudget(extract.BudgetLimits{SpillBytes: 1, TempDir: t.TempDir()}) // no temp space
	inv, err := NewWithLimits(limits).Extract(context.Background(), in)
	if diff := cmp.Diff([]string{"com.example:middle@1.0"}, extracttest.NameVersions(inv.Packages)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	extracttest.CheckFileError(t, err, in.Path, `"/app/app.jar!/lib/middle-1.0.jar!/lib/log4j-core-2.14.1.jar" needs`)
}

// TestOpenEntriesBounded: the entries of the archives open at once (an
// archive and those it is nested in) are bounded, not only each archive's.
func TestOpenEntriesBounded(t *testing.T) {
	var innerEntries, outerEntries []entry
	for i := range 30 {
		innerEntries = append(innerEntries, classEntry(fmt.Sprintf("c/I%d.class", i)))
		outerEntries = append(outerEntries, classEntry(fmt.Sprintf("c/O%d.class", i)))
	}
	inner := buildZip(t, append(innerEntries, pomEntry("com.example", "inner", "1.0"))...)
	jar := buildZip(t, append(outerEntries, pomEntry("com.example", "outer", "1.0"), entry{name: "lib/inner-1.0.jar", data: inner})...)
	limits := Limits{MaxDepth: 8, MaxTotalBytes: 1 << 30, MaxEntryBytes: 1 << 30, MaxEntries: 50, MaxInMemory: 1 << 20, MaxMetaFile: 1 << 20}
	inv, err := NewWithLimits(limits).Extract(context.Background(), layer.Input("/app/app.jar", jar))
	if diff := cmp.Diff([]string{"com.example:outer@1.0"}, extracttest.NameVersions(inv.Packages)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	extracttest.CheckFileError(t, err, "/app/app.jar", `"/app/app.jar!/lib/inner-1.0.jar" has 31 entries, the archives it is nested in 32 (limit 50 open at once)`)
}

// TestErrorsBounded: a jar of many broken nested jars gives one error of
// 20 lines and a count, not one line each.
func TestErrorsBounded(t *testing.T) {
	var es []entry
	for i := range 200 {
		es = append(es, entry{name: fmt.Sprintf("lib/broken%d.jar", i), data: []byte("PK\x03\x04 not a zip")})
	}
	_, err := New().Extract(context.Background(), layer.Input("/app/app.jar", buildZip(t, es...)))
	extracttest.CheckFileError(t, err, "/app/app.jar", "and 180 more errors")
	if n := strings.Count(err.Error(), "\n") + 1; n != 21 {
		t.Errorf("%d lines of errors, want 21", n)
	}
}

// BenchmarkContinuation parses a manifest and a pom.properties of 256 KiB
// and 1 MiB of continuation lines: MB/s stays flat (linear); before, 4×
// the size took ~16× the time.
func BenchmarkContinuation(b *testing.B) {
	for _, kind := range []struct {
		name string
		jar  func(testing.TB, int) []byte
	}{{"manifest", manifestBomb}, {"pom", pomBomb}} {
		for _, size := range []int{256 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%dKiB", kind.name, size>>10), func(b *testing.B) {
				jar := kind.jar(b, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := New().Extract(context.Background(), layer.Input("/app/bomb-1.0.jar", jar)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// quadraticParseManifest and quadraticParseProperties are the parsers as
// they were before continuation lines were made linear: the reference the
// new ones must agree with.
func quadraticParseManifest(b []byte) map[string]string {
	m := map[string]string{}
	var key string
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' {
			if key != "" {
				m[key] += line[1:]
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			key = ""
			continue
		}
		key = strings.ToLower(strings.TrimSpace(k))
		m[key] = strings.TrimPrefix(v, " ")
	}
	delete(m, "") // never read; the new parser does not keep it
	return m
}

func quadraticParseProperties(b []byte) map[string]string {
	props := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for endsWithOddBackslashes(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		key, val := splitProperty(line)
		props[unescapeProperty(key)] = unescapeProperty(val)
	}
	return props
}

// FuzzLinearParsersAgree: the linear parsers give what the quadratic ones
// gave, for any input.
func FuzzLinearParsersAgree(f *testing.F) {
	f.Add([]byte("Manifest-Version: 1.0\r\nA: b\r\n c\r\n\r\r\n d\\\\\\\n\\\n  e\\\\\nx=\\u0041\\\n\n"))
	f.Add([]byte("a=\\\\\\\n\\\\\\\n\\\\\nb:c\\\r\n d"))
	f.Add([]byte(":x\n y\nK:\r\r\r\n z"))
	f.Add([]byte("0:\r\r"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if diff := cmp.Diff(quadraticParseManifest(b), parseManifest(b)); diff != "" {
			t.Errorf("parseManifest(%q) (-before +now):\n%s", b, diff)
		}
		if diff := cmp.Diff(quadraticParseProperties(b), parseProperties(b)); diff != "" {
			t.Errorf("parseProperties(%q) (-before +now):\n%s", b, diff)
		}
	})
}
