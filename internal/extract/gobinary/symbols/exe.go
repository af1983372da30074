package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// exe is the little the reader needs of an executable: its byte order,
// pointer size and sections (name, virtual address, where the bytes are in
// the file). ELF headers are read with debug/elf (which reads symbols only
// when asked); Mach-O and PE headers are read here, because debug/macho and
// debug/pe read the whole symbol table when they open a file, and a large
// unstripped executable has hundreds of thousands of symbols.
type exe struct {
	r        io.ReaderAt
	size     int64
	format   string // "elf", "macho", "pe"
	order    binary.ByteOrder
	ptrSize  int
	sections []section
	// elf is kept for reading the symbol table of old binaries (see
	// OldGoVersion).
	elf *elf.File
}

type section struct {
	name string
	addr uint64 // virtual address
	off  int64  // file offset of the first byte
	size uint64 // bytes present in the file
	// data: writable data (where runtime.moduledata lives).
	data bool
}

// Limits on what headers may claim, so that a hostile file cannot make the
// reader loop or allocate much.
const (
	maxSections     = 1 << 12
	maxLoadCommands = 1 << 12
	maxHeaderBytes  = 1 << 20
)

var errNotExecutable = errors.New("not an ELF, Mach-O or PE executable")

// openExe reads the headers of r.
func openExe(r io.ReaderAt, size int64) (*exe, error) {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, errNotExecutable
	}
	switch {
	case bytes.Equal(magic[:], []byte("\x7fELF")):
		return openELF(r, size)
	case bytes.HasPrefix(magic[:], []byte("MZ")):
		return openPE(r, size)
	case bytes.Equal(magic[:], []byte("\xca\xfe\xba\xbe")):
		return openFat(r, size)
	}
	if be := binary.BigEndian.Uint32(magic[:]); be == 0xfeedface || be == 0xfeedfacf || be == 0xcefaedfe || be == 0xcffaedfe {
		return openMachO(r, size, 0)
	}
	return nil, errNotExecutable
}

func openELF(r io.ReaderAt, size int64) (*exe, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("reading ELF headers: %w", err)
	}
	x := &exe{r: r, size: size, format: "elf", order: f.ByteOrder, ptrSize: 8, elf: f}
	if f.Class == elf.ELFCLASS32 {
		x.ptrSize = 4
	}
	if len(f.Sections) > maxSections {
		return nil, fmt.Errorf("reading ELF headers: %d sections", len(f.Sections))
	}
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS || s.Flags&elf.SHF_ALLOC == 0 || s.Flags&elf.SHF_COMPRESSED != 0 {
			continue
		}
		x.add(section{name: s.Name, addr: s.Addr, off: int64(s.Offset), size: s.Size, data: s.Flags&elf.SHF_WRITE != 0})
	}
	return x, nil
}

// add keeps s if its bytes are in the file.
func (x *exe) add(s section) {
	if s.off < 0 || s.size == 0 || s.off > x.size || s.size > uint64(x.size-s.off) || s.addr+s.size < s.addr {
		return
	}
	x.sections = append(x.sections, s)
}

// openFat reads the first executable of a Mach-O universal file, as
// debug/buildinfo does.
func openFat(r io.ReaderAt, size int64) (*exe, error) {
	var h [8 + 20]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("reading Mach-O universal header: %w", err)
	}
	if n := binary.BigEndian.Uint32(h[4:]); n == 0 || n > 64 {
		// Java class files share the magic; they have a version here.
		return nil, errNotExecutable
	}
	off := int64(binary.BigEndian.Uint32(h[8+8:]))
	return openMachO(r, size, off)
}

// Mach-O constants (mach-o/loader.h).
const (
	lcSegment   = 0x1
	lcSegment64 = 0x19
)

func openMachO(r io.ReaderAt, size, base int64) (*exe, error) {
	var h [32]byte
	if _, err := r.ReadAt(h[:], base); err != nil {
		return nil, fmt.Errorf("reading Mach-O header: %w", err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if m := binary.BigEndian.Uint32(h[:]); m == 0xfeedface || m == 0xfeedfacf {
		order = binary.BigEndian
	}
	magic := order.Uint32(h[:])
	x := &exe{r: r, size: size, format: "macho", order: order, ptrSize: 4}
	hdrLen := int64(28)
	if magic == 0xfeedfacf {
		x.ptrSize, hdrLen = 8, 32
	}
	ncmds, cmdsLen := order.Uint32(h[16:]), order.Uint32(h[20:])
	if ncmds > maxLoadCommands || cmdsLen > maxHeaderBytes {
		return nil, fmt.Errorf("reading Mach-O header: %d load commands of %d bytes", ncmds, cmdsLen)
	}
	cmds := make([]byte, cmdsLen)
	if _, err := r.ReadAt(cmds, base+hdrLen); err != nil {
		return nil, fmt.Errorf("reading Mach-O load commands: %w", err)
	}
	for i := uint32(0); i < ncmds; i++ {
		if len(cmds) < 8 {
			return nil, errors.New("reading Mach-O load commands: truncated")
		}
		cmd, n := order.Uint32(cmds), order.Uint32(cmds[4:])
		if n < 8 || uint64(n) > uint64(len(cmds)) {
			return nil, fmt.Errorf("reading Mach-O load commands: command of %d bytes", n)
		}
		c := cmds[:n]
		cmds = cmds[n:]
		switch cmd {
		case lcSegment, lcSegment64:
			x.machoSegment(c, cmd == lcSegment64, base)
		}
	}
	return x, nil
}

// machoSegment adds the sections of one segment command.
func (x *exe) machoSegment(c []byte, is64 bool, base int64) {
	o := x.order
	segHdr, sectLen := 56, 68
	if is64 {
		segHdr, sectLen = 72, 80
	}
	if len(c) < segHdr {
		return
	}
	segName := cstring(c[8:24])
	var nsects uint32
	if is64 {
		nsects = o.Uint32(c[64:])
	} else {
		nsects = o.Uint32(c[48:])
	}
	data := segName == "__DATA" || segName == "__DATA_CONST"
	c = c[segHdr:]
	for j := uint32(0); j < nsects && len(c) >= sectLen; j++ {
		s := c[:sectLen]
		c = c[sectLen:]
		var addr, sz uint64
		var off uint32
		var flags uint32
		if is64 {
			addr, sz, off, flags = o.Uint64(s[32:]), o.Uint64(s[40:]), o.Uint32(s[48:]), o.Uint32(s[64:])
		} else {
			addr, sz, off, flags = uint64(o.Uint32(s[32:])), uint64(o.Uint32(s[36:])), o.Uint32(s[40:]), o.Uint32(s[56:])
		}
		if flags&0xff == 0x1 || flags&0xff == 0xc { // S_ZEROFILL, S_GB_ZEROFILL: no bytes in the file
			continue
		}
		x.add(section{name: cstring(s[:16]), addr: addr, off: base + int64(off), size: sz, data: data})
	}
}

// PE constants (the PE/COFF specification).
const (
	peScnCntUninitialized = 0x00000080
	peScnMemWrite         = 0x80000000
)

func openPE(r io.ReaderAt, size int64) (*exe, error) {
	var dos [64]byte
	if _, err := r.ReadAt(dos[:], 0); err != nil {
		return nil, errNotExecutable
	}
	peOff := int64(binary.LittleEndian.Uint32(dos[0x3c:]))
	var coff [24]byte
	if _, err := r.ReadAt(coff[:], peOff); err != nil || !bytes.Equal(coff[:4], []byte("PE\x00\x00")) {
		return nil, errNotExecutable
	}
	le := binary.LittleEndian
	nsect, optLen := le.Uint16(coff[6:]), le.Uint16(coff[20:])
	if optLen < 32 {
		return nil, fmt.Errorf("reading PE headers: optional header of %d bytes", optLen)
	}
	opt := make([]byte, optLen)
	if _, err := r.ReadAt(opt, peOff+24); err != nil {
		return nil, fmt.Errorf("reading PE optional header: %w", err)
	}
	x := &exe{r: r, size: size, format: "pe", order: le}
	var imageBase uint64
	switch le.Uint16(opt) {
	case 0x10b: // PE32
		x.ptrSize, imageBase = 4, uint64(le.Uint32(opt[28:]))
	case 0x20b: // PE32+
		if len(opt) < 32 {
			return nil, errors.New("reading PE optional header: truncated")
		}
		x.ptrSize, imageBase = 8, le.Uint64(opt[24:])
	default:
		return nil, fmt.Errorf("reading PE optional header: magic %#x", le.Uint16(opt))
	}
	sects := make([]byte, 40*int(nsect))
	if _, err := r.ReadAt(sects, peOff+24+int64(optLen)); err != nil {
		return nil, fmt.Errorf("reading PE section table: %w", err)
	}
	for i := 0; i < int(nsect); i++ {
		s := sects[40*i : 40*(i+1)]
		vsize, va, rawSize, rawOff, ch := le.Uint32(s[8:]), le.Uint32(s[12:]), le.Uint32(s[16:]), le.Uint32(s[20:]), le.Uint32(s[36:])
		if ch&peScnCntUninitialized != 0 {
			continue
		}
		n := min(vsize, rawSize)
		if vsize == 0 {
			n = rawSize
		}
		x.add(section{name: cstring(s[:8]), addr: imageBase + uint64(va), off: int64(rawOff), size: uint64(n), data: ch&peScnMemWrite != 0})
	}
	return x, nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// sectionNamed returns the first section with one of the names, or nil.
func (x *exe) sectionNamed(names ...string) *section {
	for i := range x.sections {
		if slices.Contains(names, x.sections[i].name) {
			return &x.sections[i]
		}
	}
	return nil
}

// fileOffset maps the n bytes at virtual address addr to a file offset.
func (x *exe) fileOffset(addr, n uint64) (int64, bool) {
	for i := range x.sections {
		s := &x.sections[i]
		if addr >= s.addr && addr-s.addr <= s.size && n <= s.size-(addr-s.addr) {
			return s.off + int64(addr-s.addr), true
		}
	}
	return 0, false
}

// addrOf maps a file offset inside a section to its virtual address.
func (x *exe) addrOf(off int64) (uint64, bool) {
	for i := range x.sections {
		s := &x.sections[i]
		if off >= s.off && uint64(off-s.off) < s.size {
			return s.addr + uint64(off-s.off), true
		}
	}
	return 0, false
}

// word decodes a pointer-sized value.
func (x *exe) word(b []byte) uint64 {
	if x.ptrSize == 4 {
		return uint64(x.order.Uint32(b))
	}
	return x.order.Uint64(b)
}
