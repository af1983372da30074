// Package osrelease detects the operating system of an image from the files
// distributions leave in /etc and /usr/lib (os-release, alpine-release,
// debian_version, redhat-release and friends).
//
// Each file is parsed on its own into an inventory.Distro; several of them
// usually exist in one image and Resolve picks the best. The release key and
// the advisory ecosystem are derived by package distro, the one place that
// decides them for fresh scans and SBOM re-scans alike.
package osrelease

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/distro"
	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// Name is the extractor's name.
const Name = "os/release"

// maxSize bounds what is read: release files are a few hundred bytes; anything
// far larger is not one.
const maxSize = 64 << 10

// The kinds of file understood, in decreasing order of trust (see Resolve).
type kind int

const (
	kindNone kind = iota
	kindDebianVersion
	kindLSB
	kindVendorRelease // redhat-release, centos-release, …: "X release 9.0 (Y)"
	kindSuSERelease
	kindAlpineRelease
	kindUsrLibOSRelease
	kindEtcOSRelease
)

var kinds = map[string]kind{
	"/etc/os-release":        kindEtcOSRelease,
	"/usr/lib/os-release":    kindUsrLibOSRelease,
	"/etc/alpine-release":    kindAlpineRelease,
	"/etc/debian_version":    kindDebianVersion,
	"/etc/lsb-release":       kindLSB,
	"/etc/SuSE-release":      kindSuSERelease,
	"/etc/redhat-release":    kindVendorRelease,
	"/etc/centos-release":    kindVendorRelease,
	"/etc/almalinux-release": kindVendorRelease,
	"/etc/rocky-release":     kindVendorRelease,
	"/etc/oracle-release":    kindVendorRelease,
	"/etc/fedora-release":    kindVendorRelease,
	"/etc/system-release":    kindVendorRelease,
}

// Extractor detects the distro from one release file.
type Extractor struct{}

// New returns the os-release extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return Name }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return 1 }

// Wants implements extract.Extractor. Symlinks are not followed by the
// walker, which is why /usr/lib/os-release is wanted as well as
// /etc/os-release (Debian, Ubuntu and the RHEL family link the latter to the
// former).
func (*Extractor) Wants(path string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size > maxSize {
		return false
	}
	_, ok := kinds[path]
	return ok
}

// Extract implements extract.Extractor. It returns an Inventory with only
// Distro set. A file that holds no recognisable distro yields an error
// wrapping extract.ErrNotApplicable.
func (*Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if _, ok := kinds[in.Path]; !ok {
		return inventory.Inventory{}, fmt.Errorf("parsing %q: not a release file: %w", in.Path, extract.ErrNotApplicable)
	}
	rc, err := in.File.Open()
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("opening %q: %w", in.Path, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSize+1))
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading %q: %w", in.Path, err)
	}
	if len(data) > maxSize {
		return inventory.Inventory{}, fmt.Errorf("reading %q: larger than %d bytes: %w", in.Path, maxSize, extract.ErrNotApplicable)
	}
	d, err := Parse(in.Path, data)
	if err != nil {
		return inventory.Inventory{}, err
	}
	return inventory.Inventory{Distro: d}, nil
}

// errUnrecognised is wrapped with the path by Parse.
var errUnrecognised = errors.New("no distribution found")

// Parse parses the release file at path (which selects the format) and
// returns the distro with Source = path. It fails, wrapping
// extract.ErrNotApplicable, when the file names no distribution.
func Parse(path string, data []byte) (*inventory.Distro, error) {
	var d *inventory.Distro
	switch kinds[path] {
	case kindEtcOSRelease, kindUsrLibOSRelease:
		d = fromOSRelease(parseKeyValues(data))
	case kindAlpineRelease:
		d = fromAlpineRelease(data)
	case kindDebianVersion:
		d = fromDebianVersion(data)
	case kindLSB:
		d = fromLSB(parseKeyValues(data))
	case kindSuSERelease:
		d = fromSuSERelease(data)
	case kindVendorRelease:
		d = fromVendorRelease(data)
	}
	if d == nil || d.ID == "" {
		return nil, fmt.Errorf("parsing %q: %w: %w", path, errUnrecognised, extract.ErrNotApplicable)
	}
	d.Source = path
	d.Release = distro.Release(d)
	return d, nil
}

// parseKeyValues reads the KEY=value lines of os-release(5) and lsb-release,
// which follow shell assignment syntax: values may be double- or
// single-quoted, backslash escapes work inside double quotes, '#' starts a
// comment line. Later assignments win, as in the shell.
func parseKeyValues(data []byte) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 0, 4096), maxSize+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if key == "" || strings.ContainsAny(key, " \t") {
			continue
		}
		kv[key] = unquote(strings.TrimSpace(val))
	}
	return kv
}

// unquote undoes shell quoting of a single word (os-release(5) allows
// quoting and escaping with double quotes, single quotes and backslashes).
func unquote(s string) string {
	var b strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case c == '\\' && quote != '\'' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case quote == 0 && c == '#':
			// An unquoted '#' after whitespace starts a comment.
			if i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
				return strings.TrimSpace(b.String())
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func fromOSRelease(kv map[string]string) *inventory.Distro {
	d := &inventory.Distro{
		ID:         strings.ToLower(kv["ID"]),
		VersionID:  kv["VERSION_ID"],
		Codename:   kv["VERSION_CODENAME"],
		PrettyName: kv["PRETTY_NAME"],
	}
	if like := strings.Fields(strings.ToLower(kv["ID_LIKE"])); len(like) > 0 {
		d.IDLike = like
	}
	if d.Codename == "" {
		d.Codename = kv["UBUNTU_CODENAME"]
	}
	if d.ID == "debian" && d.VersionID == "" && d.Codename == "" {
		// Debian testing/unstable: PRETTY_NAME="Debian GNU/Linux trixie/sid".
		if _, rest, ok := strings.Cut(d.PrettyName, "Linux "); ok {
			d.Codename, _, _ = strings.Cut(rest, "/")
		}
	}
	return d
}

func fromAlpineRelease(data []byte) *inventory.Distro {
	v := firstLine(data)
	if !versionish.MatchString(v) {
		return nil
	}
	return &inventory.Distro{ID: "alpine", VersionID: v}
}

// versionish is a plausible version (starts with a digit, no spaces).
var versionish = regexp.MustCompile(`^[0-9][0-9A-Za-z._~+-]*$`)

func fromDebianVersion(data []byte) *inventory.Distro {
	v := firstLine(data)
	if versionish.MatchString(v) {
		return &inventory.Distro{ID: "debian", VersionID: v}
	}
	// Testing and unstable write "trixie/sid"; sid alone is possible too.
	code, _, _ := strings.Cut(v, "/")
	if distro.DebianNumber(code) != "" || code == "sid" {
		return &inventory.Distro{ID: "debian", Codename: code}
	}
	return nil
}

func fromLSB(kv map[string]string) *inventory.Distro {
	id := strings.ToLower(kv["DISTRIB_ID"])
	if id == "" {
		return nil
	}
	return &inventory.Distro{
		ID:         id,
		VersionID:  kv["DISTRIB_RELEASE"],
		Codename:   kv["DISTRIB_CODENAME"],
		PrettyName: kv["DISTRIB_DESCRIPTION"],
	}
}

// fromSuSERelease reads the pre-os-release SUSE file:
//
//	SUSE Linux Enterprise Server 12 (x86_64)
//	VERSION = 12
//	PATCHLEVEL = 3
func fromSuSERelease(data []byte) *inventory.Distro {
	name := firstLine(data)
	kv := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	ver := kv["VERSION"]
	if !versionish.MatchString(ver) {
		return nil
	}
	d := &inventory.Distro{PrettyName: name, VersionID: ver, Codename: kv["CODENAME"]}
	switch {
	case strings.HasPrefix(name, "openSUSE"):
		d.ID = "opensuse"
		if strings.Contains(name, "Leap") {
			d.ID = "opensuse-leap"
		}
	case strings.HasPrefix(name, "SUSE Linux Enterprise Desktop"):
		d.ID = "sled"
	case strings.HasPrefix(name, "SUSE Linux Enterprise"):
		d.ID = "sles"
	default:
		return nil
	}
	if pl := kv["PATCHLEVEL"]; pl != "" && pl != "0" && !strings.Contains(ver, ".") {
		d.VersionID = ver + "." + pl
	}
	return d
}

// vendorRelease matches "AlmaLinux release 9.0 Beta (Emerald Puma)",
// "CentOS Linux release 7.9.2009 (Core)", "Amazon Linux release 2 (Karoo)".
var vendorRelease = regexp.MustCompile(`^(.+?) release ([0-9][0-9A-Za-z._-]*)(?:[^(]*\(([^)]*)\))?`)

// vendorIDs maps the product name of a *-release file to its os-release ID,
// by prefix, first match wins.
var vendorIDs = []struct{ prefix, id string }{
	{"AlmaLinux", "almalinux"},
	{"Rocky Linux", "rocky"},
	{"CentOS", "centos"},
	{"Red Hat Enterprise Linux", "rhel"},
	{"Oracle Linux", "ol"},
	{"Amazon Linux", "amzn"},
	{"Fedora", "fedora"},
}

func fromVendorRelease(data []byte) *inventory.Distro {
	line := firstLine(data)
	m := vendorRelease.FindStringSubmatch(line)
	if m == nil {
		return nil
	}
	for _, v := range vendorIDs {
		if strings.HasPrefix(m[1], v.prefix) {
			return &inventory.Distro{ID: v.id, VersionID: m[2], Codename: m[3], PrettyName: line}
		}
	}
	return nil
}

func firstLine(data []byte) string {
	s := string(data)
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(strings.TrimSuffix(s, "\r"))
}

// sourceRank orders release files by trust: os-release first (/etc over
// /usr/lib, as os-release(5) says), then the distro's own file, then
// lsb-release, and debian_version last (Ubuntu ships one too).
func sourceRank(source string) kind {
	return kinds[source]
}

// Resolve picks the best of several detections from the same image. The
// candidate from the most trusted file wins (see sourceRank; ties are broken
// by Source so the result does not depend on input order). If another
// candidate has the same ID and a more precise VersionID that extends the
// winner's ("12" → "12.15", "7" → "7.9.2009"), that VersionID is taken, so
// Debian's os-release "12" plus debian_version "12.15" gives 12.15. A missing
// Codename is taken from a candidate of the same ID and release. Release is
// recomputed; Source stays the winner's file. Returns nil for no
// candidates. The input is not modified.
func Resolve(cands []inventory.Distro) *inventory.Distro {
	if len(cands) == 0 {
		return nil
	}
	// Work on a copy in a canonical order so the result does not depend on
	// the order of the input.
	sorted := slices.Clone(cands)
	slices.SortStableFunc(sorted, func(a, b inventory.Distro) int {
		return cmp.Or(
			cmp.Compare(sourceRank(b.Source), sourceRank(a.Source)),
			cmp.Compare(a.Source, b.Source),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.VersionID, b.VersionID),
			cmp.Compare(a.Codename, b.Codename),
		)
	})
	cands = sorted
	d := cands[0]
	d.IDLike = append([]string(nil), d.IDLike...)
	for _, c := range cands {
		if c.ID != d.ID {
			continue
		}
		if len(c.VersionID) > len(d.VersionID) && (d.VersionID == "" || strings.HasPrefix(c.VersionID, d.VersionID+".")) {
			d.VersionID = c.VersionID
		}
	}
	// A codename from another file of the same release fills a gap
	// (os-release of AlmaLinux has none, almalinux-release does).
	rel := distro.Release(&d)
	for _, c := range cands {
		if d.Codename == "" && c.ID == d.ID && c.Codename != "" && distro.Release(&c) == rel {
			d.Codename = c.Codename
		}
	}
	d.Release = distro.Release(&d)
	return &d
}
