package version

import (
	"regexp"
	"strings"

	"golang.org/x/mod/semver"
)

type goComparator struct{}

// Go returns the comparator for Go module versions, with the semantics of
// golang.org/x/mod/semver: a "v" prefix is added when missing (OSV Go records
// write "1.2.3"), pseudo-versions (v0.0.0-20210101000000-abcdef123456) are
// pre-releases and so order by their base and then by time, "+incompatible"
// is build metadata and ignored, and "v1.2" is v1.2.0. Go toolchain versions,
// used for the "stdlib" and "toolchain" pseudo-modules ("go1.21.3",
// "1.21rc2", "go1.9"), are converted with GoToolchainToSemver.
func Go() Comparator { return goComparator{} }

func (goComparator) Name() string { return "go" }

func (c goComparator) Compare(a, b string) (int, error) {
	sa, err := goSemver(a)
	if err != nil {
		return 0, err
	}
	sb, err := goSemver(b)
	if err != nil {
		return 0, err
	}
	return semver.Compare(sa, sb), nil
}

// goSemver returns v as a valid x/mod/semver version.
func goSemver(v string) (string, error) {
	const name = "go"
	if err := checkCommon(name, v); err != nil {
		return "", err
	}
	if strings.HasPrefix(v, "go") {
		if s := GoToolchainToSemver(v); s != "" {
			return s, nil
		}
		return "", invalid(name, v, "not a Go toolchain version")
	}
	s := v
	if !strings.HasPrefix(s, "v") {
		s = "v" + s
	}
	if semver.IsValid(s) {
		return s, nil
	}
	// "1.21rc2": a toolchain version as OSV's stdlib records write it. The
	// text after white space that GoToolchainToSemver drops is only
	// tolerated after a "go" prefix, where buildinfo puts it.
	if !strings.ContainsAny(v, " \t") {
		if s := GoToolchainToSemver(v); s != "" {
			return s, nil
		}
	}
	return "", invalid(name, v, "not a semantic version")
}

// goTagPattern matches a Go release tag without its "go" prefix: major.minor,
// an optional .patch, and an optional beta or rc number (the pattern of
// golang.org/x/pkgsite/internal/stdlib, which vulndb uses).
var goTagPattern = regexp.MustCompile(`^(\d+\.\d+)(\.\d+)?(?:(beta|rc)(\d+))?$`)

// GoToolchainToSemver converts a Go toolchain or release tag version, with or
// without the "go" prefix, to the semver form used by the Go vulnerability
// database for the "stdlib" and "toolchain" modules:
//
//	"go1.21.3" → "v1.21.3"
//	"1.21rc2"  → "v1.21.0-rc.2"
//	"go1.9"    → "v1.9.0"
//	"go1"      → "v1.0.0"
//
// Anything after white space is dropped ("go1.22.1 X:boringcrypto", as
// runtime/debug.BuildInfo reports a GOEXPERIMENT build). It returns "" when s
// is not a Go release version (e.g. "devel go1.23-abcdef").
func GoToolchainToSemver(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	tag := strings.TrimPrefix(f[0], "go")
	if tag == "1" {
		return "v1.0.0"
	}
	m := goTagPattern.FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	v := "v" + m[1]
	if m[2] != "" {
		v += m[2]
	} else {
		v += ".0"
	}
	if m[3] != "" {
		v += "-" + m[3] + "." + m[4]
	}
	if !semver.IsValid(v) {
		return "" // leading zeros, e.g. "go1.09"
	}
	return v
}
