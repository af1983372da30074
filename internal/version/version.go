// Package version compares package versions the way each ecosystem's own
// tooling does, so that the vulnerability matcher can evaluate OSV ranges
// ("introduced"/"fixed"/"last_affected") against installed versions.
//
// Every comparator is stateless and safe for concurrent use. An unparseable
// version is reported as an error wrapping ErrInvalidVersion; no input makes a
// comparator panic (library panics are recovered and turned into errors).
package version

import (
	"errors"
	"fmt"
	"strings"
)

// Comparator compares two versions of one ecosystem.
type Comparator interface {
	// Compare returns -1, 0, +1. An unparseable version is an error (never a panic).
	Compare(a, b string) (int, error)
	// Name is one of "deb", "rpm", "apk", "semver", "pep440", "maven", "gem", "nuget", "go".
	Name() string
}

var (
	// ErrInvalidVersion is wrapped by every error about a version string that
	// cannot be parsed in the comparator's ecosystem.
	ErrInvalidVersion = errors.New("invalid version")
	// ErrUnknownEcosystem is wrapped by For's error for an ecosystem it has no
	// comparator for.
	ErrUnknownEcosystem = errors.New("unknown ecosystem")
)

// maxVersionLen bounds the input we hand to the libraries. Real versions are
// well under 200 bytes; the bound keeps hostile input (a 1 MB "version" in a
// package database) from costing quadratic time in regexp-based parsers.
const maxVersionLen = 512

// comparatorFor maps the lower-cased base name (the part before the first
// ':') of drydock inventory ecosystems and OSV ecosystem strings to a
// comparator. It is a switch, not a package-level map, so that there is no
// package-level mutable state.
func comparatorFor(base string) Comparator {
	switch base {
	// dpkg-based distributions.
	case "dpkg", "deb", "debian", "ubuntu":
		return Deb()
	// rpm-based distributions.
	case "rpm", "almalinux", "rocky linux", "red hat", "suse", "opensuse", "photon os",
		"mageia", "openeuler", "azure linux", "mariner", "centos", "fedora",
		"oracle linux", "amazon linux":
		return RPM()
	// apk-based distributions.
	case "apk", "alpine", "wolfi", "chainguard", "minimos", "alpaquita":
		return APK()
	// Semantic Versioning 2.0 ecosystems. Packagist (Composer) is only
	// semver-ish: see the package documentation of SemVer.
	case "npm", "crates.io", "packagist", "pub", "hex", "swifturl", "semver":
		return SemVer()
	case "pypi":
		return PEP440()
	case "maven":
		return Maven()
	case "rubygems":
		return Gem()
	case "nuget":
		return NuGet()
	case "go":
		return Go()
	}
	return nil
}

// For returns the comparator for an OSV ecosystem or drydock ecosystem name.
// It accepts drydock's inventory ecosystems ("apk", "dpkg", "rpm", "Go",
// "npm", "PyPI", "Maven", "RubyGems", "crates.io", "Packagist", "NuGet") and
// OSV ecosystem strings with or without a release suffix ("Alpine:v3.16",
// "Debian:12", "Ubuntu:22.04:LTS", "AlmaLinux:9", "Rocky Linux:9",
// "Red Hat:rhel_aus:8.4::appstream", "SUSE:…", "openSUSE:…", "Wolfi",
// "Chainguard", "Photon OS:3.0", "Mageia:9", "openEuler:22.03-LTS", …).
// Names are matched case-insensitively. An unknown ecosystem is an error
// wrapping ErrUnknownEcosystem.
func For(ecosystem string) (Comparator, error) {
	base, _, _ := strings.Cut(ecosystem, ":")
	base = strings.ToLower(strings.TrimSpace(base))
	if c := comparatorFor(base); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("finding version comparator for ecosystem %q: %w", ecosystem, ErrUnknownEcosystem)
}

// invalid builds the error for an unparseable version.
func invalid(name, v, why string) error {
	return fmt.Errorf("parsing %s version %q: %s: %w", name, v, why, ErrInvalidVersion)
}

// checkCommon rejects input no ecosystem accepts: empty, over-long, or
// containing control characters.
func checkCommon(name, v string) error {
	if v == "" {
		return invalid(name, v, "empty")
	}
	if len(v) > maxVersionLen {
		return invalid(name, v[:32]+"…", fmt.Sprintf("longer than %d bytes", maxVersionLen))
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return invalid(name, v, "contains a control character")
		}
	}
	return nil
}

// isASCIIPrintable reports whether v holds only printable ASCII, no space.
func isASCIIPrintable(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// longestDigitRun returns the length of the longest run of ASCII digits in v,
// not counting leading zeros of a run. Several libraries parse digit runs into
// int or uint64 and silently clamp or wrap on overflow, which breaks ordering
// (e.g. go-deb-version ignores the strconv error and uses 0); callers reject
// runs longer than maxDigits instead.
func longestDigitRun(v string) int {
	longest, run, leading := 0, 0, true
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			if leading && c == '0' {
				continue
			}
			leading = false
			run++
			longest = max(longest, run)
		default:
			run, leading = 0, true
		}
	}
	return longest
}

// maxDigits is the longest digit run (without leading zeros) accepted by
// comparators whose library keeps numbers in a 64-bit integer: 18 digits fit
// in an int64 with room for the subtraction go-deb-version does.
const maxDigits = 18

// sign maps any integer to -1, 0 or +1.
func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// guard runs a library comparison, turning a panic into an error. Callers say
// in a comment which library they are guarding.
func guard(name, a, b string, f func() (int, error)) (res int, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = 0, fmt.Errorf("comparing %s versions %q and %q: library panic: %v: %w", name, a, b, r, ErrInvalidVersion)
		}
	}()
	return f()
}
