package version

import (
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
	if nestedListFirst(mv.Items, true) {
		return mvnversion.Version{}, invalid(name, v, "a '-' part that starts with a null item (0, ga, final, release) and is followed by more '-' parts")
	}
	return mv, nil
}

// mavenDotQualifier rewrites ".qualifier" after a number as "-qualifier"
// ("1.0.SNAPSHOT" → "1.0-SNAPSHOT", "3.0.0.RC1" → "3.0.0-RC1"). Maven's
// ComparableVersion reads them alike (Maven 3.8.7 prints the canonical form
// "3-rc-1" for both "3.0.0.RC1" and "3.0.0-RC1"), but go-mvn-version keeps a
// '.'-separated qualifier in the numeric list, which orders "3.0.0.RC1" after
// "3.0.0.RELEASE" and "10.9.SNAPSHOT" before "10.9-SNAPSHOT".
func mavenDotQualifier(v string) string {
	b := []byte(v)
	for i := 1; i+1 < len(b); i++ {
		next := b[i+1] | 0x20 // ASCII lower case
		if b[i] == '.' && b[i-1] >= '0' && b[i-1] <= '9' && next >= 'a' && next <= 'z' {
			b[i] = '-'
		}
	}
	return string(b)
}

// nestedListFirst reports whether a sub-list of items starts with another
// sub-list. go-mvn-version builds that when a '-' part starts with a null item
// (0, ga, final, release) and more '-' parts follow ("1-final-SNAPSHOT",
// "1-0-sp1", "1-GA-1"), and the order is then not transitive (list-versus-
// string and list-versus-null comparisons disagree): 99.9 < 99.9-sp1 <
// 99.9-final-SNAPSHOT < 99.9, and 3-sp1 < 3-0-0 = 3.0 < 3-sp1. Such versions
// are refused rather than answered inconsistently. A top-level list may start
// with a list ("0-SNAPSHOT"); that is ordinary and compares consistently.
func nestedListFirst(items mvnversion.ListItem, top bool) bool {
	if !top && len(items) > 0 {
		if _, ok := items[0].(mvnversion.ListItem); ok {
			return true
		}
	}
	for _, it := range items {
		if l, ok := it.(mvnversion.ListItem); ok && nestedListFirst(l, false) {
			return true
		}
	}
	return false
}
