package version

import (
	"strings"

	mvnversion "github.com/masahiro331/go-mvn-version"
)

type mavenComparator struct{}

// Maven returns the comparator for Maven versions, with the semantics of
// Maven's ComparableVersion: "." and "-" and digit/letter transitions split
// items, trailing zero/empty items are dropped (1.0 == 1), and qualifiers
// order as alpha < beta < milestone < rc = cr < snapshot < "" = ga = final =
// release < sp < any other string (case-insensitive; "a1", "b1", "m1" are
// alpha1, beta1, milestone1). So 2.3.1.RELEASE == 2.3.1 and
// 2.0-beta9 < 2.0-rc1 < 2.0 < 2.0.1.
func Maven() Comparator { return mavenComparator{} }

func (mavenComparator) Name() string { return "maven" }

func (c mavenComparator) Compare(a, b string) (int, error) {
	// github.com/masahiro331/go-mvn-version: its parser walks runes but slices
	// the string by rune index, which can panic on non-ASCII input (refused
	// below); guarded anyway.
	return guard(c.Name(), a, b, func() (int, error) {
		va, err := parseMaven(a)
		if err != nil {
			return 0, err
		}
		vb, err := parseMaven(b)
		if err != nil {
			return 0, err
		}
		return sign(va.Compare(vb)), nil
	})
}

func parseMaven(v string) (mvnversion.Version, error) {
	const name = "maven"
	if err := checkCommon(name, v); err != nil {
		return mvnversion.Version{}, err
	}
	if !isASCIIPrintable(v) {
		return mvnversion.Version{}, invalid(name, v, "contains a non-ASCII character or space")
	}
	// The library parses numbers with strconv.Atoi and ignores the error, so
	// every number past 2^63 would clamp to the same value.
	if longestDigitRun(v) > maxDigits {
		return mvnversion.Version{}, invalid(name, v, "number too large")
	}
	mv, err := mvnversion.NewVersion(mavenDotQualifier(v))
	if err != nil {
		return mvnversion.Version{}, invalid(name, v, err.Error())
	}
	return mv, nil
}

// mavenDotQualifier rewrites a trailing ".qualifier" as "-qualifier"
// made of letters only ("1.0.SNAPSHOT" → "1.0-SNAPSHOT"), as Maven's
// ComparableVersion does (checked against Maven 3.8.7, which prints the
// canonical form "1.0-snapshot" for both). go-mvn-version keeps the '.' form
// apart and orders it first, so "10.9.SNAPSHOT" < "10.9-SNAPSHOT" there.
// Maven keeps a '.' before a qualifier that is followed by more items
// ("1.alpha.1"), so only the last segment is rewritten.
func mavenDotQualifier(v string) string {
	i := strings.LastIndexAny(v, ".-")
	if i <= 0 || v[i] != '.' || i+1 >= len(v) {
		return v
	}
	for j := i + 1; j < len(v); j++ {
		if c := v[j] | 0x20; c < 'a' || c > 'z' {
			return v // a digit follows: Maven splits there anyway
		}
	}
	return v[:i] + "-" + v[i+1:]
}
