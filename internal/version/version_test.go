package version

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cmpCase is one comparison: Compare(a, b) must be want, and Compare(b, a)
// must be -want.
type cmpCase struct {
	a, b string
	want int
}

func runCases(t *testing.T, c Comparator, cases []cmpCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := c.Compare(tc.a, tc.b)
		if err != nil {
			t.Errorf("%s.Compare(%q, %q): unexpected error: %v", c.Name(), tc.a, tc.b, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s.Compare(%q, %q) = %d, want %d", c.Name(), tc.a, tc.b, got, tc.want)
		}
		rev, err := c.Compare(tc.b, tc.a)
		if err != nil {
			t.Errorf("%s.Compare(%q, %q): unexpected error: %v", c.Name(), tc.b, tc.a, err)
			continue
		}
		if rev != -tc.want {
			t.Errorf("%s.Compare(%q, %q) = %d, want %d", c.Name(), tc.b, tc.a, rev, -tc.want)
		}
	}
}

// runInvalid checks that every version in bad is refused with
// ErrInvalidVersion on either side of a comparison with the valid version ok.
func runInvalid(t *testing.T, c Comparator, ok string, bad []string) {
	t.Helper()
	if _, err := c.Compare(ok, ok); err != nil {
		t.Fatalf("%s: %q should be valid: %v", c.Name(), ok, err)
	}
	for _, v := range bad {
		for _, pair := range [][2]string{{v, ok}, {ok, v}} {
			got, err := c.Compare(pair[0], pair[1])
			if !errors.Is(err, ErrInvalidVersion) {
				t.Errorf("%s.Compare(%q, %q) = %d, %v; want an ErrInvalidVersion error", c.Name(), pair[0], pair[1], got, err)
			}
		}
	}
}

func TestFor(t *testing.T) {
	tests := map[string]string{
		// drydock inventory ecosystems
		"apk": "apk", "dpkg": "deb", "rpm": "rpm", "Go": "go", "npm": "semver", "PyPI": "pep440",
		"Maven": "maven", "RubyGems": "gem", "crates.io": "semver", "Packagist": "semver", "NuGet": "nuget",
		// OSV ecosystems, with and without release suffixes
		"Alpine:v3.16": "apk", "Alpine": "apk", "Wolfi": "apk", "Chainguard": "apk", "MinimOS": "apk",
		"Debian:12": "deb", "Debian": "deb", "Ubuntu:22.04:LTS": "deb", "Ubuntu:Pro:18.04:LTS": "deb",
		"AlmaLinux:9": "rpm", "Rocky Linux:9": "rpm", "Red Hat:rhel_aus:8.4::appstream": "rpm",
		"SUSE:Linux Enterprise Server 15 SP5": "rpm", "openSUSE:Leap 15.5": "rpm", "Photon OS:3.0": "rpm",
		"Mageia:9": "rpm", "openEuler:22.03-LTS-SP3": "rpm", "Azure Linux:3": "rpm",
		"Pub": "semver", "Hex": "semver", "SwiftURL": "semver",
		// case-insensitive
		"pypi": "pep440", "ALPINE:V3.16": "apk", "go": "go",
	}
	for eco, want := range tests {
		c, err := For(eco)
		if err != nil {
			t.Errorf("For(%q): %v", eco, err)
			continue
		}
		if c.Name() != want {
			t.Errorf("For(%q).Name() = %q, want %q", eco, c.Name(), want)
		}
	}
	for _, eco := range []string{"", "Android", "Linux", "OSS-Fuzz", "GIT", "Bitnami", ":12", "Debianx:12"} {
		c, err := For(eco)
		if !errors.Is(err, ErrUnknownEcosystem) {
			t.Errorf("For(%q) = %v, %v; want ErrUnknownEcosystem", eco, c, err)
		}
	}
	if got := SemVer().Name(); got != "semver" {
		t.Errorf("SemVer().Name() = %q", got)
	}
}

func TestDeb(t *testing.T) {
	runCases(t, Deb(), []cmpCase{
		{"1.0", "1.1", -1},
		{"1.0", "1.0", 0},
		{"1.01", "1.1", 0},              // numbers compare numerically
		{"1.0-1", "1.0-01", 0},          //
		{"0:1.0", "1.0", 0},             // missing epoch is 0
		{"1:1.0", "2.0", 1},             // epoch wins
		{"1:1.2.13.dfsg-1", "1.3-1", 1}, // zlib1g in bookworm
		{"1.0~rc1", "1.0", -1},          // ~ sorts before the end of the string
		{"1.0~~", "1.0~~a", -1},         // the dpkg manual's example chain
		{"1.0~~a", "1.0~", -1},
		{"1.0~", "1.0", -1},
		{"1.0", "1.0a", -1},
		{"1.0a", "1.0+", -1}, // letters sort before non-letters
		{"1.0", "1.0+dfsg", -1},
		{"1.0+dfsg-1", "1.0-1", 1},
		{"2.2.7-1~dfsg1", "2.2.7-1", -1},
		{"1.2-3-4", "1.2-3-3", 1},                 // the revision is after the LAST '-'
		{"1.2-3-4", "1.2-10", 1},                  // upstream "1.2-3" > "1.2" decides before the revision
		{"2.36-9+deb12u3", "2.36-9+deb12u14", -1}, // libc6 security updates
		{"2.36-9+deb12u14", "2.36-9", 1},
		{"2.35-0ubuntu3.1", "2.35-0ubuntu3.6", -1},
		{"1.2.3-1ubuntu0.20.04.1", "1.2.3-1", 1},
		{"1.2.3-1build1", "1.2.3-1", 1},
		{"1.2.3-1~deb11u1", "1.2.3-1", -1},
		{"1.2.3-1+b1", "1.2.3-1", 1},
		{"7.9p1-5", "7.9p1-10", -1},
		{"1.0+git20230101123456-1", "1.0+git20230101123457-1", -1},
		{"5.36.0-7+deb12u3", "5.36.0-7+deb12u1", 1},
		{"1.0_1", "1.0.1", 1}, // "_": dpkg warns but compares it as a non-letter, as here
	})
	runInvalid(t, Deb(), "1.0-1", []string{
		"", "a1.0", "1:", "x:1.0", ":1.0", "-1:1.0", "1.0 beta", "1.0ä", "1.0-rev@1", "1.0\n",
		"1.123456789012345678901", // more digits than int64: the library would read 0
	})
}

func TestRPM(t *testing.T) {
	runCases(t, RPM(), []cmpCase{
		// AlmaLinux fixes against the installed versions in /work/shared/data.
		{"2.34-28.el9_0", "2.34-60.el9_2.7", -1},
		{"11.2.1-6.1.el9.alma", "11.5.0-5.el9_5.alma.1", -1},
		{"6.1-9.20180224.el8", "6.1-9.20180224.el8_8.1", -1},
		{"2.28-225.el8", "2.28-225.el8_8.6", -1},
		{"6.2-8.20210508.el9", "6.2-10.20210508.el9", -1},
		{"2.48-8.el9", "2.48-9.el9_2", -1},
		{"1-el9_0", "1-el9_2", -1},
		{"2022a-1.el9_0", "2022g-1.el9_1", -1},
		{"1.17-474.module_el8.10.0+4162+0aac7c4c", "1.17-474.module_el8.10.0+3779+d5938d28", 1},
		// epochs
		{"1:2.3-4", "2.4-1", 1},
		{"0:2.3-4", "2.3-4", 0},
		{"00:1.0-1", "1.0-1", 0},
		{"99999999999999999999:1-1", "9:1-1", 1}, // any length: the library's Atoi would read 0
		{"1.2:3-1", "1.2.3-1", 0},                // not an epoch: ':' is a separator here
		// ~ (pre-release) and ^ (post-release snapshot)
		{"1.0~rc1-1", "1.0-1", -1},
		{"1.0~rc1", "1.0~rc2", -1},
		{"1.0~~", "1.0~", -1},
		{"1.0^git1", "1.0", 1},
		{"1.0^git1", "1.0.1", -1},
		{"1.0^git1", "1.0^git2", -1},
		{"1.0~rc1^git1", "1.0~rc1", 1},
		{"1.0~rc1^git1", "1.0", -1},
		{"1.0^", "1.0", 1},
		{"1.0^", "1.0a", -1},
		{"1.0^", "1.0~", 1},
		// segments
		{"1.0a", "1.0.1", -1}, // alpha before numeric
		{"1.0a", "1.0", 1},
		{"1.01-1", "1.1-1", 0},
		{"1.0-1", "1_0-1", 0}, // separators are all alike
		{"1.0-1", "1..0-1", 0},
		{"1-2-3", "1.2-3", 0}, // release after the LAST '-', as rpm's parseEVR
		{"1.0", "1.0-1", -1},  // missing release sorts first
		{"5.1.8-4.el9", "5.1.8-4.el9.0.1", -1},
		{"1.0-1.el9", "1.0-1.el9.alma", -1},
	})
	runInvalid(t, RPM(), "1.0-1", []string{"", "1:", "1:-2", "-1", "1.0 1", "1.0\t", "1.0é"})
}

func TestAPK(t *testing.T) {
	runCases(t, APK(), []cmpCase{
		{"1.35.0-r17", "1.35.0-r18", -1}, // busybox CVE-2023-42366 in Alpine 3.16
		{"1.35.0-r17", "1.35.0-r17", 0},
		{"1.35.0-r9", "1.35.0-r17", -1},
		{"1.0_alpha", "1.0_beta", -1},
		{"1.0_beta", "1.0_pre", -1},
		{"1.0_pre", "1.0_rc", -1},
		{"1.0_rc", "1.0", -1},
		{"1.0", "1.0_cvs", -1},
		{"1.0_cvs", "1.0_svn", -1},
		{"1.0_svn", "1.0_git", -1},
		{"1.0_git", "1.0_hg", -1},
		{"1.0_hg", "1.0_p", -1},
		{"1.0_rc1", "1.0_rc2", -1},
		{"1.0_p1", "1.0_p2", -1},
		{"1.0_p1", "1.0.1", -1},
		{"1.0_git20230101", "1.0_git20230102", -1},
		{"1.2.3a", "1.2.3", 1},
		{"1.2.3a", "1.2.3b", -1},
		{"1.2.3a", "1.2.4", -1},
		{"1.1.1w-r1", "1.1.1t-r0", 1}, // openssl letter releases
		{"1.0", "1.0-r0", -1},
		{"1.0.0", "1.0", 1},
		{"0", "1.2.12-r3", -1}, // secdb's "0" = never affected
		{"20230506-r0", "20230506-r1", -1},
		{"1.01", "1.1", -1},  // a leading zero makes apk-tools compare as strings
		{"1.05", "1.1", -1},  //
		{"1.0", "1.00", -1},  //
		{"1.05", "1.10", -1}, //
		{"2.12.9-r3", "2.12.10-r0", -1},
		{"1.0.0_rc95-r0", "1.0.0-r0", -1},
		{"1.0.0_rc10", "1.0.0", -1}, // runc secfix; go-apk-version says >
		{"1.0_rc", "1.0", -1},
		{"1.0_alpha_pre2", "1.0_alpha", -1},
		{"1.0~abc1", "1.0", 1},
		{"1.0~abc1", "1.0~abc2", -1},
		{"1.0~abc1-r1", "1.0~abc1-r0", 1},
		{"1.1234567890123456789", "1.1234567890123456788", 1}, // any length
		{"0.20230111.031416-r0", "0.20230111.31416-r0", -1},
	})
	runInvalid(t, APK(), "1.0-r0", []string{
		"", "a1.0", "1.0_foo", "1.0 ", "1.0-r", "1.0-x1", "1.0é",
		// real entries of Alpine's secdb (v3.x, see testdata/real/apk.txt) that apk-tools refuses
		"2021-03-27-r5", "1.11-20-r0", "10.0.11-0",
	})
}

func TestSemVer(t *testing.T) {
	runCases(t, SemVer(), []cmpCase{
		// the precedence example of semver.org, item 11
		{"1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"1.0.0-alpha.beta", "1.0.0-beta", -1},
		{"1.0.0-beta", "1.0.0-beta.2", -1},
		{"1.0.0-beta.2", "1.0.0-beta.11", -1},
		{"1.0.0-beta.11", "1.0.0-rc.1", -1},
		{"1.0.0-rc.1", "1.0.0", -1},
		{"1.0.0-x", "1.0.0-99", 1},
		{"1.0.0-RC1", "1.0.0-beta", -1}, // ASCII, as the spec says
		{"1.0.0-rc10", "1.0.0-rc9", -1}, // ASCII: "rc10" < "rc9"
		{"1.0.0+build.1", "1.0.0+build.2", 0},
		{"v1.2.3", "1.2.3", 0},
		{"=1.2.3", "1.2.3", 0},
		{"=v1.2.3", "1.2.3", 0},
		{"1.2", "1.2.0", 0},
		{"1", "1.0.0", 0},
		{"2.0.0", "1.999.999", 1},
		{"4.17.15", "4.17.21", -1}, // lodash GHSA-35jh-r3h4-6jhm
		{"1.2.0", "1.2.6", -1},     // minimist GHSA-xvch-5gv4-984h
		{"0", "0.0.1", -1},
		{"0.0.0-0", "0", -1},
	})
	runInvalid(t, SemVer(), "1.0.0", []string{
		"", "a.b.c", "1.2.3.4", "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b", "latest", "1.0.0 beta",
		"1.0.0-99999999999999999999", // a numeric identifier past uint64
	})
}

func TestPEP440(t *testing.T) {
	runCases(t, PEP440(), []cmpCase{
		{"1.0", "1.0.0", 0},
		{"1.0.0.0.1", "1.0", 1},
		{"1!0.1", "2.0", 1},
		{"1.0.dev1", "1.0a1", -1},
		{"1.0a1.dev1", "1.0a1", -1},
		{"1.0a1", "1.0b1", -1},
		{"1.0b1", "1.0rc1", -1},
		{"1.0rc1", "1.0", -1},
		{"1.0", "1.0.post1", -1},
		{"1.0.post1.dev1", "1.0.post1", -1},
		{"1.0.dev1", "1.0a1.dev1", -1},
		{"1.0", "1.0+local", -1},
		{"1.0+abc", "1.0+1", -1}, // alphanumeric local segments before numeric
		{"1.0+abc.5", "1.0+abc.10", -1},
		{"1.0+ubuntu-1", "1.0+ubuntu.1", 0}, // local separators normalise to '.'
		{"1.0alpha1", "1.0a1", 0},
		{"1.0c1", "1.0rc1", 0},
		{"1.0-1", "1.0.post1", 0},
		{"v1.0", "1.0", 0},
		{"1.0A1", "1.0a1", 0},
		{"0.1.1a", "0.1.1a0", 0},
		{"2.0.0rc5", "2.0.0", -1},
		{"3.10.0b2", "3.10.0", -1},
		{"1.0.post1", "1.1.dev0", -1},
	})
	runInvalid(t, PEP440(), "1.0", []string{
		"", "abc", "1.0+", "1..0", "1.0-foo",
		// legacy (non-PEP 440) versions from real PyPI advisories: packaging>=22 refuses them too
		"0.3.2d", "0.3m1", "0.1-bulbasaur",
	})
}

func TestMaven(t *testing.T) {
	runCases(t, Maven(), []cmpCase{
		{"1.0-alpha", "1.0-beta", -1},
		{"1.0-beta", "1.0-milestone", -1},
		{"1.0-milestone", "1.0-rc", -1},
		{"1.0-rc", "1.0-cr", 0},
		{"1.0-rc", "1.0-SNAPSHOT", -1},
		{"1.0-SNAPSHOT", "1.0", -1},
		{"1.0", "1.0-ga", 0},
		{"1.0", "1.0-final", 0},
		{"1.0", "1.0-sp", -1},
		{"1.0-sp", "1.0.1", -1},
		{"1.0-alpha", "1.0-SNAPSHOT", -1},
		{"1.0-snapshot", "1.0-SNAPSHOT", 0},
		{"2.14.1", "2.15.0", -1},     // log4j-core, GHSA-jfh8-c2jp-5v3q
		{"2.0-beta9", "2.0-rc1", -1}, // log4j-core: introduced 2.0-beta9
		{"2.0-beta9", "2.0-beta10", -1},
		{"2.0-rc1", "2.0", -1},
		{"2.0", "2.0.1", -1},
		{"2.3.1", "2.3.1.RELEASE", 0}, // "release" is an alias of "" (Maven 3.8.7 ComparableVersion)
		{"1.0.0", "1", 0},
		{"1-1", "1.1", -1},
		{"1.0a1", "1.0-alpha-1", 0},
		{"1.0-RC1", "1.0-cr1", 0},
		{"1.0-foo", "1.0-sp", 1}, // unknown qualifiers after all known ones
		{"31.1-jre", "31.1-android", 1},
		{"2.12.2", "2.12.3", -1},
		{"10.9.SNAPSHOT", "10.9-SNAPSHOT", 0}, // go-mvn-version alone says <
		// JBoss, Spring and Jetty styles (answers from Maven 3.8.7)
		{"5.1.0.Final", "5.1.0.SP1", -1},
		{"5.1.0.SP1", "5.1.1.Final", -1},
		{"3.0.0.M1", "3.0.0.RC1", -1},
		{"3.0.0.RC1", "3.0.0.RELEASE", -1},
		{"3.0.0.M1", "3.0.0-M1", 0},
		{"9.4.43", "9.4.43.v20210629", -1},
		{"9.4.43.v20210629", "9.4.44.v20210927", -1},
		{"2.0.0.Alpha1", "2.0.0.Beta1", -1},
		{"2.0.0.Beta1", "2.0.0.CR1", -1},
		{"2.0.0.CR1", "2.0.0.Final", -1},
	})
	runInvalid(t, Maven(), "1.0", []string{
		"", "1.0 beta", "1.0é", "1.0\t", "1.1234567890123456789",
		// a null '-' part followed by more parts (see parseMaven)
		"99.9-final-SNAPSHOT", "20180224.99.3-0-0", "1.11-0-sp1", "10.11.3.2-GA-1",
	})
}

func TestGem(t *testing.T) {
	runCases(t, Gem(), []cmpCase{
		{"1.0.0.a", "1.0.0", -1},
		{"1.0", "1", 0},
		{"1.0.a", "1.a", 0},
		{"1.0.0.pre", "1.0.0.preview", -1}, // go-gem-version gets these two wrong
		{"1.0.a10", "1.0.alpha", -1},
		{"7.0.0.rc1", "7.0.0.beta1", 1},
		{"7.0.0", "7.0.0.rc2", 1},
		{"1.0.0-rc1", "1.0.0.pre.rc1", 0}, // '-' means ".pre."
		{"1.0.b1", "1.0.b2", -1},
		{"1.2.3.4", "1.2.3", 1},
		{"5.2.4.3", "5.2.4.10", -1},
		{"1.a", "1.0", -1},
		{"0.9.0.b", "0.9.0.beta", -1},
		{"1.0.A", "1.0.a", -1}, // case-sensitive, by byte
		{"1.99999999999999999999999", "1.99999999999999999999998", 1},
		{" 1.0 ", "1.0", 0},
	})
	runInvalid(t, Gem(), "1.0", []string{"", "  ", "a", "1..0", "1.0_1", "1.0 beta", "1.0+1"})
}

func TestNuGet(t *testing.T) {
	runCases(t, NuGet(), []cmpCase{
		{"1.0", "1.0.0", 0},
		{"1.0.0", "1.0.0.0", 0},
		{"1.0.0.1", "1.0.0", 1},
		{"1.0.0.1", "1.0.1", -1},
		{"01.02.03", "1.2.3", 0},
		{"1.0.0-beta", "1.0.0-BETA", 0},
		{"1.0.0-beta", "1.0.0", -1},
		{"1.0.0-alpha", "1.0.0-Beta", -1}, // case-insensitive (ASCII would put "B" first)
		{"1.0.0-beta.2", "1.0.0-beta.10", -1},
		{"1.0.0-beta.1", "1.0.0-beta.a", -1},
		{"1.0.0-beta", "1.0.0-beta.1", -1},
		{"1.0.0-beta.01", "1.0.0-beta.1", 0},
		{"1.0.0+meta", "1.0.0", 0},
		{"1.0.0-rc.1+meta", "1.0.0-RC.1", 0},
		{"4.0.0-preview1.19504.10", "4.0.0", -1},
		{"13.0.1", "12.0.3", 1}, // Newtonsoft.Json
		{"1.0.0-a-b", "1.0.0-a", 1},
	})
	runInvalid(t, NuGet(), "1.0.0", []string{"", "1.2.3.4.5", "a.b", "1.0.0-", "1.0.0-beta..1", "1..2", "v1.0", "1.0.0+", "1.0.0-bét"})
}

func TestGo(t *testing.T) {
	runCases(t, Go(), []cmpCase{
		{"1.2.3", "v1.2.3", 0},
		{"v0.0.0-20210101000000-abcdef123456", "v0.1.0", -1},
		{"v0.0.0-20210101000000-abcdef123456", "v0.0.0-20210102000000-123456abcdef", -1},
		{"v1.2.4-0.20210101000000-abcdef123456", "v1.2.3", 1}, // pseudo-version after v1.2.3
		{"v1.2.4-0.20210101000000-abcdef123456", "v1.2.4", -1},
		{"v1.2.4-pre.0.20210101000000-abcdef123456", "v1.2.4-pre", 1},
		{"v2.0.0+incompatible", "v2.0.0", 0},
		{"2.6.3+incompatible", "2.7.0+incompatible", -1},
		{"v1.0.0-rc10", "v1.0.0-rc9", -1}, // semver ASCII order (runc's release candidates)
		{"1.0.0-rc93", "1.0.0", -1},
		{"v1.2", "v1.2.0", 0},
		// stdlib / toolchain versions
		{"go1.21.3", "1.21.3", 0},
		{"1.21rc2", "1.21.0", -1},
		{"go1.21rc2", "v1.21.0-rc.2", 0},
		{"go1.21rc1", "go1.21rc2", -1},
		{"go1.21beta1", "go1.21rc1", -1},
		{"go1.9", "1.9.0", 0},
		{"go1.9", "go1.10", -1},
		{"go1.21.3", "go1.21.10", -1},
		{"go1", "1.0.0", 0},
		{"go1.22.1 X:boringcrypto", "1.22.1", 0},
	})
	runInvalid(t, Go(), "v1.0.0", []string{
		"", "latest", "master", "v1.2.3.4", "go1.09", "devel go1.23-abcdef", "gox", "v1.0.0-01", "1.0.0 1",
	})
}

func TestGoToolchainToSemver(t *testing.T) {
	tests := map[string]string{
		"go1.21.3":                "v1.21.3",
		"1.21.3":                  "v1.21.3",
		"1.21rc2":                 "v1.21.0-rc.2",
		"go1.21rc2":               "v1.21.0-rc.2",
		"go1.13beta1":             "v1.13.0-beta.1",
		"go1.9":                   "v1.9.0",
		"go1":                     "v1.0.0",
		"go1.22.1 X:boringcrypto": "v1.22.1",
		"go1.09":                  "",
		"devel go1.23-abcdef":     "",
		"":                        "",
		"go":                      "",
		"v1.21.3":                 "",
		"go1.21.3.4":              "",
	}
	got := map[string]string{}
	for in := range tests {
		got[in] = GoToolchainToSemver(in)
	}
	if diff := cmp.Diff(tests, got); diff != "" {
		t.Errorf("GoToolchainToSemver (-want +got):\n%s", diff)
	}
}

// TestCommonLimits checks the limits every comparator shares.
func TestCommonLimits(t *testing.T) {
	long := strings.Repeat("1.", maxVersionLen/2) + "1" // valid everywhere but for its length
	for _, c := range allComparators() {
		if _, err := c.Compare(long, "1"); !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("%s: a %d-byte version: got %v, want ErrInvalidVersion", c.Name(), len(long), err)
		}
	}
}

// allComparators lists every comparator, in Name order.
func allComparators() []Comparator {
	return []Comparator{APK(), Deb(), Gem(), Go(), Maven(), NuGet(), PEP440(), RPM(), SemVer()}
}

// TestRegressionTriples replays triples on which a library's order was not
// transitive (found by TestOracle's sort check and the fuzz targets); each
// must now be consistent, usually because one version is refused.
func TestRegressionTriples(t *testing.T) {
	for _, tc := range []struct {
		c       Comparator
		a, b, x string
	}{
		{Maven(), "99.9", "99.9-sp1", "99.9-final-SNAPSHOT"},
		{Maven(), "20180224.99.3-sp1", "20180224.99.3-0-0", "20180224.99.3.0"},
		{Maven(), "0-foo", "0.RELEASE-0-0", "0.RELEASE"},
		{Maven(), "9", "9.ga.1", "9b2"}, // go-mvn-version alone: 9 <= 9.ga.1 <= 9b2 < 9
		{Maven(), "99", "99-sp1", "99.0.a1"},
	} {
		checkProperties(t, tc.c, tc.a, tc.b, tc.x)
	}
}
