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
	"fmt"
	"io/fs"
	"path"
	"runtime/debug"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const (
	extractorName    = "lang/gobinary"
	extractorVersion = 1

	// MaxFileSize is the largest executable Wants accepts. buildinfo reads
	// only the headers and the section holding the build info, so the cost
	// does not grow with the file, but a cap keeps odd giant files out.
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
	if inv.Packages, err = extract.LimitPackages(in, inv.Packages); err != nil {
		return inv, fmt.Errorf("reading Go build info of %q: %w", in.Path, err)
	}
	return inv, nil
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
