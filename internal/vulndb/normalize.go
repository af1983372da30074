package vulndb

import (
	"strings"
	"unicode/utf8"
)

// NormalizeName returns the key a package name is stored and looked up by in
// an ecosystem:
//   - PyPI: PEP 503 (lower case, runs of "-", "_", "." become "-");
//   - NuGet and Packagist: lower case (both registries are case-insensitive);
//   - everything else (npm, Go, Maven, RubyGems, crates.io, distros): as is.
func NormalizeName(ecosystem, name string) string {
	switch baseEcosystem(ecosystem) {
	case "PyPI":
		return pep503(name)
	case "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

// baseEcosystem is the ecosystem without its release: "AlmaLinux:9" →
// "AlmaLinux", "Ubuntu:22.04:LTS" → "Ubuntu".
func baseEcosystem(eco string) string {
	if i := strings.IndexByte(eco, ':'); i >= 0 {
		return eco[:i]
	}
	return eco
}

func pep503(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			if !sep {
				b.WriteByte('-')
			}
			sep = true
			continue
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
