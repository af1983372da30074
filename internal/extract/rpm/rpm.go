// Package rpm reads the rpm package database in its three on-disk formats:
// Berkeley DB hash ("Packages", rpm < 4.16 and RHEL ≤ 8), NDB ("Packages.db",
// SUSE) and SQLite ("rpmdb.sqlite", rpm ≥ 4.16), in every directory rpm keeps
// it: /var/lib/rpm, /usr/lib/sysimage/rpm (Fedora, newer SUSE) and
// /usr/share/rpm.
//
// Parsing is done by github.com/erikvarga/go-rpmdb (pure Go, a fork of
// knqyf263/go-rpmdb). That library reads the database in a goroutine of its
// own, where a malformed file can make it index out of range, loop forever,
// allocate gigabytes or print to stdout; a panic in that goroutine would end
// the process and cannot be recovered here. So every file is first checked by
// preflight (preflight.go), which walks the same structures the library will
// walk, with bounds checks, and rejects what the library cannot survive.
package rpm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	rpmdb "github.com/erikvarga/go-rpmdb/pkg"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/purl"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// Name is the extractor's name.
const Name = "os/rpm"

// dbDirs are the directories rpm keeps its database in.
var dbDirs = []string{"/var/lib/rpm", "/usr/lib/sysimage/rpm", "/usr/share/rpm"}

// gpgPubkey is the name rpm gives the headers of imported signing keys
// (VERSION is the key ID, RELEASE the key's creation time, both in hex).
const gpgPubkey = "gpg-pubkey"

// dbFiles are the database file names of the three backends.
var dbFiles = []string{"Packages", "Packages.db", "rpmdb.sqlite"}

// Options tunes the extractor.
type Options struct {
	// TempDir is where a private copy of SQLite databases is made (SQLite
	// may write journal files next to the database it opens). Default:
	// os.TempDir().
	TempDir string
	// Timeout bounds the reading of one database. Default: 2 minutes.
	Timeout time.Duration
}

// Extractor reads rpm databases.
type Extractor struct {
	opts Options
}

// New returns the rpm extractor with default options.
func New() *Extractor { return NewWithOptions(Options{}) }

// NewWithOptions returns the rpm extractor.
func NewWithOptions(opts Options) *Extractor {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	return &Extractor{opts: opts}
}

// Name implements extract.Extractor.
func (*Extractor) Name() string { return Name }

// Version implements extract.Extractor. 2: gpg-pubkey entries are listed
// (marked Metadata["kind"] = "gpg-pubkey") instead of dropped. 3: Berkeley
// DB headers stored inline on hash pages are read (bdbinline.go).
func (*Extractor) Version() int { return 3 }

// Wants implements extract.Extractor.
func (*Extractor) Wants(p string, mode fs.FileMode, _ int64) bool {
	return mode.IsRegular() && slices.Contains(dbDirs, path.Dir(p)) && slices.Contains(dbFiles, path.Base(p))
}

// Extract implements extract.Extractor. A file that is not a readable rpm
// database gives an error naming it; packages whose file list is malformed
// are kept (without files) and reported in the error.
//
// Every header is a package, gpg-pubkey ones too, as rpm -qa, Syft and Trivy
// list them: those are OpenPGP keys imported with rpm --import, and carry
// Metadata["kind"] = "gpg-pubkey" (inventory.KindGPGPubkey) so that they are
// never matched against advisories (inventory.Package.Matchable).
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()

	infos, err := e.read(ctx, in)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading rpm database %q: %w", in.Path, err)
	}
	var (
		inv  inventory.Inventory
		errs []error
	)
	for _, info := range infos {
		if info.Name == "" {
			continue
		}
		p, err := toPackage(info)
		if err != nil {
			errs = append(errs, err)
		}
		if p.Name == gpgPubkey {
			if p.Metadata == nil {
				p.Metadata = map[string]string{}
			}
			p.Metadata[inventory.MetaKind] = inventory.KindGPGPubkey
		}
		p.Locations = []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}}
		p.FoundBy = Name
		p.ID = purl.PackageID(&p)
		inv.Packages = append(inv.Packages, p)
	}
	// go-rpmdb can read fewer headers from a Berkeley DB than it holds
	// (AlmaLinux 9.0's micro image: 20 of 22). The hash's own element count
	// says how many there are: what could not be read is said, never
	// dropped silently.
	if f, err := detect(in.File); err == nil && f == formatBDB {
		if want, ok := bdbPackageCount(in.File); ok && want > len(infos) {
			inv.Notes = append(inv.Notes, inventory.Note{Level: "warning", Path: in.Path, Layer: in.Layer.DiffID, Extractor: Name,
				Message: fmt.Sprintf("the rpm database holds %d packages, %d could be read: the other %d are not in the inventory and not matched",
					want, len(infos), want-len(infos))})
		}
	}
	inv.Sort()
	if len(errs) > 0 {
		return inv, fmt.Errorf("reading rpm database %q: %w", in.Path, errors.Join(errs...))
	}
	return inv, nil
}

// read validates the file and lists its packages with go-rpmdb.
func (e *Extractor) read(ctx context.Context, in *extract.Input) ([]*rpmdb.PackageInfo, error) {
	format, err := detect(in.File)
	if err != nil {
		return nil, err
	}
	var local string
	switch format {
	case formatSQLite:
		// A private copy: SQLite opens the database read-write and may
		// create -wal/-shm files beside it, which must not land next to a
		// file we do not own.
		dir, err := os.MkdirTemp(e.opts.TempDir, "drydock-rpmdb-*")
		if err != nil {
			return nil, fmt.Errorf("making temp dir: %w", err)
		}
		defer os.RemoveAll(dir)
		local = filepath.Join(dir, "rpmdb.sqlite")
		if err := copyFile(local, in.File); err != nil {
			return nil, err
		}
		if err := preflightSQLite(ctx, local); err != nil {
			return nil, err
		}
	default:
		// Berkeley DB and NDB are only read by the library.
		if err := preflight(ctx, format, in.File); err != nil {
			return nil, err
		}
		if local, err = in.File.LocalPath(); err != nil {
			return nil, fmt.Errorf("getting a local copy: %w", err)
		}
	}
	infos, err := listPackages(ctx, local)
	if err != nil || format != formatBDB {
		return infos, err
	}
	// The headers go-rpmdb does not read: those stored inline on the hash
	// pages (bdbinline.go). The hash's element count says whether any is
	// missing; the pages are walked again only then.
	if want, ok := bdbPackageCount(in.File); ok && want <= len(infos) {
		return infos, nil
	}
	blobs, err := bdbInlineHeaders(ctx, in.File, in.File.Size())
	if err != nil {
		return nil, fmt.Errorf("reading inline package headers: %w", err)
	}
	if len(blobs) == 0 {
		return infos, nil
	}
	more, err := parseHeaders(ctx, e.opts.TempDir, blobs)
	if err != nil {
		return nil, fmt.Errorf("reading inline package headers: %w", err)
	}
	return append(infos, more...), nil
}

// listPackages calls go-rpmdb. The library's header parsing runs in this
// goroutine and can panic on malformed headers that preflight does not fully
// check (slice bounds in its header import); such a panic is converted into
// an error here, and only here. Panics in the library's reader goroutines
// cannot be recovered — preflight exists to rule them out.
func listPackages(ctx context.Context, file string) (infos []*rpmdb.PackageInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			infos, err = nil, fmt.Errorf("malformed package header (rpmdb library panicked: %v)", r)
		}
	}()
	db, err := rpmdb.Open(file)
	if err != nil {
		return nil, fmt.Errorf("opening: %w", err)
	}
	defer db.Close()
	infos, err = db.ListPackagesWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing packages: %w", err)
	}
	return infos, nil
}

func copyFile(dst string, src extract.File) error {
	rc, err := src.Open()
	if err != nil {
		return fmt.Errorf("opening: %w", err)
	}
	defer rc.Close()
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("making a private copy: %w", err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("making a private copy: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("making a private copy: %w", err)
	}
	return nil
}

// toPackage converts one header. Version is VERSION-RELEASE without the
// epoch, which goes to Package.Epoch and Metadata["epoch"] (the latter only
// when the header has an EPOCH tag, so "0" and "none" stay distinguishable).
// An error is returned, with the package still filled, when its file list is
// inconsistent.
func toPackage(info *rpmdb.PackageInfo) (inventory.Package, error) {
	p := inventory.Package{
		Name:      info.Name,
		Version:   info.Version,
		Ecosystem: inventory.EcoRPM,
		Arch:      info.Arch,
		Vendor:    info.Vendor,
		Epoch:     info.EpochNum(),
	}
	if info.Release != "" {
		p.Version += "-" + info.Release
	}
	if info.License != "" {
		p.Licenses = []string{info.License}
	}
	md := map[string]string{}
	if info.Epoch != nil {
		md["epoch"] = strconv.Itoa(*info.Epoch)
	}
	if info.Modularitylabel != "" {
		md["modularity_label"] = info.Modularitylabel
	}
	if info.SourceRpm != "" {
		md["source_rpm"] = info.SourceRpm
	}
	if len(md) > 0 {
		p.Metadata = md
	}
	// SourceName/SourceVersion are always filled (falling back to the
	// binary package) so that matching by source package needs no special
	// case.
	p.SourceName, p.SourceVersion = p.Name, p.Version
	if name, ver, ok := ParseSourceRPM(info.SourceRpm); ok {
		p.SourceName, p.SourceVersion = name, ver
	}

	var epoch string
	if p.Epoch != 0 {
		epoch = strconv.Itoa(p.Epoch)
	}
	p.PURL = purl.Build(purl.TypeRPM, VendorNamespace(info.Vendor), p.Name, p.Version,
		purl.Qualifier{Key: "arch", Value: p.Arch}, purl.Qualifier{Key: "epoch", Value: epoch})

	files, err := info.InstalledFileNames()
	if err != nil {
		return p, fmt.Errorf("package %s-%s: file list: %w", p.Name, p.Version, err)
	}
	if len(files) > 0 {
		slices.Sort(files)
		p.Files = slices.Compact(files)
	}
	return p, nil
}

// ParseSourceRPM splits a SOURCERPM file name into source package name and
// VERSION-RELEASE: "glibc-2.34-28.el9_0.src.rpm" → "glibc", "2.34-28.el9_0".
// ok is false when s does not have that shape.
func ParseSourceRPM(s string) (name, version string, ok bool) {
	base, found := strings.CutSuffix(s, ".src.rpm")
	if !found {
		if base, found = strings.CutSuffix(s, ".nosrc.rpm"); !found {
			return "", "", false
		}
	}
	i := strings.LastIndexByte(base, '-')
	if i <= 0 || i == len(base)-1 {
		return "", "", false
	}
	j := strings.LastIndexByte(base[:i], '-')
	if j <= 0 || j == i-1 {
		return "", "", false
	}
	return base[:j], base[j+1:], true
}

// vendorNamespaces maps a case-insensitive substring of the rpm VENDOR tag
// to the PURL namespace (the distro); first match wins.
var vendorNamespaces = []struct{ substr, ns string }{
	{"almalinux", "almalinux"},
	{"red hat", "redhat"},
	{"centos", "centos"},
	{"rocky", "rocky"},
	{"fedora", "fedora"},
	{"oracle", "oracle"},
	{"amazon", "amazon"},
	{"opensuse", "opensuse"},
	{"suse", "suse"},
}

// VendorNamespace returns the PURL namespace for an rpm vendor ("AlmaLinux"
// → "almalinux", "Red Hat, Inc." → "redhat"), or "" if unknown;
// inventory.Merge fills an empty namespace from the distro.
func VendorNamespace(vendor string) string {
	v := strings.ToLower(vendor)
	for _, m := range vendorNamespaces {
		if strings.Contains(v, m.substr) {
			return m.ns
		}
	}
	return ""
}
