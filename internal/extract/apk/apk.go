// Package apk reads the Alpine package database (/lib/apk/db/installed), the
// format used by Alpine, Wolfi and Chainguard images.
//
// The database is a list of records separated by blank lines; each line is
// "X:value" with a one-letter key (see apk-tools' database.c and the
// "Installed database V2" section of the Alpine wiki). The fields read are
// P (name), V (version), A (arch), L (licence), o (origin), m (maintainer),
// and the file list: F (directory) followed by R (file in that directory).
package apk

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/purl"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// Name is the extractor's name.
const Name = "os/apk"

// maxLine bounds one line of the database; real lines are well under 4 KiB.
const maxLine = 1 << 20

// Extractor reads apk installed databases.
type Extractor struct{}

// New returns the apk extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return Name }

// Version implements extract.Extractor.
//
//	2: the database is read line by line with limits (packages, file
//	   paths) and at most 20 errors listed per file.
func (*Extractor) Version() int { return 2 }

// Wants implements extract.Extractor: /lib/apk/db/installed, and
// /usr/lib/apk/db/installed used by newer apk (usr-merged layouts).
func (*Extractor) Wants(path string, mode fs.FileMode, _ int64) bool {
	return mode.IsRegular() && (path == "/lib/apk/db/installed" || path == "/usr/lib/apk/db/installed")
}

// Extract implements extract.Extractor. Records without a name or a version
// are skipped; the packages that could be read are returned together with an
// error naming the file and the line of each bad record.
func (*Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	rc, err := in.File.Open()
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("opening %q: %w", in.Path, err)
	}
	defer rc.Close()
	pkgs, err := Parse(ctx, rc)
	for i := range pkgs {
		p := &pkgs[i]
		p.Locations = []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}}
		p.FoundBy = Name
		p.ID = purl.PackageID(p)
	}
	inv := inventory.Inventory{Packages: pkgs}
	inv.Sort()
	if err != nil {
		return inv, fmt.Errorf("parsing %q: %w", in.Path, err)
	}
	return inv, nil
}

// record is one package being read.
type record struct {
	line int // line of the record's first field
	pkg  inventory.Package
	dir  string // current F: directory
}

// Limits on one database. Real ones: hundreds of packages, tens of
// thousands of files.
const (
	// maxPackages bounds the packages read from one database (as dpkg's:
	// each package costs the scan about 7 KB at its peak).
	maxPackages = 10_000
	// maxFiles bounds the file paths (R: lines) kept from one database.
	maxFiles = 500_000
)

// Parse reads an installed database. It returns every well-formed package
// (without Locations, ID or FoundBy, which depend on where the file was
// found) and an error listing the malformed records by line. Packages are in
// file order.
//
// It reads line by line, so memory is bounded by what it returns; past
// maxPackages packages or maxFiles file paths it stops, and the error says
// so.
func Parse(ctx context.Context, r io.Reader) ([]inventory.Package, error) {
	var (
		pkgs  []inventory.Package
		errs  extract.Errors
		cur   *record
		files int
		stop  error
	)
	flush := func() {
		if cur == nil {
			return
		}
		p := cur.pkg
		switch {
		case p.Name == "" && p.Version == "":
			errs.Add(fmt.Errorf("line %d: record without P: (name) and V: (version)", cur.line))
		case p.Name == "":
			errs.Add(fmt.Errorf("line %d: record without P: (name), version %q", cur.line, p.Version))
		case p.Version == "":
			errs.Add(fmt.Errorf("line %d: package %q without V: (version)", cur.line, p.Name))
		default:
			finish(&p)
			pkgs = append(pkgs, p)
		}
		cur = nil
	}

	lr := extract.NewLineReader(ctx, r, maxLine)
	for stop == nil && lr.Next() {
		l := lr.Line()
		line := l.Text
		if line == "" {
			flush()
			if len(pkgs) >= maxPackages {
				stop = fmt.Errorf("line %d: stopped after %d packages, the limit for one file: the rest is not read", l.N, maxPackages)
			}
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			errs.Add(fmt.Errorf("line %d: not a \"X:value\" field: %q", l.N, truncate(line)))
			continue
		}
		key, val := line[0], line[2:]
		if key == 'P' && cur != nil && cur.pkg.Name != "" {
			// A second name in one record: the blank line between two
			// records is missing. Keep both packages, but say so.
			errs.Add(fmt.Errorf("line %d: P: %q starts a new record without a blank line", l.N, truncate(val)))
			flush()
		}
		if cur == nil {
			cur = &record{line: l.N}
		}
		if key == 'R' && val != "" {
			if files == maxFiles {
				stop = fmt.Errorf("line %d: stopped after %d file paths, the limit for one file: the rest is not read", l.N, maxFiles)
				break
			}
			files++
		}
		cur.apply(key, val)
	}
	flush() // the record read when reading stopped, as far as it was read
	if stop == nil {
		stop = lr.Err()
	}
	return pkgs, errs.Join(stop)
}

func (r *record) apply(key byte, val string) {
	p := &r.pkg
	switch key {
	case 'P':
		p.Name = val
	case 'V':
		p.Version = val
	case 'A':
		p.Arch = val
	case 'L':
		if val != "" {
			// Kept whole: apk writes an SPDX expression ("MPL-2.0 AND MIT").
			p.Licenses = []string{val}
		}
	case 'o':
		p.SourceName = val
	case 'm':
		if val != "" {
			if p.Metadata == nil {
				p.Metadata = map[string]string{}
			}
			p.Metadata["maintainer"] = val
		}
	case 'F':
		r.dir = strings.Trim(val, "/")
	case 'R':
		if val == "" {
			return
		}
		path := "/" + val
		if r.dir != "" {
			path = "/" + r.dir + "/" + val
		}
		p.Files = append(p.Files, path)
	}
}

// finish fills the derived fields of a complete package.
func finish(p *inventory.Package) {
	p.Ecosystem = inventory.EcoAPK
	// The source package is the origin (the aports directory it was built
	// from); SourceName/SourceVersion are always filled so that matching,
	// which keys Alpine secdb on the origin, need not special-case them.
	if p.SourceName == "" {
		p.SourceName = p.Name
	}
	p.SourceVersion = p.Version
	// distro is not known to a per-file extractor; inventory.Merge adds it.
	p.PURL = purl.Build(purl.TypeApk, "alpine", p.Name, p.Version, purl.Qualifier{Key: "arch", Value: p.Arch})
	slices.Sort(p.Files)
	p.Files = slices.Compact(p.Files)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
