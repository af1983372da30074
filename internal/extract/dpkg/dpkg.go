// Package dpkg reads the Debian package database: /var/lib/dpkg/status, the
// per-package files of distroless images in /var/lib/dpkg/status.d/, and the
// file lists in /var/lib/dpkg/info/*.list.
//
// The status files are deb822 control data (deb822(5)): stanzas separated by
// blank lines, "Field: value" lines, continuation lines starting with a
// space or tab.
package dpkg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/purl"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// Name is the extractor's name.
const Name = "os/dpkg"

// maxLine bounds one line; real lines (long Depends:) are a few KiB.
const maxLine = 1 << 20

const (
	statusPath = "/var/lib/dpkg/status"
	statusDir  = "/var/lib/dpkg/status.d/"
	infoDir    = "/var/lib/dpkg/info/"
)

// Extractor reads dpkg databases.
type Extractor struct{}

// New returns the dpkg extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return Name }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return 1 }

// Wants implements extract.Extractor: /var/lib/dpkg/status, every file
// directly in /var/lib/dpkg/status.d/ except *.md5sums (distroless), and
// /var/lib/dpkg/info/*.list.
func (*Extractor) Wants(p string, mode fs.FileMode, _ int64) bool {
	if !mode.IsRegular() {
		return false
	}
	switch {
	case p == statusPath:
		return true
	case strings.HasPrefix(p, statusDir):
		base := p[len(statusDir):]
		return base != "" && !strings.Contains(base, "/") && !strings.HasSuffix(base, ".md5sums")
	case strings.HasPrefix(p, infoDir):
		base := p[len(infoDir):]
		return len(base) > len(".list") && !strings.Contains(base, "/") && strings.HasSuffix(base, ".list")
	}
	return false
}

// Extract implements extract.Extractor.
//
// For a status file it returns the installed packages. For an info/*.list
// file it returns one pseudo-package: Ecosystem dpkg, Name from the file name
// ("libc6:amd64.list" → "libc6", Arch "amd64"), Version "", Files = the
// listed paths and Metadata {"kind": "filelist"}; inventory.Merge folds it
// into the real package of that name and drops it.
//
// Malformed stanzas are skipped; the rest is returned together with an error
// naming the file and the lines.
func (*Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	rc, err := in.File.Open()
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("opening %q: %w", in.Path, err)
	}
	defer rc.Close()

	var pkgs []inventory.Package
	if strings.HasPrefix(in.Path, infoDir) {
		var p inventory.Package
		p, err = parseFileList(ctx, in.Path, rc)
		pkgs = []inventory.Package{p}
	} else {
		pkgs, err = ParseStatus(ctx, rc)
	}
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

// field is one field of a stanza.
type field struct {
	value string // first line, trimmed; continuation lines joined with "\n"
	line  int
}

// stanza is one paragraph of a control file.
type stanza struct {
	line   int
	fields map[string]*field // lower-case name → value
	last   *field
	errs   []error
}

func (s *stanza) get(name string) string {
	if f := s.fields[name]; f != nil {
		return f.value
	}
	return ""
}

// ParseStatus reads a dpkg status file (or a status.d file) and returns the
// installed packages in file order, without Locations, ID or FoundBy. Stanzas
// that are not installed are left out silently; malformed ones are left out
// and reported in the error.
func ParseStatus(ctx context.Context, r io.Reader) ([]inventory.Package, error) {
	var (
		pkgs []inventory.Package
		errs []error
		cur  *stanza
	)
	flush := func() {
		if cur == nil {
			return
		}
		p, ok, err := toPackage(cur)
		errs = append(errs, cur.errs...)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			pkgs = append(pkgs, p)
		}
		cur = nil
	}

	sr := extract.NewStanzaReader(ctx, r, maxLine)
	sr.Separator = isBlank
	for sr.Next() {
		for _, l := range sr.Stanza() {
			line, lineNo := l.Text, l.N
			switch {
			case line[0] == '#':
				// deb822 comment; dpkg does not write them but tolerates them.
			case line[0] == ' ' || line[0] == '\t':
				if cur == nil || cur.last == nil {
					errs = append(errs, fmt.Errorf("line %d: continuation line outside a field", lineNo))
					break
				}
				cur.last.value += "\n" + strings.TrimSpace(line)
			default:
				if cur == nil {
					cur = &stanza{line: lineNo, fields: map[string]*field{}}
				}
				name, value, ok := strings.Cut(line, ":")
				name = strings.TrimSpace(name)
				if !ok || name == "" || strings.ContainsAny(name, " \t") {
					cur.errs = append(cur.errs, fmt.Errorf("line %d: not a \"Field: value\" line: %q", lineNo, truncate(line)))
					cur.last = nil
					break
				}
				key := strings.ToLower(name)
				if prev := cur.fields[key]; prev != nil {
					// dpkg refuses duplicate fields; keep the first value.
					cur.errs = append(cur.errs, fmt.Errorf("line %d: duplicate field %q (first on line %d)", lineNo, name, prev.line))
					cur.last = &field{} // swallow its continuation lines
					break
				}
				f := &field{value: strings.TrimSpace(value), line: lineNo}
				cur.fields[key] = f
				cur.last = f
			}
		}
		flush()
	}
	if err := sr.Err(); err != nil {
		errs = append(errs, err)
	}
	return pkgs, errors.Join(errs...)
}

// isBlank reports whether a line separates stanzas: deb822 counts a line of
// white space as empty.
func isBlank(line string) bool { return strings.TrimSpace(line) == "" }

// installedStates are the dpkg package states in which the package's files
// are on disk and configured (dpkg-query(1) "Status" third word).
// triggers-awaited/-pending are installed packages with pending triggers.
var installedStates = map[string]bool{"installed": true, "triggers-awaited": true, "triggers-pending": true}

// toPackage converts a stanza. ok is false for stanzas that are not
// installed packages; err is set for malformed ones.
func toPackage(s *stanza) (p inventory.Package, ok bool, err error) {
	name := s.get("package")
	if name == "" {
		return p, false, fmt.Errorf("line %d: stanza without Package field", s.line)
	}
	// status.d files (distroless) have no Status field: everything there is
	// installed.
	if st := s.fields["status"]; st != nil {
		words := strings.Fields(st.value)
		if len(words) != 3 {
			return p, false, fmt.Errorf("line %d: package %q: malformed Status %q", st.line, name, truncate(st.value))
		}
		if !installedStates[words[2]] {
			return p, false, nil
		}
	}
	version := s.get("version")
	if version == "" || strings.ContainsAny(version, " \t\n") {
		return p, false, fmt.Errorf("line %d: package %q: missing or malformed Version %q", s.line, name, truncate(version))
	}
	p = inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoDpkg,
		Arch:      s.get("architecture"),
	}
	// Source is "name" or "name (version)" when the source version differs
	// (binNMUs, e.g. bash 5.2.15-2+b13 from source bash 5.2.15-2).
	// SourceName/SourceVersion are always filled, falling back to the binary
	// name and version, so that matching against Debian's advisories (keyed
	// by source package) needs no fallback logic.
	p.SourceName, p.SourceVersion = name, version
	if src := s.get("source"); src != "" {
		sname, sver, hasVer := strings.Cut(src, "(")
		p.SourceName = strings.TrimSpace(sname)
		if hasVer {
			sver = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sver), ")"))
			if sver != "" {
				p.SourceVersion = sver
			}
		}
		if p.SourceName == "" || strings.ContainsAny(p.SourceName, " \t\n") {
			return inventory.Package{}, false, fmt.Errorf("line %d: package %q: malformed Source %q", s.fields["source"].line, name, truncate(src))
		}
	}
	md := map[string]string{}
	if v := s.get("maintainer"); v != "" {
		md["maintainer"] = v
	}
	if v := s.get("multi-arch"); v != "" {
		md["multi_arch"] = v
	}
	if len(md) > 0 {
		p.Metadata = md
	}
	// Namespace "debian"; inventory.Merge switches it to the distro ID
	// (e.g. "ubuntu") and adds the distro qualifier.
	p.PURL = purl.Build(purl.TypeDebian, "debian", p.Name, p.Version, purl.Qualifier{Key: "arch", Value: p.Arch})
	return p, true, nil
}

// parseFileList reads an info/<pkg>[:arch].list file.
func parseFileList(ctx context.Context, file string, r io.Reader) (inventory.Package, error) {
	base := strings.TrimSuffix(path.Base(file), ".list")
	name, arch, _ := strings.Cut(base, ":")
	p := inventory.Package{
		Name:      name,
		Ecosystem: inventory.EcoDpkg,
		Arch:      arch,
		Metadata:  map[string]string{"kind": "filelist"},
	}
	var errs []error
	lr := extract.NewLineReader(ctx, r, maxLine)
	for lr.Next() {
		l := lr.Line()
		switch {
		case l.Text == "" || l.Text == "/.":
		case l.Text[0] != '/':
			errs = append(errs, fmt.Errorf("line %d: not an absolute path: %q", l.N, truncate(l.Text)))
		default:
			p.Files = append(p.Files, path.Clean(l.Text))
		}
	}
	if err := lr.Err(); err != nil {
		errs = append(errs, err)
	}
	slices.Sort(p.Files)
	p.Files = slices.Compact(p.Files)
	return p, errors.Join(errs...)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
