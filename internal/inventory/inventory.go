// Package inventory holds drydock's package model: what is installed in an
// image, where each package was found, and which layer introduced it.
//
// The SBOM formats (CycloneDX, SPDX) and drydock's JSON are encodings of this
// model; it serialises losslessly so that a saved inventory can be matched
// again without pulling the image.
package inventory

import (
	"cmp"
	"slices"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// Ecosystem names. OS ecosystems are the package manager; matching maps them
// to the advisory ecosystem of the distro (e.g. apk on Alpine 3.16 → "Alpine:v3.16").
const (
	EcoAPK       = vocab.EcoAPK
	EcoDpkg      = vocab.EcoDpkg
	EcoRPM       = vocab.EcoRPM
	EcoGo        = vocab.EcoGo
	EcoNPM       = vocab.EcoNPM
	EcoPyPI      = vocab.EcoPyPI
	EcoMaven     = vocab.EcoMaven
	EcoRubyGems  = vocab.EcoRubyGems
	EcoCrates    = vocab.EcoCrates
	EcoPackagist = vocab.EcoPackagist
	EcoNuGet     = vocab.EcoNuGet
)

// IsOS reports whether eco is an OS package manager ecosystem.
func IsOS(eco string) bool { return vocab.IsOSEcosystem(eco) }

// Layer describes one layer of an image, in order from the base (Index 0).
type Layer struct {
	Index     int    `json:"index"`
	DiffID    string `json:"diff_id,omitempty"`
	Digest    string `json:"digest,omitempty"`
	MediaType string `json:"media_type,omitempty"`
	Size      int64  `json:"size,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

// Distro is the operating system found in the image.
type Distro struct {
	// ID is the os-release ID: "alpine", "debian", "ubuntu", "almalinux", "rhel", "rocky", …
	ID string `json:"id"`
	// VersionID is the full version, e.g. "3.16.9", "12.15", "9.0".
	VersionID string `json:"version_id,omitempty"`
	// Release is the part advisories are keyed by: "v3.16", "12", "9", "22.04".
	Release    string   `json:"release,omitempty"`
	Codename   string   `json:"codename,omitempty"`
	PrettyName string   `json:"pretty_name,omitempty"`
	IDLike     []string `json:"id_like,omitempty"`
	// Source is the file the distro was detected from.
	Source string `json:"source,omitempty"`
}

// Location is where a package's evidence was found.
type Location struct {
	// Path inside the image, absolute, cleaned ("/lib/apk/db/installed").
	Path string `json:"path"`
	// LayerDiffID is the layer that holds this version of the file.
	LayerDiffID string `json:"layer_diff_id,omitempty"`
}

// Package is one installed (or declared) package.
type Package struct {
	// ID is stable across runs: derived from ecosystem, name, version, path.
	ID        string `json:"id"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	PURL      string `json:"purl,omitempty"`

	// SourceName/SourceVersion: the source package (dpkg Source:, apk origin,
	// rpm SOURCERPM name). OS extractors always fill them (falling back to
	// Name/Version); language packages leave them empty.
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`

	Arch     string   `json:"arch,omitempty"`
	Licenses []string `json:"licenses,omitempty"`
	Vendor   string   `json:"vendor,omitempty"`
	// Epoch for rpm (also part of Version for dpkg, as dpkg writes it).
	Epoch int `json:"epoch,omitempty"`

	// Locations: the file(s) the package was read from; the first is primary.
	Locations []Location `json:"locations"`
	// Layer is the layer that introduced this package (set by Merge).
	Layer *Layer `json:"layer,omitempty"`

	// Declared marks dependencies read from a lockfile rather than installed files.
	Declared bool `json:"declared,omitempty"`
	// Owner is the ID of the OS package whose files contain this package, if any.
	Owner string `json:"owner,omitempty"`
	// Files is the list of files an OS package owns (kept only when needed for
	// ownership; not serialised in reports).
	Files []string `json:"-"`

	// Extractor that produced the package, e.g. "os/apk".
	FoundBy string `json:"found_by,omitempty"`
	// Metadata holds extra ecosystem-specific facts (e.g. "main_module": "true",
	// "go_toolchain": "go1.22.1", "replaced_by": …). Keys are stable.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Metadata["kind"] says what a package-database entry is when it is not an
// ordinary package.
const (
	MetaKind = "kind"
	// KindFileList: a dpkg file list (/var/lib/dpkg/info/*.list), which
	// Merge folds into its package's Files and drops.
	KindFileList = "filelist"
	// KindCopyright: the licences of a Debian copyright file
	// (/usr/share/doc/<package>/copyright), which Merge copies to the dpkg
	// package of that name (or, when the package has no copyright file of
	// its own, to the packages of the same source) and drops.
	KindCopyright = "copyright"
	// KindGPGPubkey: an rpm "gpg-pubkey" entry, an OpenPGP signing key
	// imported into the rpm database (rpm --import). It is listed, as rpm -qa,
	// Syft and Trivy list it, but it is no software: never matched.
	KindGPGPubkey = "gpg-pubkey"
)

// Matchable reports whether advisories can be about p: false for entries of
// a package database that are no software (rpm gpg-pubkey signing keys,
// marked by the rpm extractor; also recognised by name in an SBOM another
// tool wrote).
func (p *Package) Matchable() bool {
	return p.Metadata[MetaKind] != KindGPGPubkey && (p.Ecosystem != EcoRPM || p.Name != "gpg-pubkey")
}

// Note is a non-fatal observation made while building the inventory: a
// malformed database that was partly read, an OS with no package database…
type Note struct {
	Level   string `json:"level"` // "info", "warning"
	Path    string `json:"path,omitempty"`
	Layer   string `json:"layer,omitempty"`
	Message string `json:"message"`
	// Extractor that made the note ("os/apk", "lang/npm"), "walk" for a file
	// the layer walker could not read, "" for the scan itself. Coverage uses
	// it to tell which ecosystem a warning leaves partly unseen.
	Extractor string `json:"extractor,omitempty"`
}

// SecretHit is a secret found in one file of one layer by a secret rule.
// Match is already redacted: a secret is never stored whole.
type SecretHit struct {
	RuleID   string `json:"rule_id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Category string `json:"category,omitempty"`
	Line     int    `json:"line,omitempty"`
	Match    string `json:"match"`
}

// Secret is a SecretHit placed in the image: the file, the layer that holds
// it and, if a later layer deleted or replaced the file, that layer (the
// secret is still readable by anyone who pulls the image).
type Secret struct {
	SecretHit
	Path           string `json:"path"`
	Layer          Layer  `json:"layer"`
	DeletedInLayer *int   `json:"deleted_in_layer,omitempty"`
}

// MalwareHit is a known-bad file found in one file of one layer: its
// content is on a hash list (or the built-in one) or an anti-virus engine
// named it.
type MalwareHit struct {
	// Engine is one of the vocab.Engine* words ("hash", "clamav").
	Engine string `json:"engine"`
	// Name is the detection: the hash list's name for the file, the
	// engine's signature ("Win.Test.EICAR_HDB-1"); "" when the list names
	// none.
	Name string `json:"name,omitempty"`
	// Source is the hash list ("builtin", "malware-hashes/full.csv") or
	// the engine and its signature version.
	Source string `json:"source,omitempty"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Malware is a MalwareHit placed in the image: the file, the layer that
// holds it and, if a later layer deleted or replaced the file, that layer
// (the file is still in the image, for anyone who pulls it).
type Malware struct {
	MalwareHit
	Path           string `json:"path"`
	Layer          Layer  `json:"layer"`
	DeletedInLayer *int   `json:"deleted_in_layer,omitempty"`
}

// Inventory is the merged view of an image (or of one layer, before Merge).
type Inventory struct {
	Distro   *Distro   `json:"distro,omitempty"`
	Packages []Package `json:"packages"`
	Notes    []Note    `json:"notes,omitempty"`
	// Secrets found by secret rules (an extractor of one file returns
	// SecretHits in Hits; Merge places them in Secrets).
	Hits    []SecretHit `json:"hits,omitempty"`
	Secrets []Secret    `json:"secrets,omitempty"`
	// Malware are the known-bad files of every layer (extractors of one
	// file return MalwareHits in FileResult.Malware; Merge places them).
	Malware []Malware `json:"malware,omitempty"`
	// Facts about the final filesystem that configuration checks need.
	Facts Facts `json:"facts,omitzero"`
	// GoBinaries are the Go executables' function tables, compacted, for Go
	// reachability (see GoSymbols).
	GoBinaries []GoBinary `json:"go_binaries,omitempty"`
}

// FileFact is a file with a notable mode.
type FileFact struct {
	Path       string `json:"path"`
	Mode       uint32 `json:"mode"` // fs.FileMode bits
	LayerIndex int    `json:"layer_index"`
}

// Facts are filesystem facts gathered during the walk from tar headers alone.
type Facts struct {
	// Setuid and setgid regular files.
	Setuid []FileFact `json:"setuid,omitempty"`
	// WorldWritable regular files outside /tmp and /var/tmp.
	WorldWritable []FileFact `json:"world_writable,omitempty"`
	// CacheBytes is the size of package-manager caches left in the image,
	// by directory ("/var/lib/apt/lists", "/var/cache/apk", …).
	CacheBytes map[string]int64 `json:"cache_bytes,omitempty"`
}

// Sort orders packages deterministically: ecosystem, name, version, path.
func (inv *Inventory) Sort() {
	slices.SortStableFunc(inv.Packages, ComparePackages)
}

// ComparePackages is the canonical package order.
func ComparePackages(a, b Package) int {
	if c := cmp.Compare(a.Ecosystem, b.Ecosystem); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	return cmp.Compare(a.PrimaryPath(), b.PrimaryPath())
}

// PrimaryPath is the path of the first location, or "".
func (p *Package) PrimaryPath() string {
	if len(p.Locations) == 0 {
		return ""
	}
	return p.Locations[0].Path
}
