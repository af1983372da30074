// Package npm finds JavaScript packages: installed ones from each package's
// package.json under node_modules (and the application's own package.json),
// and declared ones from npm, Yarn and pnpm lockfiles.
package npm

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
	// maxManifestSize caps package.json files.
	maxManifestSize = 10 << 20
	// maxLockfileSize caps lockfiles.
	maxLockfileSize = 50 << 20
)

// Extractor reads package.json files and npm/Yarn/pnpm lockfiles.
type Extractor struct{}

// New returns an npm extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return "lang/npm" }

// Version implements extract.Extractor. 2: lockfile entries without a valid
// package name (a v1 "dependencies" key "") are skipped and reported, no
// longer listed as a nameless package. 3: package-lock.json is read entry by
// entry and cut after maxLockEntries entries with an error; lockfiles over
// maxLockfileSize are refused with an error instead of not being wanted.
// 5: yarn.lock and pnpm-lock.yaml are read line by line, one entry at a
// time, and cut after maxLockEntries entries with an error.
func (*Extractor) Version() int { return 5 }

type kind int

const (
	kindNone kind = iota
	kindManifest
	kindPackageLock
	kindYarnLock
	kindPnpmLock
)

func classify(p string) kind {
	base := path.Base(p)
	switch base {
	case "package.json":
		if isManifest(p) {
			return kindManifest
		}
		return kindNone
	case "package-lock.json", "npm-shrinkwrap.json":
		if inNodeModules(p) {
			return kindNone
		}
		return kindPackageLock
	case "yarn.lock":
		if inNodeModules(p) {
			return kindNone
		}
		return kindYarnLock
	case "pnpm-lock.yaml":
		if inNodeModules(p) {
			return kindNone
		}
		return kindPnpmLock
	}
	return kindNone
}

// inNodeModules reports whether a node_modules directory is among p's
// ancestors.
func inNodeModules(p string) bool {
	return lastNodeModules(strings.Split(p, "/")) >= 0
}

// lastNodeModules returns the index of the last "node_modules" directory
// among the path's components (the final component, the file, excluded), or -1.
func lastNodeModules(parts []string) int {
	for i := len(parts) - 2; i >= 0; i-- {
		if parts[i] == "node_modules" {
			return i
		}
	}
	return -1
}

// isManifest reports whether a package.json path is a package root: either
// not under node_modules at all (an application), or exactly
// node_modules/<name>/package.json or node_modules/@scope/<name>/package.json.
// Files deeper inside a package (node_modules/glob/dist/esm/package.json) are
// not package roots.
func isManifest(p string) bool {
	parts := strings.Split(p, "/")
	i := lastNodeModules(parts)
	if i < 0 {
		return true
	}
	rest := parts[i+1:]
	switch len(rest) {
	case 2:
		return rest[0] != "" && rest[0][0] != '@' && rest[0][0] != '.'
	case 3:
		return len(rest[0]) > 1 && rest[0][0] == '@' && rest[1] != "" && rest[1][0] != '.'
	}
	return false
}

// Wants implements extract.Extractor.
func (*Extractor) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size < 0 {
		return false
	}
	switch classify(p) {
	case kindManifest, kindPackageLock, kindYarnLock, kindPnpmLock:
		// Whatever the size: Extract refuses one over its limit with an
		// error (a warning note), never silently.
		return true
	}
	return false
}

// Extract implements extract.Extractor.
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return inventory.Inventory{}, err
	}
	k := classify(in.Path)
	limit := int64(maxLockfileSize)
	what := "lockfile"
	switch k {
	case kindNone:
		return inventory.Inventory{}, fmt.Errorf("npm file %q: %w", in.Path, extract.ErrNotApplicable)
	case kindManifest:
		limit, what = maxManifestSize, "package.json"
	}
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read. The
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading %s %q: %w", what, in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	var (
		data []byte
		err  error
	)
	if k != kindManifest {
		// Streamed (see readPackageLock, lockLines): only its size is
		// checked here.
		if in.File.Size() > limit {
			err = fmt.Errorf("%w: file is %d bytes, over the %d byte limit", extract.ErrTooLarge, in.File.Size(), limit)
		}
	} else {
		data, err = extract.ReadAll(in.File, limit)
	}
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading %s %q: %w", what, in.Path, err)
	}
	var (
		pkgs      []inventory.Package
		perr, cut error
	)
	switch k {
	case kindManifest:
		pkgs, perr = e.parseManifest(data, in)
	case kindPackageLock:
		pkgs, perr = e.parsePackageLock(in.File.Open, in)
	case kindYarnLock:
		pkgs, perr = e.parseYarnLock(ctx, in.File.Open, in)
	case kindPnpmLock:
		pkgs, perr = e.parsePnpmLock(ctx, in.File.Open, in)
	}
	inv := inventory.Inventory{Packages: pkgs}
	inv.Sort()
	// The first packages in canonical order are kept.
	inv.Packages, cut = extract.LimitPackages(in, inv.Packages)
	perr = errors.Join(perr, cut)
	if perr != nil {
		return inv, fmt.Errorf("parsing %s %q: %w", what, in.Path, perr)
	}
	return inv, nil
}

// newPackage builds a package with the fields every npm package carries.
func (e *Extractor) newPackage(in *extract.Input, name, version string, licenses []string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoNPM,
		PURL:      purl(name, version),
		Licenses:  licenses,
		Locations: []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}},
		FoundBy:   e.Name(),
	}
}

// purl returns pkg:npm/[%40scope/]name@version.
func purl(name, version string) string {
	ns := ""
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 0 {
			ns, name = name[:i], name[i+1:]
		}
	}
	return packageurl.NewPackageURL(packageurl.TypeNPM, ns, name, version, nil, "").ToString()
}

// validName reports whether name can name an npm package: it is not empty,
// and a scoped name ("@scope/name") has a scope and a name. An empty name
// would become "pkg:npm/@0": no package is reported without a name.
func validName(name string) bool {
	if name == "" {
		return false
	}
	if name[0] != '@' {
		return true
	}
	scope, rest, ok := strings.Cut(name[1:], "/")
	return ok && scope != "" && rest != "" && !strings.Contains(rest, "/")
}

// declared collects lockfile packages, merging duplicates of the same
// name@version (a lockfile lists one per install location or peer set): a
// package is dev only if every occurrence is. Entries without a valid name
// are left out and counted.
type declared struct {
	e        *Extractor
	in       *extract.Input
	index    map[string]int
	pkgs     []inventory.Package
	badNames []string
}

func newDeclared(e *Extractor, in *extract.Input) *declared {
	return &declared{e: e, in: in, index: map[string]int{}}
}

// add records one lockfile entry. dev and optional are the entry's flags.
func (d *declared) add(name, version string, licenses []string, dev, optional bool) {
	if !validName(name) {
		d.badNames = append(d.badNames, name)
		return
	}
	key := name + "@" + version
	if i, ok := d.index[key]; ok {
		p := &d.pkgs[i]
		if !dev {
			delete(p.Metadata, "dev")
		}
		if !optional {
			delete(p.Metadata, "optional")
		}
		if len(p.Metadata) == 0 {
			p.Metadata = nil
		}
		if len(p.Licenses) == 0 {
			p.Licenses = licenses
		}
		return
	}
	p := d.e.newPackage(d.in, name, version, licenses)
	p.Declared = true
	if dev || optional {
		p.Metadata = map[string]string{}
		if dev {
			p.Metadata["dev"] = "true"
		}
		if optional {
			p.Metadata["optional"] = "true"
		}
	}
	d.index[key] = len(d.pkgs)
	d.pkgs = append(d.pkgs, p)
}

// nameError describes the entries add left out for want of a valid name.
func (d *declared) nameError() error {
	switch len(d.badNames) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("1 entry without a valid package name (%q) skipped", truncate(d.badNames[0]))
	}
	return fmt.Errorf("%d entries without a valid package name (first %q) skipped", len(d.badNames), truncate(d.badNames[0]))
}

// splitNameVersion splits "name@version" or "@scope/name@version" at the
// first "@" that is not the scope's.
func splitNameVersion(s string) (name, version string, ok bool) {
	if len(s) < 2 {
		return s, "", false
	}
	i := strings.IndexByte(s[1:], '@')
	if i < 0 {
		return s, "", false
	}
	i++
	return s[:i], s[i+1:], s[:i] != ""
}
