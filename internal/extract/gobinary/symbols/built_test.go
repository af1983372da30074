package symbols

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/gobinary/gobuildtest"
)

// readFile reads the function table of the executable at path.
func readFile(t testing.TB, path string) (*Table, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return Read(context.Background(), f, st.Size(), Options{})
}

func fromBlob(b *gobuildtest.Blob) []Symbol {
	var out []Symbol
	for _, s := range b.PkgSymbols {
		out = append(out, Symbol(s))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pkg != out[j].Pkg {
			return out[i].Pkg < out[j].Pkg
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// TestMatchesGovulncheck builds a program that uses golang.org/x/text
// v0.3.5 in several forms and compares the symbols read with govulncheck
// v1.9.0's extraction (-mode=extract) of the same file: equal for every
// binary that has a symbol table. From a stripped binary govulncheck reads
// no symbol at all (x/vuln issue 57764); Read reads exactly the symbols of
// its unstripped twin.
func TestMatchesGovulncheck(t *testing.T) {
	dir := t.TempDir()
	src := gobuildtest.CopyDir(t, filepath.Join("..", "gobuildtest", "testdata", "mustparse"))
	type variant struct {
		name, path, twin string // twin: the unstripped build of a stripped one
	}
	build := func(name string, args []string, env ...string) string {
		out := filepath.Join(dir, name)
		gobuildtest.Build(t, src, out, args, env...)
		return out
	}
	plain := build("plain", nil)
	vs := []variant{
		{name: "plain", path: plain},
		{name: "pie", path: build("pie", []string{"-buildmode=pie"})},
		{name: "trimpath", path: build("trimpath", []string{"-trimpath"})},
		{name: "strip --strip-all", path: gobuildtest.Strip(t, plain), twin: plain},
		{name: "-ldflags=-s -w", path: build("sw", []string{"-ldflags=-s -w"}), twin: plain},
	}
	if !testing.Short() {
		// Cross builds compile the standard library for the target: slow
		// on a cold build cache.
		for _, target := range [][2]string{{"linux", "386"}, {"windows", "amd64"}, {"darwin", "arm64"}} {
			env := []string{"GOOS=" + target[0], "GOARCH=" + target[1]}
			name := target[0] + "-" + target[1]
			p := build(name, nil, env...)
			vs = append(vs, variant{name: name, path: p},
				variant{name: name + " -ldflags=-s -w", path: build(name+"-sw", []string{"-ldflags=-s -w"}, env...), twin: p})
		}
	}
	read := map[string][]Symbol{}
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			tab, err := readFile(t, v.path)
			if err != nil {
				t.Fatal(err)
			}
			got := tab.Symbols()
			read[v.path] = got
			blob := gobuildtest.GovulncheckExtract(t, v.path)
			if v.twin == "" {
				if diff := cmp.Diff(fromBlob(blob), got); diff != "" {
					t.Errorf("symbols differ from govulncheck's extraction (-govulncheck +drydock):\n%s", diff)
				}
				return
			}
			if len(blob.PkgSymbols) != 0 {
				t.Errorf("govulncheck read %d symbols from a stripped binary; this test expects none (x/vuln issue 57764)", len(blob.PkgSymbols))
			}
			twin, ok := read[v.twin]
			if !ok {
				t.Fatal("the unstripped twin was not read")
			}
			if diff := cmp.Diff(twin, got); diff != "" {
				t.Errorf("stripped binary (-unstripped +stripped):\n%s", diff)
			}
		})
	}
}

// TestXVulnTestProgram builds x/vuln's own test program
// (internal/buildinfo/testdata/src: main calls f, f calls g twice, g
// prints) as x/vuln's TestExtractPackagesAndSymbols does, for several
// targets, and expects what it expects: the main package has exactly f, g
// and main — f and g are inlined, found through the inline tree. x/vuln
// expects no symbols of the stripped build (TestStrippedBinary, Go ≥
// 1.22); drydock reads the same three.
func TestXVulnTestProgram(t *testing.T) {
	srcDir := filepath.Join(gobuildtest.XVuln(t), "internal", "buildinfo", "testdata", "src")
	src := gobuildtest.CopyDir(t, srcDir)
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module golang.org/vuln/testsrc\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	targets := [][2]string{{runtime.GOOS, runtime.GOARCH}}
	if !testing.Short() {
		targets = append(targets, [2]string{"linux", "arm"}, [2]string{"linux", "386"}, [2]string{"windows", "amd64"},
			[2]string{"darwin", "arm64"}, [2]string{"freebsd", "arm64"})
	}
	want := []Symbol{{"main", "f"}, {"main", "g"}, {"main", "main"}}
	for _, target := range targets {
		for _, strip := range []bool{false, true} {
			name := target[0] + "/" + target[1]
			var args []string
			if strip {
				name += "/stripped"
				args = []string{"-ldflags=-s -w"}
			}
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "src")
				gobuildtest.Build(t, src, out, args, "GOOS="+target[0], "GOARCH="+target[1])
				tab, err := readFile(t, out)
				if err != nil {
					t.Fatal(err)
				}
				var got []Symbol
				for _, s := range tab.Symbols() {
					if s.Pkg == "main" {
						got = append(got, s)
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("main package (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestAncientBinary: x/vuln's prebuilt hello-world, built with Go 1.6.4,
// has a Go 1.2 function table and no build information. govulncheck reads
// its Go version and no symbols from it (TestAncientGoBinaries); so does
// drydock: Read says why it reads none, OldGoVersion gives the version.
func TestAncientBinary(t *testing.T) {
	path := filepath.Join(gobuildtest.XVuln(t), "internal", "buildinfo", "testdata", "bin", "hello-world")
	if _, err := readFile(t, path); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Read error = %v, want ErrUnsupported", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := OldGoVersion(f, st.Size()); v != "go1.6.4" || !ok {
		t.Errorf("OldGoVersion = %q, %v; want go1.6.4, true", v, ok)
	}
}
