package version

import (
	"strings"
)

// nugetComparator is written here: there is no maintained Go library for
// NuGet.Versioning, and the rules are small. It follows NuGet's
// VersionComparer (VersionComparison.Default): up to four numeric parts
// (missing ones are 0, leading zeros allowed), a release sorts after its
// pre-releases, pre-release labels compare one by one — numeric labels
// numerically and before alphanumeric ones, alphanumeric labels
// case-insensitively — a longer label list after its prefix, and build
// metadata ignored.
type nugetComparator struct{}

// NuGet returns the comparator for NuGet package versions (SemVer 2.0 with an
// optional fourth "revision" part and case-insensitive pre-release labels).
// Used for "NuGet".
func NuGet() Comparator { return nugetComparator{} }

func (nugetComparator) Name() string { return "nuget" }

type nugetVersion struct {
	nums   [4]string // without leading zeros; "" is 0
	labels []string
}

func (c nugetComparator) Compare(a, b string) (int, error) {
	va, err := parseNuGet(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseNuGet(b)
	if err != nil {
		return 0, err
	}
	for i := range va.nums {
		if r := compareDigits(va.nums[i], vb.nums[i]); r != 0 {
			return r, nil
		}
	}
	switch {
	case len(va.labels) == 0 && len(vb.labels) == 0:
		return 0, nil
	case len(va.labels) == 0:
		return 1, nil
	case len(vb.labels) == 0:
		return -1, nil
	}
	for i := 0; i < min(len(va.labels), len(vb.labels)); i++ {
		if r := compareNuGetLabel(va.labels[i], vb.labels[i]); r != 0 {
			return r, nil
		}
	}
	return sign(len(va.labels) - len(vb.labels)), nil
}

func compareNuGetLabel(a, b string) int {
	an, bn := isDigits(a), isDigits(b)
	switch {
	case an && bn:
		return compareDigits(strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0"))
	case an:
		return -1
	case bn:
		return 1
	}
	// StringComparer.OrdinalIgnoreCase upper-cases both sides.
	return strings.Compare(strings.ToUpper(a), strings.ToUpper(b))
}

func parseNuGet(v string) (nugetVersion, error) {
	const name = "nuget"
	if err := checkCommon(name, v); err != nil {
		return nugetVersion{}, err
	}
	s := strings.TrimSpace(v)
	s, meta, hasMeta := strings.Cut(s, "+")
	if hasMeta && !validIdentifiers(meta) {
		return nugetVersion{}, invalid(name, v, "invalid build metadata")
	}
	s, pre, hasPre := strings.Cut(s, "-")
	var out nugetVersion
	if hasPre {
		if !validIdentifiers(pre) {
			return nugetVersion{}, invalid(name, v, "invalid pre-release label")
		}
		out.labels = strings.Split(pre, ".")
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return nugetVersion{}, invalid(name, v, "more than four numeric parts")
	}
	for i, p := range parts {
		if !isDigits(p) {
			return nugetVersion{}, invalid(name, v, "numeric part is not a number")
		}
		out.nums[i] = strings.TrimLeft(p, "0")
	}
	return out, nil
}

// validIdentifiers reports whether s is a non-empty dot-separated list of
// non-empty [0-9A-Za-z-] identifiers (SemVer 2.0 pre-release and build
// metadata syntax; NuGet allows leading zeros in numeric labels).
func validIdentifiers(s string) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
	}
	return true
}

// isDigits reports whether s is a non-empty run of ASCII digits.
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
