// Package distro decides, once for the whole program, what advisories a
// detected operating system is covered by: the release key advisories are
// filed under ("v3.16", "12", "9", "22.04", "edge") and the OSV advisory
// ecosystem ("Alpine:v3.16", "Debian:12", "Red Hat:enterprise_linux:9").
//
// Fresh scans (the os-release detector) and SBOM re-scans (CycloneDX and
// SPDX from drydock, Syft or Trivy) both call it, so the same image is
// matched against the same advisories whichever way it arrives.
package distro

import (
	"strings"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// Release returns the part of d's version advisories are keyed by:
//
//   - alpine: "v<major>.<minor>" ("3.16.9" → "v3.16"); edge snapshots
//     (VERSION_ID "3.21.0_alpha20240807", or PRETTY_NAME "… edge") → "edge".
//   - debian: the major ("12.15" → "12"); testing/unstable without a
//     number → the codename ("trixie", "sid").
//   - ubuntu: VERSION_ID as is ("22.04").
//   - rhel, centos, almalinux, rocky, ol: the major ("9.0" → "9").
//   - amzn: "2", "2023"; Amazon Linux 1 ("2018.03") → "1".
//   - fedora, mageia: VERSION_ID as is.
//   - sles, sled, opensuse-leap: VERSION_ID ("15.5").
//   - rolling distributions (wolfi, chainguard, opensuse-tumbleweed, arch):
//     "".
//   - anything else: VERSION_ID.
func Release(d *inventory.Distro) string {
	if d == nil {
		return ""
	}
	v := d.VersionID
	switch d.ID {
	case "alpine":
		if strings.Contains(v, "_alpha") || strings.HasSuffix(d.PrettyName, " edge") {
			return "edge"
		}
		if parts := strings.SplitN(v, ".", 3); len(parts) >= 2 && isDigits(parts[0]) && isDigits(parts[1]) {
			return "v" + parts[0] + "." + parts[1]
		}
		return ""
	case "debian":
		if major, _, _ := strings.Cut(v, "."); isDigits(major) {
			return major
		}
		return d.Codename
	case "rhel", "centos", "almalinux", "rocky", "ol":
		if major, _, _ := strings.Cut(v, "."); isDigits(major) {
			return major
		}
		return ""
	case "amzn":
		if strings.Contains(v, ".") {
			// Amazon Linux 1 is versioned by date: "2018.03".
			return "1"
		}
		return v
	case "wolfi", "chainguard", "opensuse-tumbleweed", "arch":
		return ""
	}
	return v
}

// DebianNumber returns the release number of a Debian codename ("bookworm"
// → "12"), or "" (sid has none).
func DebianNumber(codename string) string {
	switch codename {
	case "buzz":
		return "1.1"
	case "rex":
		return "1.2"
	case "bo":
		return "1.3"
	case "hamm":
		return "2.0"
	case "slink":
		return "2.1"
	case "potato":
		return "2.2"
	case "woody":
		return "3.0"
	case "sarge":
		return "3.1"
	case "etch":
		return "4"
	case "lenny":
		return "5"
	case "squeeze":
		return "6"
	case "wheezy":
		return "7"
	case "jessie":
		return "8"
	case "stretch":
		return "9"
	case "buster":
		return "10"
	case "bullseye":
		return "11"
	case "bookworm":
		return "12"
	case "trixie":
		return "13"
	case "forky":
		return "14"
	case "duke":
		return "15"
	}
	return ""
}

// AdvisoryEcosystemIsPrefix reports whether AdvisoryEcosystem(d) is a
// prefix (Red Hat, SUSE: see AdvisoryEcosystem) rather than an exact
// ecosystem.
func AdvisoryEcosystemIsPrefix(d *inventory.Distro) bool {
	if d == nil {
		return false
	}
	switch d.ID {
	case "rhel", "sles", "sled":
		return true
	}
	return false
}

// AdvisoryEcosystem returns the OSV ecosystem advisories for d are filed
// under, or "" if OSV has none for it (or d is nil or has no usable release).
// d.Release is used when set, else Release(d).
//
// Exact ecosystems (OSV compares them for equality):
//
//	alpine 3.16.9             → "Alpine:v3.16"
//	alpine edge               → "Alpine:edge"   (the Alpine secdb's edge branch; OSV has none)
//	debian 12 / trixie        → "Debian:12" / "Debian:13" (codenames mapped; sid → "")
//	ubuntu 22.04              → "Ubuntu:22.04:LTS" (OSV marks LTS releases; an
//	                            LTS is an even-year April release: YY.04 with YY even)
//	ubuntu 23.10              → "Ubuntu:23.10"
//	almalinux 9.x             → "AlmaLinux:9"
//	rocky 9.x                 → "Rocky Linux:9"
//	opensuse-leap 15.5        → "openSUSE:Leap 15.5"
//	opensuse-tumbleweed       → "openSUSE:Tumbleweed"
//	mageia 9                  → "Mageia:9"
//	wolfi                     → "Wolfi"
//	chainguard                → "Chainguard"
//
// Prefixes, not exact ecosystems — callers must match advisories whose
// ecosystem starts with the returned string followed by ":" or "-" or equals it:
//
//	rhel 9.x                  → "Red Hat:enterprise_linux:9". Red Hat's OSV
//	                            records append the repository
//	                            ("Red Hat:enterprise_linux:9::baseos",
//	                            "…::appstream").
//	sles 15.5                 → "SUSE:Linux Enterprise Server 15 SP5" (sled:
//	                            "…Desktop…"). SUSE files many records under the
//	                            support-phase spelling ("…15 SP5-LTSS") or under
//	                            the SLE module that ships the package ("SUSE:Linux
//	                            Enterprise Module for Basesystem 15 SP5"), which
//	                            os-release does not tell; exact matching on this
//	                            string would miss them.
//
// No OSV ecosystem (returns ""): centos, ol (Oracle), amzn (Amazon), fedora,
// and anything unknown. CentOS is binary-compatible with RHEL, but advisories
// for RHEL do not apply version-for-version, so no mapping is made here.
func AdvisoryEcosystem(d *inventory.Distro) string {
	if d == nil {
		return ""
	}
	rel := d.Release
	if rel == "" {
		rel = Release(d)
	}
	switch d.ID {
	case "alpine":
		if strings.HasPrefix(rel, "v") || rel == "edge" {
			return "Alpine:" + rel
		}
	case "debian":
		if n := DebianNumber(rel); n != "" {
			rel = n
		}
		if isDigits(rel) {
			return "Debian:" + rel
		}
	case "ubuntu":
		yy, mm, ok := strings.Cut(rel, ".")
		if !ok || !isDigits(yy) || !isDigits(mm) {
			return ""
		}
		if mm == "04" && (yy[len(yy)-1]-'0')%2 == 0 {
			return "Ubuntu:" + rel + ":LTS"
		}
		return "Ubuntu:" + rel
	case "almalinux":
		if isDigits(rel) {
			return "AlmaLinux:" + rel
		}
	case "rocky":
		if isDigits(rel) {
			return "Rocky Linux:" + rel
		}
	case "rhel":
		if isDigits(rel) {
			return "Red Hat:enterprise_linux:" + rel
		}
	case "sles", "sled":
		product := "Linux Enterprise Server"
		if d.ID == "sled" {
			product = "Linux Enterprise Desktop"
		}
		major, sp, _ := strings.Cut(rel, ".")
		if !isDigits(major) {
			return ""
		}
		if sp == "" || sp == "0" {
			return "SUSE:" + product + " " + major
		}
		if !isDigits(sp) {
			return ""
		}
		return "SUSE:" + product + " " + major + " SP" + sp
	case "opensuse-leap":
		if rel != "" {
			return "openSUSE:Leap " + rel
		}
	case "opensuse-tumbleweed":
		return "openSUSE:Tumbleweed"
	case "mageia":
		if rel != "" {
			return "Mageia:" + rel
		}
	case "wolfi":
		return "Wolfi"
	case "chainguard":
		return "Chainguard"
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
