// Package symbols reads which functions a Go executable holds — the
// functions of its function table and the functions the compiler inlined
// into them — from the pclntab, the table the Go runtime itself needs for
// stack traces and garbage collection. Unlike the symbol table, the pclntab
// is never stripped (`strip --strip-all`, `-ldflags=-s -w` leave it), so this
// works on the stripped binaries images usually ship.
//
// The format is described by the Go runtime (runtime/symtab.go: pcHeader,
// moduledata, _func, functab; runtime/symtabinl.go: inlinedCall) and by
// internal/abi/symtab.go (the PCDATA and FUNCDATA indices). The reader
// supports the pclntab of Go 1.18 and later (magic 0xfffffff0 for Go
// 1.18–1.19, 0xfffffff1 since Go 1.20) in ELF (including PIE), Mach-O
// (including universal files: the first executable) and PE executables.
//
// Inlined functions are what the standard library's debug/gosym does not
// read: each function that had calls inlined into it has an inline tree,
// stored in the go:func.* data and addressed relative to it. The tree has
// no length: like govulncheck (golang.org/x/vuln/internal/gosym, BSD), the
// reader takes the largest value of the function's inline-tree-index
// pc-value table (PCDATA_InlTreeIndex) as its last entry. The base,
// go:func.*, is a symbol only unstripped binaries keep; the reader takes it
// from runtime.moduledata instead (its gofunc field), which the linker
// writes into every binary and which is found by its first field, the
// address of the pclntab. govulncheck reads no symbols at all from a
// stripped binary (x/vuln issue 57764); this reader reads the same ones
// from both.
//
// Reading is bounded: the function name table is read whole (it is limited
// by Options.MaxNameTable), everything else through a few fixed windows, so
// memory stays flat however large the executable is.
package symbols

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"strings"
)

// Errors. Read wraps them with details.
var (
	// ErrNotGo: the file is an executable without a Go function table.
	ErrNotGo = errors.New("no Go function table")
	// ErrUnsupported: the function table is of a format older than Go
	// 1.18 (Go 1.2–1.17), which has no go:func.*-relative inline trees.
	ErrUnsupported = errors.New("function table of a Go release before 1.18")
	// ErrTooLarge: the table is over one of Options' limits.
	ErrTooLarge = errors.New("function table over the reader's limits")
	// ErrMalformed: the table contradicts itself or points outside the
	// file.
	ErrMalformed = errors.New("malformed function table")
)

// Options bounds what Read may do. Zero fields take the defaults.
type Options struct {
	// MaxNameTable is the largest function name table read, in bytes
	// (default 64 MiB; a 127 MB Kubernetes-sized binary has 13 MB).
	MaxNameTable int64
	// MaxFuncs is the most functions a table may claim (default 4 Mi).
	MaxFuncs int
	// MaxInlineTree is the most entries one function's inline tree may
	// have (default 128 Ki).
	MaxInlineTree int
}

func (o Options) withDefaults() Options {
	if o.MaxNameTable <= 0 {
		o.MaxNameTable = 64 << 20
	}
	if o.MaxFuncs <= 0 {
		o.MaxFuncs = 4 << 20
	}
	if o.MaxInlineTree <= 0 {
		o.MaxInlineTree = 128 << 10
	}
	return o
}

// Table is what Read found.
type Table struct {
	// Format is "elf", "macho" or "pe".
	Format string
	// TableVersion is the pclntab format: "go1.18" (Go 1.18–1.19) or
	// "go1.20" (Go 1.20 and later).
	TableVersion string
	// PtrSize is the target's pointer size in bytes.
	PtrSize int
	// Funcs is the number of functions in the function table.
	Funcs int
	// InlinedCalls is the number of inline-tree entries read.
	InlinedCalls int

	v120    bool
	names   string // the function name table
	funcs   bitset // name offsets of functions
	inlined bitset // name offsets of inlined calls
}

// bitset has one bit per byte of the name table: a name is marked at its
// offset. The linker writes each distinct name once, so each offset is one
// name.
type bitset []uint64

func newBitset(n int) bitset       { return make(bitset, (n+63)/64) }
func (b bitset) set(i uint32)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i uint32) bool { return b[i/64]&(1<<(i%64)) != 0 }

// pclntab is the located header of a function table.
type pclntab struct {
	off     int64  // file offset of the header
	addr    uint64 // virtual address of the header
	end     int64  // file offset past the table's section
	v120    bool
	order   binary.ByteOrder
	ptrSize int
	quantum uint32
	nfunc   int
	// Offsets from the header.
	funcname, cu, filetab, pctab, pcln uint64
}

// Magic numbers of the pclntab (internal/abi.PCLnTabMagic).
const (
	magic12  = 0xfffffffb // Go 1.2–1.15
	magic116 = 0xfffffffa // Go 1.16–1.17
	magic118 = 0xfffffff0 // Go 1.18–1.19
	magic120 = 0xfffffff1 // Go 1.20 and later
)

// Indices into a function's pcdata and funcdata (internal/abi).
const (
	pcdataInlTreeIndex = 2
	funcdataInlTree    = 3
)

// Read reads the function table of the Go executable r (size bytes). An
// executable without one gives an error wrapping ErrNotGo, one of an older
// Go release ErrUnsupported.
func Read(ctx context.Context, r io.ReaderAt, size int64, opt Options) (*Table, error) {
	opt = opt.withDefaults()
	x, err := openExe(r, size)
	if err != nil {
		return nil, err
	}
	p, err := findPclntab(x, opt)
	if err != nil {
		return nil, err
	}
	gofunc, err := findGofunc(x, p)
	if err != nil {
		return nil, err
	}
	t := &Table{Format: x.format, PtrSize: p.ptrSize, Funcs: p.nfunc, v120: p.v120, TableVersion: "go1.18"}
	if p.v120 {
		t.TableVersion = "go1.20"
	}
	n := p.cu - p.funcname
	if int64(n) > opt.MaxNameTable {
		return nil, fmt.Errorf("%w: a function name table of %d bytes (limit %d)", ErrTooLarge, n, opt.MaxNameTable)
	}
	// Read into a strings.Builder grown to the size: the names are then
	// substrings of one string, and splitting them allocates nothing.
	var sb strings.Builder
	sb.Grow(int(n))
	if _, err := io.Copy(&sb, io.NewSectionReader(r, p.off+int64(p.funcname), int64(n))); err != nil {
		return nil, fmt.Errorf("reading the function name table: %w", err)
	}
	if uint64(sb.Len()) != n {
		return nil, fmt.Errorf("reading the function name table: %w", io.ErrUnexpectedEOF)
	}
	t.names = sb.String()
	t.funcs, t.inlined = newBitset(len(t.names)), newBitset(len(t.names))
	if err := t.walk(ctx, x, p, gofunc, opt); err != nil {
		return nil, err
	}
	return t, nil
}

// walk marks the names of every function and of every inlined call.
func (t *Table) walk(ctx context.Context, x *exe, p *pclntab, gofunc uint64, opt Options) error {
	o := p.order
	pcln := p.off + int64(p.pcln)
	fixed := 40 // _func of Go 1.18–1.19: ten 32-bit fields
	inlSize, inlName := 20, 12
	if p.v120 {
		fixed = 44 // startLine was added
		inlSize, inlName = 16, 4
	}
	ftab := newWindow(x.r, pcln, p.end)
	funcs := newWindow(x.r, pcln, p.end)
	pcs := newPageCache(x.r, p.off+int64(p.pctab), pcln)
	trees := newPageCache(x.r, 0, x.size)
	bad := 0
	for i := 0; i < p.nfunc; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		fe, err := ftab.at(pcln+8*int64(i), 8)
		if err != nil {
			return fmt.Errorf("function %d: %w", i, err)
		}
		funcOff := pcln + int64(o.Uint32(fe[4:]))
		f, err := funcs.at(funcOff, fixed)
		if err != nil {
			return fmt.Errorf("function %d: %w", i, err)
		}
		nameOff := o.Uint32(f[4:])
		if !t.nameAt(nameOff) {
			return fmt.Errorf("%w: function %d names offset %#x, not the start of a name", ErrMalformed, i, nameOff)
		}
		t.funcs.set(nameOff)
		npcdata, nfuncdata := o.Uint32(f[28:]), uint32(f[fixed-1])
		if npcdata <= pcdataInlTreeIndex || nfuncdata <= funcdataInlTree {
			continue
		}
		if npcdata > 256 {
			return fmt.Errorf("%w: function %d claims %d pc-value tables", ErrMalformed, i, npcdata)
		}
		extra, err := funcs.at(funcOff+int64(fixed), int(4*(npcdata+nfuncdata)))
		if err != nil {
			return fmt.Errorf("function %d: %w", i, err)
		}
		pcOff := o.Uint32(extra[4*pcdataInlTreeIndex:])
		treeOff := o.Uint32(extra[4*(npcdata+funcdataInlTree):])
		if treeOff == ^uint32(0) || pcOff == 0 {
			continue
		}
		last, err := maxValue(pcs, p.off+int64(p.pctab)+int64(pcOff), p.quantum)
		if err != nil {
			return fmt.Errorf("function %d: inline tree index: %w", i, err)
		}
		if last < 0 {
			continue
		}
		count := int(last) + 1
		if count > opt.MaxInlineTree {
			return fmt.Errorf("%w: function %d has an inline tree of %d entries (limit %d)", ErrTooLarge, i, count, opt.MaxInlineTree)
		}
		start, ok := x.fileOffset(gofunc+uint64(treeOff), uint64(count*inlSize))
		if !ok {
			return fmt.Errorf("%w: function %d: inline tree at go:func.*+%#x is outside the file", ErrMalformed, i, treeOff)
		}
		tree, err := trees.at(start, count*inlSize)
		if err != nil {
			return fmt.Errorf("function %d: inline tree: %w", i, err)
		}
		for e := 0; e < count; e++ {
			off := o.Uint32(tree[e*inlSize+inlName:])
			if !t.nameAt(off) {
				bad++
				continue
			}
			t.inlined.set(off)
			t.InlinedCalls++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%w: %d inline-tree entries name no function (is the go:func.* base %#x from runtime.moduledata wrong?)", ErrMalformed, bad, gofunc)
	}
	return nil
}

// nameAt reports whether off is the start of a name in the name table.
func (t *Table) nameAt(off uint32) bool {
	return int64(off) < int64(len(t.names)) && (off == 0 || t.names[off-1] == 0) && t.names[off] != 0
}

// maxValue returns the largest value of the pc-value table at off, -1 for
// an empty table. The table is a sequence of (value delta, pc delta) varint
// pairs, the value delta zig-zag encoded, starting from -1 and ending with a
// zero value delta after the first pair (debug/gosym's LineTable.step).
func maxValue(c *pageCache, off int64, quantum uint32) (int32, error) {
	s := stream{c: c, off: off}
	val, max := int32(-1), int32(-1)
	var pc uint64
	for {
		uv, err := s.uvarint()
		if err != nil {
			return 0, err
		}
		if uv == 0 && pc != 0 {
			return max, nil
		}
		if uv&1 != 0 {
			uv = ^(uv >> 1)
		} else {
			uv >>= 1
		}
		pcd, err := s.uvarint()
		if err != nil {
			return 0, err
		}
		pc += uint64(pcd * quantum)
		val += int32(uv)
		if val > max {
			max = val
		}
	}
}

// findPclntab locates the function table: by its section (ELF .gopclntab,
// Mach-O __gopclntab), else by its header in the file's sections (PE keeps
// it in .rdata, found by symbol only in unstripped files).
func findPclntab(x *exe, opt Options) (*pclntab, error) {
	if s := x.sectionNamed(".gopclntab", "__gopclntab"); s != nil {
		return parseHeader(x, s.off, s.addr, s.off+int64(s.size), opt)
	}
	var old error
	for _, s := range x.scanOrder() {
		p, err := scanSection(x, s, opt)
		if p != nil {
			return p, nil
		}
		if errors.Is(err, ErrUnsupported) && old == nil {
			old = err
		}
	}
	if old != nil {
		return nil, old
	}
	return nil, ErrNotGo
}

// scanOrder is the order sections are searched for a function table: read-only
// data first (".rdata" by name), code last.
func (x *exe) scanOrder() []*section {
	var first, rest []*section
	for i := range x.sections {
		s := &x.sections[i]
		if s.name == ".rdata" || s.name == ".rodata" || s.name == "__rodata" {
			first = append(first, s)
		} else if !s.data {
			rest = append(rest, s)
		}
	}
	for i := range x.sections {
		if x.sections[i].data {
			rest = append(rest, &x.sections[i])
		}
	}
	return append(first, rest...)
}

// headerMagics are the byte strings a pclntab header starts with (the magic
// in either byte order, then the two zero pad bytes).
var headerMagics = [][]byte{
	[]byte("\xf1\xff\xff\xff\x00\x00"), []byte("\xff\xff\xff\xf1\x00\x00"),
	[]byte("\xf0\xff\xff\xff\x00\x00"), []byte("\xff\xff\xff\xf0\x00\x00"),
	[]byte("\xfa\xff\xff\xff\x00\x00"), []byte("\xff\xff\xff\xfa\x00\x00"),
	[]byte("\xfb\xff\xff\xff\x00\x00"), []byte("\xff\xff\xff\xfb\x00\x00"),
}

// scanSection looks for a valid pclntab header in s, reading it in chunks.
func scanSection(x *exe, s *section, opt Options) (*pclntab, error) {
	const chunk = 1 << 20
	const overlap = 8
	buf := make([]byte, chunk+overlap)
	var old error
	for pos := int64(0); pos < int64(s.size); pos += chunk {
		n := int(min(int64(len(buf)), int64(s.size)-pos))
		if _, err := x.r.ReadAt(buf[:n], s.off+pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		b := buf[:n]
		for _, m := range headerMagics {
			for i := 0; ; {
				j := bytes.Index(b[i:], m)
				if j < 0 {
					break
				}
				at := pos + int64(i+j)
				i += j + 1
				if at%4 != 0 {
					continue
				}
				p, err := parseHeader(x, s.off+at, s.addr+uint64(at), s.off+int64(s.size), opt)
				if err == nil {
					return p, nil
				}
				if errors.Is(err, ErrUnsupported) {
					old = err
				}
			}
		}
	}
	return nil, old
}

// parseHeader reads and checks the pcHeader at file offset off.
func parseHeader(x *exe, off int64, addr uint64, end int64, opt Options) (*pclntab, error) {
	var h [8 + 8*8]byte
	n, _ := x.r.ReadAt(h[:], off)
	if n < 8 {
		return nil, fmt.Errorf("%w: truncated header", ErrMalformed)
	}
	p := &pclntab{off: off, addr: addr, end: end}
	var magic uint32
	switch {
	case isMagic(binary.LittleEndian.Uint32(h[:])):
		p.order, magic = binary.LittleEndian, binary.LittleEndian.Uint32(h[:])
	case isMagic(binary.BigEndian.Uint32(h[:])):
		p.order, magic = binary.BigEndian, binary.BigEndian.Uint32(h[:])
	default:
		return nil, fmt.Errorf("%w: magic %#x", ErrNotGo, binary.LittleEndian.Uint32(h[:]))
	}
	if h[4] != 0 || h[5] != 0 {
		return nil, fmt.Errorf("%w: header padding is not zero", ErrMalformed)
	}
	p.quantum, p.ptrSize = uint32(h[6]), int(h[7])
	if p.quantum != 1 && p.quantum != 2 && p.quantum != 4 || p.ptrSize != 4 && p.ptrSize != 8 {
		return nil, fmt.Errorf("%w: instruction size %d, pointer size %d", ErrMalformed, p.quantum, p.ptrSize)
	}
	switch magic {
	case magic12:
		return nil, fmt.Errorf("%w (the Go 1.2–1.15 format)", ErrUnsupported)
	case magic116:
		return nil, fmt.Errorf("%w (the Go 1.16–1.17 format)", ErrUnsupported)
	}
	p.v120 = magic == magic120
	if n < len(h) && n < 8+8*p.ptrSize {
		return nil, fmt.Errorf("%w: truncated header", ErrMalformed)
	}
	if p.ptrSize != x.ptrSize {
		return nil, fmt.Errorf("%w: pointer size %d in an executable of pointer size %d", ErrMalformed, p.ptrSize, x.ptrSize)
	}
	word := func(i int) uint64 {
		b := h[8+i*p.ptrSize:]
		if p.ptrSize == 4 {
			return uint64(p.order.Uint32(b))
		}
		return p.order.Uint64(b)
	}
	nfunc := word(0)
	p.funcname, p.cu, p.filetab, p.pctab, p.pcln = word(3), word(4), word(5), word(6), word(7)
	size := uint64(end - off)
	hdrLen := uint64(8 + 8*p.ptrSize)
	switch {
	case nfunc == 0:
		return nil, fmt.Errorf("%w: no functions", ErrMalformed)
	case nfunc > uint64(opt.MaxFuncs):
		return nil, fmt.Errorf("%w: %d functions (limit %d)", ErrTooLarge, nfunc, opt.MaxFuncs)
	case p.funcname < hdrLen || p.cu < p.funcname || p.filetab < p.cu || p.pctab < p.filetab || p.pcln < p.pctab || p.pcln > size:
		return nil, fmt.Errorf("%w: table offsets %#x, %#x, %#x, %#x, %#x out of order or past the table's %d bytes",
			ErrMalformed, p.funcname, p.cu, p.filetab, p.pctab, p.pcln, size)
	case (nfunc+1)*8 > size-p.pcln:
		return nil, fmt.Errorf("%w: %d functions do not fit the table", ErrMalformed, nfunc)
	}
	p.nfunc = int(nfunc)
	return p, nil
}

func isMagic(m uint32) bool {
	return m == magic120 || m == magic118 || m == magic116 || m == magic12
}

// moduledataGofunc is the index of moduledata.gofunc in pointer-sized
// words: the fields before it are the same from Go 1.18 on, except for
// covctrs/ecovctrs, added in Go 1.20 (runtime/symtab.go).
func moduledataGofunc(v120 bool) int {
	if v120 {
		return 40
	}
	return 38
}

// findGofunc finds runtime.moduledata — in its own section since Go 1.26
// (.go.module, __go_module), else in the writable data — by its first word,
// the address of the pclntab, checks that the slices after it point where
// the pclntab header says its tables are, and returns its gofunc field, the
// address of go:func.*.
func findGofunc(x *exe, p *pclntab) (uint64, error) {
	ps := p.ptrSize
	idx := moduledataGofunc(p.v120)
	need := (idx + 1) * ps
	var secs []*section
	if s := x.sectionNamed(".go.module", "__go_module"); s != nil {
		secs = append(secs, s)
	}
	for _, name := range []string{".noptrdata", "__noptrdata", ".data", "__data", ".data.rel.ro"} {
		if s := x.sectionNamed(name); s != nil && s.data {
			secs = append(secs, s)
		}
	}
	for i := range x.sections {
		if x.sections[i].data {
			secs = append(secs, &x.sections[i])
		}
	}
	seen := map[*section]bool{}
	for _, s := range secs {
		if seen[s] {
			continue
		}
		seen[s] = true
		w := newWindow(x.r, s.off, s.off+int64(s.size))
		for pos := int64(0); pos+int64(need) <= int64(s.size); pos += windowSize - int64(need) {
			n := int(min(int64(windowSize), int64(s.size)-pos))
			b, err := w.at(s.off+pos, n)
			if err != nil {
				return 0, err
			}
			for i := 0; i+need <= len(b); i += ps {
				if x.word(b[i:]) != p.addr {
					continue
				}
				if g, ok := checkModuledata(x, p, b[i:i+need], idx); ok {
					return g, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("%w: runtime.moduledata not found (no data word holds the pclntab address %#x)", ErrMalformed, p.addr)
}

// checkModuledata checks a candidate moduledata (need bytes) against the
// pclntab header and returns its gofunc field.
func checkModuledata(x *exe, p *pclntab, b []byte, idx int) (uint64, bool) {
	w := func(i int) uint64 { return x.word(b[i*p.ptrSize:]) }
	a := p.addr
	if w(1) != a+p.funcname || w(4) != a+p.cu || w(7) != a+p.filetab || w(10) != a+p.pctab ||
		w(13) != a+p.pcln || w(16) != a+p.pcln || w(17) != uint64(p.nfunc)+1 {
		return 0, false
	}
	g := w(idx)
	if _, ok := x.fileOffset(g, 0); !ok {
		return 0, false
	}
	return g, true
}

// Each calls fn for every distinct name, in name-table order, saying
// whether it names a function of the function table, an inlined call, or
// both. name is a substring of the name table: clone what is kept, or the
// whole table stays in memory.
func (t *Table) Each(fn func(name string, isFunc, isInlined bool)) {
	for i := range t.funcs {
		w := t.funcs[i] | t.inlined[i]
		for w != 0 {
			b := bits.TrailingZeros64(w)
			w &^= 1 << b
			off := uint32(i*64 + b)
			end := strings.IndexByte(t.names[off:], 0)
			if end < 0 {
				end = len(t.names) - int(off)
			}
			fn(t.names[off:int(off)+end], t.funcs.has(off), t.inlined.has(off))
		}
	}
}

// Names returns the distinct names of the functions and of the inlined
// calls, each sorted. A function both compiled and inlined elsewhere is in
// both.
func (t *Table) Names() (funcs, inlined []string) {
	t.Each(func(name string, isFunc, isInlined bool) {
		s := strings.Clone(name)
		if isFunc {
			funcs = append(funcs, s)
		}
		if isInlined {
			inlined = append(inlined, s)
		}
	})
	sort.Strings(funcs)
	sort.Strings(inlined)
	return funcs, inlined
}

// NameBytes is the size of the function name table held.
func (t *Table) NameBytes() int { return len(t.names) }

// DistinctNames is the number of distinct names marked.
func (t *Table) DistinctNames() int {
	n := 0
	for i := range t.funcs {
		n += bits.OnesCount64(t.funcs[i] | t.inlined[i])
	}
	return n
}
