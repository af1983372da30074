package version

import (
	debversion "github.com/knqyf263/go-deb-version"
)

type debComparator struct{}

// Deb returns the comparator for Debian package versions
// ([epoch:]upstream_version[-debian_revision], as dpkg --compare-versions),
// used for "dpkg", "Debian" and "Ubuntu".
func Deb() Comparator { return debComparator{} }

func (debComparator) Name() string { return "deb" }

func (c debComparator) Compare(a, b string) (int, error) {
	// github.com/knqyf263/go-deb-version: no known panic; guarded anyway
	// because it indexes strings by byte.
	return guard(c.Name(), a, b, func() (int, error) {
		va, err := parseDeb(a)
		if err != nil {
			return 0, err
		}
		vb, err := parseDeb(b)
		if err != nil {
			return 0, err
		}
		// The library returns the raw difference of digits or characters,
		// not just -1/0/+1.
		return sign(va.Compare(vb)), nil
	})
}

func parseDeb(v string) (debversion.Version, error) {
	const name = "deb"
	if err := checkCommon(name, v); err != nil {
		return debversion.Version{}, err
	}
	// dpkg allows only ASCII alphanumerics and ".+-~:" (the library also
	// takes "_" and any Unicode letter; we keep "_" for tolerance of odd
	// vendor packages but refuse non-ASCII, which the library compares
	// byte-wise while validating rune-wise).
	if !isASCIIPrintable(v) {
		return debversion.Version{}, invalid(name, v, "contains a non-ASCII character or space")
	}
	// The library converts digit runs with strconv.Atoi and ignores the error,
	// so 20 nines would compare as 0.
	if longestDigitRun(v) > maxDigits {
		return debversion.Version{}, invalid(name, v, "number too large")
	}
	dv, err := debversion.NewVersion(v)
	if err != nil {
		return debversion.Version{}, invalid(name, v, err.Error())
	}
	return dv, nil
}
