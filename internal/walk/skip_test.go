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

// TestSkipPatterns: Trivy's glob semantics over absolute image paths —
// the leading "/" and "./" are dropped from pattern and path, "*" stays
// within one path element, "**" spans directories — and a directory
// pattern skips everything under a matching directory at any depth,
// whether or not the directory has an entry of its own.
func TestSkipPatterns(t *testing.T) {
	for _, tc := range []struct {
		dirs, files []string
		path        string
		want        bool
	}{
		{dirs: []string{"/app/node_modules"}, path: "/app/node_modules/x/package.json", want: true},
		{dirs: []string{"app/node_modules"}, path: "/app/node_modules/package.json", want: true},
		{dirs: []string{"./app/node_modules/"}, path: "/app/node_modules/a/b/c", want: true},
		{dirs: []string{"/app/node_modules"}, path: "/app/node_modules2/x", want: false},
		{dirs: []string{"/app/node_modules"}, path: "/srv/app/node_modules/x", want: false},
		{dirs: []string{"**/node_modules"}, path: "/srv/app/node_modules/x/package.json", want: true},
		{dirs: []string{"**/node_modules"}, path: "/node_modules/x", want: true},
		{dirs: []string{"/usr/lib/*"}, path: "/usr/lib/python3/site.py", want: true},
		{dirs: []string{"/usr/lib/*"}, path: "/usr/lib/libc.so", want: false}, // a file, not under a matching dir
		{dirs: []string{"/usr/*/gems"}, path: "/usr/local/gems/a/Gemfile.lock", want: true},
		{dirs: []string{"/usr/*/gems"}, path: "/usr/local/lib/gems/a", want: false},
		{files: []string{"/Gemfile.lock"}, path: "/Gemfile.lock", want: true},
		{files: []string{"/Gemfile.lock"}, path: "/app/Gemfile.lock", want: false},
		{files: []string{"**/Gemfile.lock"}, path: "/app/Gemfile.lock", want: true},
		{files: []string{"/testdata/*/bar"}, path: "/testdata/x/bar", want: true},
		{files: []string{"/testdata/*/bar"}, path: "/testdata/x/y/bar", want: false},
		{files: []string{"/foo/**/*.tf"}, path: "/foo/a/b/main.tf", want: true},
		{files: []string{"/foo/**/*.tf"}, path: "/foo/main.tf", want: true},
		{files: []string{"/etc/*.conf"}, path: "/etc/nginx/x.conf", want: false},
		{files: []string{"/app/node_modules"}, path: "/app/node_modules/x", want: false}, // --skip-files names files only
	} {
		s, err := NewSkipper(tc.dirs, tc.files)
		if err != nil {
			t.Fatal(err)
		}
		st := newSkipState(s)
		if got := st.rule(tc.path, false) >= 0; got != tc.want {
			t.Errorf("dirs %q files %q: %s skipped = %v, want %v", tc.dirs, tc.files, tc.path, got, tc.want)
		}
	}

	for _, tc := range []struct {
		dirs, files []string
		want        string
	}{
		{dirs: []string{""}, want: "empty pattern"},
		{dirs: []string{"/"}, want: "image root"},
		{files: []string{"./"}, want: "image root"},
		{dirs: []string{"/app/[a-"}, want: "not a valid glob"},
		{files: []string{"/a/{b"}, want: "not a valid glob"},
	} {
		if _, err := NewSkipper(tc.dirs, tc.files); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSkipper(%q, %q): %v, want an error saying %q", tc.dirs, tc.files, err, tc.want)
		}
	}
	if s, err := NewSkipper(nil, nil); s != nil || err != nil || s.Key() != "" {
		t.Errorf("no patterns: %v, %v; want a nil Skipper with no key", s, err)
	}
	a, _ := NewSkipper([]string{"/a"}, nil)
	b, _ := NewSkipper(nil, []string{"/a"})
	if a.Key() == b.Key() || a.Key() == "" {
		t.Errorf("keys %q and %q: a directory and a file pattern must key apart", a.Key(), b.Key())
	}
}

// hostile is content no extractor could read: the stand-in extractor
// below fails the walk on it, as a 100 MB package.json of garbage would
// make one fail (or stall).
var hostile = "\x00\xff" + strings.Repeat("garbage", 300_000)

// skipLayer holds a hostile file under a directory that has no entry of
// its own, a symlink and a hardlink inside it, a hardlink from outside
// to a file inside, a whiteout inside, and files that stay.
func skipLayer(t *testing.T) []byte {
	return makeTar(t, []entry{
		{name: "app/", typ: '5'},
		{name: "app/package.json", body: `{"name":"app"}`},
		{name: "app/node_modules/evil/package.json", body: hostile},
		{name: "app/node_modules/evil/copy.json", typ: '1', linkname: "app/node_modules/evil/package.json"},
		{name: "app/node_modules/evil/sym", typ: '2', linkname: "/etc/passwd"},
		{name: "app/node_modules/.wh.gone"},
		{name: "usr/bin/evil", typ: '1', linkname: "app/node_modules/evil/package.json"},
		{name: "etc/app.conf", body: "secret=1"},
		{name: "etc/os-release", body: "ID=alpine"},
	})
}

// skipSpy records every path anyone was shown: the Wanter, the Tap, the
// Symlink callback and the file callback (which, like an extractor,
// fails on the hostile content).
type skipSpy struct {
	asked, tapped, linked, symlinks, delivered []string
}

func (s *skipSpy) Wants(p string, _ fs.FileMode, _ int64) bool {
	s.asked = append(s.asked, p)
	return true
}
func (s *skipSpy) File(p string, _ fs.FileMode, _ int64) io.Writer {
	s.tapped = append(s.tapped, p)
	return io.Discard
}
func (s *skipSpy) EndFile(error) error                  { return nil }
func (s *skipSpy) Link(p, target string, _ fs.FileMode) { s.linked = append(s.linked, p) }

var errHostile = errors.New("extractor choked on hostile content")

func (s *skipSpy) walk(t *testing.T, blob []byte, sk *Skipper) (Result, error) {
	t.Helper()
	return Layer(context.Background(), bytes.NewReader(blob), s, func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
		s.delivered = append(s.delivered, p)
		b := make([]byte, 2)
		if _, err := f.ReadAt(b, 0); err != nil {
			return err
		}
		if bytes.Equal(b, []byte("\x00\xff")) {
			return errHostile
		}
		return nil
	}, Options{Tap: s, Skip: sk, Symlink: func(p, _ string) { s.symlinks = append(s.symlinks, p) }})
}

// TestSkipNeverOpens: the files under a skipped directory and the skipped
// files are never shown to anyone — not the Wanter (so no extractor and
// no secret rule is asked), not the Tap (the malware check), not the
// symlink callback, not the file callback — and are counted per pattern.
// The same layer without the skips hands the hostile file over, and the
// walk fails on it: the proof that skipping is what kept it unread.
func TestSkipNeverOpens(t *testing.T) {
	raw := skipLayer(t)
	blob := gzipBytes(t, raw)

	var without skipSpy
	if _, err := without.walk(t, blob, nil); !errors.Is(err, errHostile) {
		t.Fatalf("without skips: error %v, want the hostile file to be read and fail", err)
	}

	sk, err := NewSkipper([]string{"**/node_modules"}, []string{"/etc/*.conf", "/nothing/*"})
	if err != nil {
		t.Fatal(err)
	}
	var with skipSpy
	res, err := with.walk(t, blob, sk)
	if err != nil {
		t.Fatalf("with skips: %v", err)
	}
	for name, got := range map[string][]string{"asked": with.asked, "tapped": with.tapped, "linked": with.linked, "symlinks": with.symlinks, "delivered": with.delivered} {
		for _, p := range got {
			if strings.Contains(p, "node_modules") || strings.HasSuffix(p, ".conf") {
				t.Errorf("%s %s, which is skipped", name, p)
			}
		}
	}
	if d := cmp.Diff([]string{"/app/package.json", "/usr/bin/evil", "/etc/os-release"}, with.asked); d != "" {
		t.Errorf("Wanter asked (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"/app/package.json", "/etc/os-release"}, with.delivered); d != "" {
		t.Errorf("delivered (-want +got):\n%s", d)
	}
	wantCounts := []SkipCount{
		{Flag: "skip-dirs", Pattern: "**/node_modules", Files: 3, First: "/app/node_modules/evil/package.json"},
		{Flag: "skip-files", Pattern: "/etc/*.conf", Files: 1, First: "/etc/app.conf"},
	}
	if d := cmp.Diff(wantCounts, res.SkippedBy); d != "" {
		t.Errorf("SkippedBy (-want +got):\n%s", d)
	}
	// A hardlink from outside to a skipped file is a file the user did not
	// skip whose content was not read: said, with the pattern.
	wantSkipped := []Skip{{Path: "/usr/bin/evil", Reason: `hardlink to "/app/node_modules/evil/package.json", which --skip-dirs "**/node_modules" skipped`}}
	if d := cmp.Diff(wantSkipped, res.Skipped); d != "" {
		t.Errorf("Skipped (-want +got):\n%s", d)
	}
	// Whiteouts are not files of the image: still recorded.
	if d := cmp.Diff([]string{"/app/node_modules/gone"}, res.Whiteouts); d != "" {
		t.Errorf("whiteouts (-want +got):\n%s", d)
	}
	if res.DiffID != digestOf(raw) {
		t.Errorf("diff_id %s: the skipped bytes must still be hashed", res.DiffID)
	}
}
