package symbols

import (
	"debug/elf"
	"errors"
	"io"
	"strings"
)

// maxOldSymtab bounds the symbol table OldGoVersion reads (it loads it
// whole, as debug/elf does).
const maxOldSymtab = 32 << 20

// OldGoVersion reports whether r is an ELF Go executable with a function
// table of a Go release before 1.18, and its Go version ("go1.6.4") when its
// symbol table still names runtime.buildVersion (as `go version` reads it
// from binaries older than Go 1.13, which carry no build information).
// version is "" when it cannot be read.
func OldGoVersion(r io.ReaderAt, size int64) (version string, ok bool) {
	x, err := openExe(r, size)
	if err != nil || x.elf == nil {
		return "", false
	}
	s := x.sectionNamed(".gopclntab")
	if s == nil {
		return "", false
	}
	if _, err := parseHeader(x, s.off, s.addr, s.off+int64(s.size), Options{}.withDefaults()); !errors.Is(err, ErrUnsupported) {
		return "", false
	}
	sym := x.elf.Section(".symtab")
	if sym == nil || sym.Size > maxOldSymtab {
		return "", true
	}
	syms, err := x.elf.Symbols()
	if err != nil {
		return "", true
	}
	for _, sy := range syms {
		if sy.Name != "runtime.buildVersion" || elf.ST_TYPE(sy.Info) != elf.STT_OBJECT {
			continue
		}
		// A Go string: a pointer to the bytes and a length.
		off, found := x.fileOffset(sy.Value, uint64(2*x.ptrSize))
		if !found {
			return "", true
		}
		b := make([]byte, 2*x.ptrSize)
		if _, err := r.ReadAt(b, off); err != nil {
			return "", true
		}
		ptr, n := x.word(b), x.word(b[x.ptrSize:])
		if n == 0 || n > 64 {
			return "", true
		}
		off, found = x.fileOffset(ptr, n)
		if !found {
			return "", true
		}
		v := make([]byte, n)
		if _, err := r.ReadAt(v, off); err != nil {
			return "", true
		}
		if s := string(v); strings.HasPrefix(s, "go1") || strings.HasPrefix(s, "devel") {
			return s, true
		}
		return "", true
	}
	return "", true
}
