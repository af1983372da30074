package inventory

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// GoBinary is what Go reachability knows of one Go executable of the image.
type GoBinary struct {
	// Path of the executable in the image.
	Path string `json:"path"`
	GoSymbols
}

// GoSymbols says which packages and functions a Go executable holds — the
// functions it compiled and the functions inlined into them — in a compact
// form that depends on no advisory (the per-layer cache keeps it, and new
// advisories are checked against it without reading the image again): the
// import paths of the packages that have at least one function in the
// executable, and a hash of each "<import path>.<symbol>" present. Or, when
// the function table could not be used, why not.
type GoSymbols struct {
	// Unknown, when set, says why the function table could not be used
	// ("built with go1.17.13: …", "obfuscated …", "unreadable: …"); the
	// other fields are then empty.
	Unknown string `json:"unknown,omitempty"`
	// GOOS and GOARCH the executable was built for (from its build info),
	// for advisories about some platforms only.
	GOOS   string `json:"goos,omitempty"`
	GOARCH string `json:"goarch,omitempty"`
	// Packages are the import paths, sorted; the main package is under
	// its own import path, not "main".
	Packages []string `json:"packages,omitempty"`
	// Symbols are GoSymbolHash of every function present, sorted.
	Symbols SymbolHashes `json:"symbols,omitempty"`
}

// MaxGoSymbols bounds the symbols kept of one executable (8 bytes each):
// the largest Go programs have a few hundred thousand functions.
const MaxGoSymbols = 2 << 20

// HasPackage reports whether the package at import path p has a function
// in the executable.
func (g *GoSymbols) HasPackage(p string) bool {
	_, ok := slices.BinarySearch(g.Packages, p)
	return ok
}

// HasModule reports whether a package of the module at path mod (the
// module's own path or one below it) has a function in the executable.
func (g *GoSymbols) HasModule(mod string) bool {
	if g.HasPackage(mod) {
		return true
	}
	i, _ := slices.BinarySearch(g.Packages, mod+"/")
	return i < len(g.Packages) && strings.HasPrefix(g.Packages[i], mod+"/")
}

// HasSymbol reports whether the function (or method, "Type.Method") sym of
// the package pkg is in the executable.
func (g *GoSymbols) HasSymbol(pkg, sym string) bool {
	_, ok := slices.BinarySearch(g.Symbols, GoSymbolHash(pkg, sym))
	return ok
}

// GoSymbolHash is the 64-bit FNV-1a hash of pkg + "." + sym, the form the
// Go vulnerability database names symbols in (path "golang.org/x/text/language",
// symbol "Tag.String"). A false match needs a 64-bit collision among the
// functions of one executable.
func GoSymbolHash(pkg, sym string) uint64 {
	return fnvString(fnvString(fnvString(fnvOffset, pkg), "."), sym)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// SymbolHashes are symbol hashes, sorted. JSON carries them as the base64
// of their little-endian bytes: a third of the size of decimal numbers.
type SymbolHashes []uint64

// MarshalJSON implements json.Marshaler.
func (s SymbolHashes) MarshalJSON() ([]byte, error) {
	b := make([]byte, 8*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return json.Marshal(b)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *SymbolHashes) UnmarshalJSON(data []byte) error {
	var b []byte
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	if len(b)%8 != 0 {
		return fmt.Errorf("symbol hashes of %d bytes, not a multiple of 8", len(b))
	}
	if len(b) == 0 {
		*s = nil
		return nil
	}
	out := make(SymbolHashes, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	if !slices.IsSorted(out) {
		return errors.New("symbol hashes are not sorted")
	}
	*s = out
	return nil
}

// GoSymbolsBuilder collects the functions of one executable.
type GoSymbolsBuilder struct {
	pkgs   map[string]struct{}
	hashes []uint64
	over   bool
}

// Add records the function base (of receiver type recv, "" for a plain
// function) of the package at import path pkg. Type arguments are dropped
// ("Map[...]" is "Map", "Pointer[...].Load" is "Pointer.Load"): the
// database names generic functions without them. Functions of no package
// (compiler-generated "type:…" helpers) are not recorded.
func (b *GoSymbolsBuilder) Add(pkg, recv, base string) {
	if pkg == "" {
		return
	}
	if b.pkgs == nil {
		b.pkgs = map[string]struct{}{}
	}
	if _, ok := b.pkgs[pkg]; !ok {
		b.pkgs[pkg] = struct{}{}
	}
	if len(b.hashes) >= MaxGoSymbols {
		b.over = true
		return
	}
	h := fnvString(fnvString(fnvOffset, pkg), ".")
	if recv != "" {
		h = fnvString(fnvString(h, withoutTypeArgs(recv)), ".")
	}
	b.hashes = append(b.hashes, fnvString(h, withoutTypeArgs(base)))
}

// Packages is the number of distinct packages added so far.
func (b *GoSymbolsBuilder) Packages() int { return len(b.pkgs) }

// Build returns the collected symbols (package strings are cloned, so the
// caller's name table can be freed), or an Unknown reason when there were
// more than MaxGoSymbols.
func (b *GoSymbolsBuilder) Build(goos, goarch string) GoSymbols {
	g := GoSymbols{GOOS: goos, GOARCH: goarch}
	if b.over {
		g.Unknown = fmt.Sprintf("unreadable: more than %d functions", MaxGoSymbols)
		return g
	}
	g.Packages = make([]string, 0, len(b.pkgs))
	for p := range b.pkgs {
		g.Packages = append(g.Packages, strings.Clone(p))
	}
	slices.Sort(g.Packages)
	slices.Sort(b.hashes)
	g.Symbols = slices.Clip(slices.Compact(b.hashes))
	b.hashes, b.pkgs = nil, nil
	return g
}

// withoutTypeArgs removes bracketed type arguments: "Map[...]" → "Map".
func withoutTypeArgs(s string) string {
	i := strings.IndexByte(s, '[')
	if i < 0 {
		return s
	}
	var out strings.Builder
	depth := 0
	for j := 0; j < len(s); j++ {
		switch c := s[j]; {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			out.WriteByte(c)
		}
	}
	return out.String()
}
