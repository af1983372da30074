package main

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/scan"
)

// TestHostileInputs builds every hostile input 4096 times smaller than the
// benchmark's and scans it with the library: each is a valid image of the
// shape it claims.
func TestHostileInputs(t *testing.T) {
	want := map[string]func(t *testing.T, names []string, notes []string){
		"dpkg-description-2mb": func(t *testing.T, names, _ []string) {
			if !slices.Contains(names, "bigdesc@1.0-1") {
				t.Errorf("bigdesc not found: %v", names)
			}
		},
		"jar-manifest-1mib-nested8": func(t *testing.T, names, _ []string) {
			if len(names) != 9 {
				t.Errorf("%d packages, want the outer jar and 8 copies: %v", len(names), names)
			}
		},
		"jar-pom-properties-1mib": func(t *testing.T, names, _ []string) {
			if diff := cmp.Diff([]string{"org.example:bomb@1.0"}, names); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		},
		// The lockfiles' first packages, and every one of them read (at
		// this scale, under the limit).
		"yarn-v1-lock-49mb":    lockfileCheck,
		"yarn-berry-lock-49mb": lockfileCheck,
		"pnpm-lock-49mb":       lockfileCheck,
		"zero-jars-2x472mb": func(t *testing.T, _, notes []string) {
			if n := len(notes); n != 2 {
				t.Errorf("%d notes, want one per zero-filled jar: %v", n, notes)
			}
		},
	}
	dir := t.TempDir()
	for _, in := range hostileInputs(4096) {
		t.Run(in.Name, func(t *testing.T) {
			ref, blob, err := generate(filepath.Join(dir, in.Name), in)
			if err != nil {
				t.Fatal(err)
			}
			if blob == 0 {
				t.Error("no blobs written")
			}
			// A second call reuses the input.
			if ref2, _, err := generate(filepath.Join(dir, in.Name), in); err != nil || ref2 != ref {
				t.Errorf("regenerated: %q, %v", ref2, err)
			}
			res, err := scan.Run(context.Background(), scan.Config{Reference: ref, TempDir: t.TempDir()})
			if err != nil {
				t.Fatalf("scanning %s: %v", ref, err)
			}
			var notes []string
			for _, n := range res.Notes {
				if n.Level == "warning" {
					notes = append(notes, n.Path+": "+n.Message)
				}
			}
			if check := want[in.Name]; check != nil {
				check(t, extracttest.NameVersions(res.Packages), notes)
			}
		})
	}
}

// lockfileCheck checks a scan of a generated yarn.lock or pnpm-lock.yaml
// of more than 10 entries: after the project's package.json (app 1.0.0),
// p000000 1.0.0 to p000008 1.0.8 come first, and nothing is cut.
func lockfileCheck(t *testing.T, names, notes []string) {
	t.Helper()
	want := []string{"app@1.0.0", "p000000@1.0.0", "p000001@1.0.1", "p000002@1.0.2", "p000003@1.0.3", "p000004@1.0.4",
		"p000005@1.0.5", "p000006@1.0.6", "p000007@1.0.7", "p000008@1.0.8"}
	if len(names) < len(want) {
		t.Fatalf("%d packages, want at least %d: %v", len(names), len(want), names)
	}
	if diff := cmp.Diff(want, names[:len(want)]); diff != "" {
		t.Errorf("first packages (-want +got):\n%s", diff)
	}
	if len(notes) != 0 {
		t.Errorf("notes %v, want none", notes)
	}
}

// TestSparseEntry: the oci-archive's extra entry reads back as a sparse
// file of the size asked, all zeros but its last byte.
func TestSparseEntry(t *testing.T) {
	ref, err := buildSparseArchive(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(strings.TrimPrefix(ref, "oci-archive:"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("no sparse entry")
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "blobs/sha256/"+strings.Repeat("0", 64) {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Size != 1<<20 || len(b) != 1<<20 || b[len(b)-1] != 'x' || strings.Trim(string(b[:len(b)-1]), "\x00") != "" {
			t.Errorf("sparse entry of %d bytes (read %d), last %q", h.Size, len(b), b[len(b)-1])
		}
		return
	}
}
