package rpm

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	rpmdb "github.com/erikvarga/go-rpmdb/pkg"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/extract/purl"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{DiffID: "sha256:3333333333333333333333333333333333333333333333333333333333333333"}

// diskFile is an extract.File backed by a file on disk (as the walker's
// spilled files are).
type diskFile struct {
	path string
	data []byte
}

func (f diskFile) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(f.data).ReadAt(p, off)
}
func (f diskFile) Size() int64                  { return int64(len(f.data)) }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.path) }
func (f diskFile) LocalPath() (string, error)   { return f.path, nil }

func newDiskFile(t testing.TB, data []byte) diskFile {
	t.Helper()
	p := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return diskFile{path: p, data: data}
}

// gunzip returns the decompressed contents of testdata/name.
func gunzip(t testing.TB, name string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(extracttest.Testdata(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// input is the rpm database at path holding data, spilled to disk as the
// walker does with large files.
func input(t testing.TB, path string, data []byte) *extract.Input {
	t.Helper()
	return &extract.Input{Path: path, Mode: 0o644, File: newDiskFile(t, data), Layer: inventory.Layer(layer)}
}

// newExtractor returns an extractor whose temp files are removed with t.
func newExtractor(t testing.TB) *Extractor { return NewWithOptions(Options{TempDir: t.TempDir()}) }

func extractData(t testing.TB, path string, data []byte) (inventory.Inventory, error) {
	t.Helper()
	return newExtractor(t).Extract(context.Background(), input(t, path, data))
}

// The real databases: path in the image, test file, package count.
var realDBs = []struct {
	name, path, file string
	want             int
}{
	// 22 rpms per /work/shared/data/README.md.
	{"almalinux-9.0-sqlite", "/var/lib/rpm/rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz", 22},
	// The README's 20 rpms, one of them a gpg-pubkey (see
	// TestGPGPubkeyListed): rpm -qa, Trivy and Syft list 20.
	{"almalinux-8.8-bdb", "/var/lib/rpm/Packages", "almalinux-8.8-Packages.gz", 20},
	// 35 per go-rpmdb's own test expectations for this file.
	{"sle15-bci-ndb", "/usr/lib/sysimage/rpm/Packages.db", "sle15-bci-Packages.db.gz", 35},
}

// goldenPackage is a package as recorded in the golden files: Files is not
// serialised by inventory.Package and too long to list, so it is counted.
type goldenPackage struct {
	inventory.Package
	FileCount int `json:"file_count"`
}

func TestGolden(t *testing.T) {
	for _, db := range realDBs {
		t.Run(db.name, func(t *testing.T) {
			inv, err := extractData(t, db.path, gunzip(t, db.file))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if got := len(inv.Packages); got != db.want {
				t.Errorf("got %d packages, want %d", got, db.want)
			}
			var got []goldenPackage
			for _, p := range inv.Packages {
				got = append(got, goldenPackage{p, len(p.Files)})
			}
			extracttest.Golden(t, "testdata/"+db.name+".golden.json", got)
		})
	}
}

func TestKeyPackages(t *testing.T) {
	glibcLicense := "LGPLv2+ and LGPLv2+ with exceptions and GPLv2+ and GPLv2+ with exceptions and BSD and Inner-Net and ISC and Public Domain and GFDL"
	tests := []struct {
		db       int
		want     inventory.Package
		wantFile string // one file the package must own
		files    int
	}{
		{
			db: 0, wantFile: "/lib64/libc.so.6", files: 112,
			want: inventory.Package{
				Name: "glibc", Version: "2.34-28.el9_0", Arch: "aarch64", Vendor: "AlmaLinux",
				SourceName: "glibc", SourceVersion: "2.34-28.el9_0", Licenses: []string{glibcLicense},
				PURL:     "pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64",
				Metadata: map[string]string{"source_rpm": "glibc-2.34-28.el9_0.src.rpm"},
			},
		},
		{
			// Binary and source names differ.
			db: 0, wantFile: "/usr/lib64/libncursesw.so.6", files: 45,
			want: inventory.Package{
				Name: "ncurses-libs", Version: "6.2-8.20210508.el9", Arch: "aarch64", Vendor: "AlmaLinux",
				SourceName: "ncurses", SourceVersion: "6.2-8.20210508.el9", Licenses: []string{"MIT"},
				PURL:     "pkg:rpm/almalinux/ncurses-libs@6.2-8.20210508.el9?arch=aarch64",
				Metadata: map[string]string{"source_rpm": "ncurses-6.2-8.20210508.el9.src.rpm"},
			},
		},
		{
			db: 1, wantFile: "/lib64/libc.so.6", files: 136,
			want: inventory.Package{
				Name: "glibc", Version: "2.28-225.el8", Arch: "s390x", Vendor: "AlmaLinux",
				SourceName: "glibc", SourceVersion: "2.28-225.el8", Licenses: []string{glibcLicense},
				PURL:     "pkg:rpm/almalinux/glibc@2.28-225.el8?arch=s390x",
				Metadata: map[string]string{"source_rpm": "glibc-2.28-225.el8.src.rpm"},
			},
		},
		{
			// Vendor not derivable to a namespace.
			db: 1, files: 0,
			want: inventory.Package{
				Name: "basesystem", Version: "11-5.el8", Arch: "noarch", Vendor: "CloudLinux",
				SourceName: "basesystem", SourceVersion: "11-5.el8", Licenses: []string{"Public Domain"},
				PURL:     "pkg:rpm/basesystem@11-5.el8?arch=noarch",
				Metadata: map[string]string{"source_rpm": "basesystem-11-5.el8.src.rpm"},
			},
		},
		{
			db: 2, wantFile: "/lib64/libc.so.6", files: 67,
			want: inventory.Package{
				Name: "glibc", Version: "2.31-9.3.2", Arch: "x86_64", Vendor: "SUSE LLC <https://www.suse.com/>",
				SourceName: "glibc", SourceVersion: "2.31-9.3.2",
				Licenses: []string{"LGPL-2.1-or-later AND LGPL-2.1-or-later WITH GCC-exception-2.0 AND GPL-2.0-or-later"},
				PURL:     "pkg:rpm/suse/glibc@2.31-9.3.2?arch=x86_64",
				Metadata: map[string]string{"source_rpm": "glibc-2.31-9.3.2.src.rpm"},
			},
		},
	}
	invs := map[int][]inventory.Package{}
	for _, tt := range tests {
		t.Run(realDBs[tt.db].name+"/"+tt.want.Name, func(t *testing.T) {
			db := realDBs[tt.db]
			if invs[tt.db] == nil {
				inv, err := extractData(t, db.path, gunzip(t, db.file))
				if err != nil {
					t.Fatalf("Extract: %v", err)
				}
				invs[tt.db] = inv.Packages
			}
			i := slices.IndexFunc(invs[tt.db], func(p inventory.Package) bool { return p.Name == tt.want.Name })
			if i < 0 {
				t.Fatalf("%s not found", tt.want.Name)
			}
			got := invs[tt.db][i]
			want := tt.want
			want.Ecosystem = inventory.EcoRPM
			want.Locations = layer.Locations(db.path)
			want.FoundBy = Name
			want.ID = purl.PackageID(&want)
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(inventory.Package{}, "Files")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if len(got.Files) != tt.files {
				t.Errorf("got %d files, want %d", len(got.Files), tt.files)
			}
			if tt.wantFile != "" && !slices.Contains(got.Files, tt.wantFile) {
				t.Errorf("files lack %s", tt.wantFile)
			}
		})
	}
}

// TestGPGPubkeyListed: the signing key imported into the AlmaLinux 8.8
// rpm database is listed, as rpm -qa, Trivy v0.74 and Syft v1.51 list it,
// and marked so that it is never matched.
func TestGPGPubkeyListed(t *testing.T) {
	db := realDBs[1]
	local := newDiskFile(t, gunzip(t, db.file))
	infos, err := listPackages(context.Background(), local.path)
	if err != nil {
		t.Fatal(err)
	}
	var keys int
	for _, i := range infos {
		if i.Name == "gpg-pubkey" {
			keys++
		}
	}
	// The database holds the 20 headers `rpm -qa` lists, one of them a key.
	if len(infos) != 20 || keys != 1 {
		t.Fatalf("database holds %d headers, %d gpg-pubkey; want 20 and 1", len(infos), keys)
	}
	inv, err := extractData(t, db.path, local.data)
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Package{
		Name: "gpg-pubkey", Version: "3abb34f8-5ffd890e", Ecosystem: inventory.EcoRPM,
		SourceName: "gpg-pubkey", SourceVersion: "3abb34f8-5ffd890e", Licenses: []string{"pubkey"},
		PURL:      "pkg:rpm/gpg-pubkey@3abb34f8-5ffd890e",
		Locations: layer.Locations(db.path), FoundBy: Name,
		Metadata: map[string]string{"kind": "gpg-pubkey"},
	}
	want.ID = purl.PackageID(&want)
	var got []inventory.Package
	for _, p := range inv.Packages {
		if p.Name == "gpg-pubkey" {
			got = append(got, p)
		}
		if p.Matchable() != (p.Name != "gpg-pubkey") {
			t.Errorf("%s: Matchable() = %v", p.Name, p.Matchable())
		}
	}
	if diff := cmp.Diff([]inventory.Package{want}, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("gpg-pubkey packages (-want +got):\n%s", diff)
	}
}

// corrupt returns a copy of data with b written at off.
func corrupt(data []byte, off int, b ...byte) []byte {
	c := slices.Clone(data)
	copy(c[off:], b)
	return c
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// bdbOrder is the byte order of a BDB file (the s390x test file is
// big-endian).
func bdbOrder(data []byte) binary.ByteOrder {
	if binary.BigEndian.Uint32(data[12:]) == bdbHashMagic {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// bdbFirstHashItem finds, in a BDB file, the first hash page holding an
// off-page item: the page's offset, the item's offset and the first overflow
// page number.
func bdbFirstHashItem(t *testing.T, data []byte) (pageOff, item int, ovfl uint32) {
	t.Helper()
	le := bdbOrder(data)
	ps := int(le.Uint32(data[20:]))
	for off := ps; off+ps <= len(data); off += ps {
		page := data[off : off+ps]
		if page[25] != bdbTypeHash {
			continue
		}
		n := int(le.Uint16(page[20:]))
		for i := 2; i+2 <= n*2; i += 4 {
			v := int(le.Uint16(page[26+i:]))
			if page[v] == bdbTypeHashOff {
				return off, v, le.Uint32(page[v+4:])
			}
		}
	}
	t.Fatal("no hash item found")
	return 0, 0, 0
}

func TestMalformed(t *testing.T) {
	sqliteDB := gunzip(t, "almalinux-9.0-rpmdb.sqlite.gz")
	bdb := gunzip(t, "almalinux-8.8-Packages.gz")
	ndb := gunzip(t, "sle15-bci-Packages.db.gz")

	bo := bdbOrder(bdb)
	if bo != binary.BigEndian {
		t.Fatal("the test file is expected to be big-endian (s390x)")
	}
	b16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	b32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	ps := int(bo.Uint32(bdb[20:]))
	hashPage, item, ovfl := bdbFirstHashItem(t, bdb)
	ovflOff := int(ovfl) * ps

	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	// The first used NDB slot (slot table starts at 32, 16 bytes a slot).
	firstSlot := 32
	for binary.LittleEndian.Uint32(ndb[firstSlot+4:]) == 0 {
		firstSlot += 16
	}
	blobOff := int(binary.LittleEndian.Uint32(ndb[firstSlot+8:])) * 16

	tests := []struct {
		name, path string
		data       []byte
		wantErr    string
	}{
		{"empty", "/var/lib/rpm/Packages", nil, "too small to be an rpm database (0 bytes)"},
		{"tiny", "/var/lib/rpm/Packages", []byte("0123456789"), "too small"},
		{"random bytes", "/var/lib/rpm/Packages", random, "not an rpm database"},
		{"text file", "/var/lib/rpm/rpmdb.sqlite", []byte(strings.Repeat("hello world\n", 100)), "not an rpm database"},
		{"truncated sqlite", "/var/lib/rpm/rpmdb.sqlite", sqliteDB[:64<<10], "sqlite"},
		{"sqlite header only", "/var/lib/rpm/rpmdb.sqlite", sqliteDB[:100], "sqlite"},
		{"sqlite with garbage pages", "/var/lib/rpm/rpmdb.sqlite", append(slices.Clone(sqliteDB[:4096]), random...), "sqlite"},
		{"truncated bdb", "/var/lib/rpm/Packages", bdb[:64<<10], "truncated"},
		{"bdb metadata only", "/var/lib/rpm/Packages", bdb[:512], "truncated"},
		{"bdb bad page size", "/var/lib/rpm/Packages", corrupt(bdb, 20, b32(1000)...), "unexpected page size 1000"},
		{"bdb encrypted", "/var/lib/rpm/Packages", corrupt(bdb, 24, 1), "encrypted"},
		{"bdb odd entry count", "/var/lib/rpm/Packages", corrupt(bdb, hashPage+20, b16(3)...), "odd number of hash entries"},
		// Each of the following would crash or hang go-rpmdb's reader goroutine.
		{"bdb item offset outside page", "/var/lib/rpm/Packages", corrupt(bdb, hashPage+26+2, b16(uint16(ps+5))...), "outside the page"},
		{"bdb item at page end", "/var/lib/rpm/Packages", corrupt(corrupt(bdb, hashPage+26+2, b16(uint16(ps-4))...), hashPage+ps-4, bdbTypeHashOff), "runs past the page"},
		{"bdb overflow chain through a non-overflow page", "/var/lib/rpm/Packages", corrupt(bdb, ovflOff+25, bdbTypeHash), "on an overflow chain has type 13"},
		{"bdb overflow chain cycle", "/var/lib/rpm/Packages", corrupt(bdb, ovflOff+16, b32(ovfl)...), "visited twice"},
		{"bdb overflow data end outside page", "/var/lib/rpm/Packages", corrupt(corrupt(bdb, ovflOff+16, b32(0)...), ovflOff+22, b16(0xfff0)...), "outside the page"},
		{"bdb overflow page past end of file", "/var/lib/rpm/Packages", corrupt(bdb, hashPage+item+4, b32(0x00ffffff)...), "past the end"},
		{"bdb huge header entry count", "/var/lib/rpm/Packages", corrupt(bdb, ovflOff+26, 0x7f, 0xff, 0xff, 0xff), "claims 2147483647 entries"},
		{"truncated ndb", "/usr/lib/sysimage/rpm/Packages.db", ndb[:8192], "truncated"},
		{"ndb too many slot pages", "/var/lib/rpm/Packages.db", corrupt(ndb, 12, le32(4096)...), "more than 2048"},
		{"ndb bad slot magic", "/var/lib/rpm/Packages.db", corrupt(ndb, firstSlot, 'X'), "bad magic"},
		{"ndb bad blob magic", "/var/lib/rpm/Packages.db", corrupt(ndb, blobOff, 'X'), "bad blob magic"},
		{"ndb blob of another package", "/var/lib/rpm/Packages.db", corrupt(ndb, blobOff+4, le32(99999)...), "points at the blob of package 99999"},
		{"ndb blob length 4 GiB", "/var/lib/rpm/Packages.db", corrupt(ndb, blobOff+12, le32(0xffffffff)...), "runs past the end"},
		{"ndb huge header entry count", "/var/lib/rpm/Packages.db", corrupt(ndb, blobOff+16, 0x7f, 0xff, 0xff, 0xff), "claims 2147483647 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := extractData(t, tt.path, tt.data)
			if err == nil {
				t.Fatalf("Extract: no error, %d packages", len(inv.Packages))
			}
			extracttest.CheckFileError(t, err, tt.path, `reading rpm database "`+tt.path+`"`, tt.wantErr)
			if len(inv.Packages) != 0 {
				t.Errorf("got %d packages from a corrupt database", len(inv.Packages))
			}
		})
	}
}

func TestParseSourceRPM(t *testing.T) {
	tests := []struct {
		in, name, version string
		ok                bool
	}{
		{"glibc-2.34-28.el9_0.src.rpm", "glibc", "2.34-28.el9_0", true},
		{"ncurses-6.2-8.20210508.el9.src.rpm", "ncurses", "6.2-8.20210508.el9", true},
		{"gcc11-11.2.1+git610-1.3.9.src.rpm", "gcc11", "11.2.1+git610-1.3.9", true},
		{"python3-pip-wheel-21.2.3-6.el9.nosrc.rpm", "python3-pip-wheel", "21.2.3-6.el9", true},
		{"a-1-2.src.rpm", "a", "1-2", true},
		{"", "", "", false},
		{"glibc-2.34.src.rpm", "", "", false},
		{"-1-2.src.rpm", "", "", false},
		{"a--2.src.rpm", "", "", false},
		{"a-1-.src.rpm", "", "", false},
		{"glibc-2.34-28.el9_0.rpm", "", "", false},
	}
	for _, tt := range tests {
		name, version, ok := ParseSourceRPM(tt.in)
		if diff := cmp.Diff([]any{tt.name, tt.version, tt.ok}, []any{name, version, ok}); diff != "" {
			t.Errorf("ParseSourceRPM(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestVendorNamespace(t *testing.T) {
	tests := map[string]string{
		"AlmaLinux":                            "almalinux",
		"Red Hat, Inc.":                        "redhat",
		"CentOS":                               "centos",
		"Rocky Enterprise Software Foundation": "rocky",
		"Fedora Project":                       "fedora",
		"Oracle America":                       "oracle",
		"Amazon Linux":                         "amazon",
		"SUSE LLC <https://www.suse.com/>":     "suse",
		"openSUSE":                             "opensuse",
		"CloudLinux":                           "",
		"":                                     "",
	}
	for in, want := range tests {
		if got := VendorNamespace(in); got != want {
			t.Errorf("VendorNamespace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestToPackageEpoch(t *testing.T) {
	// Package.Epoch, Metadata["epoch"] and the PURL qualifier from the
	// header's EPOCH; Version never carries it.
	for _, tt := range []struct {
		epoch    *int
		wantMeta string
		wantPURL string
	}{
		{nil, "", "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64"},
		{ptr(0), "0", "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64"},
		{ptr(1), "1", "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1"},
	} {
		info := rpmInfo("openssl-libs", "3.0.7", "27.el9", tt.epoch)
		p, err := toPackage(info)
		if err != nil {
			t.Fatal(err)
		}
		wantEpoch := 0
		if tt.epoch != nil {
			wantEpoch = *tt.epoch
		}
		got := []any{p.Version, p.Epoch, p.Metadata["epoch"], p.PURL}
		want := []any{"3.0.7-27.el9", wantEpoch, tt.wantMeta, tt.wantPURL}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("epoch %v: mismatch (-want +got):\n%s", tt.epoch, diff)
		}
	}
}

func TestToPackageBadFileList(t *testing.T) {
	info := rpmInfo("x", "1", "1", nil)
	info.BaseNames = []string{"a", "b"}
	info.DirIndexes = []int32{0, 5}
	info.DirNames = []string{"/usr/bin/"}
	p, err := toPackage(info)
	if err == nil || !strings.Contains(err.Error(), "package x-1-1: file list") {
		t.Errorf("toPackage error = %v, want a file list error", err)
	}
	if p.Name != "x" || len(p.Files) != 0 {
		t.Errorf("package = %+v, want x without files", p)
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []extracttest.WantsCase{
		{Path: "/var/lib/rpm/Packages", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/rpm/Packages.db", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/rpm/rpmdb.sqlite", Mode: 0o644, Size: 100, Want: true},
		{Path: "/usr/lib/sysimage/rpm/rpmdb.sqlite", Mode: 0o644, Size: 100, Want: true},
		{Path: "/usr/lib/sysimage/rpm/Packages.db", Mode: 0o644, Size: 100, Want: true},
		{Path: "/usr/share/rpm/Packages", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/rpm/Packages", Mode: fs.ModeSymlink, Size: 100, Want: false},
		{Path: "/var/lib/rpm/rpmdb.sqlite-wal", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/rpm/Basenames", Mode: 0o644, Size: 100, Want: false},
		{Path: "/var/lib/rpm/sub/Packages", Mode: 0o644, Size: 100, Want: false},
		{Path: "/opt/var/lib/rpm/Packages", Mode: 0o644, Size: 100, Want: false},
	}
	extracttest.CheckWants(t, e, tests)
	if e.Name() != "os/rpm" {
		t.Errorf("Name() = %q", e.Name())
	}
}

// FuzzExtract feeds arbitrary files, and real databases with a few bytes
// overwritten (which reaches deep into the page and header structures), to
// the extractor. A panic in go-rpmdb's reader goroutines would crash the
// fuzzer: that is what the preflight checks must prevent.
func FuzzExtract(f *testing.F) {
	dbs := [][]byte{
		gunzip(f, "almalinux-8.8-Packages.gz"),
		gunzip(f, "sle15-bci-Packages.db.gz"),
		gunzip(f, "almalinux-9.0-rpmdb.sqlite.gz"),
	}
	f.Add(uint8(0), uint32(0), []byte{}, []byte{})
	f.Add(uint8(0), uint32(0x6000), le16(0xffff), []byte{})
	f.Add(uint8(1), uint32(40), le32(0xffffffff), []byte{})
	f.Add(uint8(2), uint32(100), []byte{0xff, 0xff}, []byte{})
	f.Add(uint8(3), uint32(0), []byte{}, []byte("SQLite format 3\x00garbage"))
	f.Add(uint8(3), uint32(0), []byte{}, append([]byte("RpmP\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"), make([]byte, 32)...))
	f.Fuzz(func(t *testing.T, which uint8, off uint32, patch, raw []byte) {
		var data []byte
		if int(which)%4 == 3 {
			data = raw
		} else {
			db := dbs[int(which)%4]
			data = corrupt(db, int(off%uint32(len(db))), patch[:min(len(patch), len(db)-int(off%uint32(len(db))))]...)
		}
		inv := extracttest.Fuzz(t, newExtractor(t), input(t, "/var/lib/rpm/Packages", data))
		extracttest.Identified(t, inv)
		for _, p := range inv.Packages {
			if p.Ecosystem != inventory.EcoRPM {
				t.Fatalf("incomplete package %+v", p)
			}
		}
	})
}

func ptr(i int) *int { return &i }

func rpmInfo(name, ver, rel string, epoch *int) *rpmdb.PackageInfo {
	return &rpmdb.PackageInfo{
		Name: name, Version: ver, Release: rel, Epoch: epoch, Arch: "x86_64", Vendor: "Red Hat, Inc.",
		SourceRpm: name + "-" + ver + "-" + rel + ".src.rpm",
	}
}

// TestInlineHeaders: go-rpmdb reads only the Berkeley DB headers kept on
// overflow pages; AlmaLinux 9.0 micro's two smallest (almalinux-gpg-keys and
// basesystem) are inline on a hash page, and drydock reads them too
// (bdbinline.go): the 22 packages the image's own rpm -qa lists
// (shared/data/baseimages/almalinux-micro/20220527-aarch64.rpms.json,
// "count": 22), with their versions and architectures, and no note.
func TestInlineHeaders(t *testing.T) {
	inv, err := extractData(t, "/var/lib/rpm/Packages", gunzip(t, "almalinux-9.0-micro-Packages.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range inv.Packages {
		got = append(got, p.Name+"-"+p.Version+"."+p.Arch)
	}
	slices.Sort(got)
	want := []string{"almalinux-gpg-keys-9.0-3.el9.aarch64", "almalinux-release-9.0-3.el9.aarch64", "almalinux-repos-9.0-3.el9.aarch64",
		"basesystem-11-13.el9.noarch", "bash-5.1.8-4.el9.aarch64", "coreutils-single-8.32-31.el9.aarch64", "filesystem-3.16-2.el9.aarch64",
		"glibc-2.34-28.el9_0.aarch64", "glibc-common-2.34-28.el9_0.aarch64", "glibc-minimal-langpack-2.34-28.el9_0.aarch64",
		"libacl-2.3.1-3.el9.aarch64", "libattr-2.5.1-3.el9.aarch64", "libcap-2.48-8.el9.aarch64", "libgcc-11.2.1-9.4.el9.alma.aarch64",
		"libselinux-3.3-2.el9.aarch64", "libsepol-3.3-2.el9.aarch64", "ncurses-base-6.2-8.20210508.el9.noarch",
		"ncurses-libs-6.2-8.20210508.el9.aarch64", "pcre2-10.37-3.el9.1.aarch64", "pcre2-syntax-10.37-3.el9.1.noarch",
		"setup-2.13.7-6.el9.noarch", "tzdata-2022a-1.el9_0.noarch"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	if len(inv.Notes) != 0 {
		t.Errorf("notes %+v, want none", inv.Notes)
	}
}

// TestUnreadHeadersSaid: when the hash's own element count says there are
// more headers than could be read, the gap is a warning, not a quietly
// shorter inventory: AlmaLinux 9.0 micro's database with its count raised
// by one (23 headers claimed, 22 there). The 8.8 database, read whole, gets
// no such note.
func TestUnreadHeadersSaid(t *testing.T) {
	micro := gunzip(t, "almalinux-9.0-micro-Packages.gz")
	binary.LittleEndian.PutUint32(micro[88:], binary.LittleEndian.Uint32(micro[88:])+1)
	for _, tc := range []struct {
		name       string
		data       []byte
		pkgs       int
		wantWarned bool
	}{
		{"almalinux-9.0-micro, one header claimed but absent", micro, 22, true},
		{"almalinux-8.8", gunzip(t, "almalinux-8.8-Packages.gz"), 20, false},
	} {
		inv, err := extractData(t, "/var/lib/rpm/Packages", tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		warned := false
		for _, n := range inv.Notes {
			if n.Level == "warning" && strings.Contains(n.Message, "holds 23 packages, 22 could be read") {
				warned = true
			}
		}
		if len(inv.Packages) != tc.pkgs || warned != tc.wantWarned {
			t.Errorf("%s: %d packages, warned %v (notes %+v); want %d, %v", tc.name, len(inv.Packages), warned, inv.Notes, tc.pkgs, tc.wantWarned)
		}
	}
}

// FuzzBDBInlineHeaders: any file gives headers or an error, never a panic;
// every header returned passes checkBlob.
func FuzzBDBInlineHeaders(f *testing.F) {
	micro := gunzip(f, "almalinux-9.0-micro-Packages.gz")
	f.Add(micro[:min(len(micro), 3*4096)])
	f.Add(micro)
	f.Fuzz(func(t *testing.T, b []byte) {
		blobs, err := bdbInlineHeaders(context.Background(), bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, h := range blobs {
			if err := checkBlob(h, int64(len(h))); err != nil {
				t.Errorf("returned a header that does not check: %v", err)
			}
		}
	})
}
