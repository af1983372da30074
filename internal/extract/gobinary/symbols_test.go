package gobinary

import (
	"bytes"
	"context"
	"debug/elf"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/gobinary/gobuildtest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// TestExtractOldGo reads golang.org/x/vuln's prebuilt hello-world (Go
// 1.6.4, no build information): govulncheck reads its Go version and no
// symbols, and checks the standard library only (TestAncientGoBinaries,
// binary_old_go_text.ct). drydock reports stdlib 1.6.4 alone, with a note,
// and marks the functions unknown.
func TestExtractOldGo(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(gobuildtest.XVuln(t), "internal", "buildinfo", "testdata", "bin", "hello-world"))
	if err != nil {
		t.Fatal(err)
	}
	const p = "/usr/local/bin/hello-world"
	got, err := New().Extract(context.Background(), layer.Executable(p, b))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Inventory{
		Packages: []inventory.Package{{Name: "stdlib", Version: "1.6.4", Ecosystem: "Go", PURL: "pkg:golang/stdlib@1.6.4",
			Locations: layer.Locations(p), FoundBy: extractorName, Metadata: map[string]string{"go_toolchain": "go1.6.4"}}},
		Notes: []inventory.Note{{Level: "info", Path: p, Layer: layer.DiffID,
			Message: `Go executable "/usr/local/bin/hello-world" was built with go1.6.4, before Go recorded modules in executables: only the Go standard library is reported, and its functions are not read`}},
		GoBinaries: []inventory.GoBinary{{Path: p, GoSymbols: inventory.GoSymbols{Unknown: "built with go1.6.4, whose function table (before Go 1.18) is not read"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
}

// TestExtractFuzzedELF damages the function table of a real Go executable
// (its header, the moduledata that locates the inline trees, random bytes):
// the build info is still read, the functions are unknown or read, with the
// reason in a note, and nothing panics.
func TestExtractFuzzedELF(t *testing.T) {
	bb := binaries(t)
	orig, err := os.ReadFile(bb.paths["devel"])
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	tab, mod := f.Section(".gopclntab"), f.Section(".go.module")
	if tab == nil {
		t.Fatal("no .gopclntab")
	}
	extract := func(t *testing.T, b []byte) inventory.GoSymbols {
		t.Helper()
		inv, err := New().Extract(context.Background(), layer.Executable("/app", b))
		if err != nil {
			t.Fatalf("Extract: %v", err)
		}
		if len(inv.Packages) == 0 || len(inv.GoBinaries) != 1 {
			t.Fatalf("got %d packages, %d Go binaries; want the build info's, and one", len(inv.Packages), len(inv.GoBinaries))
		}
		g := inv.GoBinaries[0].GoSymbols
		if g.Unknown != "" && !hasNote(inv.Notes, g.Unknown) {
			t.Errorf("unknown (%s) without a note", g.Unknown)
		}
		return g
	}
	t.Run("header", func(t *testing.T) {
		b := bytes.Clone(orig)
		copy(b[tab.Offset:], "\x00\x00\x00\x00")
		if g := extract(t, b); !strings.Contains(g.Unknown, "no Go function table") {
			t.Errorf("unknown = %q, want no Go function table", g.Unknown)
		}
	})
	t.Run("a Go 1.16 table", func(t *testing.T) {
		// What a binary of Go 1.13–1.17 gives: build info with its
		// modules, and a function table of the old format.
		b := bytes.Clone(orig)
		copy(b[tab.Offset:], "\xfa\xff\xff\xff")
		if g := extract(t, b); !strings.Contains(g.Unknown, "whose function table (before Go 1.18) is not read") {
			t.Errorf("unknown = %q", g.Unknown)
		}
	})
	t.Run("moduledata", func(t *testing.T) {
		if mod == nil {
			t.Skip("no .go.module section (Go < 1.26)")
		}
		b := bytes.Clone(orig)
		b[mod.Offset+8] ^= 0xff // the funcnametab pointer: moduledata no longer checks out
		if g := extract(t, b); !strings.Contains(g.Unknown, "moduledata not found") {
			t.Errorf("unknown = %q, want moduledata not found", g.Unknown)
		}
	})
	t.Run("random bytes", func(t *testing.T) {
		rng := rand.New(rand.NewSource(19))
		unknown := 0
		for i := 0; i < 300; i++ {
			b := bytes.Clone(orig)
			for k := 0; k < 1+rng.Intn(16); k++ {
				b[int(tab.Offset)+rng.Intn(int(tab.Size))] = byte(rng.Intn(256))
			}
			if extract(t, b).Unknown != "" {
				unknown++
			}
		}
		t.Logf("%d of 300 damaged tables unknown, the others read", unknown)
	})
}

func hasNote(notes []inventory.Note, s string) bool {
	for _, n := range notes {
		if strings.Contains(n.Message, s) {
			return true
		}
	}
	return false
}

// TestCompact: what is kept of a table, and tables taken as obfuscated.
func TestCompact(t *testing.T) {
	bi := &debug.BuildInfo{Path: "example.com/app/cmd/app", Main: debug.Module{Path: "example.com/app"},
		Deps:     []*debug.Module{{Path: "golang.org/x/text", Version: "v0.3.5"}, {Path: "github.com/old/mod", Replace: &debug.Module{Path: "github.com/new/mod"}}},
		Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}}}
	names := func(syms ...[3]string) func(func(pkg, recv, base string)) {
		return func(fn func(pkg, recv, base string)) {
			for _, s := range syms {
				fn(s[0], s[1], s[2])
			}
		}
	}
	t.Run("kept", func(t *testing.T) {
		g := compact(bi, names([3]string{"runtime", "", "main"}, [3]string{"main", "", "main"}, [3]string{"golang.org/x/text/language", "Tag", "String"},
			[3]string{"github.com/old/mod/x", "", "Map[...]"}, [3]string{"sync/atomic", "Pointer[...]", "Load"}, [3]string{"", "", "_rt0_amd64"}))
		if g.Unknown != "" || g.GOOS != "linux" || g.GOARCH != "arm64" {
			t.Fatalf("GoSymbols = %+v", g)
		}
		wantPkgs := []string{"example.com/app/cmd/app", "github.com/old/mod/x", "golang.org/x/text/language", "runtime", "sync/atomic"}
		if diff := cmp.Diff(wantPkgs, g.Packages); diff != "" {
			t.Errorf("packages (-want +got):\n%s", diff)
		}
		for _, s := range [][2]string{{"example.com/app/cmd/app", "main"}, {"golang.org/x/text/language", "Tag.String"}, {"github.com/old/mod/x", "Map"}, {"sync/atomic", "Pointer.Load"}} {
			if !g.HasSymbol(s[0], s[1]) {
				t.Errorf("HasSymbol(%s, %s) = false", s[0], s[1])
			}
		}
		if len(g.Symbols) != 5 {
			t.Errorf("%d symbols, want 5", len(g.Symbols))
		}
	})
	for _, tt := range []struct {
		name string
		syms [][3]string
		want string
	}{
		{"no module has a function", [][3]string{{"runtime", "", "main"}, {"a1b2c3", "", "x9"}}, "obfuscated: none of the 3 modules"},
		{"no runtime", [][3]string{{"golang.org/x/text/language", "", "Parse"}}, "no function of package runtime"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if g := compact(bi, names(tt.syms...)); !strings.Contains(g.Unknown, tt.want) || len(g.Packages) != 0 {
				t.Errorf("GoSymbols = %+v, want unknown %q", g, tt.want)
			}
		})
	}
}
