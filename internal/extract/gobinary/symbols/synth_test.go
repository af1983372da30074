package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// A synthetic Go executable: a function table written here from the format
// (runtime/symtab.go), wrapped in an ELF, Mach-O or PE file. It covers what
// the local toolchain cannot build — the Go 1.18 table, big-endian targets —
// and makes small fuzz seeds.

type synthFunc struct {
	name    string
	inlined []string // the function's inline tree, in order
}

type synth struct {
	format  string // "elf", "macho", "pe"
	order   binary.ByteOrder
	ptrSize int
	v120    bool
	funcs   []synthFunc
	// moduleSection puts runtime.moduledata in .go.module / __go_module
	// (Go 1.26); otherwise it is in .noptrdata after a decoy word.
	moduleSection bool
	// magic, if set, replaces the table's magic number.
	magic uint32
	// gofuncSkew is added to moduledata.gofunc (a wrong base).
	gofuncSkew uint64
}

const synthBase = 0x400000

// synthRodataOff is where the sections start: [headers][go:func.*][pclntab][data].
const synthRodataOff = 0x1000

// build returns the executable's bytes.
func (s synth) build() []byte {
	o, ps := s.order, s.ptrSize
	word := func(b *bytes.Buffer, v uint64) {
		if ps == 4 {
			binary.Write(b, o, uint32(v))
		} else {
			binary.Write(b, o, v)
		}
	}

	// Names, deduplicated as the linker writes them.
	var names bytes.Buffer
	nameOff := map[string]uint32{}
	addName := func(n string) uint32 {
		if off, ok := nameOff[n]; ok {
			return off
		}
		off := uint32(names.Len())
		names.WriteString(n)
		names.WriteByte(0)
		nameOff[n] = off
		return off
	}
	for _, f := range s.funcs {
		addName(f.name)
	}
	for _, f := range s.funcs {
		for _, n := range f.inlined {
			addName(n)
		}
	}

	// go:func.*: the inline trees.
	var gofunc bytes.Buffer
	gofunc.Write([]byte{0xde, 0xad, 0xbe, 0xef}) // something before the first tree
	treeOff := make([]uint32, len(s.funcs))
	for i, f := range s.funcs {
		if len(f.inlined) == 0 {
			continue
		}
		treeOff[i] = uint32(gofunc.Len())
		for j, n := range f.inlined {
			if s.v120 {
				gofunc.WriteByte(0) // funcID
				gofunc.Write([]byte{0, 0, 0})
				binary.Write(&gofunc, o, nameOff[n])
				binary.Write(&gofunc, o, int32(4*j)) // parentPc
				binary.Write(&gofunc, o, int32(10))  // startLine
			} else {
				binary.Write(&gofunc, o, int16(j-1)) // parent
				gofunc.WriteByte(0)
				gofunc.WriteByte(0)
				binary.Write(&gofunc, o, int32(0)) // file
				binary.Write(&gofunc, o, int32(0)) // line
				binary.Write(&gofunc, o, nameOff[n])
				binary.Write(&gofunc, o, int32(4*j)) // parentPc
			}
		}
	}

	// pctab: offset 0 means "no table"; then each function's
	// inline-tree-index table, values -1, 0, 1, … len-1, -1.
	pctab := bytes.NewBuffer([]byte{0})
	pcOff := make([]uint32, len(s.funcs))
	uvarint := func(v uint32) { pctab.Write(binary.AppendUvarint(nil, uint64(v))) }
	zigzag := func(d int32) uint32 {
		if d < 0 {
			return uint32(^(d << 1))
		}
		return uint32(d << 1)
	}
	for i, f := range s.funcs {
		if len(f.inlined) == 0 {
			continue
		}
		pcOff[i] = uint32(pctab.Len())
		val := int32(-1)
		vals := []int32{-1}
		for j := range f.inlined {
			vals = append(vals, int32(j))
		}
		vals = append(vals, -1)
		for _, v := range vals {
			// The first delta is 0 (the table starts at -1): a zero
			// value delta ends a table only after the first pair.
			d := v - val
			uvarint(zigzag(d))
			uvarint(4)
			val += d
		}
		pctab.WriteByte(0)
	}

	// pclntable: functab, then the _func records.
	nfunc := len(s.funcs)
	var recs bytes.Buffer
	recOff := make([]uint32, nfunc)
	ftabLen := (nfunc + 1) * 8
	for i, f := range s.funcs {
		recOff[i] = uint32(ftabLen + recs.Len())
		u32 := func(v uint32) { binary.Write(&recs, o, v) }
		u32(uint32(16 * i))  // entryOff
		u32(nameOff[f.name]) // nameOff
		u32(0)               // args
		u32(0)               // deferreturn
		u32(0)               // pcsp
		u32(0)               // pcfile
		u32(0)               // pcln
		npcdata, nfuncdata := uint32(0), uint8(0)
		if len(f.inlined) > 0 {
			npcdata, nfuncdata = 3, 4
		}
		u32(npcdata)
		u32(0) // cuOffset
		if s.v120 {
			u32(1) // startLine
		}
		recs.Write([]byte{0, 0, 0, nfuncdata})
		if npcdata > 0 {
			u32(0)
			u32(0)
			u32(pcOff[i])
			u32(^uint32(0))
			u32(^uint32(0))
			u32(^uint32(0))
			u32(treeOff[i])
		}
	}
	var pcln bytes.Buffer
	for i := 0; i <= nfunc; i++ {
		binary.Write(&pcln, o, uint32(16*i))
		if i < nfunc {
			binary.Write(&pcln, o, recOff[i])
		} else {
			binary.Write(&pcln, o, uint32(0))
		}
	}
	pcln.Write(recs.Bytes())

	// The header and the table.
	hdrLen := 8 + 8*ps
	funcname := uint64(hdrLen)
	cu := funcname + uint64(names.Len())
	filetab := cu + 4
	pctabOff := filetab + 2
	pclnOff := (pctabOff + uint64(pctab.Len()) + 3) &^ 3
	var tab bytes.Buffer
	magic := uint32(magic118)
	if s.v120 {
		magic = magic120
	}
	if s.magic != 0 {
		magic = s.magic
	}
	binary.Write(&tab, o, magic)
	tab.Write([]byte{0, 0, 1, byte(ps)})
	word(&tab, uint64(nfunc))
	word(&tab, 1) // nfiles
	word(&tab, 0) // textStart (unused)
	for _, v := range []uint64{funcname, cu, filetab, pctabOff, pclnOff} {
		word(&tab, v)
	}
	tab.Write(names.Bytes())
	tab.Write([]byte{0, 0, 0, 0}) // cutab
	tab.Write([]byte{'x', 0})     // filetab
	tab.Write(pctab.Bytes())
	for uint64(tab.Len()) < pclnOff {
		tab.WriteByte(0)
	}
	tab.Write(pcln.Bytes())

	// Addresses: the sections follow each other in the file and in memory.
	align := func(n int) int { return (n + 31) &^ 31 }
	rodataOff := synthRodataOff
	tabOff := rodataOff + align(gofunc.Len())
	dataOff := tabOff + align(tab.Len())
	addr := func(off int) uint64 { return synthBase + uint64(off) }
	pcAddr := addr(tabOff)

	// runtime.moduledata.
	var md bytes.Buffer
	slice := func(p, n uint64) { word(&md, p); word(&md, n); word(&md, n) }
	word(&md, pcAddr)
	slice(pcAddr+funcname, cu-funcname)
	slice(pcAddr+cu, 1)
	slice(pcAddr+filetab, 2)
	slice(pcAddr+pctabOff, uint64(pctab.Len()))
	slice(pcAddr+pclnOff, uint64(pcln.Len()))
	slice(pcAddr+pclnOff, uint64(nfunc+1))
	idx := moduledataGofunc(s.v120)
	for md.Len() < idx*ps {
		word(&md, 0x1234)
	}
	word(&md, addr(rodataOff)+s.gofuncSkew)
	var data bytes.Buffer
	if !s.moduleSection {
		word(&data, 7)
		word(&data, pcAddr) // a decoy: a pointer to the table, not moduledata
		word(&data, 0)
		word(&data, 0)
	}
	data.Write(md.Bytes())
	for i := 0; i < 8; i++ {
		word(&data, 0)
	}

	secs := []synthSection{
		{name: ".rodata", off: rodataOff, data: gofunc.Bytes()},
		{name: ".gopclntab", off: tabOff, data: tab.Bytes()},
		{name: ".noptrdata", off: dataOff, data: data.Bytes(), write: true},
	}
	if s.moduleSection {
		secs[2].name = ".go.module"
	}
	switch s.format {
	case "macho":
		return s.machO(secs)
	case "pe":
		return s.pe(secs)
	}
	return s.elf(secs)
}

type synthSection struct {
	name  string
	off   int
	data  []byte
	write bool
}

// image lays the sections out at their offsets after a header of hdr
// bytes.
func image(hdr []byte, secs []synthSection) []byte {
	last := secs[len(secs)-1]
	out := make([]byte, last.off+len(last.data))
	copy(out, hdr)
	for _, s := range secs {
		copy(out[s.off:], s.data)
	}
	return out
}

func (s synth) elf(secs []synthSection) []byte {
	o := s.order
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	nameIdx := func(n string) uint32 { i := uint32(shstr.Len()); shstr.WriteString(n); shstr.WriteByte(0); return i }
	type sh struct {
		name      uint32
		typ       elf.SectionType
		flags     elf.SectionFlag
		addr, off uint64
		size      uint64
		addralign uint64
	}
	shs := []sh{{}}
	for _, sec := range secs {
		fl := elf.SHF_ALLOC
		if sec.write {
			fl |= elf.SHF_WRITE
		}
		shs = append(shs, sh{nameIdx(sec.name), elf.SHT_PROGBITS, fl, synthBase + uint64(sec.off), uint64(sec.off), uint64(len(sec.data)), 32})
	}
	shstrName := nameIdx(".shstrtab")
	body := image(nil, secs)
	shstrOff := len(body)
	body = append(body, shstr.Bytes()...)
	for len(body)%8 != 0 {
		body = append(body, 0)
	}
	shs = append(shs, sh{shstrName, elf.SHT_STRTAB, 0, 0, uint64(shstrOff), uint64(shstr.Len()), 1})
	shoff := len(body)
	var hdr, tbl bytes.Buffer
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1}
	if o == binary.BigEndian {
		ident[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	if s.ptrSize == 4 {
		ident[elf.EI_CLASS] = byte(elf.ELFCLASS32)
		binary.Write(&hdr, o, elf.Header32{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_386), Version: 1,
			Shoff: uint32(shoff), Ehsize: 52, Shentsize: 40, Shnum: uint16(len(shs)), Shstrndx: uint16(len(shs) - 1)})
		for _, h := range shs {
			binary.Write(&tbl, o, elf.Section32{Name: h.name, Type: uint32(h.typ), Flags: uint32(h.flags), Addr: uint32(h.addr),
				Off: uint32(h.off), Size: uint32(h.size), Addralign: uint32(h.addralign)})
		}
	} else {
		binary.Write(&hdr, o, elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1,
			Shoff: uint64(shoff), Ehsize: 64, Shentsize: 64, Shnum: uint16(len(shs)), Shstrndx: uint16(len(shs) - 1)})
		for _, h := range shs {
			binary.Write(&tbl, o, elf.Section64{Name: h.name, Type: uint32(h.typ), Flags: uint64(h.flags), Addr: h.addr,
				Off: h.off, Size: h.size, Addralign: h.addralign})
		}
	}
	copy(body, hdr.Bytes())
	return append(body, tbl.Bytes()...)
}

func (s synth) machO(secs []synthSection) []byte {
	o := binary.LittleEndian
	name16 := func(n string) []byte { b := make([]byte, 16); copy(b, n); return b }
	segment := func(seg string, ss []synthSection) []byte {
		var c bytes.Buffer
		binary.Write(&c, o, uint32(lcSegment64))
		binary.Write(&c, o, uint32(72+80*len(ss)))
		c.Write(name16(seg))
		binary.Write(&c, o, [4]uint64{}) // vmaddr, vmsize, fileoff, filesize
		binary.Write(&c, o, [2]uint32{7, 7})
		binary.Write(&c, o, uint32(len(ss)))
		binary.Write(&c, o, uint32(0))
		for _, sec := range ss {
			n := sec.name
			switch n {
			case ".gopclntab":
				n = "__gopclntab"
			case ".rodata":
				n = "__rodata"
			case ".noptrdata":
				n = "__noptrdata"
			case ".go.module":
				n = "__go_module"
			}
			c.Write(name16(n))
			c.Write(name16(seg))
			binary.Write(&c, o, synthBase+uint64(sec.off))
			binary.Write(&c, o, uint64(len(sec.data)))
			binary.Write(&c, o, uint32(sec.off))
			binary.Write(&c, o, [7]uint32{})
		}
		return c.Bytes()
	}
	text := segment("__TEXT", secs[:2])
	data := segment("__DATA", secs[2:])
	var h bytes.Buffer
	binary.Write(&h, o, uint32(0xfeedfacf))
	binary.Write(&h, o, [3]uint32{0x01000007, 3, 2}) // x86-64, executable
	binary.Write(&h, o, uint32(2))
	binary.Write(&h, o, uint32(len(text)+len(data)))
	binary.Write(&h, o, [2]uint32{})
	h.Write(text)
	h.Write(data)
	return image(h.Bytes(), secs)
}

func (s synth) pe(secs []synthSection) []byte {
	o := binary.LittleEndian
	const imageBase = synthBase - 0x1000 // sections' VAs are offsets from it
	var h bytes.Buffer
	dos := make([]byte, 0x80)
	copy(dos, "MZ")
	o.PutUint32(dos[0x3c:], 0x80)
	h.Write(dos)
	h.WriteString("PE\x00\x00")
	optLen := 0xf0
	machine := uint16(0x8664)
	if s.ptrSize == 4 {
		optLen, machine = 0xe0, 0x14c
	}
	binary.Write(&h, o, machine)
	binary.Write(&h, o, uint16(2)) // .rdata (go:func.* and the table), .data
	binary.Write(&h, o, [3]uint32{})
	binary.Write(&h, o, uint16(optLen))
	binary.Write(&h, o, uint16(0x22))
	opt := make([]byte, optLen)
	if s.ptrSize == 4 {
		o.PutUint16(opt, 0x10b)
		o.PutUint32(opt[28:], imageBase)
	} else {
		o.PutUint16(opt, 0x20b)
		o.PutUint64(opt[24:], imageBase)
	}
	h.Write(opt)
	rdataEnd := secs[1].off + len(secs[1].data)
	sect := func(name string, off, size int, ch uint32) {
		n := make([]byte, 8)
		copy(n, name)
		h.Write(n)
		binary.Write(&h, o, uint32(size))       // VirtualSize
		binary.Write(&h, o, uint32(off+0x1000)) // VirtualAddress
		binary.Write(&h, o, uint32(size))       // SizeOfRawData
		binary.Write(&h, o, uint32(off))        // PointerToRawData
		binary.Write(&h, o, [3]uint32{})
		binary.Write(&h, o, ch)
	}
	sect(".rdata", secs[0].off, rdataEnd-secs[0].off, 0x40000040)
	sect(".data", secs[2].off, len(secs[2].data), 0xc0000040)
	return image(h.Bytes(), secs)
}
