// Package osrelease detects the operating system of an image from the files
// distributions leave in /etc and /usr/lib (os-release, alpine-release,
// debian_version, redhat-release and friends).
//
// Each file is parsed on its own into an inventory.Distro; several of them
// usually exist in one image and Resolve picks the best. AdvisoryEcosystem
// maps the result to the OSV ecosystem string advisories are keyed by.
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
	d.Release = release(d)
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

// debianCodenames maps Debian release codenames to their numbers (for
// debian_version files and OSV ecosystems); sid has none.
var debianCodenames = map[string]string{
	"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1", "potato": "2.2",
	"woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5", "squeeze": "6", "wheezy": "7",
	"jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12",
	"trixie": "13", "forky": "14", "duke": "15",
}

func fromDebianVersion(data []byte) *inventory.Distro {
	v := firstLine(data)
	if versionish.MatchString(v) {
		return &inventory.Distro{ID: "debian", VersionID: v}
	}
	// Testing and unstable write "trixie/sid"; sid alone is possible too.
	code, _, _ := strings.Cut(v, "/")
	if _, ok := debianCodenames[code]; ok || code == "sid" {
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

// release derives the part of the version advisories are keyed by.
//
//   - alpine: "v<major>.<minor>" ("3.16.9" → "v3.16"); edge snapshots
//     (VERSION_ID "3.21.0_alpha20240807", PRETTY_NAME "… edge") → "edge".
//   - debian: the major ("12.15" → "12"); testing/unstable without a
//     number → the codename ("trixie", "sid").
//   - ubuntu: VERSION_ID as is ("22.04").
//   - rhel, centos, almalinux, rocky, ol: the major ("9.0" → "9").
//   - amzn: "2", "2023"; Amazon Linux 1 ("2018.03") → "1".
//   - fedora, mageia: VERSION_ID as is.
//   - sles, sled, opensuse-leap: VERSION_ID ("15.5").
//   - rolling distributions (wolfi, chainguard, opensuse-tumbleweed, arch):
//     "".
//   - anything else: VERSION_ID.
func release(d *inventory.Distro) string {
	v := d.VersionID
	switch d.ID {
	case "alpine":
		if strings.Contains(v, "_alpha") || strings.HasSuffix(d.PrettyName, " edge") {
			return "edge"
		}
		if parts := strings.SplitN(v, ".", 3); len(parts) >= 2 && isDigits(parts[0]) && isDigits(parts[1]) {
			return "v" + parts[0] + "." + parts[1]
		}
		return ""
	case "debian":
		if major, _, _ := strings.Cut(v, "."); isDigits(major) {
			return major
		}
		return d.Codename
	case "rhel", "centos", "almalinux", "rocky", "ol":
		if major, _, _ := strings.Cut(v, "."); isDigits(major) {
			return major
		}
		return ""
	case "amzn":
		if strings.Contains(v, ".") {
			// Amazon Linux 1 is versioned by date: "2018.03".
			return "1"
		}
		return v
	case "wolfi", "chainguard", "opensuse-tumbleweed", "arch":
		return ""
	}
	return v
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
	rel := release(&d)
	for _, c := range cands {
		if d.Codename == "" && c.ID == d.ID && c.Codename != "" && release(&c) == rel {
			d.Codename = c.Codename
		}
	}
	d.Release = release(&d)
	return &d
}

// AdvisoryEcosystem returns the OSV ecosystem advisories for d are filed
// under, or "" if OSV has none for it (or d is nil or has no usable release).
//
// Exact ecosystems (OSV compares them for equality):
//
//	alpine 3.16.9             → "Alpine:v3.16"  (edge → "": OSV has no Alpine:edge)
//	debian 12 / trixie        → "Debian:12" / "Debian:13" (codenames mapped; sid → "")
//	ubuntu 22.04              → "Ubuntu:22.04:LTS" (OSV marks LTS releases; an
//	                            LTS is an even-year April release: YY.04 with YY even)
//	ubuntu 23.10              → "Ubuntu:23.10"
//	almalinux 9.x             → "AlmaLinux:9"
//	rocky 9.x                 → "Rocky Linux:9"
//	opensuse-leap 15.5        → "openSUSE:Leap 15.5"
//	opensuse-tumbleweed       → "openSUSE:Tumbleweed"
//	mageia 9                  → "Mageia:9"
//	wolfi                     → "Wolfi"
//	chainguard                → "Chainguard"
//
// Prefixes, not exact ecosystems — callers must match advisories whose
// ecosystem starts with the returned string followed by ":" or "-" or equals it:
//
//	rhel 9.x                  → "Red Hat:enterprise_linux:9". Red Hat's OSV
//	                            records append the repository
//	                            ("Red Hat:enterprise_linux:9::baseos",
//	                            "…::appstream").
//	sles 15.5                 → "SUSE:Linux Enterprise Server 15 SP5" (sled:
//	                            "…Desktop…"). SUSE files many records under the
//	                            support-phase spelling ("…15 SP5-LTSS") or under
//	                            the SLE module that ships the package ("SUSE:Linux
//	                            Enterprise Module for Basesystem 15 SP5"), which
//	                            os-release does not tell; exact matching on this
//	                            string would miss them.
//
// No OSV ecosystem (returns ""): centos, ol (Oracle), amzn (Amazon), fedora,
// and anything unknown. CentOS is binary-compatible with RHEL, but advisories
// for RHEL do not apply version-for-version, so no mapping is made here.
// AdvisoryEcosystemIsPrefix reports whether AdvisoryEcosystem(d) is a
// prefix (Red Hat, SUSE: see AdvisoryEcosystem) rather than an exact
// ecosystem.
func AdvisoryEcosystemIsPrefix(d *inventory.Distro) bool {
	if d == nil {
		return false
	}
	switch d.ID {
	case "rhel", "sles", "sled":
		return true
	}
	return false
}

func AdvisoryEcosystem(d *inventory.Distro) string {
	if d == nil {
		return ""
	}
	rel := d.Release
	if rel == "" {
		rel = release(d)
	}
	switch d.ID {
	case "alpine":
		if strings.HasPrefix(rel, "v") {
			return "Alpine:" + rel
		}
	case "debian":
		if n, ok := debianCodenames[rel]; ok {
			rel = n
		}
		if isDigits(rel) {
			return "Debian:" + rel
		}
	case "ubuntu":
		yy, mm, ok := strings.Cut(rel, ".")
		if !ok || !isDigits(yy) || !isDigits(mm) {
			return ""
		}
		if mm == "04" && (yy[len(yy)-1]-'0')%2 == 0 {
			return "Ubuntu:" + rel + ":LTS"
		}
		return "Ubuntu:" + rel
	case "almalinux":
		if isDigits(rel) {
			return "AlmaLinux:" + rel
		}
	case "rocky":
		if isDigits(rel) {
			return "Rocky Linux:" + rel
		}
	case "rhel":
		if isDigits(rel) {
			return "Red Hat:enterprise_linux:" + rel
		}
	case "sles", "sled":
		product := "Linux Enterprise Server"
		if d.ID == "sled" {
			product = "Linux Enterprise Desktop"
		}
		major, sp, _ := strings.Cut(rel, ".")
		if !isDigits(major) {
			return ""
		}
		if sp == "" || sp == "0" {
			return "SUSE:" + product + " " + major
		}
		if !isDigits(sp) {
			return ""
		}
		return "SUSE:" + product + " " + major + " SP" + sp
	case "opensuse-leap":
		if rel != "" {
			return "openSUSE:Leap " + rel
		}
	case "opensuse-tumbleweed":
		return "openSUSE:Tumbleweed"
	case "mageia":
		if rel != "" {
			return "Mageia:" + rel
		}
	case "wolfi":
		return "Wolfi"
	case "chainguard":
		return "Chainguard"
	}
	return ""
}
