// Package cargo extracts Rust crates from two sources:
//
//   - executables built with cargo-auditable, which embed their dependency
//     tree as zlib-compressed JSON in a ".dep-v0" section (ELF, PE; on Mach-O
//     the section ".dep-v0" of segment "__DATA"). The JSON is
//     {"packages":[{"name","version","source","kind","dependencies","root"}]}.
//     Every package is reported. source "crates.io" is the default; other
//     sources ("git", "local", "registry", …) are kept in Metadata "source".
//     Build-time dependencies (kind "build", not linked into the binary) are
//     reported with Metadata "kind" = "build"; the root crate gets Metadata
//     "main_module" = "true".
//   - Cargo.lock files, whose [[package]] entries are reported as declared
//     packages (Package.Declared). Packages from a registry other than
//     crates.io, from git, or without a source (workspace members and path
//     dependencies, Metadata "source" = "local") carry Metadata "source".
//
// Executables without a .dep-v0 section, and files that cannot be parsed as
// ELF/PE/Mach-O, give an error wrapping extract.ErrNotApplicable.
package cargo

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/BurntSushi/toml"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const (
	extractorName    = "lang/cargo"
	extractorVersion = 1

	// MaxBinarySize is the largest executable Wants accepts. Only headers and
	// the .dep-v0 section are read.
	MaxBinarySize = 300 << 20
	// MaxLockSize is the largest Cargo.lock Wants accepts.
	MaxLockSize = 32 << 20

	minBinarySize = 64
	// maxSection and maxJSON bound the compressed and decompressed audit data.
	maxSection = 16 << 20
	maxJSON    = 64 << 20

	sectionName = ".dep-v0"
	lockName    = "Cargo.lock"
	sourceCrate = "crates.io"
)

// Extractor reads cargo-auditable data and Cargo.lock files.
type Extractor struct{}

var _ extract.Extractor = (*Extractor)(nil)

// New returns a Cargo extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return extractorName }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return extractorVersion }

// Wants accepts files named Cargo.lock and executable regular files.
func (*Extractor) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size <= 0 {
		return false
	}
	if path.Base(p) == lockName {
		return size <= MaxLockSize
	}
	return mode&0o111 != 0 && size >= minBinarySize && size <= MaxBinarySize
}

// Extract implements extract.Extractor.
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return inventory.Inventory{}, err
	}
	if path.Base(in.Path) == lockName {
		return extractLock(in)
	}
	return extractBinary(in)
}

// auditData is cargo-auditable's JSON (cargo-auditable.schema.json).
type auditData struct {
	Packages []auditPackage `json:"packages"`
}

type auditPackage struct {
	Name         string          `json:"name"`
	Version      string          `json:"version"`
	Source       json.RawMessage `json:"source"`
	Kind         string          `json:"kind"`
	Dependencies []uint64        `json:"dependencies"`
	Root         bool            `json:"root"`
}

// sourceString decodes a source: a string ("crates.io", "git", "local",
// "registry") or, in the schema's extension form, {"Other": "…"}.
func (p auditPackage) sourceString() string {
	var s string
	if json.Unmarshal(p.Source, &s) == nil {
		return s
	}
	var o struct{ Other string }
	if json.Unmarshal(p.Source, &o) == nil && o.Other != "" {
		return o.Other
	}
	return string(p.Source)
}

func extractBinary(in *extract.Input) (inventory.Inventory, error) {
	sec, err := auditSection(in.File)
	if err != nil {
		if errors.Is(err, extract.ErrNotApplicable) {
			return inventory.Inventory{}, err
		}
		return inventory.Inventory{}, fmt.Errorf("reading %s section of %q: %w", sectionName, in.Path, err)
	}
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read; the
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading %s section of %q: %w", sectionName, in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	data, err := decodeAuditData(sec)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading %s section of %q: %w", sectionName, in.Path, err)
	}
	var inv inventory.Inventory
	seen := map[string]bool{}
	for _, p := range data.Packages {
		if p.Name == "" || p.Version == "" {
			continue
		}
		src := p.sourceString()
		key := p.Name + "@" + p.Version + "@" + src
		if seen[key] {
			continue
		}
		seen[key] = true
		md := map[string]string{}
		if src != sourceCrate {
			md["source"] = src
		}
		if p.Kind == "build" {
			md["kind"] = "build"
		}
		if p.Root {
			md["main_module"] = "true"
		}
		inv.Packages = append(inv.Packages, newPackage(in, p.Name, p.Version, false, md))
	}
	inv.Sort()
	return inv, nil
}

// decodeAuditData decompresses and parses the contents of a .dep-v0 section.
func decodeAuditData(section []byte) (*auditData, error) {
	zr, err := zlib.NewReader(bytes.NewReader(section))
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	defer zr.Close()
	b, err := io.ReadAll(io.LimitReader(zr, maxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	if len(b) > maxJSON {
		return nil, fmt.Errorf("audit data larger than %d bytes", maxJSON)
	}
	var d auditData
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parsing audit JSON: %w", err)
	}
	return &d, nil
}

// auditSection returns the raw .dep-v0 section of an ELF, PE or Mach-O file.
func auditSection(r io.ReaderAt) ([]byte, error) {
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n < len(magic) {
		return nil, extract.ErrNotApplicable
	}
	var (
		sr   io.ReadSeeker
		size uint64
	)
	switch {
	case bytes.Equal(magic[:], []byte("\x7fELF")):
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing ELF: %v", extract.ErrNotApplicable, err)
		}
		s := f.Section(sectionName)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, extract.ErrNotApplicable
		}
		sr, size = s.Open(), s.Size
	case bytes.HasPrefix(magic[:], []byte("MZ")):
		f, err := pe.NewFile(r)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing PE: %v", extract.ErrNotApplicable, err)
		}
		s := f.Section(sectionName)
		if s == nil {
			return nil, extract.ErrNotApplicable
		}
		// Size is the raw size, rounded up to the file alignment; the
		// section's own length is VirtualSize (when set and smaller).
		size = uint64(s.Size)
		if s.VirtualSize > 0 && s.VirtualSize < s.Size {
			size = uint64(s.VirtualSize)
		}
		sr = s.Open()
	case bytes.HasPrefix(magic[:], []byte("\xfe\xed\xfa")) || bytes.HasPrefix(magic[1:], []byte("\xfa\xed\xfe")):
		f, err := macho.NewFile(r)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing Mach-O: %v", extract.ErrNotApplicable, err)
		}
		s := machoSection(f)
		if s == nil {
			return nil, extract.ErrNotApplicable
		}
		sr, size = s.Open(), s.Size
	default:
		return nil, extract.ErrNotApplicable
	}
	if size > maxSection {
		return nil, fmt.Errorf("section is %d bytes (limit %d)", size, maxSection)
	}
	b, err := io.ReadAll(io.LimitReader(sr, int64(size)))
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) != size {
		return nil, fmt.Errorf("section truncated: %d of %d bytes", len(b), size)
	}
	return b, nil
}

func machoSection(f *macho.File) *macho.Section {
	for _, s := range f.Sections {
		if s.Name == sectionName && (s.Seg == "__DATA" || s.Seg == "") {
			return s
		}
	}
	return nil
}

// lockfile is the subset of Cargo.lock read here (versions 1–4).
type lockfile struct {
	Version int `toml:"version"`
	Package []struct {
		Name    string `toml:"name"`
		Version string `toml:"version"`
		Source  string `toml:"source"`
	} `toml:"package"`
}

func extractLock(in *extract.Input) (inventory.Inventory, error) {
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read; the
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading %q: %w", in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	b, err := extract.ReadAll(in.File, MaxLockSize)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading %q: %w", in.Path, err)
	}
	var lf lockfile
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return inventory.Inventory{}, fmt.Errorf("parsing %q: %w", in.Path, err)
	}
	var inv inventory.Inventory
	seen := map[string]bool{}
	for _, p := range lf.Package {
		if p.Name == "" || p.Version == "" {
			continue
		}
		src := lockSource(p.Source)
		key := p.Name + "@" + p.Version + "@" + src
		if seen[key] {
			continue
		}
		seen[key] = true
		var md map[string]string
		if src != sourceCrate {
			md = map[string]string{"source": src}
		}
		inv.Packages = append(inv.Packages, newPackage(in, p.Name, p.Version, true, md))
	}
	inv.Sort()
	if inv.Packages, err = extract.LimitPackages(in, inv.Packages); err != nil {
		return inv, fmt.Errorf("parsing %q: %w", in.Path, err)
	}
	return inv, nil
}

// lockSource maps a Cargo.lock source to "crates.io" for the crates.io index
// (git or sparse protocol), "local" for no source (workspace members and path
// dependencies) and the source string itself otherwise.
func lockSource(s string) string {
	switch s {
	case "":
		return "local"
	case "registry+https://github.com/rust-lang/crates.io-index", "sparse+https://index.crates.io/":
		return sourceCrate
	}
	return s
}

func newPackage(in *extract.Input, name, version string, declared bool, md map[string]string) inventory.Package {
	if len(md) == 0 {
		md = nil
	}
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoCrates,
		PURL:      packageurl.NewPackageURL(packageurl.TypeCargo, "", name, version, nil, "").ToString(),
		Locations: []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}},
		Declared:  declared,
		FoundBy:   extractorName,
		Metadata:  md,
	}
}
