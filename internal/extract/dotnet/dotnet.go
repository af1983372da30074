// Package dotnet extracts NuGet packages from .NET dependency manifests:
//
//   - "<app>.deps.json", written next to a built application: every library
//     of type "package" is reported; the library of type "project" matching
//     the application itself (named like the file, "<app>.deps.json") gets
//     Metadata "main_module" = "true"; every "project" library (the app and
//     the projects it references) has Metadata "type" = "project". Other
//     library types ("reference", "runtimepack", "msbuildproject", …) are not
//     NuGet packages and are skipped.
//   - "packages.lock.json" (NuGet lock file): every resolved dependency of
//     every target framework, as declared packages (Package.Declared), with
//     Metadata "dependency_type" ("direct", "transitive",
//     "centraltransitive") and "target_frameworks" (comma-separated, sorted).
//     Project references are skipped.
package dotnet

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const (
	extractorName    = "lang/dotnet"
	extractorVersion = 1

	// MaxFileSize is the largest manifest Wants accepts.
	MaxFileSize = 32 << 20

	depsSuffix = ".deps.json"
	lockName   = "packages.lock.json"
)

// Extractor reads .deps.json and packages.lock.json files.
type Extractor struct{}

var _ extract.Extractor = (*Extractor)(nil)

// New returns a .NET extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return extractorName }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return extractorVersion }

// Wants accepts regular files named *.deps.json or packages.lock.json.
func (*Extractor) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size <= 0 || size > MaxFileSize {
		return false
	}
	base := path.Base(p)
	return base == lockName || (strings.HasSuffix(base, depsSuffix) && len(base) > len(depsSuffix))
}

// Extract implements extract.Extractor.
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return inventory.Inventory{}, err
	}
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read; the
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading %q: %w", in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	b, err := extract.ReadAll(in.File, MaxFileSize)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading %q: %w", in.Path, err)
	}
	var inv inventory.Inventory
	if path.Base(in.Path) == lockName {
		inv.Packages, err = parseLock(b, in)
	} else {
		inv.Packages, err = parseDeps(b, in)
	}
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("parsing %q: %w", in.Path, err)
	}
	inv.Sort()
	inv.Packages, err = extract.LimitPackages(in, inv.Packages)
	if err != nil {
		return inv, fmt.Errorf("parsing %q: %w", in.Path, err)
	}
	return inv, nil
}

// depsFile is the part of a .deps.json read here
// (https://github.com/dotnet/sdk/blob/main/documentation/specs/runtime-configuration-file.md).
type depsFile struct {
	Libraries map[string]struct {
		Type string `json:"type"`
	} `json:"libraries"`
}

func parseDeps(b []byte, in *extract.Input) ([]inventory.Package, error) {
	var d depsFile
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	app := strings.TrimSuffix(path.Base(in.Path), depsSuffix)
	var pkgs []inventory.Package
	for key, lib := range d.Libraries {
		name, version, ok := strings.Cut(key, "/")
		if !ok || name == "" || version == "" {
			continue
		}
		switch strings.ToLower(lib.Type) {
		case "package":
			pkgs = append(pkgs, newPackage(in, name, version, false, nil))
		case "project":
			md := map[string]string{"type": "project"}
			if strings.EqualFold(name, app) {
				md["main_module"] = "true"
			}
			pkgs = append(pkgs, newPackage(in, name, version, false, md))
		}
	}
	return pkgs, nil
}

// lockFile is a NuGet packages.lock.json (version 1 and 2).
type lockFile struct {
	Version      int `json:"version"`
	Dependencies map[string]map[string]struct {
		Type     string `json:"type"`
		Resolved string `json:"resolved"`
	} `json:"dependencies"`
}

func parseLock(b []byte, in *extract.Input) ([]inventory.Package, error) {
	var lf lockFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, err
	}
	type agg struct {
		name, version string
		types         map[string]bool
		frameworks    []string
	}
	byKey := map[string]*agg{}
	for fw, deps := range lf.Dependencies {
		for name, dep := range deps {
			typ := strings.ToLower(dep.Type)
			if name == "" || dep.Resolved == "" || typ == "project" {
				continue
			}
			key := strings.ToLower(name) + "@" + dep.Resolved
			a := byKey[key]
			if a == nil {
				a = &agg{name: name, version: dep.Resolved, types: map[string]bool{}}
				byKey[key] = a
			}
			if name < a.name { // same package, other spelling: keep one, deterministically
				a.name = name
			}
			if typ != "" {
				a.types[typ] = true
			}
			if !slices.Contains(a.frameworks, fw) {
				a.frameworks = append(a.frameworks, fw)
			}
		}
	}
	var pkgs []inventory.Package
	for _, a := range byKey {
		md := map[string]string{}
		// A package direct in one framework and transitive in another is
		// direct.
		for _, t := range []string{"direct", "centraltransitive", "transitive"} {
			if a.types[t] {
				md["dependency_type"] = t
				break
			}
		}
		slices.Sort(a.frameworks)
		md["target_frameworks"] = strings.Join(a.frameworks, ",")
		pkgs = append(pkgs, newPackage(in, a.name, a.version, true, md))
	}
	return pkgs, nil
}

func newPackage(in *extract.Input, name, version string, declared bool, md map[string]string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoNuGet,
		PURL:      packageurl.NewPackageURL(packageurl.TypeNuget, "", name, version, nil, "").ToString(),
		Locations: []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}},
		Declared:  declared,
		FoundBy:   extractorName,
		Metadata:  md,
	}
}
