package version

import "strings"

// apkComparator implements the version rules of current apk-tools
// (src/version.c after its token_first/token_next rewrite) rather than
// wrapping github.com/knqyf263/go-apk-version. That library ports the older
// algorithm, whose leading-zero handling leaves the next token unread, so a
// pre-release suffix after a ".0" component sorts AFTER the release when no
// revision follows: "1.0.0_rc10" > "1.0.0" (Alpine's secdb lists runc fixes
// such as "1.0.0_rc10" without a revision). The old parser also accepts
// "a1.0", "1.0-r" and "-x1" for "-r1", and reads numbers into an int without
// overflow checks (see TestAPKLibraryDiffers). The rules are short:
//
//	version  = digits {"." digits} [letter [digits]] {"_" suffix [digits]} ["~" hex] ["-r" digits]
//
// Tokens compare pairwise while both versions have a token of the same kind:
// numbers numerically, except that a dotted component with a leading zero on
// either side compares as a string ("1.05" < "1.1"); letters and commit hashes
// as strings; suffixes as alpha < beta < pre < rc < (none) < cvs < svn < git <
// hg < p. When the kinds differ, a pre-release suffix sorts first; otherwise
// the version whose next token is "smaller" in the order above (digit <
// letter < suffix < … < end) is the greater one, e.g. 1.0.1 > 1.0a > 1.0_p1 > 1.0.
type apkComparator struct{}

// APK returns the comparator for Alpine apk versions: digits, one trailing
// letter (1.2.3a), suffixes _alpha _beta _pre _rc (before the release) and
// _cvs _svn _git _hg _p (after it), "~<hash>" and -rN package revisions. Used
// for "apk", "Alpine", "Wolfi", "Chainguard", "MinimOS".
func APK() Comparator { return apkComparator{} }

func (apkComparator) Name() string { return "apk" }

// apk token kinds, in apk-tools' order (the order matters for comparison).
const (
	apkInitialDigit = iota
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkCommitHash
	apkRevisionNo
	apkEnd
	apkInvalid
)

// apkSuffixes in order; index 4 ("") is "no suffix" and is never parsed.
var apkSuffixes = [...]string{"alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"}

const apkSuffixNone = 4

type apkToken struct {
	kind   int
	value  string // the token's text: digits, letter, suffix name, hash
	suffix int    // index into apkSuffixes, for apkSuffix
}

// apkTokenize splits v into tokens, ending with apkEnd, or returns false.
func apkTokenize(v string) ([]apkToken, bool) {
	i := 0
	digits := func() string {
		j := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		return v[j:i]
	}
	first := digits()
	if first == "" {
		return nil, false
	}
	toks := []apkToken{{kind: apkInitialDigit, value: first}}
	prev := apkInitialDigit
	for i < len(v) {
		var t apkToken
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z':
			if prev > apkDigit {
				return nil, false
			}
			t = apkToken{kind: apkLetter, value: v[i : i+1]}
			i++
		case c == '.' || c >= '0' && c <= '9':
			if c == '.' {
				if prev > apkDigit {
					return nil, false
				}
				i++
			}
			switch prev {
			case apkInitialDigit, apkDigit:
				t.kind = apkDigit
			case apkLetter:
				// "6.6.2p1": current apk-tools refuses digits after the
				// letter, apk-tools 2.x read them as one more number, and
				// Alpine's secdb still lists such fixes (openssh
				// "6.6.2p1-r0" from v3.11 to edge), so they are kept.
				t.kind = apkDigit
			case apkSuffix:
				t.kind = apkSuffixNo
			default:
				return nil, false
			}
			if t.value = digits(); t.value == "" {
				return nil, false
			}
		case c == '_':
			if prev > apkSuffixNo {
				return nil, false
			}
			i++
			j := i
			for i < len(v) && v[i] >= 'a' && v[i] <= 'z' {
				i++
			}
			t = apkToken{kind: apkSuffix, value: v[j:i], suffix: -1}
			for k, s := range apkSuffixes {
				if k != apkSuffixNone && s == t.value {
					t.suffix = k
				}
			}
			if t.suffix < 0 {
				return nil, false
			}
		case c == '~':
			if prev >= apkCommitHash {
				return nil, false
			}
			i++
			j := i
			for i < len(v) && isHexDigit(v[i]) {
				i++
			}
			if i == j {
				return nil, false
			}
			t = apkToken{kind: apkCommitHash, value: v[j:i]}
		case c == '-':
			if prev >= apkRevisionNo || !strings.HasPrefix(v[i:], "-r") {
				return nil, false
			}
			i += 2
			t.kind = apkRevisionNo
			if t.value = digits(); t.value == "" {
				return nil, false
			}
		default:
			return nil, false
		}
		toks = append(toks, t)
		prev = t.kind
	}
	return append(toks, apkToken{kind: apkEnd}), true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// compareAPKToken compares two tokens of the same kind.
func compareAPKToken(a, b apkToken) int {
	switch a.kind {
	case apkDigit:
		if a.value[0] == '0' || b.value[0] == '0' {
			return strings.Compare(a.value, b.value) // Gentoo's rule for leading zeros
		}
		return compareDigits(a.value, b.value)
	case apkInitialDigit, apkSuffixNo, apkRevisionNo:
		return compareDigits(strings.TrimLeft(a.value, "0"), strings.TrimLeft(b.value, "0"))
	case apkSuffix:
		return sign(a.suffix - b.suffix)
	default: // letter, commit hash
		return strings.Compare(a.value, b.value)
	}
}

func (c apkComparator) Compare(a, b string) (int, error) {
	ta, err := parseAPK(a)
	if err != nil {
		return 0, err
	}
	tb, err := parseAPK(b)
	if err != nil {
		return 0, err
	}
	i := 0
	for ; ta[i].kind == tb[i].kind && ta[i].kind < apkEnd; i++ {
		if r := compareAPKToken(ta[i], tb[i]); r != 0 {
			return r, nil
		}
	}
	x, y := ta[i], tb[i]
	switch {
	case x.kind == y.kind:
		return 0, nil
	case x.kind == apkSuffix && x.suffix < apkSuffixNone:
		return -1, nil
	case y.kind == apkSuffix && y.suffix < apkSuffixNone:
		return 1, nil
	}
	return sign(y.kind - x.kind), nil
}

func parseAPK(v string) ([]apkToken, error) {
	const name = "apk"
	if err := checkCommon(name, v); err != nil {
		return nil, err
	}
	toks, ok := apkTokenize(v)
	if !ok {
		return nil, invalid(name, v, "not an apk version (digits{.digits}[letter[N]]{_suffix[N]}[~hash][-rN])")
	}
	return toks, nil
}
