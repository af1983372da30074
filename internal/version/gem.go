package version

import (
	"regexp"
	"strings"
)

// gemComparator is written here rather than wrapping
// github.com/aquasecurity/go-gem-version: that library splits letters into
// one-letter segments (it scans /[0-9]+|[a-zA-Z]/ where RubyGems scans
// /[0-9]+|[a-z]+/i), which orders real versions wrongly: it puts
// 1.0.0.pre after 1.0.0.preview and 1.0.a10 after 1.0.alpha, both the
// other way round in RubyGems (see TestGemLibraryDiffers). It also parses
// numbers into a uint64. The rules below follow Gem::Version#<=> in
// rubygems/lib/rubygems/version.rb and are short.
type gemComparator struct{}

// Gem returns the comparator for RubyGems versions (Gem::Version): segments
// are runs of digits or letters; a version with a letter segment is a
// pre-release and sorts before the release (1.0.0.a < 1.0.0); trailing zeros
// are ignored (1.0 == 1); "-" means ".pre.". Used for "RubyGems".
func Gem() Comparator { return gemComparator{} }

func (gemComparator) Name() string { return "gem" }

// gemPattern is Gem::Version::ANCHORED_VERSION_PATTERN (the atomic group
// "(?>…)" is a plain group here; it only affects backtracking).
var gemPattern = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$`)

var gemSegment = regexp.MustCompile(`[0-9]+|[a-zA-Z]+`)

// gemSeg is one segment: a number (digits without leading zeros, "" for 0)
// or a string.
type gemSeg struct {
	s     string
	isNum bool
}

func (c gemComparator) Compare(a, b string) (int, error) {
	sa, err := parseGem(a)
	if err != nil {
		return 0, err
	}
	sb, err := parseGem(b)
	if err != nil {
		return 0, err
	}
	zero := gemSeg{isNum: true}
	for i := 0; i < max(len(sa), len(sb)); i++ {
		l, r := zero, zero
		if i < len(sa) {
			l = sa[i]
		}
		if i < len(sb) {
			r = sb[i]
		}
		switch {
		case l == r:
			continue
		case !l.isNum && r.isNum:
			return -1, nil
		case l.isNum && !r.isNum:
			return 1, nil
		case l.isNum:
			return compareDigits(l.s, r.s), nil
		default:
			return strings.Compare(l.s, r.s), nil
		}
	}
	return 0, nil
}

// parseGem returns Gem::Version#canonical_segments.
func parseGem(v string) ([]gemSeg, error) {
	const name = "gem"
	if err := checkCommon(name, v); err != nil {
		return nil, err
	}
	if !gemPattern.MatchString(v) {
		return nil, invalid(name, v, "does not match the RubyGems version pattern")
	}
	// RubyGems reads a blank version as "0"; a blank version in an inventory
	// or advisory is a data error, so it is refused like "".
	s := strings.TrimSpace(v)
	if s == "" {
		return nil, invalid(name, v, "blank")
	}
	s = strings.ReplaceAll(s, "-", ".pre.")
	var segs []gemSeg
	for _, m := range gemSegment.FindAllString(s, -1) {
		if m[0] >= '0' && m[0] <= '9' {
			segs = append(segs, gemSeg{s: strings.TrimLeft(m, "0"), isNum: true})
		} else {
			segs = append(segs, gemSeg{s: m})
		}
	}
	// Split into the leading numeric part and the rest (from the first
	// string), drop trailing zeros from each, and join them again.
	firstStr := len(segs)
	for i, sg := range segs {
		if !sg.isNum {
			firstStr = i
			break
		}
	}
	num := dropTrailingZeros(segs[:firstStr])
	rest := dropTrailingZeros(segs[firstStr:])
	return append(num[:len(num):len(num)], rest...), nil
}

func dropTrailingZeros(segs []gemSeg) []gemSeg {
	for len(segs) > 0 && segs[len(segs)-1] == (gemSeg{isNum: true}) {
		segs = segs[:len(segs)-1]
	}
	return segs
}
