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
//
//	2: status files are read line by line with limits (packages, fields,
//	   values, file-list paths) and at most 20 errors listed per file.
//	3: the licences of machine-readable copyright files
//	   (/usr/share/doc/<package>/copyright).
func (*Extractor) Version() int { return 3 }

// Wants implements extract.Extractor: /var/lib/dpkg/status, every file
// directly in /var/lib/dpkg/status.d/ except *.md5sums (distroless),
// /var/lib/dpkg/info/*.list and /usr/share/doc/<package>/copyright (up to
// maxCopyright bytes).
func (*Extractor) Wants(p string, mode fs.FileMode, size int64) bool {
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
	return wantsCopyright(p, size)
}

// Extract implements extract.Extractor.
//
// For a status file it returns the installed packages. For an info/*.list
// file it returns one pseudo-package: Ecosystem dpkg, Name from the file name
// ("libc6:amd64.list" → "libc6", Arch "amd64"), Version "", Files = the
// listed paths and Metadata {"kind": "filelist"}; inventory.Merge folds it
// into the real package of that name and drops it. A machine-readable
// copyright file gives one pseudo-package too (see parseCopyright).
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
	if strings.HasPrefix(in.Path, docDir) {
		pkgs, err = parseCopyright(ctx, in.Path, rc)
	} else if strings.HasPrefix(in.Path, infoDir) {
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

// Limits on one status file. Real ones: a few thousand packages (a full
// desktop 3,000, Kali's "everything" about 7,000), stanzas of 10–30 fields,
// kept fields (Version, Source, Maintainer…) of one line.
const (
	// maxPackages bounds the packages read from one status file; past it
	// the rest of the file is not read, and the error says so. Each package
	// costs the whole scan about 7 KB at its peak (the layer cache entry and
	// the report are encoded in memory), so 10,000 keep a scan under
	// 150 MB.
	maxPackages = 10_000
	// maxFields bounds the fields of one stanza; a stanza with more is
	// malformed.
	maxFields = 1000
	// maxValue bounds a kept field's value with its continuation lines.
	maxValue = 64 << 10
	// maxListFiles bounds the paths read from one info/*.list file (the
	// largest Debian packages list some ten thousand).
	maxListFiles = 100_000
)

// The fields toPackage reads, as indexes of stanza.fields. The values of
// the others (Description, Depends, Conffiles…) are never held: their lines
// are checked for form and dropped as they are read.
const (
	fPackage = iota
	fStatus
	fVersion
	fArchitecture
	fSource
	fMaintainer
	fMultiArch
	nKept
)

// keptField returns the index of a kept field by its lower-case name.
func keptField(name string) (int, bool) {
	switch name {
	case "package":
		return fPackage, true
	case "status":
		return fStatus, true
	case "version":
		return fVersion, true
	case "architecture":
		return fArchitecture, true
	case "source":
		return fSource, true
	case "maintainer":
		return fMaintainer, true
	case "multi-arch":
		return fMultiArch, true
	}
	return 0, false
}

// field is one kept field of a stanza.
type field struct {
	set   bool
	value strings.Builder // first line, trimmed; continuation lines joined with "\n"
	line  int
	long  bool // over maxValue: reported once, the rest dropped
}

// stanza is one paragraph of a control file, read line by line. One is
// reused for every stanza of a file.
type stanza struct {
	open   bool // a field line was read since the last blank line
	line   int
	fields [nKept]field
	seen   map[string]int // lower-case name → line of its first occurrence
	last   *field         // kept field continuation lines go to
	inAny  bool           // continuation lines are allowed (after any field line)
	bad    bool           // malformed beyond a package: no package is made
}

// reset starts a stanza at line n.
func (s *stanza) reset(n int) {
	for i := range s.fields {
		s.fields[i] = field{}
	}
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	clear(s.seen)
	s.open, s.line, s.last, s.inAny, s.bad = true, n, nil, false, false
}

func (s *stanza) get(i int) string {
	if f := &s.fields[i]; f.set {
		return f.value.String()
	}
	return ""
}

// ParseStatus reads a dpkg status file (or a status.d file) and returns the
// installed packages in file order, without Locations, ID or FoundBy. Stanzas
// that are not installed are left out silently; malformed ones are left out
// and reported in the error.
//
// It reads line by line and keeps only the fields it uses, so time and
// memory are linear in the file and bounded by the packages it returns,
// whatever the length of a Description; it stops after maxPackages
// packages.
func ParseStatus(ctx context.Context, r io.Reader) ([]inventory.Package, error) {
	var (
		pkgs []inventory.Package
		errs extract.Errors
		cur  stanza
	)
	flush := func() {
		if !cur.open {
			return
		}
		if !cur.bad {
			p, ok, err := toPackage(&cur)
			errs.Add(err)
			if ok {
				pkgs = append(pkgs, p)
			}
		}
		cur.open = false
	}

	lr := extract.NewLineReader(ctx, r, maxLine)
	var stop error
	for lr.Next() {
		l := lr.Line()
		line, lineNo := l.Text, l.N
		if isBlank(line) {
			flush()
			if len(pkgs) >= maxPackages {
				stop = fmt.Errorf("line %d: stopped after %d packages, the limit for one file: the rest is not read", lineNo, maxPackages)
				break
			}
			continue
		}
		switch {
		case line[0] == '#':
			// deb822 comment; dpkg does not write them but tolerates them.
		case line[0] == ' ' || line[0] == '\t':
			if !cur.open || !cur.inAny {
				errs.Add(fmt.Errorf("line %d: continuation line outside a field", lineNo))
				break
			}
			if f := cur.last; f != nil && !f.long {
				v := strings.TrimSpace(line)
				if f.value.Len()+1+len(v) > maxValue {
					f.long = true
					cur.bad = true
					errs.Add(fmt.Errorf("line %d: field value longer than %d bytes (field on line %d)", lineNo, maxValue, f.line))
					break
				}
				f.value.WriteByte('\n')
				f.value.WriteString(v)
			}
		default:
			if !cur.open {
				cur.reset(lineNo)
			}
			cur.last, cur.inAny = nil, false
			name, value, ok := strings.Cut(line, ":")
			name = strings.TrimSpace(name)
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				errs.Add(fmt.Errorf("line %d: not a \"Field: value\" line: %q", lineNo, truncate(line)))
				break
			}
			cur.inAny = true // a continuation of this field is no error, kept or not
			key := strings.ToLower(name)
			if first, dup := cur.seen[key]; dup {
				// dpkg refuses duplicate fields; keep the first value.
				errs.Add(fmt.Errorf("line %d: duplicate field %q (first on line %d)", lineNo, name, first))
				break
			}
			if len(cur.seen) == maxFields {
				if !cur.bad {
					errs.Add(fmt.Errorf("line %d: more than %d fields in the stanza of line %d", lineNo, maxFields, cur.line))
				}
				cur.bad = true
				break
			}
			cur.seen[key] = lineNo
			i, isKept := keptField(key)
			if !isKept {
				break
			}
			f := &cur.fields[i]
			f.set, f.line = true, lineNo
			v := strings.TrimSpace(value)
			if len(v) > maxValue {
				f.long, cur.bad = true, true
				errs.Add(fmt.Errorf("line %d: field value longer than %d bytes", lineNo, maxValue))
			} else {
				f.value.WriteString(v)
			}
			cur.last = f
		}
	}
	if stop == nil {
		flush()
		stop = lr.Err()
	}
	return pkgs, errs.Join(stop)
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
	name := s.get(fPackage)
	if name == "" {
		return p, false, fmt.Errorf("line %d: stanza without Package field", s.line)
	}
	// status.d files (distroless) have no Status field: everything there is
	// installed.
	if st := &s.fields[fStatus]; st.set {
		words := strings.Fields(st.value.String())
		if len(words) != 3 {
			return p, false, fmt.Errorf("line %d: package %q: malformed Status %q", st.line, name, truncate(st.value.String()))
		}
		if !installedStates[words[2]] {
			return p, false, nil
		}
	}
	version := s.get(fVersion)
	if version == "" || strings.ContainsAny(version, " \t\n") {
		return p, false, fmt.Errorf("line %d: package %q: missing or malformed Version %q", s.line, name, truncate(version))
	}
	p = inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoDpkg,
		Arch:      s.get(fArchitecture),
	}
	// Source is "name" or "name (version)" when the source version differs
	// (binNMUs, e.g. bash 5.2.15-2+b13 from source bash 5.2.15-2).
	// SourceName/SourceVersion are always filled, falling back to the binary
	// name and version, so that matching against Debian's advisories (keyed
	// by source package) needs no fallback logic.
	p.SourceName, p.SourceVersion = name, version
	if src := s.get(fSource); src != "" {
		sname, sver, hasVer := strings.Cut(src, "(")
		p.SourceName = strings.TrimSpace(sname)
		if hasVer {
			sver = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sver), ")"))
			if sver != "" {
				p.SourceVersion = sver
			}
		}
		if p.SourceName == "" || strings.ContainsAny(p.SourceName, " \t\n") {
			return inventory.Package{}, false, fmt.Errorf("line %d: package %q: malformed Source %q", s.fields[fSource].line, name, truncate(src))
		}
	}
	md := map[string]string{}
	if v := s.get(fMaintainer); v != "" {
		md["maintainer"] = v
	}
	if v := s.get(fMultiArch); v != "" {
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
	var errs extract.Errors
	var stop error
	lr := extract.NewLineReader(ctx, r, maxLine)
	for lr.Next() {
		l := lr.Line()
		switch {
		case l.Text == "" || l.Text == "/.":
		case l.Text[0] != '/':
			errs.Add(fmt.Errorf("line %d: not an absolute path: %q", l.N, truncate(l.Text)))
		case len(p.Files) == maxListFiles:
			stop = fmt.Errorf("line %d: stopped after %d paths, the limit for one file list: the rest is not read", l.N, maxListFiles)
		default:
			p.Files = append(p.Files, path.Clean(l.Text))
		}
		if stop != nil {
			break
		}
	}
	if stop == nil {
		stop = lr.Err()
	}
	slices.Sort(p.Files)
	p.Files = slices.Compact(p.Files)
	return p, errs.Join(stop)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
