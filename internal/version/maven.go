package version

import "strings"

type mavenComparator struct{}

// Maven returns the comparator for Maven versions, with the semantics of
// Maven's ComparableVersion: "." and "-" and digit/letter transitions split
// items, trailing zero/empty items are dropped (1.0 == 1), and qualifiers
// order as alpha < beta < milestone < rc = cr < snapshot < "" = ga = final =
// release < sp < any other string (case-insensitive; "a1", "b1", "m1" are
// alpha1, beta1, milestone1). So 2.3.1.RELEASE == 2.3.1 and
// 2.0-beta9 < 2.0-rc1 < 2.0 < 2.0.1.
//
// The order is a total order (reflexive, antisymmetric, transitive) on every
// version it accepts, which Maven's own ComparableVersion is not: Maven 3.8.7
// answers 0A0 < 0 < A < 0A0 and 1-0.alpha.1 < 1 < 1-sp < 1-0.alpha.1. It
// gives Maven 3.8.7's answer except where Maven keeps a qualifier inside a
// '.'-separated list ("1.SNAPSHOT.1", "99.beta-0", "1-0.alpha.1") or a
// version starts with a qualifier ("A", "a.1"): drydock reads every
// qualifier as the start of a '-' part, as Maven's version order
// specification says (".qualifier" = "-qualifier"), and a leading qualifier
// as "0-qualifier". Versions with a '-' part made only of null items (0, ga,
// final, release) followed by more parts ("1-0-sp1", "1-ga-SNAPSHOT",
// "1.0-0-0") are refused with ErrInvalidVersion, see parseMaven.
func Maven() Comparator { return mavenComparator{} }

func (mavenComparator) Name() string { return "maven" }

func (mavenComparator) Compare(a, b string) (int, error) {
	va, err := parseMaven(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseMaven(b)
	if err != nil {
		return 0, err
	}
	return va.compare(vb), nil
}

// mavenVersion is a parsed Maven version: the numbers before the first '-'
// part ("release"), then the '-' parts. A '-' part starts at a '-', at a
// digit/letter transition, and at every qualifier. Numbers are kept as
// decimal strings without leading zeros ("" is zero); trailing zeros are
// trimmed from every list of numbers, and null parts are dropped.
//
// Two versions compare as the sequences (release, part 1, part 2, …), the
// shorter padded with the null part (qualifier "", no numbers): release
// numbers and part numbers lexicographically with zero padding, parts by
// head first (any qualifier < any number; qualifiers in qualifier order,
// numbers numerically), then by their numbers. That is a lexicographic order
// over totally ordered components with a fixed padding value, hence a total
// order. On versions where Maven 3.8.7 builds the same structure (every
// qualifier first in its item list) its answers are the same: Maven orders
// a qualifier below a nested list below a number, and compares a missing
// item as "" with a qualifier, as 0 with a number.
type mavenVersion struct {
	release []string
	parts   []mavenPart
}

// mavenPart is one '-' part: a head (a qualifier or a number) and the
// '.'-separated numbers after it.
type mavenPart struct {
	qualifier bool   // head is a qualifier (canonical, see mavenQualifier), not a number
	head      string // the qualifier, or the number without leading zeros
	nums      []string
	// list says Maven 3.8.7 starts a new (nested) item list here: at a '-',
	// at a digit/letter transition, and at a qualifier that a digit follows
	// or that ends the version. Other qualifiers Maven keeps in the current
	// list ("1.SNAPSHOT.1", "1-ga.sp.1").
	list bool
}

// isNull reports whether p is made only of null items (0, "", ga, final,
// release), so that it compares equal to a missing part.
func (p mavenPart) isNull() bool { return p.head == "" && len(p.nums) == 0 }

func parseMaven(v string) (mavenVersion, error) {
	const name = "maven"
	if err := checkCommon(name, v); err != nil {
		return mavenVersion{}, err
	}
	if !isASCIIPrintable(v) {
		return mavenVersion{}, invalid(name, v, "contains a non-ASCII character or space")
	}
	// Numbers of any length compare correctly (as digit strings), but the
	// limit the other comparators share is kept: no real version needs more.
	if longestDigitRun(v) > maxDigits {
		return mavenVersion{}, invalid(name, v, "number too large")
	}
	s := strings.ToLower(v)
	var mv mavenVersion
	// add appends one token: a number (leading zeros dropped; "" is 0) or a
	// qualifier. split says a '-' or a transition came before it; a
	// qualifier always starts a part. beforeDigit says a digit follows
	// directly ("a1" is alpha-1), last that the token ends the version.
	add := func(tok string, number, split, beforeDigit, last bool) {
		first := len(mv.release) == 0 && len(mv.parts) == 0
		switch {
		case number && !split && len(mv.parts) == 0:
			mv.release = append(mv.release, strings.TrimLeft(tok, "0"))
		case number && !split:
			p := &mv.parts[len(mv.parts)-1]
			p.nums = append(p.nums, strings.TrimLeft(tok, "0"))
		case number:
			mv.parts = append(mv.parts, mavenPart{head: strings.TrimLeft(tok, "0"), list: true})
		default:
			// Maven keeps a leading qualifier in the top list ("a.1").
			mv.parts = append(mv.parts, mavenPart{
				qualifier: true,
				head:      mavenQualifier(tok, beforeDigit),
				list:      !first && (split || beforeDigit || last),
			})
		}
	}
	start, digit, split := 0, false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' || c == '-':
			add(s[start:i], digit || i == start, split, false, false) // an empty item is 0
			start, split = i+1, c == '-'
		case c >= '0' && c <= '9':
			if !digit && i > start {
				add(s[start:i], false, split, true, false)
				start, split = i, true
			}
			digit = true
		default:
			if digit && i > start {
				add(s[start:i], true, split, false, false)
				start, split = i, true
			}
			digit = false
		}
	}
	if start < len(s) {
		add(s[start:], digit, split, false, true)
	}

	mv.release = trimZeros(mv.release)
	for i := range mv.parts {
		mv.parts[i].nums = trimZeros(mv.parts[i].nums)
	}
	// Null parts are dropped: Maven trims null items at the end of each
	// item list, and its specification trims them at each '-' (1-ga-1 =
	// 1-1). But where a nested list holds only null items and more lists
	// follow, Maven 3.8.7 keeps an empty level of nesting ("1-0-alpha" is
	// [1, [[alpha]]]), which it orders inconsistently: 1-0-alpha < 1 <
	// 1-sp < 1-0-alpha. Such versions are refused rather than answered
	// unlike Maven, and so is a null '-' part followed only by null parts
	// ("1-0-0", refused since drydock wrapped go-mvn-version). The top
	// level may be null: 0-SNAPSHOT and SNAPSHOT are fine.
	parts := mv.parts[:0]
	allNull := false // the current nested list so far has only null items
	for _, p := range mv.parts {
		if p.list {
			if allNull {
				return mavenVersion{}, invalid(name, v, "a '-' part made only of null items (0, ga, final, release) is followed by more parts")
			}
			allNull = true
		}
		if !p.isNull() {
			allNull = false
			parts = append(parts, p)
		}
	}
	mv.parts = parts
	return mv, nil
}

// mavenQualifier returns the canonical spelling of a lower-case qualifier:
// "a", "b", "m" directly followed by a digit are alpha, beta, milestone; ga,
// final and release are ""; cr is rc.
func mavenQualifier(q string, beforeDigit bool) string {
	if beforeDigit {
		switch q {
		case "a":
			return "alpha"
		case "b":
			return "beta"
		case "m":
			return "milestone"
		}
	}
	switch q {
	case "ga", "final", "release":
		return ""
	case "cr":
		return "rc"
	}
	return q
}

// mavenQualifierRank orders the known qualifiers; every other one ranks after
// them and they compare among themselves by bytes.
func mavenQualifierRank(q string) int {
	switch q {
	case "alpha":
		return 0
	case "beta":
		return 1
	case "milestone":
		return 2
	case "rc":
		return 3
	case "snapshot":
		return 4
	case "":
		return 5
	case "sp":
		return 6
	}
	return 7
}

func trimZeros(nums []string) []string {
	for len(nums) > 0 && nums[len(nums)-1] == "" {
		nums = nums[:len(nums)-1]
	}
	return nums
}

func (a mavenVersion) compare(b mavenVersion) int {
	if c := compareMavenNums(a.release, b.release); c != 0 {
		return c
	}
	for i := 0; i < max(len(a.parts), len(b.parts)); i++ {
		var pa, pb mavenPart // the zero part is the null part
		pa.qualifier, pb.qualifier = true, true
		if i < len(a.parts) {
			pa = a.parts[i]
		}
		if i < len(b.parts) {
			pb = b.parts[i]
		}
		if c := pa.compare(pb); c != 0 {
			return c
		}
	}
	return 0
}

func (p mavenPart) compare(q mavenPart) int {
	var c int
	switch {
	case p.qualifier != q.qualifier:
		c = -1 // a qualifier before a number: 1-sp < 1-1
		if !p.qualifier {
			c = 1
		}
	case p.qualifier:
		rp, rq := mavenQualifierRank(p.head), mavenQualifierRank(q.head)
		c = sign(rp - rq)
		if c == 0 && rp == 7 {
			c = strings.Compare(p.head, q.head)
		}
	default:
		c = compareMavenNum(p.head, q.head)
	}
	if c != 0 {
		return c
	}
	return compareMavenNums(p.nums, q.nums)
}

// compareMavenNum compares two decimal strings without leading zeros.
func compareMavenNum(a, b string) int {
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

// compareMavenNums compares two lists of numbers, the shorter padded with
// zeros.
func compareMavenNums(a, b []string) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := compareMavenNum(x, y); c != 0 {
			return c
		}
	}
	return 0
}
