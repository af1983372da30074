package version

import (
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

type semverComparator struct{}

// SemVer returns the Semantic Versioning 2.0 comparator, for OSV's "SEMVER"
// range type and for the npm, crates.io, Packagist, Pub, Hex and SwiftURL
// ecosystems. It tolerates a leading "v" or "=" (as npm's loose mode does) and
// short forms ("1", "1.2", taken as 1.0.0 and 1.2.0). Build metadata ("+…")
// is ignored. Pre-release identifiers compare per the spec: numeric ones
// numerically, others by ASCII, numeric before alphanumeric, a longer list
// after its prefix, and any pre-release before the release.
//
// Packagist (Composer) versions are only semver-ish: four-part versions
// (1.2.3.4) and stability flags such as "1.0.0-RC1" vs "1.0.0-beta1" (ordered
// by ASCII here, by stability in Composer) are not modelled.
func SemVer() Comparator { return semverComparator{} }

func (semverComparator) Name() string { return "semver" }

func (c semverComparator) Compare(a, b string) (int, error) {
	// github.com/Masterminds/semver/v3: regexp parser, no known panic;
	// guarded anyway.
	return guard(c.Name(), a, b, func() (int, error) {
		va, err := parseSemVer(a)
		if err != nil {
			return 0, err
		}
		vb, err := parseSemVer(b)
		if err != nil {
			return 0, err
		}
		return va.Compare(vb), nil
	})
}

func parseSemVer(v string) (*semver.Version, error) {
	const name = "semver"
	if err := checkCommon(name, v); err != nil {
		return nil, err
	}
	s := strings.TrimSpace(v)
	s = strings.TrimPrefix(s, "=")
	s = strings.TrimLeft(s, " ")
	if len(s) > 0 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	sv, err := semver.NewVersion(s)
	if err != nil {
		return nil, invalid(name, v, err.Error())
	}
	// Masterminds compares pre-release identifiers it cannot parse as a
	// uint64 as strings, so "99999999999999999999" would sort before "a" by
	// ASCII instead of as a number. No real version has such an identifier.
	for _, id := range strings.Split(sv.Prerelease(), ".") {
		if id != "" && strings.Trim(id, "0123456789") == "" {
			if _, err := strconv.ParseUint(id, 10, 64); err != nil {
				return nil, invalid(name, v, "pre-release number too large")
			}
		}
	}
	return sv, nil
}
