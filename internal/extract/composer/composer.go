// Package composer finds PHP packages installed by Composer
// (vendor/composer/installed.json) and declared in composer.lock.
package composer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// maxFileSize caps installed.json and composer.lock.
const maxFileSize = 50 << 20

// Extractor reads Composer's installed.json and composer.lock.
type Extractor struct{}

// New returns a Composer extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return "lang/composer" }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return 1 }

type kind int

const (
	kindNone kind = iota
	kindInstalled
	kindLock
)

func classify(p string) kind {
	switch path.Base(p) {
	case "installed.json":
		dir := path.Dir(p)
		if path.Base(dir) == "composer" && path.Base(path.Dir(dir)) == "vendor" {
			return kindInstalled
		}
	case "composer.lock":
		// A lockfile inside vendor/ is a dependency's development lockfile,
		// not what the application installed.
		if !slices.Contains(strings.Split(path.Dir(p), "/"), "vendor") {
			return kindLock
		}
	}
	return kindNone
}

// Wants implements extract.Extractor.
func (*Extractor) Wants(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size >= 0 && size <= maxFileSize && classify(p) != kindNone
}

// composerPackage is one package entry; installed.json and composer.lock
// share the shape.
type composerPackage struct {
	Name              string          `json:"name"`
	Version           string          `json:"version"`
	VersionNormalized string          `json:"version_normalized"`
	License           json.RawMessage `json:"license"`
}

// installedV2 is installed.json as Composer 2 writes it; Composer 1 wrote
// the package array alone.
type installedV2 struct {
	Packages        []composerPackage `json:"packages"`
	DevPackageNames []string          `json:"dev-package-names"`
}

type lockFile struct {
	Packages    []composerPackage `json:"packages"`
	PackagesDev []composerPackage `json:"packages-dev"`
}

// Extract implements extract.Extractor.
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return inventory.Inventory{}, err
	}
	k := classify(in.Path)
	what := "composer.lock"
	switch k {
	case kindNone:
		return inventory.Inventory{}, fmt.Errorf("composer file %q: %w", in.Path, extract.ErrNotApplicable)
	case kindInstalled:
		what = "installed.json"
	}
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read; the
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading %s %q: %w", what, in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	data, err := extract.ReadAll(in.File, maxFileSize)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading %s %q: %w", what, in.Path, err)
	}
	var (
		pkgs []inventory.Package
		perr error
	)
	if k == kindInstalled {
		pkgs, perr = e.parseInstalled(data, in)
	} else {
		pkgs, perr = e.parseLock(data, in)
	}
	inv := inventory.Inventory{Packages: pkgs}
	inv.Sort()
	var cut error
	inv.Packages, cut = extract.LimitPackages(in, inv.Packages)
	if perr = errors.Join(perr, cut); perr != nil {
		return inv, fmt.Errorf("parsing %s %q: %w", what, in.Path, perr)
	}
	return inv, nil
}

// parseInstalled reads vendor/composer/installed.json, either format.
func (e *Extractor) parseInstalled(data []byte, in *extract.Input) ([]inventory.Package, error) {
	var inst installedV2
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	var jerr error
	if len(trimmed) > 0 && trimmed[0] == '[' {
		jerr = json.Unmarshal(trimmed, &inst.Packages)
	} else {
		jerr = json.Unmarshal(trimmed, &inst)
	}
	if jerr != nil && !jsonPartial(jerr) {
		return nil, jerr
	}
	dev := map[string]bool{}
	for _, n := range inst.DevPackageNames {
		dev[n] = true
	}
	c := collector{e: e, in: in, declared: false}
	for _, p := range inst.Packages {
		c.add(p, dev[p.Name])
	}
	return c.pkgs, errors.Join(jerr, c.err())
}

// parseLock reads composer.lock: "packages" and "packages-dev".
func (e *Extractor) parseLock(data []byte, in *extract.Input) ([]inventory.Package, error) {
	var lock lockFile
	jerr := json.Unmarshal(bytes.TrimLeft(data, "\ufeff"), &lock)
	if jerr != nil && !jsonPartial(jerr) {
		return nil, jerr
	}
	c := collector{e: e, in: in, declared: true}
	for _, p := range lock.Packages {
		c.add(p, false)
	}
	for _, p := range lock.PackagesDev {
		c.add(p, true)
	}
	return c.pkgs, errors.Join(jerr, c.err())
}

// collector turns entries into packages and counts the unusable ones.
type collector struct {
	e        *Extractor
	in       *extract.Input
	declared bool
	pkgs     []inventory.Package
	missing  int
}

func (c *collector) add(cp composerPackage, dev bool) {
	if cp.Name == "" || cp.Version == "" {
		c.missing++
		return
	}
	vendor, name, ok := strings.Cut(cp.Name, "/")
	if !ok {
		vendor, name = "", cp.Name
	}
	p := inventory.Package{
		Name:      cp.Name,
		Version:   cp.Version,
		Ecosystem: inventory.EcoPackagist,
		PURL:      packageurl.NewPackageURL(packageurl.TypeComposer, vendor, name, cp.Version, nil, "").ToString(),
		Licenses:  parseLicenses(cp.License),
		Locations: []inventory.Location{{Path: c.in.Path, LayerDiffID: c.in.Layer.DiffID}},
		Declared:  c.declared,
		FoundBy:   c.e.Name(),
	}
	meta := map[string]string{}
	if cp.VersionNormalized != "" {
		meta["normalized"] = cp.VersionNormalized
	}
	if dev {
		meta["dev"] = "true"
	}
	if len(meta) > 0 {
		p.Metadata = meta
	}
	c.pkgs = append(c.pkgs, p)
}

func (c *collector) err() error {
	switch c.missing {
	case 0:
		return nil
	case 1:
		return errors.New("1 package without a name or version skipped")
	}
	return fmt.Errorf("%d packages without a name or version skipped", c.missing)
}

// parseLicenses reads "license": an array of SPDX identifiers as Composer
// writes it, or a lone string as some older packages declare it.
func parseLicenses(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return nil
		}
		list = []string{one}
	}
	var out []string
	for _, l := range list {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// jsonPartial reports whether a json.Unmarshal error left usable partial
// results: a type mismatch in one field, with the rest decoded.
func jsonPartial(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}
