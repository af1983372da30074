package version

import (
	"strings"

	rpmversion "github.com/knqyf263/go-rpm-version"
)

type rpmComparator struct{}

// RPM returns the comparator for rpm [epoch:]version[-release] strings, with
// rpmvercmp semantics: alphanumeric segments, "~" sorts before anything
// (pre-release), "^" sorts after the base version but before the next one
// (post-release snapshot). A missing epoch is 0. A missing release sorts
// before any release ("1.0" < "1.0-1"), as in go-rpm-version and unlike rpm's
// rpmverCmp, which skips the release when one side lacks it — that rule is not
// transitive ("1.0-1" = "1.0" = "1.0-2"), so it cannot back a sort order.
func RPM() Comparator { return rpmComparator{} }

func (rpmComparator) Name() string { return "rpm" }

// rpmEVR is a version split the way rpm's parseEVR splits it.
type rpmEVR struct {
	epoch string // digits without leading zeros; "" means 0
	vr    rpmversion.Version
}

func (c rpmComparator) Compare(a, b string) (int, error) {
	// github.com/knqyf263/go-rpm-version indexes segment runes without bounds
	// checks; guarded so odd input cannot crash a scan.
	return guard(c.Name(), a, b, func() (int, error) {
		va, err := parseRPM(a)
		if err != nil {
			return 0, err
		}
		vb, err := parseRPM(b)
		if err != nil {
			return 0, err
		}
		if r := compareDigits(va.epoch, vb.epoch); r != 0 {
			return r, nil
		}
		return sign(va.vr.Compare(vb.vr)), nil
	})
}

// parseRPM splits v like rpm's parseEVR: the epoch is a run of leading digits
// ended by ':', and the release follows the LAST '-'.
//
// go-rpm-version itself splits the epoch at the first ':' anywhere (so in
// "1.2:3" it would drop "1.2") and the release at the first '-'. It also
// parses the epoch with strconv.Atoi, treating overflow as 0. To get rpm's
// semantics from it, the epoch is compared here, and the library is given
// "0:VERSION-RELEASE" with any '-' inside VERSION turned into '.', which
// rpmvercmp treats the same (both are plain separators).
func parseRPM(v string) (rpmEVR, error) {
	const name = "rpm"
	if err := checkCommon(name, v); err != nil {
		return rpmEVR{}, err
	}
	if !isASCIIPrintable(v) {
		return rpmEVR{}, invalid(name, v, "contains a non-ASCII character or space")
	}
	rest := v
	var epoch string
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i < len(rest) && rest[i] == ':' {
		epoch = strings.TrimLeft(rest[:i], "0")
		rest = rest[i+1:]
	}
	ver, rel, hasRel := rest, "", false
	if j := strings.LastIndexByte(rest, '-'); j >= 0 {
		ver, rel, hasRel = rest[:j], rest[j+1:], true
	}
	if ver == "" {
		return rpmEVR{}, invalid(name, v, "empty version")
	}
	norm := "0:" + strings.ReplaceAll(ver, "-", ".")
	if hasRel {
		norm += "-" + rel
	}
	return rpmEVR{epoch: epoch, vr: rpmversion.NewVersion(norm)}, nil
}

// compareDigits compares two non-negative decimal numbers of any length,
// given without leading zeros ("" is zero).
func compareDigits(a, b string) int {
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}
