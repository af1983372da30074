package symbols

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// synthFuncs is the function table of the synthetic executables: plain
// functions, methods, an escaped package path, a generic instantiation,
// compiler-generated names, and inline trees (one shared name).
func synthFuncs(v120 bool) []synthFunc {
	eq := "type..eq.main.T"
	if v120 {
		eq = "type:.eq.main.T"
	}
	return []synthFunc{
		{name: "runtime.main"},
		{name: "main.main", inlined: []string{"fmt.Println", "golang.org/x/text/language.MustParse", "golang.org/x/text/language.Parse"}},
		{name: "golang.org/x/text/language.Parse", inlined: []string{"golang.org/x/text/internal/language.Parse"}},
		{name: "golang.org/x/text/language.(*Tag).String"},
		{name: "gopkg.in/yaml%2ev3.Unmarshal"},
		{name: "sync/atomic.(*Pointer[...]).Load"},
		{name: "main.main.func1"},
		{name: eq},
	}
}

func TestSynthetic(t *testing.T) {
	wantSymbols := func(v120 bool) []Symbol {
		s := []Symbol{
			{Pkg: "fmt", Name: "Println"},
			{Pkg: "golang.org/x/text/internal/language", Name: "Parse"},
			{Pkg: "golang.org/x/text/language", Name: "MustParse"},
			{Pkg: "golang.org/x/text/language", Name: "Parse"},
			{Pkg: "golang.org/x/text/language", Name: "Tag.String"},
			{Pkg: "gopkg.in/yaml.v3", Name: "Unmarshal"},
			{Pkg: "main", Name: "main"},
			{Pkg: "main", Name: "main.func1"},
			{Pkg: "runtime", Name: "main"},
			{Pkg: "sync/atomic", Name: "Pointer[...].Load"},
		}
		// Compiler-generated equality functions belong to no package:
		// "type:.eq.main.T" since Go 1.20, "type..eq.main.T" before.
		if v120 {
			return append([]Symbol{{Name: "eq.main.T"}}, s...)
		}
		return append([]Symbol{{Name: ".eq.main.T"}}, s...)
	}
	for _, format := range []string{"elf", "macho", "pe"} {
		for _, v120 := range []bool{true, false} {
			for _, ptr := range []int{8, 4} {
				for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
					for _, modSec := range []bool{false, true} {
						if format != "elf" && (order == binary.BigEndian || ptr == 4 && format == "macho") {
							continue // PE and Mach-O targets are little-endian; Mach-O 32-bit is not built by Go
						}
						name := fmt.Sprintf("%s/v120=%v/ptr=%d/%v/module-section=%v", format, v120, ptr, order, modSec)
						t.Run(name, func(t *testing.T) {
							s := synth{format: format, order: order, ptrSize: ptr, v120: v120, funcs: synthFuncs(v120), moduleSection: modSec}
							b := s.build()
							tab, err := Read(context.Background(), bytes.NewReader(b), int64(len(b)), Options{})
							if err != nil {
								t.Fatal(err)
							}
							funcs, inlined := tab.Names()
							var wantFuncs []string
							for _, f := range s.funcs {
								wantFuncs = append(wantFuncs, f.name)
							}
							wantInlined := []string{"fmt.Println", "golang.org/x/text/internal/language.Parse", "golang.org/x/text/language.MustParse", "golang.org/x/text/language.Parse"}
							if diff := cmp.Diff(sorted(wantFuncs), funcs); diff != "" {
								t.Errorf("functions (-want +got):\n%s", diff)
							}
							if diff := cmp.Diff(wantInlined, inlined); diff != "" {
								t.Errorf("inlined (-want +got):\n%s", diff)
							}
							if diff := cmp.Diff(wantSymbols(v120), tab.Symbols()); diff != "" {
								t.Errorf("symbols (-want +got):\n%s", diff)
							}
							wantVersion := "go1.18"
							if v120 {
								wantVersion = "go1.20"
							}
							if tab.Format != format || tab.TableVersion != wantVersion || tab.PtrSize != ptr || tab.Funcs != len(s.funcs) || tab.InlinedCalls != 4 {
								t.Errorf("table = %s %s ptr %d, %d functions, %d inlined calls; want %s %s ptr %d, %d, 4",
									tab.Format, tab.TableVersion, tab.PtrSize, tab.Funcs, tab.InlinedCalls, format, wantVersion, ptr, len(s.funcs))
							}
						})
					}
				}
			}
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestSyntheticErrors: what cannot be read says why, and never panics.
func TestSyntheticErrors(t *testing.T) {
	base := synth{format: "elf", order: binary.LittleEndian, ptrSize: 8, v120: true, funcs: synthFuncs(true)}
	with := func(f func(*synth)) []byte { s := base; f(&s); return s.build() }
	good := base.build()
	tests := []struct {
		name string
		data []byte
		opt  Options
		want error
	}{
		{"Go 1.2 table", with(func(s *synth) { s.magic = magic12 }), Options{}, ErrUnsupported},
		{"Go 1.16 table", with(func(s *synth) { s.magic = magic116 }), Options{}, ErrUnsupported},
		{"Go 1.16 table in a PE file", with(func(s *synth) { s.magic = magic116; s.format = "pe" }), Options{}, ErrUnsupported},
		{"wrong go:func.* base", with(func(s *synth) { s.gofuncSkew = 2 }), Options{}, ErrMalformed},
		{"too many functions", good, Options{MaxFuncs: 3}, ErrTooLarge},
		{"name table too large", good, Options{MaxNameTable: 16}, ErrTooLarge},
		{"inline tree too large", good, Options{MaxInlineTree: 2}, ErrTooLarge},
		{"not a Go table", bytes.ReplaceAll(good, []byte("\xf1\xff\xff\xff"), []byte("\x00\x00\x00\x00")), Options{}, ErrNotGo},
		{"not an executable", []byte("#!/bin/sh\necho hello\n"), Options{}, errNotExecutable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(context.Background(), bytes.NewReader(tt.data), int64(len(tt.data)), tt.opt)
			if !errors.Is(err, tt.want) {
				t.Errorf("Read error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		for n := 0; n < len(good); n += 97 {
			if _, err := Read(context.Background(), bytes.NewReader(good[:n]), int64(n), Options{}); err == nil {
				t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
			}
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Read(ctx, bytes.NewReader(good), int64(len(good)), Options{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Read error = %v, want context.Canceled", err)
		}
	})
}

// TestOldGoVersion: only an ELF with an old function table is an old Go
// executable; without a symbol table its version is unknown.
func TestOldGoVersion(t *testing.T) {
	s := synth{format: "elf", order: binary.LittleEndian, ptrSize: 8, v120: true, funcs: synthFuncs(true)}
	current := s.build()
	s.magic = magic12
	old := s.build()
	s.format = "pe"
	oldPE := s.build()
	for _, tt := range []struct {
		name string
		data []byte
		ok   bool
	}{{"current table", current, false}, {"Go 1.2 table", old, true}, {"Go 1.2 table in a PE file", oldPE, false}, {"shell script", []byte("#!/bin/sh\n"), false}} {
		v, ok := OldGoVersion(bytes.NewReader(tt.data), int64(len(tt.data)))
		if v != "" || ok != tt.ok {
			t.Errorf("%s: OldGoVersion = %q, %v; want \"\", %v", tt.name, v, ok, tt.ok)
		}
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct {
		name            string
		colon           bool
		pkg, recv, base string
	}{
		{"main.main", true, "main", "", "main"},
		{"golang.org/x/text/language.Parse", true, "golang.org/x/text/language", "", "Parse"},
		{"golang.org/x/text/language.(*Tag).String", true, "golang.org/x/text/language", "Tag", "String"},
		{"golang.org/x/text/language.Tag.String", true, "golang.org/x/text/language", "Tag", "String"},
		{"gopkg.in/yaml%2ev3.Unmarshal", true, "gopkg.in/yaml.v3", "", "Unmarshal"},
		{"main.main.func1", true, "main", "main", "func1"},
		{"main.F[...]", true, "main", "", "F[...]"},
		{"sync/atomic.(*Pointer[...]).Load", true, "sync/atomic", "Pointer[...]", "Load"},
		{"example.com/m.G[example.com/m/x.T]", true, "example.com/m", "", "G[example.com/m/x.T]"},
		{"type:.eq.main.T", true, "", "eq.main", "T"},
		{"type:.eq.main.T", false, "type:", "eq.main", "T"},
		{"go:buildid", true, "", "", "go:buildid"},
		{"type..eq.main.T", false, "", ".eq.main", "T"},
		{"_rt0_amd64_linux", true, "", "", "_rt0_amd64_linux"},
		// Hostile names: nothing panics.
		{"a]b[c", true, "", "", "a]b[c"},
		{"[", true, "", "", "["},
		{"x/[y.z]", true, "", "", "x/[y.z]"},
		{"a/b[c/d]e.f.g", true, "a/be", "/d]e.f", "g"}, // as debug/gosym: garbage in, garbage out
		{".", true, "", "", ""},
		{"%zz.F", true, "%zz", "", "F"},
	}
	for _, tt := range tests {
		pkg, recv, base := splitName(tt.name, tt.colon)
		if pkg != tt.pkg || recv != tt.recv || base != tt.base {
			t.Errorf("splitName(%q, %v) = %q, %q, %q; want %q, %q, %q", tt.name, tt.colon, pkg, recv, base, tt.pkg, tt.recv, tt.base)
		}
	}
}

// FuzzRead: whatever the bytes, Read returns a table or an error, and never
// panics or runs away.
func FuzzRead(f *testing.F) {
	for _, s := range []synth{
		{format: "elf", order: binary.LittleEndian, ptrSize: 8, v120: true},
		{format: "elf", order: binary.BigEndian, ptrSize: 4, v120: false, moduleSection: true},
		{format: "macho", order: binary.LittleEndian, ptrSize: 8, v120: true},
		{format: "pe", order: binary.LittleEndian, ptrSize: 8, v120: true},
	} {
		s.funcs = synthFuncs(s.v120)
		f.Add(s.build())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := Read(context.Background(), bytes.NewReader(b), int64(len(b)), Options{MaxNameTable: 1 << 20})
		if err != nil {
			return
		}
		for _, s := range tab.Symbols() {
			if s.Pkg == "" && s.Name == "" {
				t.Errorf("an empty symbol")
			}
		}
	})
}
