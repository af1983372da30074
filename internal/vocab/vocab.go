// Package vocab holds the words every stage of drydock shares: severity
// levels, finding statuses, annotation kinds, ecosystem names and the
// PURL-type ↔ ecosystem table.
//
// It is a leaf: it imports nothing of drydock and holds no mutable state, so
// the extractors, the matcher, policy, the writers and the server can all
// speak the same words without importing one another.
package vocab

import (
	"strings"
)

// Severity levels, highest first. Vendor words ("Important", "medium"…) are
// normalised to these by NormalizeSeverity; the vendor's own word is kept
// beside them.
const (
	SevCritical   = "CRITICAL"
	SevHigh       = "HIGH"
	SevMedium     = "MEDIUM"
	SevLow        = "LOW"
	SevNegligible = "NEGLIGIBLE"
	SevUnknown    = "UNKNOWN"
)

// Severities returns the levels from highest to lowest (a new slice each call).
func Severities() []string {
	return []string{SevCritical, SevHigh, SevMedium, SevLow, SevNegligible, SevUnknown}
}

// SeverityRank orders severities: CRITICAL=5 … NEGLIGIBLE=1, UNKNOWN (and
// anything else) 0.
func SeverityRank(s string) int {
	switch s {
	case SevCritical:
		return 5
	case SevHigh:
		return 4
	case SevMedium:
		return 3
	case SevLow:
		return 2
	case SevNegligible:
		return 1
	}
	return 0
}

// IsSeverity reports whether s is one of the levels.
func IsSeverity(s string) bool {
	return SeverityRank(s) > 0 || s == SevUnknown
}

// NormalizeSeverity maps vendor words (Red Hat "Important", Debian
// "unimportant", GHSA "moderate"…) to drydock's levels.
func NormalizeSeverity(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return SevCritical
	case "important", "high":
		return SevHigh
	case "moderate", "medium":
		return SevMedium
	case "low":
		return SevLow
	case "negligible", "unimportant":
		return SevNegligible
	}
	return SevUnknown
}

// SeverityFromScore maps a CVSS base score to a level (the CVSS v3
// qualitative scale).
func SeverityFromScore(score float64) string {
	switch {
	case score >= 9.0:
		return SevCritical
	case score >= 7.0:
		return SevHigh
	case score >= 4.0:
		return SevMedium
	case score > 0:
		return SevLow
	}
	return SevUnknown
}

// Status of a finding as the vendor describes it.
const (
	StatusFixed    = "fixed"    // a fixed version exists
	StatusAffected = "affected" // no fix published yet
	StatusWontFix  = "wont_fix" // the vendor will not fix it
)

// Annotation kinds: what a stage after matching says about a finding (or a
// secret or misconfiguration) without rewriting it.
const (
	// AnnotationSuppressed: an ignore rule, a VEX statement or
	// --ignore-unfixed took the finding out of the count.
	AnnotationSuppressed = "suppressed"
	// AnnotationFiltered: outside the selected severities (--severity).
	AnnotationFiltered = "filtered"
	// AnnotationVEX: a VEX statement about the finding (Status holds the
	// VEX status).
	AnnotationVEX = "vex"
	// AnnotationKEV: listed in the CISA Known Exploited Vulnerabilities
	// catalog.
	AnnotationKEV = "kev"
	// AnnotationReachability: whether the vulnerable code is present in
	// the executable (Status: one of the Reachability* words). Present is
	// not reachable: drydock does not follow calls.
	AnnotationReachability = "reachability"
	// AnnotationBaseImage: the package comes from the image's base image.
	AnnotationBaseImage = "base-image"
	// AnnotationOwnLayer: the package comes from one of the image's own
	// layers (after its base's), when the base-image attribution ran; the
	// reason names the layer and the Dockerfile step that made it.
	AnnotationOwnLayer = "own-layer"
	// AnnotationIgnoredInPart: an ignore entry names some, not all, of the
	// CVEs of a finding that carries several (a vendor advisory); Status
	// says which ("ignored (CVE-2023-4911)"). The finding still counts.
	AnnotationIgnoredInPart = "ignored-in-part"
)

// Malware kinds (finding.Malware.Kind): what a malware finding is about.
const (
	// MalwarePackage: an installed package that a malicious-package record
	// names (OpenSSF's MAL- records, served in OSV's per-ecosystem archives).
	MalwarePackage = "package"
	// MalwareFile: a file whose content is known bad (a hash list, the
	// built-in EICAR test file, or an anti-virus engine's signature).
	MalwareFile = "file"
)

// Malware engines (finding.Malware.Engine): what found it.
const (
	// EngineRecord: a malicious-package record in the advisory database.
	EngineRecord = "malicious-package-record"
	// EngineHash: the file's SHA-256 is on a hash list (or the built-in
	// one).
	EngineHash = "hash"
	// EngineClamAV: ClamAV's daemon (clamd) reported a signature.
	EngineClamAV = "clamav"
)

// Reachability words: the Status of an AnnotationReachability, from the
// most to the least evidence that vulnerable code is there.
const (
	// ReachabilitySymbolPresent: a vulnerable function (one the advisory
	// lists, or any function of a package it lists without naming any) is
	// present in the executable, compiled or inlined.
	ReachabilitySymbolPresent = "symbol-present"
	// ReachabilityPackageImported: a vulnerable package is present, none
	// of its listed vulnerable functions is.
	ReachabilityPackageImported = "package-imported"
	// ReachabilityModuleOnly: only the module is known to be present: the
	// advisory lists no packages or symbols, or none of its packages (for
	// the executable's platform) is in the executable.
	ReachabilityModuleOnly = "module-only"
	// ReachabilityUnknown: the executable's functions are not known
	// (Reason says why: built before Go 1.18, obfuscated, unreadable, no
	// function table in the result).
	ReachabilityUnknown = "unknown"
)

// Ecosystem names. OS ecosystems are the package manager; matching maps them
// to the advisory ecosystem of the distro (apk on Alpine 3.16 →
// "Alpine:v3.16"). Language ecosystems are OSV's names.
const (
	EcoAPK       = "apk"
	EcoDpkg      = "dpkg"
	EcoRPM       = "rpm"
	EcoGo        = "Go"
	EcoNPM       = "npm"
	EcoPyPI      = "PyPI"
	EcoMaven     = "Maven"
	EcoRubyGems  = "RubyGems"
	EcoCrates    = "crates.io"
	EcoPackagist = "Packagist"
	EcoNuGet     = "NuGet"
)

// IsOSEcosystem reports whether eco is an OS package manager ecosystem.
func IsOSEcosystem(eco string) bool {
	return eco == EcoAPK || eco == EcoDpkg || eco == EcoRPM
}

// PURL types (https://github.com/package-url/purl-spec types), one per
// ecosystem.
const (
	PURLTypeAPK      = "apk"
	PURLTypeDeb      = "deb"
	PURLTypeRPM      = "rpm"
	PURLTypeGolang   = "golang"
	PURLTypeNPM      = "npm"
	PURLTypePyPI     = "pypi"
	PURLTypeMaven    = "maven"
	PURLTypeGem      = "gem"
	PURLTypeCargo    = "cargo"
	PURLTypeComposer = "composer"
	PURLTypeNuGet    = "nuget"
)

// purlTypes is the PURL type of each ecosystem. Read only.
func purlTypes() [][2]string {
	return [][2]string{
		{EcoAPK, PURLTypeAPK},
		{EcoDpkg, PURLTypeDeb},
		{EcoRPM, PURLTypeRPM},
		{EcoGo, PURLTypeGolang},
		{EcoNPM, PURLTypeNPM},
		{EcoPyPI, PURLTypePyPI},
		{EcoMaven, PURLTypeMaven},
		{EcoRubyGems, PURLTypeGem},
		{EcoCrates, PURLTypeCargo},
		{EcoPackagist, PURLTypeComposer},
		{EcoNuGet, PURLTypeNuGet},
	}
}

// EcosystemOfPURLType maps a PURL type (case-insensitive) to the ecosystem,
// or "" for a type drydock does not know.
func EcosystemOfPURLType(t string) string {
	t = strings.ToLower(t)
	for _, e := range purlTypes() {
		if e[1] == t {
			return e[0]
		}
	}
	return ""
}

// PURLTypeOf maps an ecosystem to its PURL type, or "".
func PURLTypeOf(eco string) string {
	for _, e := range purlTypes() {
		if e[0] == eco {
			return e[1]
		}
	}
	return ""
}

// Coverage states: how well the advisory database covers what the scan
// found, per advisory ecosystem (see result.Coverage).
const (
	// CoverageComplete: the database holds advisories for the ecosystem and
	// every package database was read whole.
	CoverageComplete = "complete"
	// CoveragePartial: advisories exist, but a package database or file
	// could not be read whole: some packages may be missing.
	CoveragePartial = "partial"
	// CoverageNoAdvisories: drydock knows where advisories for the
	// ecosystem come from, but the database has none (a source not
	// imported, a mirror without it).
	CoverageNoAdvisories = "no-advisories"
	// CoverageUnsupported: no advisory source exists for it (an unknown or
	// unsupported distribution, Alpine edge, no version comparator).
	CoverageUnsupported = "unsupported"
	// CoverageExcluded: the scan was told not to match these packages
	// (--pkg-types): whatever they hold is not reported.
	CoverageExcluded = "excluded"
)
