package cargo

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{DiffID: "sha256:00000000000000000000000000000000000000000000000000000000000000cc"}

func crate(path, name, version string, declared bool, md map[string]string) inventory.Package {
	return inventory.Package{
		Name: name, Version: version, Ecosystem: "crates.io", PURL: "pkg:cargo/" + name + "@" + version,
		Locations: layer.Locations(path), Declared: declared, FoundBy: extractorName, Metadata: md,
	}
}

// auditJSON is dependency data in the format cargo-auditable embeds
// (cargo-auditable.schema.json in github.com/rust-secure-code/cargo-auditable):
// no real auditable binary is available offline, so the tests write it from
// the spec.
const auditJSON = `{"packages":[
 {"name":"hello","version":"0.1.0","source":"local","dependencies":[1,2,3,4,5],"root":true},
 {"name":"serde","version":"1.0.130","source":"crates.io"},
 {"name":"cc","version":"1.0.73","source":"crates.io","kind":"build"},
 {"name":"mytool","version":"0.3.0","source":"git"},
 {"name":"internal-crate","version":"2.0.0","source":"registry"},
 {"name":"smallvec","version":"1.6.0","source":"crates.io","kind":"runtime"},
 {"name":"odd","version":"1.0.0","source":{"Other":"mercurial"}},
 {"name":"","version":"1.0.0","source":"crates.io"}
]}`

func wantAudit(path string) inventory.Inventory {
	return inventory.Inventory{Packages: []inventory.Package{
		crate(path, "cc", "1.0.73", false, map[string]string{"kind": "build"}),
		crate(path, "hello", "0.1.0", false, map[string]string{"source": "local", "main_module": "true"}),
		crate(path, "internal-crate", "2.0.0", false, map[string]string{"source": "registry"}),
		crate(path, "mytool", "0.3.0", false, map[string]string{"source": "git"}),
		crate(path, "odd", "1.0.0", false, map[string]string{"source": "mercurial"}),
		crate(path, "serde", "1.0.130", false, nil),
		crate(path, "smallvec", "1.6.0", false, nil),
	}}
}

func zlibBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildELF writes the smallest valid 64-bit little-endian ELF executable
// header with the given sections (plus the null section and .shstrtab), no
// program headers. debug/elf, binutils' readelf and the auditable-extract
// crate all read section headers only, so this is enough to carry .dep-v0.
func buildELF(t testing.TB, sections map[string][]byte) []byte {
	t.Helper()
	names := []string{}
	for n := range sections {
		names = append(names, n)
	}
	// deterministic order
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	shstr := []byte{0}
	nameOff := map[string]uint32{}
	for _, n := range append(names, ".shstrtab") {
		nameOff[n] = uint32(len(shstr))
		shstr = append(append(shstr, n...), 0)
	}
	var data bytes.Buffer
	data.Write(make([]byte, 64)) // header placeholder
	var shdrs []elf.Section64
	shdrs = append(shdrs, elf.Section64{})
	for _, n := range names {
		off := uint64(data.Len())
		data.Write(sections[n])
		shdrs = append(shdrs, elf.Section64{Name: nameOff[n], Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC), Off: off, Size: uint64(len(sections[n])), Addralign: 1})
	}
	off := uint64(data.Len())
	data.Write(shstr)
	shdrs = append(shdrs, elf.Section64{Name: nameOff[".shstrtab"], Type: uint32(elf.SHT_STRTAB), Off: off, Size: uint64(len(shstr)), Addralign: 1})
	for data.Len()%8 != 0 {
		data.WriteByte(0)
	}
	shoff := uint64(data.Len())
	for _, sh := range shdrs {
		if err := binary.Write(&data, binary.LittleEndian, sh); err != nil {
			t.Fatal(err)
		}
	}
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Shoff: shoff, Ehsize: 64, Phentsize: 56, Shentsize: 64, Shnum: uint16(len(shdrs)), Shstrndx: uint16(len(shdrs) - 1),
	}
	copy(hdr.Ident[:], "\x7fELF")
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var h bytes.Buffer
	if err := binary.Write(&h, binary.LittleEndian, hdr); err != nil {
		t.Fatal(err)
	}
	out := data.Bytes()
	copy(out, h.Bytes())
	return out
}

func TestExtractBinary(t *testing.T) {
	const p = "/usr/local/bin/hello"
	bin := buildELF(t, map[string][]byte{".text": {0xc3}, sectionName: zlibBytes(t, []byte(auditJSON))})
	got, err := New().Extract(context.Background(), layer.Executable(p, bin))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantAudit(p), got); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
}

// TestExtractBinaryObjcopy adds the section to a real executable compiled by
// gcc, the way a linker would place it, with binutils' objcopy.
func TestExtractBinaryObjcopy(t *testing.T) {
	gcc, err1 := exec.LookPath("gcc")
	objcopy, err2 := exec.LookPath("objcopy")
	if err := errors.Join(err1, err2); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.c"), []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dep.z"), zlibBytes(t, []byte(auditJSON)), 0o644); err != nil {
		t.Fatal(err)
	}
	run(gcc, "-o", "plain", "hello.c")
	run(objcopy, "--add-section", ".dep-v0=dep.z", "--set-section-flags", ".dep-v0=alloc,readonly,data", "plain", "hello")

	const p = "/usr/local/bin/hello"
	b, err := os.ReadFile(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := New().Extract(context.Background(), layer.Executable(p, b))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantAudit(p), got); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
	// The same executable converted to PE (pei-x86-64): the .dep-v0 section
	// is found through debug/pe.
	// (binutils for other hosts may lack that target: then this part is skipped.)
	cmd := exec.Command(objcopy, "-O", "pei-x86-64", "hello", "hello.exe")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("objcopy -O pei-x86-64 failed, PE case skipped: %v\n%s", err, out)
	} else {
		b, err := os.ReadFile(filepath.Join(dir, "hello.exe"))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 2 || b[0] != 'M' || b[1] != 'Z' {
			t.Fatalf("objcopy did not write a PE file")
		}
		got, err := New().Extract(context.Background(), layer.Executable(p, b))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantAudit(p), got); diff != "" {
			t.Errorf("Extract PE (-want +got):\n%s", diff)
		}
	}
	// The same executable without the section is no auditable binary.
	plain, err := os.ReadFile(filepath.Join(dir, "plain"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New().Extract(context.Background(), layer.Executable(p, plain)); !errors.Is(err, extract.ErrNotApplicable) {
		t.Errorf("plain gcc binary: error = %v, want ErrNotApplicable", err)
	}
}

func TestExtractBinaryErrors(t *testing.T) {
	good := buildELF(t, map[string][]byte{sectionName: zlibBytes(t, []byte(auditJSON))})
	bomb := zlibBytes(t, make([]byte, maxJSON+10)) // ~64 KiB that inflates to 64 MiB
	tests := []struct {
		name          string
		data          []byte
		notApplicable bool
		wantErr       string
	}{
		{name: "empty", data: nil, notApplicable: true},
		{name: "script", data: []byte("#!/bin/sh\nexit 0\n"), notApplicable: true},
		{name: "elf without section", data: buildELF(t, map[string][]byte{".text": {0xc3}}), notApplicable: true},
		{name: "truncated elf", data: good[:40], notApplicable: true},
		{name: "elf garbage headers", data: append([]byte("\x7fELF"), bytes.Repeat([]byte{0xee}, 200)...), notApplicable: true},
		{name: "PE garbage", data: append([]byte("MZ"), bytes.Repeat([]byte{0xee}, 200)...), notApplicable: true},
		{name: "section data cut off", data: good[:100], notApplicable: true},
		{name: "not zlib", data: buildELF(t, map[string][]byte{sectionName: []byte("not compressed")}), wantErr: "decompressing"},
		{name: "bad json", data: buildELF(t, map[string][]byte{sectionName: zlibBytes(t, []byte(`{"packages":[{"name":1}]}`))}), wantErr: "parsing audit JSON"},
		{name: "truncated zlib", data: buildELF(t, map[string][]byte{sectionName: zlibBytes(t, []byte(auditJSON))[:30]}), wantErr: "decompressing"},
		{name: "decompression bomb", data: buildELF(t, map[string][]byte{sectionName: bomb}), wantErr: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := New().Extract(context.Background(), layer.Executable("/bin/x", tt.data))
			if len(inv.Packages) != 0 {
				t.Errorf("got packages: %v", inv.Packages)
			}
			if tt.notApplicable {
				if !errors.Is(err, extract.ErrNotApplicable) {
					t.Errorf("error = %v, want ErrNotApplicable", err)
				}
				return
			}
			if errors.Is(err, extract.ErrNotApplicable) {
				t.Fatalf("error = %v, want a real error", err)
			}
			extracttest.CheckFileError(t, err, "/bin/x", tt.wantErr)
		})
	}
}

func TestExtractLock(t *testing.T) {
	const p = "/src/app/Cargo.lock"
	tests := []struct {
		name string
		lock string
		want []inventory.Package
	}{
		{
			name: "version 3",
			lock: `# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "regex",
 "time 0.1.45",
]

[[package]]
name = "regex"
version = "1.5.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "d07a8629359eb56f1e2fb1652bb04212c072a87ba68546a04065d525673ac461"

[[package]]
name = "time"
version = "0.1.45"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "time"
version = "0.3.17"
source = "sparse+https://index.crates.io/"

[[package]]
name = "forked"
version = "0.2.0"
source = "git+https://github.com/example/forked?branch=main#0123456789abcdef"
`,
			want: []inventory.Package{
				crate(p, "app", "0.1.0", true, map[string]string{"source": "local"}),
				crate(p, "forked", "0.2.0", true, map[string]string{"source": "git+https://github.com/example/forked?branch=main#0123456789abcdef"}),
				crate(p, "regex", "1.5.4", true, nil),
				crate(p, "time", "0.1.45", true, nil),
				crate(p, "time", "0.3.17", true, nil),
			},
		},
		{
			name: "version 1 with metadata table",
			lock: `[[package]]
name = "libc"
version = "0.2.80"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.80 (registry+https://github.com/rust-lang/crates.io-index)" = "4d58d1b70b004888f764dfbf6a26a3b0342a1632d33968e4a179d8011c760614"
`,
			want: []inventory.Package{crate(p, "libc", "0.2.80", true, nil)},
		},
		{
			name: "empty",
			lock: "version = 4\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Extract(context.Background(), layer.Input(p, []byte(tt.lock)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(inventory.Inventory{Packages: tt.want}, got); diff != "" {
				t.Errorf("Extract (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExtractLockGolden reads a longer Cargo.lock (testdata/Cargo.lock, see
// testdata/README.md) and compares with a golden file (-update rewrites it).
func TestExtractLockGolden(t *testing.T) {
	inv, err := New().Extract(context.Background(), layer.Input("/src/Cargo.lock", extracttest.Testdata(t, "Cargo.lock")))
	if err != nil {
		t.Fatal(err)
	}
	extracttest.Golden(t, "testdata/Cargo.lock.golden.json", inv)
}

func TestExtractLockErrors(t *testing.T) {
	for _, lock := range []string{"[[package]\nname = ", "version = \"3\"\n[[package]]\nname = 5\n", "\x00\xff"} {
		_, err := New().Extract(context.Background(), layer.Input("/src/Cargo.lock", []byte(lock)))
		if !extracttest.CheckFileError(t, err, "/src/Cargo.lock") {
			t.Logf("input was %q", lock)
		}
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []extracttest.WantsCase{
		{Path: "/src/Cargo.lock", Mode: 0o644, Size: 1000, Want: true},
		{Path: "/src/Cargo.lock", Mode: 0o644, Size: MaxLockSize + 1, Want: false},
		{Path: "/src/cargo.lock", Mode: 0o644, Size: 1000, Want: false},
		{Path: "/usr/bin/rg", Mode: 0o755, Size: 5 << 20, Want: true},
		{Path: "/usr/bin/rg", Mode: 0o644, Size: 5 << 20, Want: false},
		{Path: "/usr/bin/rg", Mode: 0o755, Size: MaxBinarySize + 1, Want: false},
		{Path: "/usr/bin/rg", Mode: 0o755, Size: 10, Want: false},
		{Path: "/usr/bin/rg", Mode: fs.ModeSymlink | 0o777, Size: 100, Want: false},
		{Path: "/src/Cargo.lock", Mode: fs.ModeDir | 0o755, Size: 100, Want: false},
	}
	extracttest.CheckWants(t, e, tests)
}

func FuzzExtractBinary(f *testing.F) {
	f.Add(buildELF(f, map[string][]byte{sectionName: zlibBytes(f, []byte(auditJSON))}))
	f.Add([]byte("MZ\x90\x00\x03\x00"))
	f.Add([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"))
	extracttest.FuzzFile(f, New(), layer.Executable("/bin/fuzz", nil), extracttest.Complete)
}

func FuzzDecodeAuditData(f *testing.F) {
	f.Add([]byte(auditJSON))
	f.Add([]byte(`{"packages":[{"name":"a","version":"1","source":{"Other":"x"}}]}`))
	f.Fuzz(func(t *testing.T, js []byte) {
		var buf bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&buf, zlib.NoCompression) // cheapest valid stream
		zw.Write(js)
		zw.Close()
		decodeAuditData(buf.Bytes())
		decodeAuditData(js) // raw bytes as a (usually invalid) zlib stream
	})
}

func FuzzExtractLock(f *testing.F) {
	f.Add(extracttest.Testdata(f, "Cargo.lock"))
	f.Add([]byte("version = 3\n[[package]]\nname = \"a\"\nversion = \"1\"\n"))
	extracttest.FuzzFile(f, New(), layer.Input("/Cargo.lock", nil), extracttest.Declared)
}
