// Package extracttest is the test kit of the extractors under
// internal/extract: inputs built from bytes or testdata files, one golden-file
// comparison with one -update flag, the fuzz checks every extractor must pass
// and compact views of an inventory for cmp.Diff.
//
// A new extractor's tests use it like this:
//
//	// The layer the test files are read from.
//	var layer = extracttest.Layer{Index: 1, DiffID: "sha256:0123"}
//
//	func TestExtract(t *testing.T) {
//		const p = "/srv/app/foo.lock"
//		// testdata/app/foo.lock as the file p; fails unless Wants(p) and Extract succeeds.
//		inv := extracttest.Extract(t, New(), layer.Input(p, extracttest.Testdata(t, "app/foo.lock")))
//		want := []string{"a@1.0.0", "b@2.0.0"}
//		if diff := cmp.Diff(want, extracttest.NameVersions(inv.Packages)); diff != "" {
//			t.Errorf("packages (-want +got):\n%s", diff)
//		}
//		// `go test ./internal/extract/foo -update` rewrites the file; review the diff.
//		extracttest.Golden(t, "testdata/foo.lock.golden.json", inv)
//	}
//
//	func TestExtractErrors(t *testing.T) {
//		_, err := New().Extract(context.Background(), layer.Input("/srv/app/foo.lock", []byte("garbage")))
//		extracttest.CheckError(t, err, `parsing foo.lock "/srv/app/foo.lock": …`)
//	}
//
//	func FuzzExtract(f *testing.F) {
//		f.Add(extracttest.Testdata(f, "app/foo.lock"))
//		extracttest.FuzzFile(f, New(), layer.Input("/srv/app/foo.lock", nil), extracttest.Complete)
//	}
//
// Expected packages name their location with layer.Locations(path).
// Executables are built with layer.Executable, which sets an executable mode.
// A table of Wants cases goes through CheckWants; an error that must name the
// file and say something through CheckFileError. Fuzz targets with more than
// the file's bytes as input (a choice of path, a corruption offset) call Fuzz
// on each input themselves.
package extracttest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Layer is the layer a test's files are read from.
type Layer inventory.Layer

// Input returns the input for a regular file (mode 0644) at path in the image
// holding data, read from layer l.
func (l Layer) Input(path string, data []byte) *extract.Input {
	return l.input(path, 0o644, data)
}

// Executable is Input for an executable file (mode 0755).
func (l Layer) Executable(path string, data []byte) *extract.Input {
	return l.input(path, 0o755, data)
}

func (l Layer) input(path string, mode fs.FileMode, data []byte) *extract.Input {
	return &extract.Input{Path: path, Mode: mode, File: extract.NewMemFile(data), Layer: inventory.Layer(l)}
}

// Locations returns the Locations an extractor gives a package read from the
// file at path of layer l.
func (l Layer) Locations(path string) []inventory.Location {
	return []inventory.Location{{Path: path, LayerDiffID: l.DiffID}}
}

// Testdata returns the contents of testdata/rel (rel is slash-separated) of
// the package under test, failing t if it cannot be read.
func Testdata(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Extract runs e on in and returns the inventory. It fails t, and stops it,
// unless e wants the file and extracts it without an error.
func Extract(t testing.TB, e extract.Extractor, in *extract.Input) inventory.Inventory {
	t.Helper()
	if !e.Wants(in.Path, in.Mode, in.File.Size()) {
		t.Fatalf("Wants(%q, %v, %d) = false", in.Path, in.Mode, in.File.Size())
	}
	inv, err := e.Extract(context.Background(), in)
	if err != nil {
		t.Fatalf("Extract(%q): %v", in.Path, err)
	}
	return inv
}

// WantsCase is one row of a table of Wants checks.
type WantsCase struct {
	Path string
	Mode fs.FileMode
	Size int64
	Want bool
}

// CheckWants fails t for each case where e.Wants(Path, Mode, Size) is not Want.
func CheckWants(t testing.TB, e extract.Extractor, cases []WantsCase) {
	t.Helper()
	for _, c := range cases {
		if got := e.Wants(c.Path, c.Mode, c.Size); got != c.Want {
			t.Errorf("Wants(%q, %v, %d) = %v, want %v", c.Path, c.Mode, c.Size, got, c.Want)
		}
	}
}

// Golden compares got, encoded as indented JSON, with the golden file at path
// (relative to the package under test, e.g. "testdata/x.golden.json") and
// fails t with the difference. With -update it writes the file instead.
func Golden(t testing.TB, path string, got any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(data)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// CheckError fails t unless err's text is want; want "" means no error.
func CheckError(t testing.TB, err error, want string) {
	t.Helper()
	got := ""
	if err != nil {
		got = err.Error()
	}
	if got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

// CheckFileError fails t unless err is an error that names the file at path
// (see NamesFile) and contains each of subs. It reports whether err was one.
func CheckFileError(t testing.TB, err error, path string, subs ...string) bool {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want one naming %q", path)
		return false
	}
	ok := true
	if !NamesFile(err, path) {
		t.Errorf("error %q does not name the file %q", err, path)
		ok = false
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
			ok = false
		}
	}
	return ok
}

// NamesFile reports whether err names the file at path as extractors do:
// quoted as %q writes it, or quoted as the start of a path inside it
// ("/app.jar!/lib/x.jar" for an archive nested in /app.jar).
func NamesFile(err error, path string) bool {
	q := strconv.Quote(path)
	msg := err.Error()
	return strings.Contains(msg, q) || strings.Contains(msg, q[:len(q)-1]+"!/")
}

// Fuzz runs e on one fuzz input and fails t where the result breaks what
// every extractor promises for any input:
//   - it does not panic;
//   - an error names the file (NamesFile), unless it wraps
//     extract.ErrNotApplicable;
//   - every package has a Name, the file's location (in.Path in in.Layer)
//     and absolute Files;
//   - a second run gives the same inventory and the same error.
//
// It returns the inventory for the target's own checks.
func Fuzz(t *testing.T, e extract.Extractor, in *extract.Input) inventory.Inventory {
	t.Helper()
	inv, err := e.Extract(context.Background(), in)
	if err != nil && !errors.Is(err, extract.ErrNotApplicable) && !NamesFile(err, in.Path) {
		t.Errorf("error does not name the file %q: %v", in.Path, err)
	}
	want := []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}}
	for _, p := range inv.Packages {
		if p.Name == "" {
			t.Errorf("package without a name: %+v", p)
		}
		if diff := cmp.Diff(want, p.Locations); diff != "" {
			t.Errorf("package %q locations (-want +got):\n%s", p.Name, diff)
		}
		for _, f := range p.Files {
			if !strings.HasPrefix(f, "/") {
				t.Errorf("package %q: relative file %q", p.Name, f)
			}
		}
	}
	inv2, err2 := e.Extract(context.Background(), in)
	if diff := cmp.Diff(inv, inv2); diff != "" {
		t.Errorf("second run gives another inventory (-first +second):\n%s", diff)
	}
	if errText(err) != errText(err2) {
		t.Errorf("second run gives another error: %v, then %v", err, err2)
	}
	return inv
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzFile fuzzes e with arbitrary contents of the file in describes (its
// path, mode and layer; in.File is replaced). Each input goes through Fuzz,
// then through checks. Add the seeds with f.Add(data) before calling it.
func FuzzFile(f *testing.F, e extract.Extractor, in *extract.Input, checks ...func(*testing.T, inventory.Inventory)) {
	f.Helper()
	f.Fuzz(func(t *testing.T, data []byte) {
		in := *in
		in.File = extract.NewMemFile(data)
		inv := Fuzz(t, e, &in)
		for _, check := range checks {
			check(t, inv)
		}
	})
}

// Complete fails t for a package without a Version or a PURL: an ecosystem
// package that is reported at all carries both.
func Complete(t *testing.T, inv inventory.Inventory) {
	t.Helper()
	for _, p := range inv.Packages {
		if p.Version == "" || p.PURL == "" {
			t.Errorf("incomplete package %+v", p)
		}
	}
}

// Identified fails t for a package without an ID: OS extractors give every
// package its ID (purl.PackageID) themselves.
func Identified(t *testing.T, inv inventory.Inventory) {
	t.Helper()
	for _, p := range inv.Packages {
		if p.ID == "" {
			t.Errorf("package without an ID %+v", p)
		}
	}
}

// Declared fails t for a package not marked Declared: what a lockfile yields.
func Declared(t *testing.T, inv inventory.Inventory) {
	t.Helper()
	for _, p := range inv.Packages {
		if !p.Declared {
			t.Errorf("lockfile package not declared: %+v", p)
		}
	}
}

// NameVersions lists the packages as "name@version", in order, for a compact
// cmp.Diff. Each tag that returns a non-empty string for a package adds it
// after a space ("ms@2.1.3 dev").
func NameVersions(pkgs []inventory.Package, tags ...func(inventory.Package) string) []string {
	var out []string
	for _, p := range pkgs {
		s := p.Name + "@" + p.Version
		for _, tag := range tags {
			if v := tag(p); v != "" {
				s += " " + v
			}
		}
		out = append(out, s)
	}
	return out
}

// ByName indexes packages by name (the last one wins).
func ByName(pkgs []inventory.Package) map[string]inventory.Package {
	m := make(map[string]inventory.Package, len(pkgs))
	for _, p := range pkgs {
		m[p.Name] = p
	}
	return m
}
