package secret

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// alpineRootfs is the real Alpine 3.16.9 minirootfs from the shared test
// data, beside the repository (see /work/shared/data/README.md).
var alpineRootfs = filepath.Join("..", "..", "..", "shared", "data", "rootfs", "alpine-minirootfs-3.16.9-x86_64.tar.gz")

// sharedData opens a file of the shared test data, skipping the test when
// it is absent outside CI.
func sharedData(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("CI") == "" {
		t.Skipf("%s not present (CI unset)", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// canary is a planted secret added to every false-positive corpus: it must
// be the one and only finding, which proves that the corpus was scanned.
func canary() (p string, data []byte) {
	g := newGen(7)
	return "/root/.canary.env", []byte("GITHUB_TOKEN=ghp_" + g.alnum(36) + "\n")
}

type fpStats struct{ seen, wanted, scanned, bytes int }

// scanCorpus feeds files through Wants and Extract as the layer walk would
// and returns every hit, formatted "path:line rule".
func scanCorpus(t *testing.T, s *Scanner, st *fpStats, p string, mode fs.FileMode, data func() ([]byte, error), size int64) []string {
	t.Helper()
	st.seen++
	if !s.Wants(p, mode, size) {
		return nil
	}
	st.wanted++
	b, err := data()
	if err != nil {
		t.Fatalf("reading %s: %v", p, err)
	}
	inv, err := s.Extract(context.Background(), &extract.Input{Path: p, Mode: mode, File: extract.NewMemFile(b)})
	if errors.Is(err, extract.ErrNotApplicable) {
		return nil
	}
	if err != nil {
		t.Fatalf("Extract(%q): %v", p, err)
	}
	st.scanned++
	st.bytes += len(b)
	var out []string
	for _, h := range inv.Hits {
		out = append(out, fmt.Sprintf("%s:%d %s %q", p, h.Line, h.RuleID, h.Match))
	}
	return out
}

func checkOnlyCanary(t *testing.T, hits []string, st fpStats, minScanned int) {
	t.Helper()
	cp, _ := canary()
	var fps []string
	found := false
	for _, h := range hits {
		if strings.HasPrefix(h, cp+":1 github-pat ") {
			found = true
			continue
		}
		fps = append(fps, h)
	}
	t.Logf("files seen %d, wanted %d, scanned as text %d (%d bytes)", st.seen, st.wanted, st.scanned, st.bytes)
	if !found {
		t.Errorf("the canary secret %s was not found", cp)
	}
	if st.scanned < minScanned {
		t.Errorf("only %d files scanned, want at least %d", st.scanned, minScanned)
	}
	for _, h := range fps {
		t.Errorf("false positive: %s", h)
	}
}

func TestNoFalsePositivesAlpine(t *testing.T) {
	f := sharedData(t, alpineRootfs)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	s := newScanner(t, nil)
	var st fpStats
	var hits []string
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		p := path.Clean("/" + hdr.Name)
		hits = append(hits, scanCorpus(t, s, &st, p, hdr.FileInfo().Mode(), func() ([]byte, error) { return io.ReadAll(tr) }, hdr.Size)...)
	}
	cp, cd := canary()
	hits = append(hits, scanCorpus(t, s, &st, cp, 0o600, func() ([]byte, error) { return cd, nil }, int64(len(cd)))...)
	// The minirootfs has 87 regular files: 67 are text and wanted (/etc,
	// scripts, apk keys), the apk database is skipped as noise, the rest
	// are ELF files.
	checkOnlyCanary(t, hits, st, 30)
}

// scanDir scans every regular file under root as if root were the image
// directory at (absolute).
func scanDir(t *testing.T, s *Scanner, root, at string, viaWants bool) ([]string, fpStats) {
	t.Helper()
	var st fpStats
	var hits []string
	err := filepath.WalkDir(root, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, fp)
		if err != nil {
			return err
		}
		p := path.Join(at, filepath.ToSlash(rel))
		read := func() ([]byte, error) { return os.ReadFile(fp) }
		if viaWants {
			hits = append(hits, scanCorpus(t, s, &st, p, info.Mode(), read, info.Size())...)
			return nil
		}
		// Every file, whatever its path: the rules alone must not fire.
		st.seen++
		st.wanted++
		b, err := read()
		if err != nil {
			return err
		}
		inv, err := s.Extract(context.Background(), &extract.Input{Path: p, Mode: info.Mode(), File: extract.NewMemFile(b), Layer: inventory.Layer{}})
		if errors.Is(err, extract.ErrNotApplicable) {
			return nil
		}
		if err != nil {
			return err
		}
		st.scanned++
		st.bytes += len(b)
		for _, h := range inv.Hits {
			hits = append(hits, fmt.Sprintf("%s:%d %s %q", p, h.Line, h.RuleID, h.Match))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits, st
}

// TestNoFalsePositivesDebian scans a full Debian bookworm minbase root
// filesystem made with
//
//	debootstrap --variant=minbase bookworm DIR http://deb.debian.org/debian
//
// named by $DRYDOCK_DEBOOTSTRAP_ROOTFS (CI prepares it; see docs/secrets.md).
func TestNoFalsePositivesDebian(t *testing.T) {
	root := os.Getenv("DRYDOCK_DEBOOTSTRAP_ROOTFS")
	if root == "" {
		t.Skip("DRYDOCK_DEBOOTSTRAP_ROOTFS not set")
	}
	if _, err := os.Stat(filepath.Join(root, "etc", "debian_version")); err != nil {
		t.Fatalf("DRYDOCK_DEBOOTSTRAP_ROOTFS=%s is not a Debian root filesystem: %v", root, err)
	}
	s := newScanner(t, nil)
	start := time.Now()
	hits, st := scanDir(t, s, root, "/", true)
	cp, cd := canary()
	hits = append(hits, scanCorpus(t, s, &st, cp, 0o600, func() ([]byte, error) { return cd, nil }, int64(len(cd)))...)
	t.Logf("scanned in %v", time.Since(start))
	checkOnlyCanary(t, hits, st, 1000)
}

// TestNoFalsePositivesExtractorTestdata scans the test data of the package
// extractors (package.json files, dist-info, lock files, jars…) without the
// path filters: the rules alone must not fire on them.
func TestNoFalsePositivesExtractorTestdata(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "extract", "*", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 5 {
		t.Fatalf("found %d extractor testdata directories, want many", len(dirs))
	}
	s := newScanner(t, nil)
	var all fpStats
	var hits []string
	for _, d := range dirs {
		h, st := scanDir(t, s, d, "/", false)
		for i := range h {
			h[i] = filepath.ToSlash(d) + h[i]
		}
		hits = append(hits, h...)
		all.seen += st.seen
		all.wanted += st.wanted
		all.scanned += st.scanned
		all.bytes += st.bytes
	}
	cp, cd := canary()
	hits = append(hits, scanCorpus(t, s, &all, cp, 0o600, func() ([]byte, error) { return cd, nil }, int64(len(cd)))...)
	checkOnlyCanary(t, hits, all, 20)
}
