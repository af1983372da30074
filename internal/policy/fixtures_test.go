package policy

import (
	"slices"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// The reports below are built from the real fixtures in shared/data (see
// testdata/README.md): the package lists of the Alpine 3.16.9 minirootfs and
// of the AlmaLinux 9.0 micro rootfs (read with apk's installed DB and
// `rpm -qa`), and the advisories that match them (alpine-secdb v3.16 with NVD
// severity; osv/AlmaLinux with the vendor severity in the summary; the CISA
// KEV catalog; GHSA records for log4j-core). Digests are made up.

// testNow is the fixed "current time" of the tests.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func pkgID(eco, name, version string) string { return eco + "/" + name + "@" + version }

func pkgRef(p *inventory.Package) finding.PackageRef {
	r := finding.PackageRef{ID: p.ID, Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
		SourceName: p.SourceName, Path: p.PrimaryPath()}
	if p.Layer != nil {
		r.LayerIndex = p.Layer.Index
		r.LayerDiffID = p.Layer.DiffID
	}
	return r
}

func findPkg(r *report.Report, name string) *inventory.Package {
	for i := range r.Packages {
		if r.Packages[i].Name == name {
			return &r.Packages[i]
		}
	}
	panic("no package " + name)
}

// alpineReport is a scan of alpine:3.16.9: 14 apk packages, and
// CVE-2023-42366 (MEDIUM, NVD 5.5) in busybox and ssl_client 1.35.0-r17,
// fixed in 1.35.0-r18.
func alpineReport() *report.Report {
	layer := inventory.Layer{Index: 0, DiffID: "sha256:" + repeat("a1", 32)}
	const db = "/lib/apk/db/installed"
	list := [][4]string{ // name, version, origin, licence
		{"alpine-baselayout-data", "3.2.0-r23", "alpine-baselayout", "GPL-2.0-only"},
		{"musl", "1.2.3-r3", "musl", "MIT"},
		{"busybox", "1.35.0-r17", "busybox", "GPL-2.0-only"},
		{"alpine-baselayout", "3.2.0-r23", "alpine-baselayout", "GPL-2.0-only"},
		{"alpine-keys", "2.4-r1", "alpine-keys", "MIT"},
		{"ca-certificates-bundle", "20230506-r0", "ca-certificates", "MPL-2.0 AND MIT"},
		{"libcrypto1.1", "1.1.1w-r1", "openssl", "OpenSSL"},
		{"libssl1.1", "1.1.1w-r1", "openssl", "OpenSSL"},
		{"ssl_client", "1.35.0-r17", "busybox", "GPL-2.0-only"},
		{"zlib", "1.2.12-r3", "zlib", "Zlib"},
		{"apk-tools", "2.12.9-r3", "apk-tools", "GPL-2.0-only"},
		{"scanelf", "1.3.4-r0", "pax-utils", "GPL-2.0-only"},
		{"musl-utils", "1.2.3-r3", "musl", "MIT BSD GPL2+"},
		{"libc-utils", "0.7.2-r3", "libc-dev", "BSD-2-Clause AND BSD-3-Clause"},
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Image: report.Image{
			Reference: "alpine:3.16.9", Kind: "registry", Name: "docker.io/library/alpine",
			Digest:   "sha256:" + repeat("b2", 32),
			RepoTags: []string{"alpine:3.16.9"}, OS: "linux", Arch: "amd64",
			Created: time.Date(2024, 1, 27, 0, 7, 4, 0, time.UTC),
			Config: report.ImageConfig{
				Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				Cmd: []string{"/bin/sh"},
			},
			Layers: []inventory.Layer{layer},
		},
		Distro:   &inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16", PrettyName: "Alpine Linux v3.16"},
		Scanners: []string{"vuln"},
	}
	for _, a := range list {
		l := layer
		p := inventory.Package{
			ID: pkgID("apk", a[0], a[1]), Name: a[0], Version: a[1], Ecosystem: inventory.EcoAPK,
			PURL: "pkg:apk/alpine/" + a[0] + "@" + a[1] + "?arch=x86_64&distro=alpine-3.16.9",
			Arch: "x86_64", Licenses: []string{a[3]},
			Locations: []inventory.Location{{Path: db, LayerDiffID: layer.DiffID}}, Layer: &l, FoundBy: "os/apk",
		}
		if a[2] != a[0] {
			p.SourceName = a[2]
		}
		r.Packages = append(r.Packages, p)
	}
	slices.SortStableFunc(r.Packages, inventory.ComparePackages)
	for _, name := range []string{"busybox", "ssl_client"} {
		p := findPkg(r, name)
		r.Findings = append(r.Findings, finding.Finding{
			ID: "CVE-2023-42366", Package: pkgRef(p), InstalledVersion: p.Version, FixedVersion: "1.35.0-r18",
			Status: vocab.StatusFixed, Severity: vocab.SevMedium, SeveritySource: "nvd",
			CVSS:  []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", Score: 5.5, Source: "nvd"}},
			Title: "BusyBox: heap-buffer-overflow in next_token() of awk.c",
			Evidence: []finding.Evidence{{Advisory: "CVE-2023-42366", Ecosystem: "Alpine:v3.16", MatchedName: "busybox",
				MatchedBy: "source-package", Range: "<1.35.0-r18", Comparator: "apk", DataSource: "alpine-secdb/v3.16/main"}},
		})
	}
	r.Summarise()
	return r
}

// almaReport is a scan of the AlmaLinux 9.0 micro image (aarch64, 22 rpms,
// no USER): ALSA-2023:5453 (Important → HIGH, CVE-2023-4911 in CISA KEV) in
// the three glibc rpms, ALSA-2023:5071 (Moderate) in libcap and
// ALSA-2023:6698 (Moderate) in the two ncurses rpms.
func almaReport() *report.Report {
	layer := inventory.Layer{Index: 0, DiffID: "sha256:" + repeat("c3", 32)}
	const db = "/var/lib/rpm/rpmdb.sqlite"
	list := [][3]string{ // name, version-release, source rpm name
		{"almalinux-gpg-keys", "9.0-1.el9", "almalinux-release"},
		{"almalinux-release", "9.0-1.el9", "almalinux-release"},
		{"almalinux-repos", "9.0-1.el9", "almalinux-release"},
		{"basesystem", "11-13.el9", "basesystem"},
		{"bash", "5.1.8-4.el9", "bash"},
		{"coreutils-single", "8.32-31.el9", "coreutils"},
		{"filesystem", "3.16-2.el9", "filesystem"},
		{"glibc", "2.34-28.el9_0", "glibc"},
		{"glibc-common", "2.34-28.el9_0", "glibc"},
		{"glibc-minimal-langpack", "2.34-28.el9_0", "glibc"},
		{"libacl", "2.3.1-3.el9", "acl"},
		{"libattr", "2.5.1-3.el9", "attr"},
		{"libcap", "2.48-8.el9", "libcap"},
		{"libgcc", "11.2.1-6.1.el9.alma", "gcc"},
		{"libselinux", "3.3-2.el9", "libselinux"},
		{"libsepol", "3.3-2.el9", "libsepol"},
		{"ncurses-base", "6.2-8.20210508.el9", "ncurses"},
		{"ncurses-libs", "6.2-8.20210508.el9", "ncurses"},
		{"pcre2", "10.37-3.el9.1", "pcre2"},
		{"pcre2-syntax", "10.37-3.el9.1", "pcre2"},
		{"setup", "2.13.7-6.el9", "setup"},
		{"tzdata", "2022a-1.el9_0", "tzdata"},
	}
	noarch := map[string]bool{"basesystem": true, "ncurses-base": true, "pcre2-syntax": true, "setup": true, "tzdata": true}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Image: report.Image{
			Reference: "almalinux:9.0-micro", Kind: "oci-archive", Name: "docker.io/library/almalinux",
			Digest: "sha256:" + repeat("d4", 32), OS: "linux", Arch: "arm64",
			Created: time.Date(2022, 5, 7, 0, 0, 0, 0, time.UTC),
			Config:  report.ImageConfig{Cmd: []string{"/bin/bash"}},
			Layers:  []inventory.Layer{layer},
		},
		Distro:   &inventory.Distro{ID: "almalinux", VersionID: "9.0", Release: "9", PrettyName: "AlmaLinux 9.0 Beta (Emerald Puma)"},
		Scanners: []string{"vuln"},
	}
	for _, x := range list {
		arch := "aarch64"
		if noarch[x[0]] {
			arch = "noarch"
		}
		l := layer
		p := inventory.Package{
			ID: pkgID("rpm", x[0], x[1]), Name: x[0], Version: x[1], Ecosystem: inventory.EcoRPM,
			PURL:      "pkg:rpm/almalinux/" + x[0] + "@" + x[1] + "?arch=" + arch + "&distro=almalinux-9.0",
			Arch:      arch,
			Locations: []inventory.Location{{Path: db, LayerDiffID: layer.DiffID}}, Layer: &l, FoundBy: "os/rpm",
		}
		if x[2] != x[0] {
			p.SourceName = x[2]
		}
		r.Packages = append(r.Packages, p)
	}
	add := func(pkg, id string, aliases []string, sev, vendor, fixed, title string, kev bool) {
		p := findPkg(r, pkg)
		r.Findings = append(r.Findings, finding.Finding{
			ID: id, Aliases: aliases, Package: pkgRef(p), InstalledVersion: p.Version, FixedVersion: fixed,
			Status: vocab.StatusFixed, Severity: sev, SeveritySource: "vendor", VendorSeverity: vendor, KEV: kev,
			Title: title,
			Evidence: []finding.Evidence{{Advisory: id, Ecosystem: "AlmaLinux:9", MatchedName: pkg, MatchedBy: "binary-package",
				Range: ">=0, <" + fixed, Comparator: "rpm", DataSource: "osv/AlmaLinux"}},
		})
	}
	glibcCVEs := []string{"CVE-2023-4911", "CVE-2023-4527", "CVE-2023-4806", "CVE-2023-4813"}
	for _, n := range []string{"glibc", "glibc-common", "glibc-minimal-langpack"} {
		add(n, "ALSA-2023:5453", glibcCVEs, vocab.SevHigh, "Important", "2.34-60.el9_2.7", "Important: glibc security update", true)
	}
	add("libcap", "ALSA-2023:5071", []string{"CVE-2023-2603", "CVE-2023-2602"}, vocab.SevMedium, "Moderate", "2.48-9.el9_2",
		"Moderate: libcap security update", false)
	for _, n := range []string{"ncurses-base", "ncurses-libs"} {
		add(n, "ALSA-2023:6698", []string{"CVE-2023-29491"}, vocab.SevMedium, "Moderate", "6.2-10.20210508.el9",
			"Moderate: ncurses security and bug fix update", false)
	}
	r.Summarise()
	return r
}

// almaAppReport is an application image built on almaReport: a layer with
// log4j-core 2.14.1 (GHSA-jfh8-c2jp-5v3q "Log4Shell", CRITICAL, KEV, and
// GHSA-p6xc-xr62-6r2g, HIGH), a USER, an AWS key left in a file deleted by a
// later layer, and two misconfigurations.
func almaAppReport() *report.Report {
	r := almaReport()
	app := inventory.Layer{Index: 1, DiffID: "sha256:" + repeat("e5", 32)}
	clean := inventory.Layer{Index: 2, DiffID: "sha256:" + repeat("f6", 32)}
	r.Image.Reference = "registry.example.com/shop/server:1.4.2"
	r.Image.Name = "registry.example.com/shop/server"
	r.Image.Digest = "sha256:" + repeat("07", 32)
	r.Image.Created = time.Date(2025, 12, 1, 9, 30, 0, 0, time.UTC)
	r.Image.Layers = append(r.Image.Layers, app, clean)
	r.Image.Config = report.ImageConfig{
		User: "1001:1001", Entrypoint: []string{"java", "-jar", "/app/server.jar"}, WorkingDir: "/app",
		ExposedPorts: []string{"8080/tcp"},
		Labels:       map[string]string{"org.opencontainers.image.source": "https://github.com/example/shop"},
	}
	const jar = "/app/lib/log4j-core-2.14.1.jar"
	r.Packages = append(r.Packages, inventory.Package{
		ID: pkgID("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1"), Name: "org.apache.logging.log4j:log4j-core",
		Version: "2.14.1", Ecosystem: inventory.EcoMaven,
		PURL:      "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
		Licenses:  []string{"Apache-2.0"},
		Locations: []inventory.Location{{Path: jar, LayerDiffID: app.DiffID}}, Layer: &app, FoundBy: "lang/java-archive",
	})
	p := &r.Packages[len(r.Packages)-1]
	ghsa := func(id, cve, sev string, score float64, fixed, title string, kev bool) finding.Finding {
		return finding.Finding{
			ID: id, Aliases: []string{cve}, Package: pkgRef(p), InstalledVersion: p.Version, FixedVersion: fixed,
			Status: vocab.StatusFixed, Severity: sev, SeveritySource: "osv-cvss", KEV: kev, Title: title,
			CVSS:      []finding.CVSS{{Version: "3.1", Score: score, Source: "osv"}},
			Published: time.Date(2021, 12, 10, 0, 40, 56, 0, time.UTC),
			Evidence: []finding.Evidence{{Advisory: id, Ecosystem: "Maven", MatchedName: p.Name, MatchedBy: "name",
				Comparator: "maven", DataSource: "osv/Maven"}},
		}
	}
	r.Findings = append(r.Findings,
		ghsa("GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228", vocab.SevCritical, 10.0, "2.15.0", "Remote code injection in Log4j", true),
		ghsa("GHSA-p6xc-xr62-6r2g", "CVE-2021-45105", vocab.SevHigh, 7.5, "2.17.0",
			"Apache Log4j2 vulnerable to Improper Input Validation and Uncontrolled Recursion", false),
	)
	deleted := 2
	r.Secrets = []report.Secret{{
		RuleID: "aws-access-key-id", Title: "AWS Access Key ID", Severity: vocab.SevCritical, Category: "AWS",
		Source: "file", Path: "/app/.env", Line: 3, Match: "AWS_ACCESS_KEY_ID=AKIA************MPLE",
		LayerIndex: 1, LayerDiffID: app.DiffID, DeletedInLayer: &deleted,
	}}
	r.Misconfigs = []report.Misconfig{
		{ID: "DD-IMG-004", Title: "Secrets in image layers", Severity: vocab.SevHigh, CIS: "4.10",
			Evidence: []string{"/app/.env in layer 1"}},
		{ID: "DD-IMG-006", Title: "No HEALTHCHECK defined", Severity: vocab.SevLow, CIS: "4.6",
			Evidence: []string{"config.Healthcheck is empty"}},
	}
	r.Scanners = []string{"vuln", "secret", "misconfig"}
	r.Summarise()
	return r
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

// keys returns report.FindingKey of the findings of r whose package is one
// of names, in report order.
func keys(r *report.Report, id string, names ...string) []string {
	var out []string
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.ID != id {
			continue
		}
		for _, n := range names {
			if f.Package.Name == n {
				out = append(out, f.Key())
			}
		}
	}
	return out
}
