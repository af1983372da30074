package version

import (
	apkversion "github.com/knqyf263/go-apk-version"
)

type apkComparator struct{}

// APK returns the comparator for Alpine apk versions (apk-tools version.c
// rules): digits, one trailing letter (1.2.3a), suffixes _alpha _beta _pre _rc
// (before the release) and _cvs _svn _git _hg _p (after it), and -rN package
// revisions. Used for "apk", "Alpine", "Wolfi", "Chainguard", "MinimOS".
func APK() Comparator { return apkComparator{} }

func (apkComparator) Name() string { return "apk" }

func (c apkComparator) Compare(a, b string) (int, error) {
	// github.com/knqyf263/go-apk-version: a hand-written tokenizer over a
	// bufio.Reader; guarded so odd input cannot crash a scan.
	return guard(c.Name(), a, b, func() (int, error) {
		va, err := parseAPK(a)
		if err != nil {
			return 0, err
		}
		vb, err := parseAPK(b)
		if err != nil {
			return 0, err
		}
		return sign(va.Compare(vb)), nil
	})
}

func parseAPK(v string) (apkversion.Version, error) {
	const name = "apk"
	if err := checkCommon(name, v); err != nil {
		return "", err
	}
	// The library tests digits and letters with unicode.IsDigit and
	// unicode.IsLower, so "١" or "é" would be read as a digit or letter with
	// nonsense values; apk-tools itself only knows ASCII.
	if !isASCIIPrintable(v) {
		return "", invalid(name, v, "contains a non-ASCII character or space")
	}
	// The library accumulates digits into an int without overflow checks.
	if longestDigitRun(v) > maxDigits {
		return "", invalid(name, v, "number too large")
	}
	// apk-tools accepts '-' only as the start of "-r<digits>"; the library
	// accepts '-' followed by any character.
	for i := 0; i < len(v); i++ {
		if v[i] == '-' && (i+1 >= len(v) || v[i+1] != 'r') {
			return "", invalid(name, v, `'-' not followed by "r"`)
		}
	}
	av, err := apkversion.NewVersion(v)
	if err != nil {
		return "", invalid(name, v, err.Error())
	}
	return av, nil
}
