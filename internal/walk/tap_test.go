package walk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
)

// recordTap keeps what it was shown: the content of the files it asks for
// (paths containing want), how each ended, and the hardlinks.
type recordTap struct {
	want     string
	cur      string
	buf      bytes.Buffer
	files    []string // "path=content" or "path!error"
	links    []string
	writeErr error // returned by Write
	endErr   error // returned by EndFile
}

func (r *recordTap) File(p string, _ fs.FileMode, _ int64) io.Writer {
	if !strings.Contains(p, r.want) {
		return nil
	}
	r.cur = p
	r.buf.Reset()
	return tapWriter{r}
}

type tapWriter struct{ r *recordTap }

func (w tapWriter) Write(b []byte) (int, error) {
	if w.r.writeErr != nil {
		return 0, w.r.writeErr
	}
	return w.r.buf.Write(b)
}

func (r *recordTap) EndFile(err error) error {
	if err != nil {
		r.files = append(r.files, r.cur+"!"+err.Error())
	} else {
		r.files = append(r.files, r.cur+"="+r.buf.String())
	}
	return r.endErr
}

func (r *recordTap) Link(p, target string, _ fs.FileMode) { r.links = append(r.links, p+"->"+target) }

// TestTap: the tap sees the whole content of the files it asks for, in the
// same single pass, whether they are captured, not wanted, or skipped for
// size; captured files are unchanged by it; hardlinks are named.
func TestTap(t *testing.T) {
	big := strings.Repeat("B", 3000)
	blob := gzipBytes(t, makeTar(t, []entry{
		{name: "bin/tool", body: "captured and tapped"},
		{name: "bin/other", body: "tapped only"},
		{name: "etc/conf", body: "captured only"},
		{name: "bin/big", body: big},
		{name: "bin/empty", body: ""},
		{name: "bin/link", typ: '1', linkname: "bin/tool"},
	}))
	tap := &recordTap{want: "/bin/"}
	got, res, err := collect(t, blob, wantPaths("/bin/tool", "/etc/conf", "/bin/big"), Options{Tap: tap, MaxFileSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]captured{{"/bin/tool", "captured and tapped"}, {"/etc/conf", "captured only"}}, got); d != "" {
		t.Errorf("captured (-want +got):\n%s", d)
	}
	wantFiles := []string{"/bin/tool=captured and tapped", "/bin/other=tapped only", "/bin/big=" + big, "/bin/empty="}
	if d := cmp.Diff(wantFiles, tap.files); d != "" {
		t.Errorf("tapped (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"/bin/link->/bin/tool"}, tap.links); d != "" {
		t.Errorf("links (-want +got):\n%s", d)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != "/bin/big" {
		t.Errorf("skipped %+v, want /bin/big over MaxFileSize", res.Skipped)
	}
}

// TestTapErrors: a sink that fails, or an EndFile that fails, stops the
// walk with its error, captured or not; a truncated entry ends the file
// with the read error.
func TestTapErrors(t *testing.T) {
	blob := makeTar(t, []entry{{name: "bin/tool", body: "content"}, {name: "etc/after", body: "x"}})
	stop := errors.New("engine gone")
	for _, tc := range []struct {
		name     string
		want     Wanter
		tap      *recordTap
		wantEnds []string
	}{
		{"write, not captured", wantPaths(), &recordTap{want: "/bin/", writeErr: stop}, []string{"/bin/tool!engine gone"}},
		{"write, captured", wantAll(), &recordTap{want: "/bin/", writeErr: stop}, []string{"/bin/tool!reading content: engine gone"}},
		{"end, not captured", wantPaths(), &recordTap{want: "/bin/", endErr: stop}, []string{"/bin/tool=content"}},
		{"end, captured", wantAll(), &recordTap{want: "/bin/", endErr: stop}, []string{"/bin/tool=content"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var delivered []string
			_, err := Layer(context.Background(), bytes.NewReader(blob), tc.want, func(_ context.Context, p string, _ fs.FileMode, _ extract.File) error {
				delivered = append(delivered, p)
				return nil
			}, Options{Tap: tc.tap})
			if !errors.Is(err, stop) {
				t.Fatalf("error %v, want one wrapping %v", err, stop)
			}
			if d := cmp.Diff(tc.wantEnds, tc.tap.files); d != "" {
				t.Errorf("ends (-want +got):\n%s", d)
			}
			if len(delivered) != 0 {
				t.Errorf("a file whose tap failed was delivered: %v", delivered)
			}
		})
	}

	// A truncated entry: the tap is told why it ended.
	trunc := blob[:512+3] // the header and 3 bytes of the content
	tap := &recordTap{want: "/bin/"}
	_, err := Layer(context.Background(), bytes.NewReader(trunc), wantPaths(), func(context.Context, string, fs.FileMode, extract.File) error { return nil }, Options{Tap: tap})
	if err == nil || len(tap.files) != 1 || !strings.HasPrefix(tap.files[0], "/bin/tool!") {
		t.Errorf("truncated: error %v, ends %v", err, tap.files)
	}
}
