package walk

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/drydock-scan/drydock/internal/extract"
)

// entry is one tar entry of a test layer.
type entry struct {
	name     string
	typ      byte // default tar.TypeReg
	body     string
	linkname string
}

func makeTar(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.linkname, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("writing header %q: %v", e.name, err)
		}
		if typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func wantAll() Wanter {
	return WantFunc(func(string, fs.FileMode, int64) bool { return true })
}

func wantPaths(paths ...string) Wanter {
	return WantFunc(func(p string, _ fs.FileMode, _ int64) bool {
		for _, q := range paths {
			if p == q {
				return true
			}
		}
		return false
	})
}

// collect walks blob and returns the captured contents by path, in call order.
type captured struct {
	Path string
	Body string
}

func collect(t testing.TB, blob []byte, w Wanter, opt Options) ([]captured, Result, error) {
	t.Helper()
	var got []captured
	res, err := Layer(context.Background(), bytes.NewReader(blob), w, func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		if int64(len(b)) != f.Size() {
			return fmt.Errorf("read %d bytes, Size says %d", len(b), f.Size())
		}
		got = append(got, captured{p, string(b)})
		return nil
	}, opt)
	return got, res, err
}

// assertEmptyDir fails if dir holds anything.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("temp dir %s not cleaned up: %v", dir, names)
	}
}

func TestLayerCompressions(t *testing.T) {
	raw := makeTar(t, []entry{
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/os-release", body: "ID=alpine\n"},
		{name: "lib/apk/db/installed", body: "P:musl\nV:1.2.3\n"},
		{name: "usr/bin/big", body: strings.Repeat("x", 5000)},
		{name: "etc/.wh.shadow"},
	})
	tests := []struct {
		name string
		blob []byte
	}{
		{"plain", raw},
		{"gzip", gzipBytes(t, raw)},
		{"zstd", zstdBytes(t, raw)},
		{"gzip multistream", append(gzipBytes(t, raw[:512]), gzipBytes(t, raw[512:])...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			got, res, err := collect(t, tt.blob, wantPaths("/etc/os-release", "/lib/apk/db/installed"), Options{TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			want := []captured{
				{"/etc/os-release", "ID=alpine\n"},
				{"/lib/apk/db/installed", "P:musl\nV:1.2.3\n"},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("captured (-want +got):\n%s", d)
			}
			wantRes := Result{Whiteouts: []string{"/etc/shadow"}, Files: 3, Bytes: 10 + 15 + 5000, DiffID: digestOf(raw)}
			if d := cmp.Diff(wantRes, res); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
			assertEmptyDir(t, tmp)
		})
	}
}

func TestWhiteoutsAndOpaqueDirs(t *testing.T) {
	blob := makeTar(t, []entry{
		{name: "a/.wh..wh..opq"},
		{name: "./b/c/.wh..wh..opq"},
		{name: ".wh.root-file"},
		{name: "x/y/.wh.deleted"},
		{name: "x/y/.wh.deleted"}, // duplicate
		{name: "x/.wh..wh.plnk"},  // AUFS metadata: ignored
		{name: "x/.wh..wh.aufs"},  // AUFS metadata: ignored
		{name: "../../evil/.wh.passwd"},
		{name: "x/.wh.dir", typ: tar.TypeDir},
		{name: "keep/file", body: "k"},
	})
	got, res, err := collect(t, blob, wantAll(), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]captured{{"/keep/file", "k"}}, got); d != "" {
		t.Errorf("whiteout entries must not be captured (-want +got):\n%s", d)
	}
	want := Result{
		Whiteouts:  []string{"/evil/passwd", "/root-file", "/x/dir", "/x/y/deleted"},
		OpaqueDirs: []string{"/a", "/b/c"},
		Files:      1,
		Bytes:      1,
		DiffID:     digestOf(blob),
	}
	if d := cmp.Diff(want, res); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
}

func TestPathCleaning(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"./etc/x", "/etc/x"},
		{"etc/y", "/etc/y"},
		{"/abs/z", "/abs/z"},
		{"../../etc/passwd", "/etc/passwd"},
		{"a/../../../b", "/b"},
		{"x//y/./z", "/x/y/z"},
		{"..", "/"},
		{"./", "/"},
		{"a/b/../c/", "/a/c"},
		{"/../../../../tmp/evil", "/tmp/evil"},
		{"weird\\name", "/weird\\name"},
	}
	for _, tt := range tests {
		if got := CleanPath(tt.name); got != tt.want {
			t.Errorf("CleanPath(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}

	// Through a real walk: hostile names are delivered cleaned, and nothing
	// is written anywhere but the private temp dir (which is gone after).
	parent := t.TempDir()
	tmp := filepath.Join(parent, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	blob := makeTar(t, []entry{
		{name: "../../etc/passwd", body: "root:x:0:0"},
		{name: "/abs/file", body: strings.Repeat("s", 100)}, // spilled
		{name: "../escape", body: "e"},
		{name: "../../etc/hl", typ: tar.TypeLink, linkname: "../../../etc/passwd"},
	})
	var localPaths []string
	var got []captured
	_, err := Layer(context.Background(), bytes.NewReader(blob), wantAll(), func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
		lp, err := f.LocalPath()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(lp, tmp+string(filepath.Separator)) {
			t.Errorf("LocalPath %q of %q is outside the temp dir %q", lp, p, tmp)
		}
		if strings.Contains(filepath.Base(lp), "passwd") || strings.Contains(filepath.Base(lp), "escape") {
			t.Errorf("LocalPath %q is derived from the tar name", lp)
		}
		localPaths = append(localPaths, lp)
		b, err := os.ReadFile(lp)
		if err != nil {
			return err
		}
		got = append(got, captured{p, string(b)})
		return nil
	}, Options{TempDir: tmp, MemThreshold: 50})
	if err != nil {
		t.Fatal(err)
	}
	want := []captured{
		{"/etc/passwd", "root:x:0:0"},
		{"/abs/file", strings.Repeat("s", 100)},
		{"/escape", "e"},
		{"/etc/hl", "root:x:0:0"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("captured (-want +got):\n%s", d)
	}
	assertEmptyDir(t, tmp)
	ents, _ := os.ReadDir(parent)
	if len(ents) != 1 {
		t.Errorf("files written next to the temp dir: %v", ents)
	}
	for _, lp := range localPaths {
		if _, err := os.Stat(lp); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("local path %q still exists: %v", lp, err)
		}
	}
}

func TestSpillAndRelease(t *testing.T) {
	tmp := t.TempDir()
	small := "small file"
	big := strings.Repeat("0123456789", 100) // 1000 bytes
	blob := gzipBytes(t, makeTar(t, []entry{
		{name: "small", body: small},
		{name: "big", body: big},
		{name: "after", body: "a"},
	}))
	type seen struct {
		local    string
		spilled  bool
		keptFile extract.File
	}
	var calls []seen
	_, err := Layer(context.Background(), bytes.NewReader(blob), wantPaths("/small", "/big", "/after"), func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
		// Every earlier call's LocalPath (that is not retained for hardlinks)
		// must already be gone.
		for _, c := range calls {
			if !c.spilled {
				if _, err := os.Stat(c.local); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("in-memory capture's local copy %q still exists after its callback: %v", c.local, err)
				}
			}
			if _, err := c.keptFile.ReadAt(make([]byte, 1), 0); !errors.Is(err, errReleased) {
				t.Errorf("ReadAt after release: got %v, want errReleased", err)
			}
			if _, err := c.keptFile.Open(); !errors.Is(err, errReleased) {
				t.Errorf("Open after release: got %v, want errReleased", err)
			}
			if _, err := c.keptFile.LocalPath(); !errors.Is(err, errReleased) {
				t.Errorf("LocalPath after release: got %v, want errReleased", err)
			}
		}
		lp, err := f.LocalPath()
		if err != nil {
			return err
		}
		lp2, err := f.LocalPath()
		if err != nil || lp2 != lp {
			t.Errorf("second LocalPath = %q, %v; want %q", lp2, err, lp)
		}
		b, err := os.ReadFile(lp)
		if err != nil {
			return err
		}
		want := map[string]string{"/small": small, "/big": big, "/after": "a"}[p]
		if string(b) != want {
			t.Errorf("%s: local file holds %q, want %q", p, b, want)
		}
		// ReadAt in the middle and past the end.
		if f.Size() > 5 {
			buf := make([]byte, 4)
			if n, err := f.ReadAt(buf, 2); err != nil || string(buf[:n]) != want[2:6] {
				t.Errorf("%s: ReadAt(2) = %q, %v", p, buf[:n], err)
			}
			if _, err := f.ReadAt(buf, f.Size()); err != io.EOF {
				t.Errorf("%s: ReadAt at end: %v, want io.EOF", p, err)
			}
		}
		calls = append(calls, seen{local: lp, spilled: p == "/big", keptFile: f})
		return nil
	}, Options{TempDir: tmp, MemThreshold: 100, LinkCache: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 {
		t.Fatalf("got %d calls, want 3", len(calls))
	}
	// The spilled file lived in the temp dir, not in memory, and is gone now.
	if !strings.HasPrefix(calls[1].local, tmp) {
		t.Errorf("spill file %q not under %q", calls[1].local, tmp)
	}
	for _, c := range calls {
		if _, err := os.Stat(c.local); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%q still exists after the walk: %v", c.local, err)
		}
	}
	assertEmptyDir(t, tmp)
}

// With LinkCache off, a spilled file is removed as soon as its callback returns.
func TestSpillRemovedAfterCallback(t *testing.T) {
	tmp := t.TempDir()
	blob := makeTar(t, []entry{
		{name: "big", body: strings.Repeat("b", 300)},
		{name: "next", body: "n"},
	})
	var spill string
	_, err := Layer(context.Background(), bytes.NewReader(blob), wantAll(), func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
		if p == "/big" {
			var err error
			spill, err = f.LocalPath()
			return err
		}
		if _, err := os.Stat(spill); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("spill file %q of /big still exists while /next is processed: %v", spill, err)
		}
		return nil
	}, Options{TempDir: tmp, MemThreshold: 10, LinkCache: -1})
	if err != nil {
		t.Fatal(err)
	}
	assertEmptyDir(t, tmp)
}

func TestHardlinks(t *testing.T) {
	blob := makeTar(t, []entry{
		{name: "usr/bin/perl5.36", body: "PERL"},
		{name: "usr/bin/perl", typ: tar.TypeLink, linkname: "usr/bin/perl5.36"},
		{name: "usr/lib/unwanted", body: "U"},
		{name: "usr/lib/wanted-link", typ: tar.TypeLink, linkname: "./usr/lib/unwanted"},
		{name: "usr/bin/big", body: strings.Repeat("B", 200)},
		{name: "usr/bin/big-link", typ: tar.TypeLink, linkname: "usr/bin/big"},
		{name: "dangling", typ: tar.TypeLink, linkname: "nowhere"},
	})
	want := func(p string, _ fs.FileMode, _ int64) bool { return p != "/usr/lib/unwanted" }

	t.Run("cached", func(t *testing.T) {
		tmp := t.TempDir()
		got, res, err := collect(t, blob, WantFunc(want), Options{TempDir: tmp, MemThreshold: 100})
		if err != nil {
			t.Fatal(err)
		}
		wantCap := []captured{
			{"/usr/bin/perl5.36", "PERL"},
			{"/usr/bin/perl", "PERL"},
			{"/usr/bin/big", strings.Repeat("B", 200)},
			{"/usr/bin/big-link", strings.Repeat("B", 200)},
		}
		if d := cmp.Diff(wantCap, got); d != "" {
			t.Errorf("captured (-want +got):\n%s", d)
		}
		wantSkip := []Skip{
			{"/usr/lib/wanted-link", `hardlink to "/usr/lib/unwanted", whose content was not captured`},
			{"/dangling", `hardlink to "/nowhere", whose content was not captured`},
		}
		if d := cmp.Diff(wantSkip, res.Skipped); d != "" {
			t.Errorf("skipped (-want +got):\n%s", d)
		}
		if res.Files != 3 {
			t.Errorf("Files = %d, want 3 (hardlinks not counted)", res.Files)
		}
		assertEmptyDir(t, tmp)
	})
	t.Run("cache too small", func(t *testing.T) {
		tmp := t.TempDir()
		got, res, err := collect(t, blob, WantFunc(want), Options{TempDir: tmp, MemThreshold: 100, LinkCache: 100 + linkEntryOverhead})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[2].Path != "/usr/bin/big" {
			t.Errorf("captured %v, want perl5.36, perl, big", got)
		}
		if len(res.Skipped) != 3 || res.Skipped[1].Path != "/usr/bin/big-link" {
			t.Errorf("skipped %v, want big-link among them", res.Skipped)
		}
		assertEmptyDir(t, tmp)
	})
}

// TestEviction: entries count their size and linkEntryOverhead.
func TestEviction(t *testing.T) {
	const budget = 10 + 2*linkEntryOverhead
	lc := newLinkCache(budget)
	a, b, c := &content{data: []byte("aaaa"), size: 4}, &content{data: []byte("bbbb"), size: 4}, &content{data: []byte("cccc"), size: 4}
	lc.put("/a", a)
	lc.put("/b", b)
	lc.put("/c", c) // evicts /a
	if lc.get("/a") != nil || lc.get("/b") != b || lc.get("/c") != c {
		t.Errorf("after 3 puts: a=%v b=%v c=%v; want a evicted", lc.get("/a"), lc.get("/b"), lc.get("/c"))
	}
	if a.data != nil {
		t.Error("evicted content not freed")
	}
	lc.put("/b", &content{data: []byte("B"), size: 1}) // replaces /b
	if lc.used != 5+2*linkEntryOverhead {
		t.Errorf("used = %d, want %d", lc.used, 5+2*linkEntryOverhead)
	}
	big := &content{data: make([]byte, budget-linkEntryOverhead+1), size: budget - linkEntryOverhead + 1}
	lc.put("/big", big)
	if lc.get("/big") != nil || big.data != nil {
		t.Error("content larger than the budget must be freed, not kept")
	}
}

func TestSymlinks(t *testing.T) {
	blob := makeTar(t, []entry{
		{name: "etc/os-release", typ: tar.TypeSymlink, linkname: "../usr/lib/os-release"},
		{name: "usr/lib/os-release", body: "ID=debian\n"},
	})
	var links [][2]string
	var got []captured
	_, err := Layer(context.Background(), bytes.NewReader(blob), wantAll(), func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
		got = append(got, captured{Path: p})
		return nil
	}, Options{TempDir: t.TempDir(), Symlink: func(p, target string) { links = append(links, [2]string{p, target}) }})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][2]string{{"/etc/os-release", "../usr/lib/os-release"}}, links); d != "" {
		t.Errorf("symlinks (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]captured{{Path: "/usr/lib/os-release"}}, got); d != "" {
		t.Errorf("symlinks must not be followed or captured (-want +got):\n%s", d)
	}
}

func TestModePassed(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "bin/app", Mode: 0o755, Size: 2, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("hi"))
	_ = tw.Close()
	var gotWant, gotFn fs.FileMode
	var gotSize int64
	_, err := Layer(context.Background(), &buf, WantFunc(func(_ string, m fs.FileMode, size int64) bool {
		gotWant, gotSize = m, size
		return true
	}), func(_ context.Context, _ string, m fs.FileMode, _ extract.File) error {
		gotFn = m
		return nil
	}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if gotWant != 0o755 || gotFn != 0o755 || gotSize != 2 {
		t.Errorf("Wants got mode %v size %d, fn got mode %v; want -rwxr-xr-x, 2", gotWant, gotSize, gotFn)
	}
}

// zeroReader is an endless source of zeros.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// hugeLayer streams a plain tar holding a 2 GiB file of zeros followed by a
// small file, generated on the fly through a pipe.
func hugeLayer(t *testing.T) io.Reader { return hugeLayerSize(t, 2<<30) }

func hugeLayerSize(t *testing.T, size int64) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		if err := tw.WriteHeader(&tar.Header{Name: "var/huge.img", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			pw.CloseWithError(err)
			return
		}
		if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
			pw.CloseWithError(err)
			return
		}
		if err := tw.WriteHeader(&tar.Header{Name: "etc/after", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg}); err != nil {
			pw.CloseWithError(err)
			return
		}
		_, _ = tw.Write([]byte("after"))
		pw.CloseWithError(tw.Close())
	}()
	t.Cleanup(func() { pr.Close() })
	return pr
}

func TestHugeFile(t *testing.T) {
	tests := []struct {
		name     string
		want     Wanter
		wantSkip []Skip
	}{
		{"unwanted", wantPaths("/etc/after"), nil},
		{"wanted above MaxFileSize", wantAll(), []Skip{{"/var/huge.img", "file size 2147483648 exceeds the limit of 536870912 bytes"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			start := time.Now()
			var got []captured
			res, err := Layer(context.Background(), hugeLayer(t), tt.want, func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
				got = append(got, captured{Path: p})
				return nil
			}, Options{TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			t.Logf("walked a 2 GiB entry in %v", elapsed)
			if elapsed > 30*time.Second {
				t.Errorf("skipping a 2 GiB entry took %v", elapsed)
			}
			if d := cmp.Diff([]captured{{Path: "/etc/after"}}, got); d != "" {
				t.Errorf("captured (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantSkip, res.Skipped); d != "" {
				t.Errorf("skipped (-want +got):\n%s", d)
			}
			if res.Files != 2 || res.Bytes != 2<<30+5 {
				t.Errorf("Files=%d Bytes=%d, want 2, %d", res.Files, res.Bytes, 2<<30+5)
			}
			assertEmptyDir(t, tmp)
		})
	}
}

func TestErrors(t *testing.T) {
	raw := makeTar(t, []entry{
		{name: "etc/first", body: strings.Repeat("first ", 100)},
		{name: "etc/second", body: strings.Repeat("second ", 2000)},
		{name: "etc/third", body: "3"},
	})
	gz := gzipBytes(t, raw)

	corrupt := bytes.Clone(raw)
	// The second header starts after the first header (512) and its data (600
	// bytes, padded to 1024). Break its checksum field.
	copy(corrupt[512+1024+148:], "zzzzzzzz")

	truncatedInContent := raw[:512+1024+512+100]
	noTrailer := gz[:len(gz)-4] // gzip cut inside its trailer

	tests := []struct {
		name    string
		blob    []byte
		want    Wanter
		wantErr string
	}{
		{"truncated gzip", gz[:len(gz)/2], wantAll(), "decompressing gzip: unexpected EOF"},
		{"gzip trailer cut", noTrailer, wantAll(), "decompressing gzip: unexpected EOF"},
		{"truncated gzip unwanted", gz[:len(gz)/2], wantPaths("/nothing"), "decompressing gzip: unexpected EOF"},
		{"corrupt tar header", corrupt, wantAll(), `reading tar entry after "etc/first": archive/tar: invalid tar header`},
		{"truncated inside in-memory content", raw[:512+300], wantAll(), `reading tar entry "etc/first": reading content: unexpected EOF`},
		{"truncated inside spilled content", truncatedInContent, wantAll(), `reading tar entry "etc/second": spilling content to disk: unexpected EOF`},
		{"truncated inside unwanted content", truncatedInContent, wantPaths("/etc/first"), `reading tar entry after "etc/second": unexpected EOF`},
		{"garbage", []byte("this is not a tar archive at all, not even close............"), wantAll(), "reading first tar entry"},
		{"bad gzip header", []byte{0x1f, 0x8b, 0, 0, 0, 0}, wantAll(), "opening gzip stream"},
		{"bad zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff}, wantAll(), "reading first tar entry: decompressing zstd: "},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2}, wantAll(), "unsupported layer compression: xz"},
		{"bzip2", []byte("BZh91AY&SY"), wantAll(), "unsupported layer compression: bzip2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			_, _, err := collect(t, tt.blob, tt.want, Options{TempDir: tmp, MemThreshold: 1000})
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			assertEmptyDir(t, tmp)
		})
	}
}

func TestEmptyInput(t *testing.T) {
	res, err := Layer(context.Background(), bytes.NewReader(nil), wantAll(), nil, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Result{DiffID: digestOf(nil)}, res); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestInvalidWhiteouts: a whiteout that names no file (".wh..", which would
// delete the directory holding it, up to the root) is an error, as in
// containerd, not a deletion.
func TestInvalidWhiteouts(t *testing.T) {
	for _, name := range []string{".wh..", "etc/.wh..", ".wh...", "usr/.wh...", "q/.wh."} {
		t.Run(name, func(t *testing.T) {
			blob := makeTar(t, []entry{{name: "etc/os-release", body: "ID=alpine\n"}, {name: name}})
			_, _, err := collect(t, blob, wantAll(), Options{TempDir: t.TempDir()})
			if !errors.Is(err, ErrInvalidWhiteout) || !strings.Contains(err.Error(), name) {
				t.Errorf("err = %v, want ErrInvalidWhiteout naming %q", err, name)
			}
		})
	}
}

// TestDiffIDVerified: the uncompressed stream must hash to Options.DiffID,
// whatever the compression; a layer cut at a tar header boundary and
// compressed again (a valid blob, a smaller layer) fails.
func TestDiffIDVerified(t *testing.T) {
	raw := makeTar(t, []entry{
		{name: "etc/os-release", body: "ID=alpine\n"},
		{name: "lib/apk/db/installed", body: "P:musl\nV:1.2.3\n"},
		{name: "etc/motd", body: "hi\n"},
	})
	cut := makeTar(t, []entry{{name: "etc/os-release", body: "ID=alpine\n"}})
	for name, blob := range map[string][]byte{"plain": raw, "gzip": gzipBytes(t, raw), "zstd": zstdBytes(t, raw)} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := collect(t, blob, wantAll(), Options{TempDir: t.TempDir(), DiffID: digestOf(raw)}); err != nil {
				t.Errorf("matching diff_id: %v", err)
			}
		})
	}
	for name, blob := range map[string][]byte{"another layer": gzipBytes(t, cut), "plain": cut} {
		t.Run("mismatch "+name, func(t *testing.T) {
			_, _, err := collect(t, blob, wantAll(), Options{TempDir: t.TempDir(), DiffID: digestOf(raw)})
			if !errors.Is(err, ErrDiffIDMismatch) || !strings.Contains(err.Error(), digestOf(cut)) {
				t.Errorf("err = %v, want ErrDiffIDMismatch naming the content's digest", err)
			}
		})
	}
	if _, _, err := collect(t, raw, wantAll(), Options{TempDir: t.TempDir(), DiffID: "md5:abc"}); !errors.Is(err, ErrDiffIDMismatch) {
		t.Errorf("unusable diff_id: err = %v", err)
	}
}

// failAtEOF is a reader that reports an error instead of io.EOF, as a digest
// verifying reader does on a mismatch.
type failAtEOF struct{ r io.Reader }

func (f failAtEOF) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("digest mismatch")
	}
	return n, err
}

func TestReadsToEOF(t *testing.T) {
	raw := makeTar(t, []entry{{name: "a", body: "a"}})
	for name, blob := range map[string][]byte{"plain": raw, "gzip": gzipBytes(t, raw), "zstd": zstdBytes(t, raw)} {
		t.Run(name, func(t *testing.T) {
			_, err := Layer(context.Background(), failAtEOF{bytes.NewReader(blob)}, wantAll(), func(context.Context, string, fs.FileMode, extract.File) error { return nil }, Options{TempDir: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), "digest mismatch") {
				t.Errorf("got %v, want the underlying reader's EOF error", err)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	raw := makeTar(t, []entry{{name: "a", body: "a"}, {name: "b", body: "b"}, {name: "c", body: strings.Repeat("c", 1<<20)}})

	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Layer(ctx, bytes.NewReader(raw), wantAll(), func(context.Context, string, fs.FileMode, extract.File) error { return nil }, Options{TempDir: t.TempDir()})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
	t.Run("during", func(t *testing.T) {
		tmp := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var n int
		_, err := Layer(ctx, bytes.NewReader(gzipBytes(t, raw)), wantAll(), func(context.Context, string, fs.FileMode, extract.File) error {
			n++
			cancel()
			return nil
		}, Options{TempDir: tmp})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if n != 1 {
			t.Errorf("fn called %d times after cancel, want 1", n)
		}
		assertEmptyDir(t, tmp)
	})
	t.Run("huge entry", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		// 1 TiB of zeros: cannot be read through before the deadline.
		_, err := Layer(ctx, hugeLayerSize(t, 1<<40), wantPaths("/etc/after"), nil, Options{TempDir: t.TempDir()})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("cancellation inside a huge entry took %v", d)
		}
	})
}

func TestCallbackError(t *testing.T) {
	tmp := t.TempDir()
	raw := makeTar(t, []entry{{name: "a", body: strings.Repeat("a", 500)}, {name: "b", body: "b"}})
	boom := errors.New("boom")
	_, err := Layer(context.Background(), bytes.NewReader(raw), wantAll(), func(_ context.Context, _ string, _ fs.FileMode, f extract.File) error {
		if _, err := f.LocalPath(); err != nil {
			return err
		}
		return boom
	}, Options{TempDir: tmp, MemThreshold: 100})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), `processing "/a"`) {
		t.Errorf("got %v, want boom wrapped with the path", err)
	}
	assertEmptyDir(t, tmp)
}

// LocalPath sidecars (sqlite journals) are removed with the file.
func TestSidecarsRemoved(t *testing.T) {
	tmp := t.TempDir()
	raw := makeTar(t, []entry{{name: "var/lib/rpm/rpmdb.sqlite", body: "SQLite format 3"}, {name: "z", body: "z"}})
	var local string
	_, err := Layer(context.Background(), bytes.NewReader(raw), wantAll(), func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
		if p == "/z" {
			for _, s := range []string{"", "-wal", "-shm", "-journal"} {
				if _, err := os.Stat(local + s); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%q still exists: %v", local+s, err)
				}
			}
			return nil
		}
		var err error
		local, err = f.LocalPath()
		if err != nil {
			return err
		}
		for _, s := range []string{"-wal", "-shm"} {
			if err := os.WriteFile(local+s, nil, 0o600); err != nil {
				return err
			}
		}
		return nil
	}, Options{TempDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	assertEmptyDir(t, tmp)
}
