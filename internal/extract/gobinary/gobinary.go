// Package gobinary extracts Go modules from the build information that the Go
// toolchain embeds in every executable it links (go version -m).
//
// For each Go executable it reports:
//   - the main module (Metadata "main_module" = "true"). Its version is taken
//     as written in the build info; "(devel)" stays "(devel)" and is never
//     guessed from -ldflags or VCS data;
//   - every dependency module. A replaced module is reported under the
//     replacement's path and version, with Metadata "replaces" =
//     "<original path>@<original version>"; a replacement by a local directory
//     keeps the directory as its name, version "(devel)", Metadata
//     "local_replace" = "true" and no purl (it is not a module);
//   - the Go toolchain as the package "stdlib", with the version turned into
//     the semver form the Go vulnerability database uses ("go1.21.3" →
//     "1.21.3", "go1.20" → "1.20.0", "go1.22rc1" → "1.22.0-rc.1") and the raw
//     string kept in Metadata "go_toolchain".
//
// Module versions are kept as Go writes them ("v0.3.5"); only stdlib has no
// "v" prefix. Build settings of interest are copied onto the main module (or
// onto stdlib when the binary has no module information, as with Debian's
// GOPATH-mode builds) under Metadata keys "build.<setting>", e.g.
// "build.GOOS", "build.-trimpath", "build.vcs.revision".
package gobinary

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime/debug"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/gobinary/symbols"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const (
	extractorName = "lang/gobinary"
	// extractorVersion 2: the executable's functions (GoBinaries) and Go
	// executables older than 1.13 (stdlib alone).
	extractorVersion = 2

	// MaxFileSize is the largest executable Wants accepts. buildinfo reads
	// only the headers and the section holding the build info; the function
	// table costs about 0.3 ms and 0.2 MB per MB of executable (see
	// docs/performance.md). A cap keeps odd giant files out.
	MaxFileSize = 300 << 20
	// minFileSize: no Go executable is smaller than this.
	minFileSize = 512

	develVersion = "(devel)"
)

// buildSettings returns the build settings copied into Metadata as
// "build.<key>". Others (CGO_CFLAGS, DefaultGODEBUG, …) are left out.
func buildSettings() []string {
	return []string{
		"-buildmode", "-compiler", "-ldflags", "-tags", "-trimpath", "-race", "-asan", "-msan",
		"CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOARM", "GOARM64", "GO386", "GOMIPS",
		"GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM", "GOEXPERIMENT", "GOFIPS140",
		"vcs", "vcs.revision", "vcs.time", "vcs.modified",
	}
}

// Extractor reads Go build information from executables.
type Extractor struct{}

var _ extract.Extractor = (*Extractor)(nil)

// New returns a Go binary extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return extractorName }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return extractorVersion }

// Wants accepts executable regular files between 512 B and MaxFileSize.
func (*Extractor) Wants(_ string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && mode&0o111 != 0 && size >= minFileSize && size <= MaxFileSize
}

// Extract implements extract.Extractor. Files that are not executables, or
// executables without Go build info, give an error wrapping
// extract.ErrNotApplicable. An ELF file of at least 64 bytes whose headers
// cannot be parsed (truncated, corrupt) is a real error, reported as a
// warning naming the file.
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return inventory.Inventory{}, err
	}
	var magic [4]byte
	if n, _ := in.File.ReadAt(magic[:], 0); n < len(magic) || !isExecutable(magic[:]) {
		return inventory.Inventory{}, extract.ErrNotApplicable
	}
	bi, err := buildinfo.Read(in.File)
	if err != nil {
		msg := err.Error()
		// debug/buildinfo does not export these errors; Trivy matches the
		// same strings. Unparseable headers mean "not something we can read",
		// not "a broken Go binary".
		if strings.HasSuffix(msg, "unrecognized file format") && bytes.HasPrefix(magic[:], []byte("\x7fELF")) && in.File.Size() >= 64 {
			// An ELF header whose sections cannot be read: a truncated or
			// corrupt executable (a cut file loses its section headers,
			// which sit at its end). Say so once, rather than skip silently.
			if _, eerr := elf.NewFile(in.File); eerr != nil {
				return inventory.Inventory{}, fmt.Errorf("reading executable %q: truncated or corrupt ELF: %v", in.Path, eerr)
			}
		}
		if strings.HasSuffix(msg, "not a Go executable") || strings.HasSuffix(msg, "unrecognized file format") {
			if v, ok := symbols.OldGoVersion(in.File, in.File.Size()); ok {
				return oldGo(v, in), nil
			}
			return inventory.Inventory{}, fmt.Errorf("reading Go build info of %q: %w (%s)", in.Path, extract.ErrNotApplicable, msg)
		}
		return inventory.Inventory{}, fmt.Errorf("reading Go build info of %q: %w", in.Path, err)
	}
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read; the
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading Go build info of %q: %w", in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	inv := fromBuildInfo(bi, in)
	gs, err := readSymbols(ctx, bi, in)
	if err != nil {
		return inventory.Inventory{}, err
	}
	inv.GoBinaries = []inventory.GoBinary{{Path: in.Path, GoSymbols: gs}}
	if gs.Unknown != "" {
		inv.Notes = append(inv.Notes, inventory.Note{Level: "info", Path: in.Path, Layer: in.Layer.DiffID,
			Message: fmt.Sprintf("Go executable %q: its functions are not known (%s); reachability of its findings is unknown", in.Path, gs.Unknown)})
	}
	if inv.Packages, err = extract.LimitPackages(in, inv.Packages); err != nil {
		return inv, fmt.Errorf("reading Go build info of %q: %w", in.Path, err)
	}
	return inv, nil
}

// readSymbols reads the executable's function table into the compact form
// reachability keeps. Only a cancelled ctx is an error: a table that cannot
// be used is recorded with the reason.
func readSymbols(ctx context.Context, bi *debug.BuildInfo, in *extract.Input) (inventory.GoSymbols, error) {
	goos, goarch := buildSetting(bi, "GOOS"), buildSetting(bi, "GOARCH")
	tab, err := symbols.Read(ctx, in.File, in.File.Size(), symbols.Options{})
	switch {
	case ctx.Err() != nil:
		return inventory.GoSymbols{}, ctx.Err()
	case errors.Is(err, symbols.ErrUnsupported):
		return inventory.GoSymbols{GOOS: goos, GOARCH: goarch,
			Unknown: fmt.Sprintf("built with %s, whose function table (before Go 1.18) is not read", bi.GoVersion)}, nil
	case err != nil:
		return inventory.GoSymbols{GOOS: goos, GOARCH: goarch, Unknown: "unreadable function table: " + err.Error()}, nil
	}
	return compact(bi, tab.EachSymbol), nil
}

// compact keeps what reachability needs of the functions each gives: the
// packages and symbol hashes, with "main" under the main package's import
// path. A table in which no module of the build info has a function while
// the build info lists some was rewritten — obfuscated (garble renames
// packages and functions) — and is not used.
func compact(bi *debug.BuildInfo, each func(func(pkg, recv, base string))) inventory.GoSymbols {
	var b inventory.GoSymbolsBuilder
	each(func(pkg, recv, base string) {
		if pkg == "main" && bi.Path != "" {
			pkg = bi.Path
		}
		b.Add(pkg, recv, base)
	})
	gs := b.Build(buildSetting(bi, "GOOS"), buildSetting(bi, "GOARCH"))
	if gs.Unknown != "" {
		return gs
	}
	if !gs.HasPackage("runtime") {
		return inventory.GoSymbols{GOOS: gs.GOOS, GOARCH: gs.GOARCH, Unknown: "obfuscated or unreadable: no function of package runtime in the function table"}
	}
	var mods []string
	for _, d := range bi.Deps {
		// Replaced code keeps the import paths of the module it replaces.
		if d != nil && d.Path != "" {
			mods = append(mods, d.Path)
		}
	}
	if len(mods) == 0 {
		return gs
	}
	if bi.Main.Path != "" {
		mods = append(mods, bi.Main.Path)
	}
	for _, m := range mods {
		if gs.HasModule(m) {
			return gs
		}
	}
	return inventory.GoSymbols{GOOS: gs.GOOS, GOARCH: gs.GOARCH,
		Unknown: fmt.Sprintf("obfuscated: none of the %d modules of the build info has a function in the function table (package names rewritten, as garble does?)", len(mods))}
}

// buildSetting returns the value of a build setting, or "".
func buildSetting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// oldGo is the inventory of a Go executable built before Go 1.13, which
// has no build information: the toolchain, if its version could be read,
// and a note.
func oldGo(version string, in *extract.Input) inventory.Inventory {
	var inv inventory.Inventory
	note := inventory.Note{Level: "info", Path: in.Path, Layer: in.Layer.DiffID}
	gs := inventory.GoSymbols{Unknown: "built before Go 1.13 (no build information): its function table (before Go 1.18) is not read"}
	if version == "" {
		note.Message = fmt.Sprintf("Go executable %q was built before Go 1.13: it has no build information and its Go version could not be read, so nothing is reported for it", in.Path)
	} else {
		gs.Unknown = fmt.Sprintf("built with %s, whose function table (before Go 1.18) is not read", version)
		note.Message = fmt.Sprintf("Go executable %q was built with %s, before Go recorded modules in executables: only the Go standard library is reported, and its functions are not read", in.Path, version)
		inv.Packages = []inventory.Package{{
			Name: "stdlib", Version: ToolchainVersion(version), Ecosystem: inventory.EcoGo,
			PURL:      purl("stdlib", ToolchainVersion(version), false),
			Locations: []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}},
			FoundBy:   extractorName,
			Metadata:  map[string]string{"go_toolchain": version},
		}}
	}
	inv.Notes = []inventory.Note{note}
	inv.GoBinaries = []inventory.GoBinary{{Path: in.Path, GoSymbols: gs}}
	return inv
}

// isExecutable reports whether b starts with an ELF, PE or Mach-O magic.
func isExecutable(b []byte) bool {
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")), bytes.HasPrefix(b, []byte("MZ")):
		return true
	case bytes.HasPrefix(b, []byte("\xfe\xed\xfa")), bytes.HasPrefix(b[1:], []byte("\xfa\xed\xfe")):
		return true // Mach-O, either byte order, 32 or 64 bit
	case bytes.Equal(b, []byte("\xca\xfe\xba\xbe")), bytes.Equal(b, []byte("\xca\xfe\xba\xbf")):
		return true // Mach-O universal (also Java class files; buildinfo rejects those)
	}
	return false
}

// fromBuildInfo turns parsed build info into packages.
func fromBuildInfo(bi *debug.BuildInfo, in *extract.Input) inventory.Inventory {
	var inv inventory.Inventory
	loc := []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}}
	newPkg := func(name, version string, md map[string]string) inventory.Package {
		return inventory.Package{
			Name:      name,
			Version:   version,
			Ecosystem: inventory.EcoGo,
			PURL:      purl(name, version, md["local_replace"] == "true"),
			Locations: append([]inventory.Location(nil), loc...),
			FoundBy:   extractorName,
			Metadata:  md,
		}
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	buildMD := func(md map[string]string) map[string]string {
		for _, k := range buildSettings() {
			if v, ok := settings[k]; ok {
				md["build."+k] = v
			}
		}
		return md
	}

	stdMD := map[string]string{"go_toolchain": bi.GoVersion}
	if bi.Main.Path == "" {
		// GOPATH-mode build (e.g. Debian's dh-golang): the main package path
		// is known, its module and the dependencies are not.
		if bi.Path != "" {
			stdMD["main_package"] = bi.Path
		}
		buildMD(stdMD)
		inv.Notes = append(inv.Notes, inventory.Note{
			Level:   "info",
			Path:    in.Path,
			Layer:   in.Layer.DiffID,
			Message: fmt.Sprintf("Go executable %q has no module information (built in GOPATH mode?); only the Go toolchain is reported", in.Path),
		})
	}
	if bi.GoVersion != "" {
		inv.Packages = append(inv.Packages, newPkg("stdlib", ToolchainVersion(bi.GoVersion), stdMD))
	}

	if bi.Main.Path != "" {
		v := bi.Main.Version
		if v == "" {
			v = develVersion
		}
		md := buildMD(map[string]string{"main_module": "true", "go_toolchain": bi.GoVersion})
		inv.Packages = append(inv.Packages, newPkg(bi.Main.Path, v, md))
	}

	for _, dep := range bi.Deps {
		// Old toolchains could list an empty module; skip it like Trivy does.
		if dep == nil || dep.Path == "" {
			continue
		}
		md := map[string]string{}
		mod := dep
		if dep.Replace != nil && dep.Replace.Path != "" {
			mod = dep.Replace
			md["replaces"] = dep.Path
			if dep.Version != "" {
				md["replaces"] += "@" + dep.Version
			}
			if isLocalPath(mod.Path) {
				md["local_replace"] = "true"
			}
		}
		if mod.Sum != "" {
			md["sum"] = mod.Sum
		}
		v := mod.Version
		if v == "" {
			v = develVersion
		}
		if len(md) == 0 {
			md = nil
		}
		inv.Packages = append(inv.Packages, newPkg(mod.Path, v, md))
	}
	inv.Sort()
	return inv
}

// isLocalPath reports whether a replacement path is a file system directory
// rather than a module path (see the go.mod replace directive).
func isLocalPath(p string) bool {
	return strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") ||
		p == "." || p == ".." || (len(p) > 2 && p[1] == ':' && (p[2] == '\\' || p[2] == '/'))
}

// purl builds pkg:golang/<module>@<version>. The module path is split at its
// last slash into namespace and name, as the purl spec and Syft do. The
// version is left out when it is unknown ("(devel)"). A local directory
// replacement is no module and gets no purl.
func purl(module, version string, local bool) string {
	if local {
		return ""
	}
	if version == develVersion {
		version = ""
	}
	ns, name := path.Split(module)
	ns = strings.TrimSuffix(ns, "/")
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
}

// ToolchainVersion converts a Go toolchain version as recorded in build info
// ("go1.21.3", "go1.22rc1", "go1.20", "go1.22.3 X:boringcrypto") to the
// semver form used for stdlib by the Go vulnerability database ("1.21.3",
// "1.22.0-rc.1", "1.20.0", "1.22.3"). Development toolchains ("devel …")
// give "(devel)"; anything unrecognised is returned without the "go" prefix.
func ToolchainVersion(goVersion string) string {
	v, _, _ := strings.Cut(goVersion, " ")
	if strings.HasPrefix(v, "devel") {
		return develVersion
	}
	v = strings.TrimPrefix(v, "go")
	base, pre := v, ""
	for _, p := range []string{"rc", "beta", "alpha"} {
		if i := strings.Index(v, p); i > 0 {
			base, pre = v[:i], v[i+len(p):]
			if !isDigits(pre) {
				return v
			}
			pre = "-" + p + "." + pre
			break
		}
	}
	parts := strings.Split(base, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v
	}
	for _, p := range parts {
		if !isDigits(p) {
			return v
		}
	}
	if len(parts) == 2 {
		parts = append(parts, "0")
	}
	return strings.Join(parts, ".") + pre
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
