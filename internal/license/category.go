package license

import "strings"

// Category is how restrictive a licence is, in the groups Trivy reports
// (its pkg/licensing/expression/category.go, ported from Google's
// licenseclassifier license_type.go). Trivy gives each a severity:
// forbidden CRITICAL, restricted HIGH, reciprocal MEDIUM, notice,
// permissive and unencumbered LOW, unknown UNKNOWN.
type Category string

// The categories, from the most to the least restrictive.
const (
	Forbidden    Category = "forbidden"
	Restricted   Category = "restricted"
	Reciprocal   Category = "reciprocal"
	Notice       Category = "notice"
	Permissive   Category = "permissive"
	Unencumbered Category = "unencumbered"
	Unknown      Category = "unknown"
)

// Categories lists the categories from the most to the least restrictive.
func Categories() []Category {
	return []Category{Forbidden, Restricted, Reciprocal, Notice, Permissive, Unencumbered, Unknown}
}

// Severity is the severity Trivy gives a licence of the category.
func (c Category) Severity() string {
	switch c {
	case Forbidden:
		return "CRITICAL"
	case Restricted:
		return "HIGH"
	case Reciprocal:
		return "MEDIUM"
	case Notice, Permissive, Unencumbered:
		return "LOW"
	}
	return "UNKNOWN"
}

// CategoryOf returns the category of one licence of an expression ("MIT",
// "GPL-2.0-or-later", "GPL-3.0-or-later WITH GCC-exception-3.1",
// "LicenseRef-BSD"). The version suffixes "-only", "-or-later" and "+" do
// not change the category, nor does an exception (as in Trivy).
func CategoryOf(id string) Category {
	base, _, _ := strings.Cut(id, " WITH ")
	base = strings.TrimSuffix(base, "+")
	base = strings.TrimSuffix(base, "-only")
	base = strings.TrimSuffix(base, "-or-later")
	b := strings.ToUpper(base)
	switch {
	// Creative Commons families first: their prefixes overlap.
	case strings.HasPrefix(b, "CC-BY-NC-"):
		return ccVersioned(b, Forbidden)
	case strings.HasPrefix(b, "CC-BY-ND-"), strings.HasPrefix(b, "CC-BY-SA-"):
		return ccVersioned(b, Restricted)
	case strings.HasPrefix(b, "CC-BY-") && !strings.Contains(b[len("CC-BY-"):], "-"):
		return ccVersioned(b, Notice)
	}
	switch b {
	case "AGPL-1.0", "AGPL-3.0", "COMMONS-CLAUSE", "FACEBOOK-2-CLAUSE", "FACEBOOK-3-CLAUSE", "FACEBOOK-EXAMPLES", "WTFPL":
		return Forbidden
	case "BCL", "GPL-1.0", "GPL-2.0", "GPL-3.0", "LGPL-2.0", "LGPL-2.1", "LGPL-3.0", "NPL-1.0", "NPL-1.1",
		"OSL-1.0", "OSL-1.1", "OSL-2.0", "OSL-2.1", "OSL-3.0", "QPL-1.0", "SLEEPYCAT",
		// Deprecated SPDX ids Trivy lists.
		"GPL-2.0-WITH-AUTOCONF-EXCEPTION", "GPL-2.0-WITH-BISON-EXCEPTION", "GPL-2.0-WITH-CLASSPATH-EXCEPTION",
		"GPL-2.0-WITH-FONT-EXCEPTION", "GPL-2.0-WITH-GCC-EXCEPTION", "GPL-3.0-WITH-AUTOCONF-EXCEPTION",
		"GPL-3.0-WITH-GCC-EXCEPTION",
		// Not SPDX ids, but every GPL and LGPL version is restricted.
		"LICENSEREF-GPL", "LICENSEREF-LGPL":
		return Restricted
	case "APSL-1.0", "APSL-1.1", "APSL-1.2", "APSL-2.0", "CDDL-1.0", "CDDL-1.1", "CPL-1.0", "EPL-1.0", "EPL-2.0",
		"FREEIMAGE", "IPL-1.0", "MPL-1.0", "MPL-1.1", "MPL-2.0", "RUBY",
		"LICENSEREF-MPL":
		return Reciprocal
	case "AFL-1.1", "AFL-1.2", "AFL-2.0", "AFL-2.1", "AFL-3.0", "APACHE-1.0", "APACHE-1.1", "APACHE-2.0",
		"ARTISTIC-1.0-CL8", "ARTISTIC-1.0-PERL", "ARTISTIC-1.0", "ARTISTIC-2.0", "BSL-1.0", "BSD-1-CLAUSE",
		"BSD-2-CLAUSE-FREEBSD", "BSD-2-CLAUSE-NETBSD", "BSD-2-CLAUSE", "BSD-3-CLAUSE-ATTRIBUTION", "BSD-3-CLAUSE-CLEAR",
		"BSD-3-CLAUSE-LBNL", "BSD-3-CLAUSE", "BSD-4-CLAUSE", "BSD-4-CLAUSE-UC", "BSD-PROTECTION", "FTL", "ISC",
		"IMAGEMAGICK", "LIBPNG", "LIL-1.0", "LINUX-OPENIB", "LPL-1.02", "LPL-1.0", "MS-PL", "MIT", "NCSA", "OPENSSL",
		"PHP-3.01", "PHP-3.0", "PIL", "PYTHON-2.0", "PYTHON-2.0-COMPLETE", "POSTGRESQL", "SGI-B-1.0", "SGI-B-1.1",
		"SGI-B-2.0", "UNICODE-DFS-2015", "UNICODE-DFS-2016", "UNICODE-TOU", "UPL-1.0", "W3C-19980720",
		"W3C-20150513", "W3C", "X11", "XNET", "ZEND-2.0", "ZLIB-ACKNOWLEDGEMENT", "ZLIB", "ZPL-1.1", "ZPL-2.0",
		"ZPL-2.1",
		// Not an SPDX id, but every BSD licence is in the notice group.
		"LICENSEREF-BSD":
		return Notice
	case "CC0-1.0", "UNLICENSE", "0BSD",
		// drydock's reading: public domain asks nothing.
		"LICENSEREF-PUBLIC-DOMAIN":
		return Unencumbered
	}
	// Trivy's permissive group is empty.
	return Unknown
}

// ccVersioned gives a Creative Commons licence its category when its
// version is one Trivy lists (1.0, 2.0, 2.5, 3.0, 4.0).
func ccVersioned(b string, c Category) Category {
	switch b[strings.LastIndex(b, "-")+1:] {
	case "1.0", "2.0", "2.5", "3.0", "4.0":
		return c
	}
	return Unknown
}

// Rank orders categories from the most restrictive (0) to unknown.
func (c Category) Rank() int {
	for i, x := range Categories() {
		if x == c {
			return i
		}
	}
	return len(Categories())
}
