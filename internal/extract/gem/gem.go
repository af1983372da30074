// Package gem finds Ruby gems: installed ones from the gemspecs RubyGems
// writes under "specifications/" in every gem home (including Debian's
// /usr/share/rubygems-integration/all/specifications/), and declared ones from
// Bundler's Gemfile.lock.
//
// An installed gemspec is Ruby code, but RubyGems generates it with
// Gem::Specification#to_ruby, so its shape is regular: it is read with regular
// expressions and never executed.
package gem

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const (
	// maxGemspecSize caps gemspec files.
	maxGemspecSize = 10 << 20
	// maxLockfileSize caps Gemfile.lock files.
	maxLockfileSize = 50 << 20
)

// Extractor reads gemspecs and Gemfile.lock.
type Extractor struct{}

// New returns a Ruby gem extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return "lang/gem" }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return 1 }

type kind int

const (
	kindNone kind = iota
	kindGemspec
	kindDefaultGemspec // specifications/default/: a gem bundled with Ruby
	kindLockfile
)

func classify(p string) kind {
	base := path.Base(p)
	dir := path.Dir(p)
	switch {
	case strings.HasSuffix(base, ".gemspec") && len(base) > len(".gemspec"):
		switch {
		case path.Base(dir) == "specifications":
			return kindGemspec
		case path.Base(dir) == "default" && path.Base(path.Dir(dir)) == "specifications":
			return kindDefaultGemspec
		}
	case base == "Gemfile.lock" || base == "gems.locked":
		if insideGem(p) {
			return kindNone
		}
		return kindLockfile
	}
	return kindNone
}

// insideGem reports whether a lockfile lies within an installed gem's
// directory (".../gems/<name>-<version>/…"): there it is the gem author's
// development lockfile, not something the image runs.
func insideGem(p string) bool {
	parts := strings.Split(p, "/")
	// parts[len-1] is the file; a "gems" component with at least one
	// directory between it and the file means the file is inside a gem.
	for i := 0; i < len(parts)-2; i++ {
		if parts[i] == "gems" {
			return true
		}
	}
	return false
}

// Wants implements extract.Extractor.
func (*Extractor) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size < 0 {
		return false
	}
	switch classify(p) {
	case kindGemspec, kindDefaultGemspec:
		return size <= maxGemspecSize
	case kindLockfile:
		return size <= maxLockfileSize
	}
	return false
}

// Extract implements extract.Extractor.
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return inventory.Inventory{}, err
	}
	k := classify(in.Path)
	switch k {
	case kindNone:
		return inventory.Inventory{}, fmt.Errorf("gem file %q: %w", in.Path, extract.ErrNotApplicable)
	}
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read; the
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading gem file %q: %w", in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	switch k {
	case kindLockfile:
		data, err := extract.ReadAll(in.File, maxLockfileSize)
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading Gemfile.lock %q: %w", in.Path, err)
		}
		pkgs, perr := e.parseLockfile(data, in)
		inv := inventory.Inventory{Packages: pkgs}
		inv.Sort()
		var cut error
		inv.Packages, cut = extract.LimitPackages(in, inv.Packages)
		if perr = errors.Join(perr, cut); perr != nil {
			return inv, fmt.Errorf("parsing Gemfile.lock %q: %w", in.Path, perr)
		}
		return inv, nil
	}
	data, err := extract.ReadAll(in.File, maxGemspecSize)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading gemspec %q: %w", in.Path, err)
	}
	pkg, err := e.parseGemspec(data, in, k == kindDefaultGemspec)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("parsing gemspec %q: %w", in.Path, err)
	}
	pkgs, cut := extract.LimitPackages(in, []inventory.Package{pkg})
	if cut != nil {
		return inventory.Inventory{Packages: pkgs}, fmt.Errorf("parsing gemspec %q: %w", in.Path, cut)
	}
	return inventory.Inventory{Packages: pkgs}, nil
}

// newPackage builds a package with the fields every gem carries.
func (e *Extractor) newPackage(in *extract.Input, name, version string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoRubyGems,
		PURL:      packageurl.NewPackageURL(packageurl.TypeGem, "", name, version, nil, "").ToString(),
		Locations: []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}},
		FoundBy:   e.Name(),
	}
}
