// Package java extracts Maven artifacts from Java archives (jar, war, ear,
// par, jpi, hpi), including archives nested inside them.
//
// Evidence, strongest first, for each archive:
//  1. every META-INF/maven/<groupId>/<artifactId>/pom.properties is a package
//     (a shaded or fat jar reports each embedded artifact);
//  2. only if no pom.properties describes the archive itself: the main
//     section of META-INF/MANIFEST.MF (Implementation-*, Bundle-*,
//     Automatic-Module-Name);
//  3. failing that, the file name ("log4j-core-2.14.1.jar" → artifact
//     log4j-core, version 2.14.1, groupId unknown).
//
// Package names are "groupId:artifactId", or just "artifactId" when the
// groupId is unknown (Metadata "note" says so). Metadata "evidence" is
// "pom.properties", "MANIFEST.MF" or "filename".
//
// Nested archives (WEB-INF/lib/*.jar, BOOT-INF/lib/*.jar, ear modules, …) are
// opened from memory, or from an anonymous temp file when large, never
// extracted under their entry names. Their packages keep the outer file as
// Locations[0].Path (the only path that exists in the image and in a layer)
// and get Metadata "nested_path" = "/app/app.ear!/web.war!/WEB-INF/lib/x.jar".
//
// Hostile archives are bounded: nesting depth, bytes decompressed per entry,
// per outer file and — through the scan's extract.Budget — in the whole scan,
// entries per archive, open at once and in total, the nested archives held
// in memory at once, and the temp space of those that are not. Hitting a
// bound gives an error containing "zip bomb guard" together with the
// packages found so far.
//
// Nested archives stored uncompressed (as Spring Boot requires, and as most
// fat jars do) are read in place, as a section of the outer one: no copy.
package java

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const (
	extractorName = "lang/java"
	// extractorVersion 2: the scan-wide budgets (inflated bytes, temp
	// space), nested archives held in memory and entries open at once
	// bounded along the nesting, stored nested archives read in place, at
	// most 20 errors listed per archive.
	extractorVersion = 2

	// MaxFileSize is the largest archive Wants accepts.
	MaxFileSize = 1 << 30
)

// Limits bound the work done on one outer archive.
type Limits struct {
	// MaxDepth is the deepest nesting opened; the outer archive is depth 0.
	MaxDepth int
	// MaxTotalBytes is the total of bytes decompressed from all entries.
	MaxTotalBytes int64
	// MaxEntryBytes is the largest single entry read.
	MaxEntryBytes int64
	// MaxEntries bounds the entries of one archive (checked before its
	// central directory is loaded) and, times 10, of all archives together.
	MaxEntries int
	// MaxInMemory bounds the bytes of the deflated nested archives inflated
	// into memory and held at once (an archive and the ones it is nested
	// in); one that would go over goes to a temp file, which takes its
	// space from the scan's budget.
	MaxInMemory int64
	// MaxMetaFile is the largest pom.properties or MANIFEST.MF read.
	MaxMetaFile int64
}

// DefaultLimits are the limits New uses.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:      8,
		MaxTotalBytes: 1 << 30,
		MaxEntryBytes: 256 << 20,
		MaxEntries:    100_000,
		MaxInMemory:   32 << 20,
		MaxMetaFile:   1 << 20,
	}
}

// Extractor reads Java archives.
type Extractor struct {
	limits Limits
}

var _ extract.Extractor = (*Extractor)(nil)

// New returns a Java archive extractor with DefaultLimits.
func New() *Extractor { return &Extractor{limits: DefaultLimits()} }

// NewWithLimits returns a Java archive extractor with custom limits.
func NewWithLimits(l Limits) *Extractor { return &Extractor{limits: l} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return extractorName }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return extractorVersion }

// Wants accepts regular files with a Java archive extension up to MaxFileSize.
func (*Extractor) Wants(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size > 0 && size <= MaxFileSize && isArchiveName(p)
}

// isArchiveName reports whether name ends in a Java archive extension.
func isArchiveName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jar", ".war", ".ear", ".par", ".jpi", ".hpi":
		return true
	}
	return false
}

// Extract implements extract.Extractor. Bytes it decompresses come from
// in.Budget too, and nested archives too large for memory take temp space
// from it.
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read; the
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading Java archive %q: %w", in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	w := &walker{ctx: ctx, in: in, limits: e.limits, budget: e.limits.MaxTotalBytes}
	err := w.archive(in.File, in.File.Size(), in.Path, 0)
	inv := inventory.Inventory{Packages: w.pkgs}
	slices.SortStableFunc(inv.Packages, func(a, b inventory.Package) int {
		if c := inventory.ComparePackages(a, b); c != 0 {
			return c
		}
		return strings.Compare(a.Metadata["nested_path"], b.Metadata["nested_path"])
	})
	var cut error
	inv.Packages, cut = extract.LimitPackages(in, inv.Packages)
	if err != nil {
		// The outer file itself is unreadable.
		return inv, fmt.Errorf("reading Java archive %q: %w", in.Path, errors.Join(err, cut))
	}
	if w.errs.Len() > 0 || cut != nil {
		// Join always keeps its last error: ErrBudget is found.
		return inv, fmt.Errorf("reading Java archive %q: %w", in.Path, w.errs.Join(cut))
	}
	return inv, nil
}

// errGuard marks errors from the limits.
var errGuard = errors.New("zip bomb guard")

type walker struct {
	ctx     context.Context
	in      *extract.Input
	limits  Limits
	budget  int64 // bytes still allowed to be decompressed from this file
	entries int   // entries seen in all archives
	open    int   // entries of the archives open now (this one and its parents)
	inMem   int64 // bytes of nested archives held in memory now
	stopped bool  // a global limit was hit: read nothing more
	pkgs    []inventory.Package
	errs    extract.Errors
}

func (w *walker) guard(format string, args ...any) {
	w.errs.Add(fmt.Errorf("%w: "+format, append([]any{errGuard}, args...)...))
}

// scanGuard is guard for a limit of the scan's budget: the error wraps
// extract.ErrBudget too, since what was cut depends on the other files of
// the scan, not on this one alone (a layer cache may want to know).
func (w *walker) scanGuard(format string, args ...any) {
	w.errs.Add(fmt.Errorf("%w: "+format+" (%w)", append(append([]any{errGuard}, args...), extract.ErrBudget)...))
}

// archive reads one (possibly nested) archive. display is the path shown
// to users: in.Path for the outer file, "outer!/entry" for nested ones. The
// returned error is only for an archive that cannot be opened at all; other
// problems are appended to w.errs.
func (w *walker) archive(r io.ReaderAt, size int64, display string, depth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	// Reading the end of the archive (up to 64 KiB) counts as decompressed
	// bytes: many archives overlapping in a stored one cost that each.
	tail := min(size, eocdSearch)
	if tail > w.budget {
		w.guard("more than %d bytes decompressed from %q; stopped at %q", w.limits.MaxTotalBytes, w.in.Path, display)
		w.stopped = true
		return nil
	}
	w.budget -= tail
	n, ok := entryCount(r, size)
	if ok && n > uint64(w.limits.MaxEntries) {
		w.guard("%q has %d entries (limit %d); skipped", display, n, w.limits.MaxEntries)
		return nil
	}
	if ok && uint64(w.open)+n > uint64(w.limits.MaxEntries) {
		w.guard("%q has %d entries, the archives it is nested in %d (limit %d open at once); skipped", display, n, w.open, w.limits.MaxEntries)
		return nil
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("opening zip: %w", err)
	}
	w.open += len(zr.File)
	defer func() { w.open -= len(zr.File) }()
	w.entries += len(zr.File)
	if w.entries > 10*w.limits.MaxEntries {
		w.guard("more than %d entries in nested archives at %q; stopped", 10*w.limits.MaxEntries, display)
		w.stopped = true
		return nil
	}

	var poms []pomProps
	var manifest map[string]string
	var nested []*zip.File
	for _, f := range zr.File {
		if w.stopped {
			break
		}
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if f.FileInfo().IsDir() {
			continue
		}
		name := f.Name
		switch {
		case isPomProperties(name):
			b, err := w.readMeta(f, display)
			if err != nil {
				w.metaErr(err)
				continue
			}
			props := parseProperties(b)
			poms = append(poms, pomProps{
				GroupID:    props["groupId"],
				ArtifactID: props["artifactId"],
				Version:    props["version"],
				Path:       name,
			})
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			b, err := w.readMeta(f, display)
			if err != nil {
				w.metaErr(err)
				continue
			}
			manifest = parseManifest(b)
		case isArchiveName(name):
			nested = append(nested, f)
		}
	}

	nestedPath := ""
	if depth > 0 {
		nestedPath = display
	}
	w.identify(display, nestedPath, poms, manifest)

	for _, f := range nested {
		if w.stopped {
			break
		}
		child := display + "!/" + f.Name
		if depth+1 > w.limits.MaxDepth {
			w.guard("%q is nested deeper than %d archives; skipped", child, w.limits.MaxDepth)
			continue
		}
		if err := w.nested(r, size, f, child, depth+1); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			if errors.Is(err, errSkipped) {
				continue // the guard error is already recorded
			}
			w.errs.Add(fmt.Errorf("nested archive %q: %w", child, err))
		}
	}
	return nil
}

// nested walks a nested archive f of the archive r (of size bytes): in
// place when it is stored, else inflated into memory or a temp file.
func (w *walker) nested(r io.ReaderAt, size int64, f *zip.File, display string, depth int) error {
	if f.Method == zip.Store && f.CompressedSize64 == f.UncompressedSize64 {
		off, err := f.DataOffset()
		if err != nil {
			return err
		}
		n := int64(f.UncompressedSize64)
		if off < 0 || n < 0 || off > size || n > size-off {
			return fmt.Errorf("stored entry of %d bytes at offset %d is outside the %d-byte archive", n, off, size)
		}
		return w.archive(io.NewSectionReader(r, off, n), n, display, depth)
	}
	if err := w.checkEntry(f, display); err != nil {
		return err
	}
	n := int64(f.UncompressedSize64)
	read := int64(0)
	defer func() { w.spent(n, read) }()
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	src := io.LimitReader(rc, n)
	if w.inMem+n <= w.limits.MaxInMemory {
		buf := bytes.NewBuffer(make([]byte, 0, n))
		read, err = buf.ReadFrom(src)
		if err != nil {
			return err
		}
		w.inMem += n
		defer func() { w.inMem -= n }()
		return w.archive(bytes.NewReader(buf.Bytes()), read, display, depth)
	}
	if !w.in.Budget.TryReserveSpill(n) {
		w.scanGuard("%q needs %d bytes of temp space; the scan's %d are in use; skipped", display, n, w.in.Budget.SpillLimit())
		return errSkipped
	}
	defer w.in.Budget.ReleaseSpill(n)
	tmp, err := os.CreateTemp(w.in.Budget.TempDir(), "drydock-java-*")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	read, err = io.Copy(tmp, src)
	if err != nil {
		return err
	}
	return w.archive(tmp, read, display, depth)
}

// checkEntry applies the per-entry, per-file and per-scan size limits
// before an entry is read, taking its declared size from the file's and the
// scan's budgets (spent gives back what was not read).
func (w *walker) checkEntry(f *zip.File, display string) error {
	size := f.UncompressedSize64
	if size > uint64(w.limits.MaxEntryBytes) {
		w.guard("%q declares %d bytes uncompressed (limit %d); skipped", display, size, w.limits.MaxEntryBytes)
		return errSkipped
	}
	if int64(size) > w.budget {
		w.guard("more than %d bytes decompressed from %q; stopped at %q", w.limits.MaxTotalBytes, w.in.Path, display)
		w.stopped = true
		return errSkipped
	}
	if !w.in.Budget.TakeInflate(int64(size)) {
		w.scanGuard("the scan's budget of %d decompressed bytes is spent; stopped at %q", w.in.Budget.InflateLimit(), display)
		w.stopped = true
		return errSkipped
	}
	w.budget -= int64(size)
	return nil
}

// spent settles an entry that checkEntry allowed taken bytes for and read
// bytes were read from: the difference goes back to both budgets.
func (w *walker) spent(taken, read int64) {
	if back := taken - read; back > 0 {
		w.budget += back
		w.in.Budget.ReturnInflate(back)
	}
}

// errSkipped is returned by checkEntry after it recorded a guard error.
var errSkipped = errors.New("skipped")

// metaErr records an error reading a metadata entry, unless a guard error
// was already recorded for it.
func (w *walker) metaErr(err error) {
	if !errors.Is(err, errSkipped) {
		w.errs.Add(err)
	}
}

// readMeta reads a small metadata entry.
func (w *walker) readMeta(f *zip.File, display string) ([]byte, error) {
	entry := display + "!/" + f.Name
	if f.UncompressedSize64 > uint64(w.limits.MaxMetaFile) {
		return nil, fmt.Errorf("%q is %d bytes (limit %d); skipped", entry, f.UncompressedSize64, w.limits.MaxMetaFile)
	}
	if err := w.checkEntry(f, entry); err != nil {
		return nil, err
	}
	n := int64(f.UncompressedSize64)
	rc, err := f.Open()
	if err != nil {
		w.spent(n, 0)
		return nil, fmt.Errorf("reading %q: %w", entry, err)
	}
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, n))
	read, err := buf.ReadFrom(io.LimitReader(rc, n))
	w.spent(n, read)
	b := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", entry, err)
	}
	return b, nil
}

// eocdSearch is how much of an archive's end entryCount reads: the end
// record and the longest comment.
const eocdSearch = 22 + 65535

// entryCount reads the number of entries from the zip end-of-central-directory
// record (zip64 aware) so that huge directories are refused before
// archive/zip allocates them. ok is false when no record is found; then
// zip.NewReader reports the error.
func entryCount(r io.ReaderAt, size int64) (n uint64, ok bool) {
	const eocdLen = 22
	tail := int64(eocdSearch)
	if tail > size {
		tail = size
	}
	if tail < eocdLen {
		return 0, false
	}
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return 0, false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < eocdLen {
		return 0, false
	}
	n = uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	if n != 0xffff {
		return n, true
	}
	// zip64: the locator sits just before the EOCD record.
	if i < 20 || string(buf[i-20:i-16]) != "PK\x06\x07" {
		return n, true
	}
	off := binary.LittleEndian.Uint64(buf[i-20+8:])
	var rec [56]byte
	if off > uint64(size) {
		return 0, false
	}
	if _, err := r.ReadAt(rec[:], int64(off)); err != nil || string(rec[:4]) != "PK\x06\x06" {
		return 0, false
	}
	return binary.LittleEndian.Uint64(rec[32:]), true
}

type pomProps struct {
	GroupID, ArtifactID, Version string
	Path                         string // entry path inside the archive
}

// isPomProperties matches META-INF/maven/<g>/<a>/pom.properties (and, for
// Spring Boot applications, the same under BOOT-INF/classes/ or
// WEB-INF/classes/).
func isPomProperties(name string) bool {
	if path.Base(name) != "pom.properties" {
		return false
	}
	for _, prefix := range []string{"META-INF/maven/", "BOOT-INF/classes/META-INF/maven/", "WEB-INF/classes/META-INF/maven/"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// identify turns the evidence of one archive into packages.
func (w *walker) identify(display, nestedPath string, poms []pomProps, manifest map[string]string) {
	base := path.Base(display)
	fileArtifact, fileVersion := ParseFileName(base)

	self := false
	seen := map[string]bool{}
	for _, p := range poms {
		if p.ArtifactID == "" || p.Version == "" {
			continue
		}
		name := p.ArtifactID
		if p.GroupID != "" {
			name = p.GroupID + ":" + p.ArtifactID
		}
		key := name + "@" + p.Version
		if seen[key] {
			continue
		}
		seen[key] = true
		if describesArchive(p, len(poms), fileArtifact, manifest) {
			self = true
		}
		md := map[string]string{"evidence": "pom.properties", "pom_properties": p.Path}
		if p.GroupID == "" {
			md["note"] = "groupId unknown"
		}
		w.add(p.GroupID, p.ArtifactID, p.Version, nestedPath, md)
	}
	if self {
		return
	}
	if g, a, v, src := fromManifest(manifest, fileArtifact); a != "" && v != "" {
		md := map[string]string{"evidence": "MANIFEST.MF"}
		if g == "" {
			md["note"] = "groupId unknown"
		} else {
			md["group_id_source"] = src
		}
		w.add(g, a, v, nestedPath, md)
		return
	}
	if fileArtifact != "" && fileVersion != "" {
		w.add("", fileArtifact, fileVersion, nestedPath, map[string]string{"evidence": "filename", "note": "groupId unknown"})
	}
}

func (w *walker) add(group, artifact, version, nestedPath string, md map[string]string) {
	name := artifact
	if group != "" {
		name = group + ":" + artifact
	}
	if nestedPath != "" {
		md["nested_path"] = nestedPath
	}
	w.pkgs = append(w.pkgs, inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoMaven,
		PURL:      packageurl.NewPackageURL(packageurl.TypeMaven, group, artifact, version, nil, "").ToString(),
		Locations: []inventory.Location{{Path: w.in.Path, LayerDiffID: w.in.Layer.DiffID}},
		FoundBy:   extractorName,
		Metadata:  md,
	})
}

// describesArchive reports whether a pom.properties is the archive's own
// (rather than one of a shaded dependency): its artifactId matches the file
// name or the manifest, or it is the only pom.properties in the archive.
func describesArchive(p pomProps, n int, fileArtifact string, manifest map[string]string) bool {
	if n == 1 {
		return true
	}
	a := strings.ToLower(p.ArtifactID)
	if fa := strings.ToLower(fileArtifact); fa != "" && (fa == a || strings.HasPrefix(fa, a+"-")) {
		return true
	}
	if t := manifestValue(manifest, "Implementation-Title"); strings.EqualFold(t, p.ArtifactID) {
		return true
	}
	bsn := bundleSymbolicName(manifest)
	if bsn != "" && p.GroupID != "" && strings.EqualFold(bsn, p.GroupID+"."+p.ArtifactID) {
		return true
	}
	return false
}

// fromManifest derives groupId, artifactId and version from a manifest's
// main section. fileArtifact (from the archive's name) is preferred as the
// artifactId because manifest titles are often prose ("Apache Log4j Core").
// groupSource names the attribute the groupId came from.
func fromManifest(m map[string]string, fileArtifact string) (group, artifact, version, groupSource string) {
	if len(m) == 0 {
		return "", "", "", ""
	}
	for _, k := range []string{"Implementation-Version", "Bundle-Version", "Plugin-Version", "Specification-Version"} {
		if version = manifestValue(m, k); version != "" {
			break
		}
	}
	bsn := bundleSymbolicName(m)
	amn := manifestValue(m, "Automatic-Module-Name")
	// Jenkins plugins (.hpi/.jpi) name themselves with Short-Name and Group-Id.
	shortName := manifestValue(m, "Short-Name")
	artifact = fileArtifact
	if shortName != "" {
		artifact = shortName
	}
	if g := manifestValue(m, "Group-Id"); g != "" && shortName != "" && version != "" {
		return g, artifact, version, "Group-Id"
	}
	if artifact == "" {
		if t := manifestValue(m, "Implementation-Title"); t != "" && !strings.ContainsAny(t, " \t") {
			artifact = t
		}
	}
	if artifact == "" {
		for _, id := range []string{bsn, amn} {
			if id != "" {
				artifact = id[strings.LastIndexByte(id, '.')+1:]
				break
			}
		}
	}
	if artifact == "" {
		return "", "", "", ""
	}
	// Bundle-SymbolicName is often "<groupId>.<artifactId>".
	if suffix := "." + artifact; bsn != "" && strings.HasSuffix(bsn, suffix) && len(bsn) > len(suffix) {
		return bsn[:len(bsn)-len(suffix)], artifact, version, "Bundle-SymbolicName"
	}
	// Or "<groupId>.<last word of artifactId>": log4j-jul →
	// org.apache.logging.log4j.jul.
	if i := strings.LastIndexByte(artifact, '-'); i >= 0 && bsn != "" {
		if suffix := "." + artifact[i+1:]; len(suffix) > 1 && strings.HasSuffix(bsn, suffix) && len(bsn) > len(suffix) {
			return bsn[:len(bsn)-len(suffix)], artifact, version, "Bundle-SymbolicName"
		}
	}
	if v := manifestValue(m, "Implementation-Vendor-Id"); v != "" && !strings.ContainsAny(v, " \t") {
		return v, artifact, version, "Implementation-Vendor-Id"
	}
	return "", artifact, version, ""
}

func manifestValue(m map[string]string, key string) string {
	return strings.TrimSpace(m[strings.ToLower(key)])
}

// bundleSymbolicName is the OSGi Bundle-SymbolicName without directives
// ("org.foo.bar;singleton:=true" → "org.foo.bar").
func bundleSymbolicName(m map[string]string) string {
	v, _, _ := strings.Cut(manifestValue(m, "Bundle-SymbolicName"), ";")
	return strings.TrimSpace(v)
}

// parseManifest reads the main section of a JAR manifest: "Name: value"
// lines, continuation lines starting with one space, ending at the first
// blank line. Keys are lower-cased. Continuation lines are appended to a
// builder, so the time is linear in the manifest however many there are.
func parseManifest(b []byte) map[string]string {
	m := map[string]string{}
	var (
		key string // the attribute being read, "" after a line without ":"
		val strings.Builder
	)
	flush := func() {
		if key != "" {
			m[key] = val.String()
		}
		key = ""
		val.Reset()
	}
	cr := []byte("\r")
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			// "\r\n" ends a line too.
			line, b = bytes.TrimSuffix(b[:i], cr), b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSuffix(line, cr) // and a "\r" before the end is dropped

		if len(line) == 0 {
			break
		}
		if line[0] == ' ' {
			if key != "" {
				val.Write(line[1:])
			}
			continue
		}
		flush()
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(string(k)))
		val.Write(bytes.TrimPrefix(v, []byte(" ")))
	}
	flush()
	return m
}

// parseProperties reads a Java .properties file (the subset Maven writes:
// key=value or key:value or "key value", comments with # or !, backslash
// continuation lines and escapes). Continuation lines are appended to one
// buffer, so the time is linear in the file however many there are.
func parseProperties(b []byte) map[string]string {
	props := map[string]string{}
	rest := strings.ReplaceAll(string(b), "\r\n", "\n")
	more := true
	next := func() string {
		line, r, ok := strings.Cut(rest, "\n")
		rest, more = r, ok
		return line
	}
	var joined []byte
	for more {
		line := strings.TrimLeft(next(), " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		if endsWithOddBackslashes(line) && more {
			// run counts the backslashes that end joined: a line
			// continues while it is odd.
			joined = append(joined[:0], line...)
			run := trailingBackslashes(line)
			for run%2 == 1 && more {
				joined, run = joined[:len(joined)-1], run-1
				cont := strings.TrimLeft(next(), " \t\f")
				joined = append(joined, cont...)
				if n := trailingBackslashes(cont); n == len(cont) {
					run += n
				} else {
					run = n
				}
			}
			line = string(joined)
		}
		key, val := splitProperty(line)
		props[unescapeProperty(key)] = unescapeProperty(val)
	}
	return props
}

// trailingBackslashes counts the backslashes that end s.
func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

func endsWithOddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (key, val string) {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '=', ':', ' ', '\t', '\f':
			key = line[:i]
			rest := strings.TrimLeft(line[i:], " \t\f")
			if rest != "" && (rest[0] == '=' || rest[0] == ':') && line[i] != '=' && line[i] != ':' {
				rest = rest[1:]
			} else if line[i] == '=' || line[i] == ':' {
				rest = line[i+1:]
			}
			return key, strings.TrimLeft(rest, " \t\f")
		}
	}
	return line, ""
}

func unescapeProperty(s string) string {
	if !strings.Contains(s, `\`) {
		return strings.TrimRight(s, " \t\f")
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			sb.WriteByte('\t')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 'f':
			sb.WriteByte('\f')
		case 'u':
			var r rune
			j := i + 1
			for ; j < len(s) && j < i+5; j++ {
				d := s[j]
				switch {
				case d >= '0' && d <= '9':
					r = r<<4 | rune(d-'0')
				case d >= 'a' && d <= 'f':
					r = r<<4 | rune(d-'a'+10)
				case d >= 'A' && d <= 'F':
					r = r<<4 | rune(d-'A'+10)
				default:
					j = len(s) + 1 // malformed: stop
				}
			}
			if j != i+5 {
				sb.WriteString(`\u`)
				continue
			}
			sb.WriteRune(r)
			i += 4
		default:
			sb.WriteByte(s[i])
		}
	}
	return strings.TrimRight(sb.String(), " \t\f")
}

// ParseFileName splits an archive file name into artifactId and version:
// "log4j-core-2.14.1.jar" → ("log4j-core", "2.14.1"); "guava-31.1-jre.jar"
// → ("guava", "31.1-jre"); "log4j-1.2-api-2.19.0.jar" → ("log4j-1.2-api",
// "2.19.0"); "app.jar" → ("app", ""). The version starts at the last "-"
// followed by a digit.
func ParseFileName(name string) (artifact, version string) {
	name = path.Base(name)
	if isArchiveName(name) {
		name = strings.TrimSuffix(name, path.Ext(name))
	}
	for i := len(name) - 2; i > 0; i-- {
		if name[i] == '-' && name[i+1] >= '0' && name[i+1] <= '9' {
			return name[:i], name[i+1:]
		}
	}
	return name, ""
}
