package secret

import (
	"path"
	"strings"
)

// DefaultMaxFileSize is the largest file scanned unless the configuration
// says otherwise.
const DefaultMaxFileSize = 10 << 20

// skipPrefixes are directories whose files are never read: package-manager
// databases and indexes, documentation, translations, time zones, public CA
// certificates and C headers. Package managers and distributions put them
// there; nothing in them is a secret of the image's owner, and they hold the
// words ("password", "token") and sample keys that cause false positives.
var skipPrefixes = [...]string{
	"/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/",
	"/usr/share/zoneinfo/", "/usr/share/i18n/", "/usr/share/common-licenses/",
	"/usr/share/lintian/", "/usr/share/X11/locale/", "/usr/lib/locale/",
	"/usr/share/ca-certificates/", "/usr/share/pki/ca-trust-source/",
	"/etc/ssl/certs/", "/etc/pki/ca-trust/extracted/", "/etc/pki/tls/certs/",
	"/usr/include/", "/usr/local/include/",
	"/var/lib/dpkg/", "/var/lib/apt/lists/", "/var/cache/apt/",
	"/lib/apk/db/", "/usr/lib/apk/db/", "/var/cache/apk/",
	"/var/lib/rpm/", "/usr/lib/sysimage/rpm/", "/var/cache/yum/", "/var/cache/dnf/",
	"/var/lib/yum/", "/var/lib/dnf/",
	"/proc/", "/sys/", "/dev/",
}

// binaryExts are file name extensions of formats that are never plain text
// (the NUL-byte sniff would reject most of them anyway, after reading them).
var binaryExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".ico": true, ".bmp": true, ".webp": true, ".tif": true, ".tiff": true,
	".svg": true, ".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true, ".pdf": true,
	".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".zst": true, ".lz4": true, ".7z": true, ".rar": true,
	".jar": true, ".war": true, ".ear": true, ".class": true, ".so": true, ".a": true, ".o": true, ".dll": true, ".exe": true,
	".pyc": true, ".pyo": true, ".whl": true, ".egg": true, ".deb": true, ".rpm": true, ".apk": true,
	".mo": true, ".gmo": true, ".wasm": true, ".node": true, ".db": true, ".sqlite": true, ".mp3": true, ".mp4": true, ".ogg": true, ".wav": true,
}

// thirdPartyDirs are roots of installed third-party code (language package
// managers, vendored trees, interpreter standard libraries). Inside them,
// tests, examples and documentation are skipped: they are published on a
// public registry and full of sample keys. Generic rules do not run there
// either (library code and docstrings are full of "password='geheim'"
// samples); rules for token formats and private keys do. An application's
// own tests (e.g. /app/tests/) are scanned: an image that ships them ships
// their secrets.
var thirdPartyDirs = [...]string{
	"/node_modules/", "/site-packages/", "/dist-packages/", "/gems/", "/vendor/",
	"/go/pkg/mod/", "/usr/local/go/", "/usr/lib/go/", "/.cargo/registry/", "/.m2/repository/",
	"/usr/lib/python2", "/usr/lib/python3", "/usr/local/lib/python3", "/usr/lib/ruby/", "/usr/share/perl",
	"/usr/lib/x86_64-linux-gnu/perl", "/usr/lib/aarch64-linux-gnu/perl", "/usr/share/javascript/",
}

// thirdPartyNoiseDirs are directory names skipped inside thirdPartyDirs.
var thirdPartyNoiseDirs = [...]string{
	"/test/", "/tests/", "/testdata/", "/testing/", "/__tests__/", "/spec/", "/specs/",
	"/fixtures/", "/fixture/", "/example/", "/examples/", "/doc/", "/docs/", "/idle_test/",
}

// thirdPartyNoiseExts are documentation, type declarations and source maps.
var thirdPartyNoiseExts = map[string]bool{".md": true, ".markdown": true, ".rst": true, ".map": true, ".txt": true, ".html": true}

// thirdPartyNoiseFiles are package metadata files that embed the package's
// README (Python's PKG-INFO and METADATA).
var thirdPartyNoiseFiles = map[string]bool{"PKG-INFO": true, "METADATA": true}

// skipPath reports whether the file at p (absolute, cleaned) is noise that is
// never scanned.
func skipPath(p string) bool {
	for _, pre := range skipPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	base := path.Base(p)
	ext := strings.ToLower(path.Ext(base))
	if binaryExts[ext] || strings.Contains(base, ".so.") {
		return true
	}
	if rest, ok := thirdPartyRest(p); ok {
		if thirdPartyNoiseExts[ext] || thirdPartyNoiseFiles[base] || strings.HasSuffix(base, ".d.ts") || isTestFile(base) ||
			strings.Contains(strings.ToLower(base), "example") {
			return true
		}
		for _, n := range thirdPartyNoiseDirs {
			if strings.Contains(rest, n) {
				return true
			}
		}
	}
	return false
}

// thirdPartyRest reports whether p is inside a third-party code directory,
// and returns the part of p below that directory.
func thirdPartyRest(p string) (string, bool) {
	for _, d := range thirdPartyDirs {
		if i := strings.Index(p, d); i >= 0 {
			return p[i+len(d):], true
		}
	}
	return "", false
}

// isTestFile reports whether a file name follows a test naming convention.
func isTestFile(base string) bool {
	return strings.HasSuffix(base, "_test.go") || strings.HasSuffix(base, "_test.py") ||
		(strings.HasPrefix(base, "test_") && strings.HasSuffix(base, ".py")) ||
		strings.HasSuffix(base, ".test.js") || strings.HasSuffix(base, ".spec.js") ||
		strings.HasSuffix(base, ".test.ts") || strings.HasSuffix(base, ".spec.ts") ||
		strings.HasSuffix(base, "_spec.rb") || strings.HasSuffix(base, "_test.rb")
}
