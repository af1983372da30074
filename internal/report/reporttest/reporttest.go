// Package reporttest builds realistic reports for the tests of the report
// writers and the SBOM encoders.
//
// The package lists (names, versions, origins, licences) come from real
// images: the Alpine 3.16.9 minirootfs and the AlmaLinux 9.0 micro rootfs in
// shared/data, the Debian 12.15 minbase status file of the dpkg extractor's
// testdata. Digests, layer sizes and the application layers of the
// AlmaLinux image are made up but shaped like real ones. The findings are the
// real advisories for those versions (CVE-2023-42366 in busybox 1.35.0-r17;
// ALSA-2023:5453 / CVE-2023-4911 "Looney Tunables" in glibc 2.34-28.el9_0).
package reporttest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// CreatedAt is the fixed creation time of every fixture report.
var CreatedAt = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// Tool is the fixed producer of every fixture report.
var Tool = report.Tool{Name: "drydock", Version: "0.1.0-test"}

// ID derives a fixture package ID the way inventories do (a short hash of
// what identifies the package), without depending on the extractors.
func ID(eco, name, version, arch, path string) string {
	h := sha256.New()
	for _, s := range []string{eco, name, version, arch, path} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func digest(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return "sha256:" + hex.EncodeToString(h[:])
}

func ref(p *inventory.Package) finding.PackageRef {
	r := finding.PackageRef{
		ID: p.ID, Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
		SourceName: p.SourceName, Path: p.PrimaryPath(), Owner: p.Owner,
	}
	if p.Layer != nil {
		r.LayerIndex = p.Layer.Index
		r.LayerDiffID = p.Layer.DiffID
	}
	return r
}

func find(pkgs []inventory.Package, name string) *inventory.Package {
	for i := range pkgs {
		if pkgs[i].Name == name {
			return &pkgs[i]
		}
	}
	return nil
}

// Alpine returns the report of a scan of alpine:3.16.9: 14 apk packages and
// the two CVE-2023-42366 findings (busybox and ssl_client 1.35.0-r17, fixed
// in 1.35.0-r18, MEDIUM 5.5 from NVD).
func Alpine() *report.Report {
	layer := inventory.Layer{
		Index:     0,
		DiffID:    digest("alpine-3.16.9-diff"),
		Digest:    digest("alpine-3.16.9-blob"),
		MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
		Size:      2807953,
		CreatedBy: "/bin/sh -c #(nop) ADD file:8f8b2c5b0e5f2c9b7e0e3d4b0c1c5b9e8c3e1f0a4b3c2d1e0f9a8b7c6d5e4f3a in / ",
	}
	const db = "/lib/apk/db/installed"
	type apk struct{ name, version, origin, license string }
	list := []apk{
		{"alpine-baselayout", "3.2.0-r23", "alpine-baselayout", "GPL-2.0-only"},
		{"alpine-baselayout-data", "3.2.0-r23", "alpine-baselayout", "GPL-2.0-only"},
		{"alpine-keys", "2.4-r1", "alpine-keys", "MIT"},
		{"apk-tools", "2.12.9-r3", "apk-tools", "GPL-2.0-only"},
		{"busybox", "1.35.0-r17", "busybox", "GPL-2.0-only"},
		{"ca-certificates-bundle", "20230506-r0", "ca-certificates", "MPL-2.0 AND MIT"},
		{"libc-utils", "0.7.2-r3", "libc-dev", "BSD-2-Clause AND BSD-3-Clause"},
		{"libcrypto1.1", "1.1.1w-r1", "openssl", "OpenSSL"},
		{"libssl1.1", "1.1.1w-r1", "openssl", "OpenSSL"},
		{"musl", "1.2.3-r3", "musl", "MIT"},
		{"musl-utils", "1.2.3-r3", "musl", "MIT BSD GPL2+"},
		{"scanelf", "1.3.4-r0", "pax-utils", "GPL-2.0-only"},
		{"ssl_client", "1.35.0-r17", "busybox", "GPL-2.0-only"},
		{"zlib", "1.2.12-r3", "zlib", "Zlib"},
	}
	var pkgs []inventory.Package
	for _, a := range list {
		l := layer
		p := inventory.Package{
			ID:        ID(inventory.EcoAPK, a.name, a.version, "x86_64", db),
			Name:      a.name,
			Version:   a.version,
			Ecosystem: inventory.EcoAPK,
			PURL:      "pkg:apk/alpine/" + a.name + "@" + a.version + "?arch=x86_64&distro=alpine-3.16.9",
			Arch:      "x86_64",
			Licenses:  []string{a.license},
			Locations: []inventory.Location{{Path: db, LayerDiffID: layer.DiffID}},
			Layer:     &l,
			FoundBy:   "os/apk",
		}
		if a.origin != a.name {
			p.SourceName = a.origin
		}
		pkgs = append(pkgs, p)
	}

	published := time.Date(2023, 11, 27, 23, 15, 7, 0, time.UTC)
	modified := time.Date(2024, 11, 21, 8, 22, 14, 0, time.UTC)
	alpineFinding := func(p *inventory.Package) finding.Finding {
		return finding.Finding{
			ID:               "CVE-2023-42366",
			Package:          ref(p),
			InstalledVersion: p.Version,
			FixedVersion:     "1.35.0-r18",
			Status:           vocab.StatusFixed,
			Severity:         vocab.SevMedium,
			SeveritySource:   "nvd",
			CVSS: []finding.CVSS{{
				Version: "3.1", Vector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", Score: 5.5, Source: "nvd",
			}},
			Title:       "BusyBox: heap-buffer-overflow in next_token() of awk.c",
			Description: "A heap-buffer-overflow was discovered in BusyBox v.1.36.1 in the next_token function at awk.c:1159.",
			References: []string{
				"https://nvd.nist.gov/vuln/detail/CVE-2023-42366",
				"https://bugs.busybox.net/show_bug.cgi?id=15874",
			},
			Published: published,
			Modified:  modified,
			Evidence: []finding.Evidence{{
				Advisory:       "CVE-2023-42366",
				Ecosystem:      "Alpine:v3.16",
				MatchedName:    "busybox",
				MatchedBy:      "source-package",
				Range:          "<1.35.0-r18",
				Comparator:     "apk",
				DataSource:     "alpine-secdb/v3.16/main",
				DataSourceDate: time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC),
			}},
		}
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          Tool,
		CreatedAt:     CreatedAt,
		Image: report.Image{
			Reference:    "alpine:3.16.9",
			Kind:         "registry",
			Name:         "docker.io/library/alpine",
			Digest:       digest("alpine-3.16.9-manifest"),
			ConfigDigest: digest("alpine-3.16.9-config"),
			RepoTags:     []string{"alpine:3.16.9"},
			RepoDigests:  []string{"alpine@" + digest("alpine-3.16.9-index")},
			OS:           "linux",
			Arch:         "amd64",
			Created:      time.Date(2024, 1, 27, 0, 7, 4, 0, time.UTC),
			Config: report.ImageConfig{
				Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				Cmd: []string{"/bin/sh"},
			},
			Layers: []inventory.Layer{layer},
			History: []report.History{
				{Created: time.Date(2024, 1, 27, 0, 7, 4, 0, time.UTC), CreatedBy: layer.CreatedBy, LayerIndex: 0},
				{Created: time.Date(2024, 1, 27, 0, 7, 4, 0, time.UTC), CreatedBy: `/bin/sh -c #(nop)  CMD ["/bin/sh"]`, EmptyLayer: true, LayerIndex: -1},
			},
		},
		Distro: &inventory.Distro{
			ID: "alpine", VersionID: "3.16.9", Release: "v3.16", PrettyName: "Alpine Linux v3.16", Source: "/etc/os-release",
		},
		Packages: pkgs,
		Findings: []finding.Finding{alpineFinding(find(pkgs, "busybox")), alpineFinding(find(pkgs, "ssl_client"))},
		Database: &report.Database{
			BuiltAt: time.Date(2026, 1, 14, 6, 0, 0, 0, time.UTC),
			Sources: []string{"alpine-secdb", "nvd"},
		},
		Scanners: []string{"vuln"},
	}
	r.Findings[1].Evidence[0].MatchedBy = "source-package"
	r.Verdict = &report.Verdict{
		Pass:     true,
		ExitCode: 0,
		Warnings: []report.RuleResult{{
			RuleID:  "fixable-medium",
			Action:  "warn",
			Message: "2 MEDIUM findings have a fix available: upgrade busybox to 1.35.0-r18",
			Targets: []string{r.Findings[0].Key(), r.Findings[1].Key()},
		}},
	}
	r.Summarise()
	return r
}

// AlmaLinux returns the report of a scan of an application image built on
// AlmaLinux 9.0 micro: rpm packages, a Go binary, an npm package owned by the
// nodejs rpm and a declared npm dependency; findings including glibc
// ALSA-2023:5453 (CVE-2023-4911, in CISA KEV) and a VEX-suppressed stdlib
// finding; a secret, two misconfigurations and a failed policy.
func AlmaLinux() *report.Report {
	layers := []inventory.Layer{
		{
			Index: 0, DiffID: digest("alma-base-diff"), Digest: digest("alma-base-blob"),
			MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 4398112,
			CreatedBy: "ADD almalinux-9-docker-aarch64-micro.tar.xz / # buildkit", Comment: "buildkit.dockerfile.v0",
		},
		{
			Index: 1, DiffID: digest("alma-node-diff"), Digest: digest("alma-node-blob"),
			MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 31457280,
			CreatedBy: "RUN /bin/sh -c rpm -i --nodeps /tmp/rpms/*.rpm && rm -rf /tmp/rpms # buildkit", Comment: "buildkit.dockerfile.v0",
		},
		{
			Index: 2, DiffID: digest("alma-app-diff"), Digest: digest("alma-app-blob"),
			MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 9123456,
			CreatedBy: "COPY app/ /app/ # buildkit", Comment: "buildkit.dockerfile.v0",
		},
	}
	const rpmdb = "/var/lib/rpm/rpmdb.sqlite"
	const distroQ = "&distro=almalinux-9.0"
	type rpm struct {
		name, version, source, license string
		epoch, layer                   int
	}
	rpms := []rpm{
		{"bash", "5.1.8-4.el9", "", "GPLv3+", 0, 0},
		{"glibc", "2.34-28.el9_0", "", "LGPLv2+ and LGPLv2+ with exceptions and GPLv2+ and GPLv2+ with exceptions and BSD and Inner-Net and ISC and Public Domain and GFDL", 0, 0},
		{"libcap", "2.48-8.el9", "", "BSD or GPLv2", 0, 0},
		{"libgcc", "11.2.1-6.1.el9.alma", "gcc", "GPLv3+ and GPLv3+ with exceptions and GPLv2+ with exceptions and LGPLv2+ and BSD", 0, 0},
		{"ncurses-base", "6.2-8.20210508.el9", "ncurses", "MIT", 0, 0},
		{"ncurses-libs", "6.2-8.20210508.el9", "ncurses", "MIT", 0, 0},
		{"openssl-libs", "3.0.1-20.el9_0", "openssl", "ASL 2.0", 1, 0},
		{"pcre2", "10.37-3.el9.1", "", "BSD", 0, 0},
		{"tzdata", "2022a-1.el9_0", "", "Public Domain", 0, 0},
		{"nodejs", "16.14.0-2.module_el9+3+9b2a3d8d", "nodejs", "MIT and ASL 2.0 and ISC and BSD", 1, 1},
	}
	var pkgs []inventory.Package
	for _, x := range rpms {
		arch := "aarch64"
		if x.name == "tzdata" || x.name == "ncurses-base" {
			arch = "noarch"
		}
		l := layers[x.layer]
		purl := "pkg:rpm/almalinux/" + x.name + "@" + x.version + "?arch=" + arch + distroQ
		if x.epoch != 0 {
			purl = "pkg:rpm/almalinux/" + x.name + "@" + x.version + "?arch=" + arch + distroQ + "&epoch=1"
		}
		p := inventory.Package{
			ID:        ID(inventory.EcoRPM, x.name, x.version, arch, rpmdb),
			Name:      x.name,
			Version:   x.version,
			Ecosystem: inventory.EcoRPM,
			PURL:      purl,
			Arch:      arch,
			Licenses:  []string{x.license},
			Vendor:    "AlmaLinux",
			Epoch:     x.epoch,
			Locations: []inventory.Location{{Path: rpmdb, LayerDiffID: layers[x.layer].DiffID}},
			Layer:     &l,
			FoundBy:   "os/rpm",
		}
		if x.source != "" {
			p.SourceName = x.source // same version as the binary package: SourceVersion stays empty
		}
		pkgs = append(pkgs, p)
	}
	// The nodejs rpm ships npm under /usr/lib/node_modules.
	nodeID := find(pkgs, "nodejs").ID
	l1, l2 := layers[1], layers[2]
	const npmPath = "/usr/lib/node_modules/npm/package.json"
	pkgs = append(pkgs, inventory.Package{
		ID: ID(inventory.EcoNPM, "npm", "8.3.1", "", npmPath), Name: "npm", Version: "8.3.1", Ecosystem: inventory.EcoNPM,
		PURL: "pkg:npm/npm@8.3.1", Licenses: []string{"Artistic-2.0"},
		Locations: []inventory.Location{{Path: npmPath, LayerDiffID: l1.DiffID}}, Layer: &l1,
		Owner: nodeID, FoundBy: "lang/npm-package",
	})
	const lock = "/app/package-lock.json"
	pkgs = append(pkgs, inventory.Package{
		ID: ID(inventory.EcoNPM, "lodash", "4.17.20", "", lock), Name: "lodash", Version: "4.17.20", Ecosystem: inventory.EcoNPM,
		PURL: "pkg:npm/lodash@4.17.20", Licenses: []string{"MIT"},
		Locations: []inventory.Location{{Path: lock, LayerDiffID: l2.DiffID}}, Layer: &l2,
		Declared: true, FoundBy: "lang/npm-lock",
		Metadata: map[string]string{"lockfile_version": "3", "dev": "false"},
	})
	const bin = "/app/bin/server"
	gomod := func(name, version string, md map[string]string) inventory.Package {
		return inventory.Package{
			ID: ID(inventory.EcoGo, name, version, "", bin), Name: name, Version: version, Ecosystem: inventory.EcoGo,
			PURL:      "pkg:golang/" + name + "@" + version,
			Locations: []inventory.Location{{Path: bin, LayerDiffID: l2.DiffID}}, Layer: &l2,
			FoundBy: "lang/go-binary", Metadata: md,
		}
	}
	pkgs = append(pkgs,
		gomod("example.com/shop/server", "v1.4.2", map[string]string{"main_module": "true", "go_toolchain": "go1.21.1"}),
		gomod("golang.org/x/net", "v0.15.0", nil),
		gomod("stdlib", "go1.21.1", map[string]string{"go_toolchain": "go1.21.1"}),
	)
	pkgs[len(pkgs)-1].PURL = "pkg:golang/stdlib@go1.21.1"

	glibc, libcap, ncurses := find(pkgs, "glibc"), find(pkgs, "libcap"), find(pkgs, "ncurses-libs")
	xnet, stdlib, lodash := find(pkgs, "golang.org/x/net"), find(pkgs, "stdlib"), find(pkgs, "lodash")
	osvAlma := func(id, pkg, fixed string) []finding.Evidence {
		return []finding.Evidence{{
			Advisory: id, Ecosystem: "AlmaLinux:9", MatchedName: pkg, MatchedBy: "binary-package",
			Range: ">=0, <" + fixed, Comparator: "rpm", DataSource: "osv/AlmaLinux",
			DataSourceDate: time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC),
		}}
	}
	osvGo := func(id, pkg, fixed string) []finding.Evidence {
		return []finding.Evidence{{
			Advisory: id, Ecosystem: "Go", MatchedName: pkg, MatchedBy: "name",
			Range: ">=0, <" + fixed, Comparator: "semver", DataSource: "osv/Go",
			DataSourceDate: time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC),
		}}
	}
	findings := []finding.Finding{
		{
			ID: "ALSA-2023:5453", Aliases: []string{"CVE-2023-4911"}, Package: ref(glibc),
			InstalledVersion: glibc.Version, FixedVersion: "2.34-60.el9_2.7", Status: vocab.StatusFixed,
			Severity: vocab.SevHigh, SeveritySource: "vendor", VendorSeverity: "Important",
			CVSS:  []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", Score: 7.8, Source: "nvd"}},
			KEV:   true,
			Title: "Important: glibc security update",
			Description: "A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so while processing the " +
				"GLIBC_TUNABLES environment variable. This issue could allow a local attacker to use maliciously crafted " +
				"GLIBC_TUNABLES environment variables when launching binaries with SUID permission to execute code with " +
				"elevated privileges.",
			References: []string{"https://errata.almalinux.org/9/ALSA-2023-5453.html", "https://nvd.nist.gov/vuln/detail/CVE-2023-4911"},
			Published:  time.Date(2023, 10, 4, 0, 0, 0, 0, time.UTC),
			Evidence:   osvAlma("ALSA-2023:5453", "glibc", "2.34-60.el9_2.7"),
			Annotations: []finding.Annotation{{
				Kind: "kev", Source: "cisa-kev", Reason: "added to the CISA KEV catalog on 2023-11-21",
			}},
		},
		{
			ID: "ALSA-2023:5071", Aliases: []string{"CVE-2023-2602", "CVE-2023-2603"}, Package: ref(libcap),
			InstalledVersion: libcap.Version, FixedVersion: "2.48-9.el9_2", Status: vocab.StatusFixed,
			Severity: vocab.SevMedium, SeveritySource: "vendor", VendorSeverity: "Moderate",
			Title:      "Moderate: libcap security update",
			References: []string{"https://errata.almalinux.org/9/ALSA-2023-5071.html"},
			Published:  time.Date(2023, 9, 12, 0, 0, 0, 0, time.UTC),
			Evidence:   osvAlma("ALSA-2023:5071", "libcap", "2.48-9.el9_2"),
		},
		{
			ID: "ALSA-2023:6698", Aliases: []string{"CVE-2023-29491"}, Package: ref(ncurses),
			InstalledVersion: ncurses.Version, FixedVersion: "6.2-10.20210508.el9", Status: vocab.StatusFixed,
			Severity: vocab.SevMedium, SeveritySource: "vendor", VendorSeverity: "Moderate",
			CVSS:       []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", Score: 7.8, Source: "nvd"}},
			Title:      "Moderate: ncurses security update",
			References: []string{"https://errata.almalinux.org/9/ALSA-2023-6698.html"},
			Published:  time.Date(2023, 11, 7, 0, 0, 0, 0, time.UTC),
			Evidence:   osvAlma("ALSA-2023:6698", "ncurses-libs", "6.2-10.20210508.el9"),
		},
		{
			ID: "GO-2023-2102", Aliases: []string{"CVE-2023-39325", "GHSA-4374-p667-p6c8"}, Package: ref(xnet),
			InstalledVersion: xnet.Version, FixedVersion: "0.17.0", Status: vocab.StatusFixed,
			Severity: vocab.SevHigh, SeveritySource: "osv-cvss",
			CVSS:        []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 7.5, Source: "osv"}},
			Title:       "HTTP/2 rapid reset can cause excessive work in net/http",
			Description: "A malicious HTTP/2 client which rapidly creates requests and immediately resets them can cause excessive server resource consumption.",
			References:  []string{"https://pkg.go.dev/vuln/GO-2023-2102", "https://go.dev/issue/63417"},
			Published:   time.Date(2023, 10, 11, 22, 14, 40, 0, time.UTC),
			Evidence:    osvGo("GO-2023-2102", "golang.org/x/net", "0.17.0"),
		},
		{
			ID: "GO-2023-2185", Aliases: []string{"CVE-2023-45283"}, Package: ref(stdlib),
			InstalledVersion: stdlib.Version, FixedVersion: "1.21.4", Status: vocab.StatusFixed,
			Severity: vocab.SevHigh, SeveritySource: "nvd",
			CVSS:        []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", Score: 7.5, Source: "nvd"}},
			Title:       "Insecure parsing of Windows paths with a \\??\\ prefix in path/filepath",
			Description: "The filepath package does not recognize paths with a \\??\\ prefix as special. On Windows, a path beginning with \\??\\ is a Root Local Device path.",
			References:  []string{"https://pkg.go.dev/vuln/GO-2023-2185"},
			Published:   time.Date(2023, 11, 9, 17, 4, 0, 0, time.UTC),
			Evidence:    osvGo("GO-2023-2185", "stdlib", "1.21.4"),
			Annotations: []finding.Annotation{
				{Kind: "vex", Source: ".vex/server.openvex.json", Status: "not_affected", Reason: "vulnerable_code_not_in_execute_path"},
				{Kind: "suppressed", Source: ".vex/server.openvex.json", Reason: "VEX: not_affected (vulnerable_code_not_in_execute_path)"},
			},
		},
		{
			ID: "GHSA-35jh-r3h4-6jhm", Aliases: []string{"CVE-2021-23337"}, Package: ref(lodash),
			InstalledVersion: lodash.Version, FixedVersion: "4.17.21", Status: vocab.StatusFixed,
			Severity: vocab.SevHigh, SeveritySource: "osv-cvss",
			CVSS:        []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", Score: 7.2, Source: "osv"}},
			Title:       "Command Injection in lodash",
			Description: "`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
			References:  []string{"https://github.com/advisories/GHSA-35jh-r3h4-6jhm"},
			Published:   time.Date(2021, 5, 6, 16, 5, 51, 0, time.UTC),
			Evidence: []finding.Evidence{{
				Advisory: "GHSA-35jh-r3h4-6jhm", Ecosystem: "npm", MatchedName: "lodash", MatchedBy: "name",
				Range: ">=0, <4.17.21", Comparator: "npm", DataSource: "osv/npm",
				DataSourceDate: time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC),
			}},
		},
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          Tool,
		CreatedAt:     CreatedAt,
		Image: report.Image{
			Reference:    "registry.example.com/shop/server:1.4.2",
			Kind:         "registry",
			Name:         "registry.example.com/shop/server",
			Digest:       digest("alma-app-manifest"),
			ConfigDigest: digest("alma-app-config"),
			RepoTags:     []string{"registry.example.com/shop/server:1.4.2"},
			OS:           "linux",
			Arch:         "arm64",
			Variant:      "v8",
			Created:      time.Date(2025, 12, 1, 9, 30, 0, 0, time.UTC),
			Config: report.ImageConfig{
				Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_ENV=production"},
				Entrypoint:   []string{"/app/bin/server"},
				WorkingDir:   "/app",
				ExposedPorts: []string{"8080/tcp"},
				Labels:       map[string]string{"org.opencontainers.image.source": "https://github.com/example/shop"},
			},
			Layers: layers,
			History: []report.History{
				{Created: time.Date(2022, 5, 7, 0, 0, 0, 0, time.UTC), CreatedBy: layers[0].CreatedBy, Comment: layers[0].Comment, LayerIndex: 0},
				{Created: time.Date(2025, 12, 1, 9, 29, 0, 0, time.UTC), CreatedBy: layers[1].CreatedBy, Comment: layers[1].Comment, LayerIndex: 1},
				{Created: time.Date(2025, 12, 1, 9, 29, 30, 0, time.UTC), CreatedBy: "WORKDIR /app", Comment: "buildkit.dockerfile.v0", EmptyLayer: true, LayerIndex: -1},
				{Created: time.Date(2025, 12, 1, 9, 30, 0, 0, time.UTC), CreatedBy: layers[2].CreatedBy, Comment: layers[2].Comment, LayerIndex: 2},
				{Created: time.Date(2025, 12, 1, 9, 30, 0, 0, time.UTC), CreatedBy: `ENTRYPOINT ["/app/bin/server"]`, Comment: "buildkit.dockerfile.v0", EmptyLayer: true, LayerIndex: -1},
			},
		},
		Distro: &inventory.Distro{
			ID: "almalinux", VersionID: "9.0", Release: "9", PrettyName: "AlmaLinux 9.0 Beta (Emerald Puma)",
			IDLike: []string{"rhel", "centos", "fedora"}, Source: "/etc/os-release",
		},
		Packages: pkgs,
		Findings: findings,
		Secrets: []report.Secret{{
			RuleID: "aws-access-key-id", Title: "AWS Access Key ID", Severity: vocab.SevCritical, Category: "AWS",
			Source: "file", Path: "/app/.env", Line: 3, Match: "AWS_ACCESS_KEY_ID=AKIA************MPLE",
			LayerIndex: 2, LayerDiffID: layers[2].DiffID, CreatedBy: layers[2].CreatedBy,
		}},
		Misconfigs: []report.Misconfig{
			{
				ID: "DD-IMG-001", Title: "Image runs as root", Severity: vocab.SevHigh, CIS: "4.1",
				Description: "No USER is set, so the container's processes run as root unless the runtime overrides it.",
				Evidence:    []string{`config.User is ""`}, Fix: "Add a USER instruction with a non-root user to the Dockerfile.",
			},
			{
				ID: "DD-IMG-002", Title: "No HEALTHCHECK instruction", Severity: vocab.SevLow, CIS: "4.6",
				Description: "The image defines no HEALTHCHECK, so orchestrators cannot tell a hung container from a healthy one.",
				Evidence:    []string{"config.Healthcheck is empty"}, Fix: "Add a HEALTHCHECK instruction.",
			},
		},
		Database: &report.Database{
			BuiltAt: time.Date(2026, 1, 14, 6, 0, 0, 0, time.UTC),
			Sources: []string{"osv/AlmaLinux", "osv/Go", "osv/npm", "nvd", "cisa-kev"},
		},
		Notes: []inventory.Note{{
			Level: "warning", Path: "/app/package-lock.json", Layer: layers[2].DiffID,
			Message: "lodash 4.17.20 is listed in the lockfile but not installed under node_modules; reported as declared",
		}},
		Scanners: []string{"vuln", "secret", "misconfig"},
	}
	r.Verdict = &report.Verdict{
		Pass:     false,
		ExitCode: 1,
		Failures: []report.RuleResult{
			{
				RuleID: "deny-kev", Action: "deny",
				Message: "ALSA-2023:5453 (CVE-2023-4911) in glibc 2.34-28.el9_0 is known to be exploited (CISA KEV)",
				Targets: []string{r.Findings[0].Key()},
			},
			{
				RuleID: "deny-secrets", Action: "deny",
				Message: "a CRITICAL secret (aws-access-key-id) is readable in /app/.env, added by layer 2",
				Targets: []string{"aws-access-key-id"},
			},
		},
		Warnings: []report.RuleResult{{
			RuleID: "warn-root", Action: "warn", Message: "the image runs as root", Targets: []string{"DD-IMG-001"},
		}},
		Expired: []string{"ignore CVE-2021-23337 (lodash): expired 2025-12-31"},
	}
	r.Summarise()
	return r
}

// Debian returns the report of a scan of a Debian 12.15 (bookworm) minbase
// image against a database without Debian advisories: no findings, and one
// coverage gap (Debian:12, no-advisories) that says why "no findings" does
// not mean "no vulnerabilities". The packages are 16 of the 88 of the real
// minbase status file (internal/extract/dpkg/testdata/debian-12.15-status);
// the reason is the one the matcher writes.
func Debian() *report.Report {
	layer := inventory.Layer{
		Index: 0, DiffID: digest("debian-12.15-diff"), Digest: digest("debian-12.15-blob"),
		MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 29125632,
		CreatedBy: "# debian.sh --arch 'amd64' out/ 'bookworm' '@1767225600'", Comment: "debuerreotype 0.15",
	}
	const status = "/var/lib/dpkg/status"
	type deb struct{ name, version, arch, source, sourceVersion string }
	list := []deb{
		{"adduser", "3.134", "all", "", ""},
		{"apt", "2.6.1", "amd64", "", ""},
		{"base-files", "12.4+deb12u15", "amd64", "", ""},
		{"bash", "5.2.15-2+b13", "amd64", "", "5.2.15-2"},
		{"bsdutils", "1:2.38.1-5+deb12u3", "amd64", "util-linux", "2.38.1-5+deb12u3"},
		{"coreutils", "9.1-1", "amd64", "", ""},
		{"dpkg", "1.21.23", "amd64", "", ""},
		{"gpgv", "2.2.40-1.1+deb12u2", "amd64", "gnupg2", ""},
		{"libc-bin", "2.36-9+deb12u14", "amd64", "glibc", ""},
		{"libc6", "2.36-9+deb12u14", "amd64", "glibc", ""},
		{"libgnutls30", "3.7.9-2+deb12u7", "amd64", "gnutls28", ""},
		{"libsystemd0", "252.39-1~deb12u2", "amd64", "systemd", ""},
		{"libzstd1", "1.5.4+dfsg2-5", "amd64", "libzstd", ""},
		{"login", "1:4.13+dfsg1-1+deb12u2", "amd64", "shadow", ""},
		{"tzdata", "2026b-0+deb12u1", "all", "", ""},
		{"zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", ""},
	}
	var pkgs []inventory.Package
	for _, d := range list {
		l := layer
		src, srcVersion := d.source, d.sourceVersion
		if src == "" {
			src = d.name
		}
		if srcVersion == "" {
			srcVersion = d.version
		}
		pkgs = append(pkgs, inventory.Package{
			ID:   ID(inventory.EcoDpkg, d.name, d.version, d.arch, status),
			Name: d.name, Version: d.version, Ecosystem: inventory.EcoDpkg,
			PURL: "pkg:deb/debian/" + d.name + "@" + strings.ReplaceAll(d.version, "+", "%2B") + "?arch=" + d.arch,
			Arch: d.arch, SourceName: src, SourceVersion: srcVersion,
			Locations: []inventory.Location{{Path: status, LayerDiffID: layer.DiffID}},
			Layer:     &l, FoundBy: "os/dpkg",
		})
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          Tool,
		CreatedAt:     CreatedAt,
		Image: report.Image{
			Reference: "debian:12.15", Kind: "registry", Name: "docker.io/library/debian",
			Digest: digest("debian-12.15-manifest"), ConfigDigest: digest("debian-12.15-config"),
			RepoTags: []string{"debian:12.15"}, OS: "linux", Arch: "amd64",
			Created: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC),
			Config:  report.ImageConfig{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Cmd: []string{"bash"}},
			Layers:  []inventory.Layer{layer},
			History: []report.History{
				{Created: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC), CreatedBy: layer.CreatedBy, Comment: layer.Comment, LayerIndex: 0},
				{Created: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC), CreatedBy: `CMD ["bash"]`, EmptyLayer: true, LayerIndex: -1},
			},
		},
		Distro: &inventory.Distro{
			ID: "debian", VersionID: "12.15", Release: "12", Codename: "bookworm",
			PrettyName: "Debian GNU/Linux 12 (bookworm)", Source: "/usr/lib/os-release",
		},
		Packages: pkgs,
		Findings: []finding.Finding{},
		Database: &report.Database{
			BuiltAt: time.Date(2026, 1, 14, 6, 0, 0, 0, time.UTC),
			Sources: []string{"osv/Alpine", "osv/AlmaLinux", "osv/Go", "osv/npm"},
		},
		Coverage: []report.Coverage{{
			Ecosystem: "Debian:12", OS: true, Packages: len(pkgs), Status: vocab.CoverageNoAdvisories,
			Reasons: []string{`the database has no advisories for Debian:12 (debian 12.15): run "drydock db update" with a source that has them`},
		}},
		Scanners: []string{"vuln"},
	}
	r.Verdict = &report.Verdict{Pass: true, ExitCode: 0}
	r.Summarise()
	return r
}

// AlpineEdge returns the report of a scan of an application image on Alpine
// edge (os-release VERSION_ID 3.21.0_alpha20240807) against a database
// built without the Alpine secdb (db update --alpine-secdb none): the apk
// packages (those of the Alpine 3.16.9 minirootfs, as in the coverage e2e
// test) have no advisories (Alpine:edge, no-advisories, two reasons), a Go
// binary is matched (two findings) but a second one is truncated (Go
// partial), and a jar over the size limit was not read (image files
// partial); builtin:complete-coverage fails. The reasons are the ones the
// matcher writes.
func AlpineEdge() *report.Report {
	base := Alpine()
	layers := []inventory.Layer{base.Image.Layers[0], {
		Index: 1, DiffID: digest("edge-app-diff"), Digest: digest("edge-app-blob"),
		MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 161480704,
		CreatedBy: "COPY bin/ opt/ / # buildkit", Comment: "buildkit.dockerfile.v0",
	}}
	layers[0].CreatedBy = "ADD alpine-minirootfs-20240807-x86_64.tar.gz / # buildkit"
	var pkgs []inventory.Package
	for _, p := range base.Packages {
		p.PURL = strings.Replace(p.PURL, "distro=alpine-3.16.9", "distro=alpine-3.21.0_alpha20240807", 1)
		l := layers[0]
		p.Layer = &l
		p.Locations = []inventory.Location{{Path: p.Locations[0].Path, LayerDiffID: l.DiffID}}
		pkgs = append(pkgs, p)
	}
	const bin = "/usr/local/bin/app"
	app := layers[1]
	gomod := func(name, version string, md map[string]string) inventory.Package {
		return inventory.Package{
			ID: ID(inventory.EcoGo, name, version, "", bin), Name: name, Version: version, Ecosystem: inventory.EcoGo,
			PURL:      "pkg:golang/" + name + "@" + version,
			Locations: []inventory.Location{{Path: bin, LayerDiffID: app.DiffID}}, Layer: &app,
			FoundBy: "lang/go-binary", Metadata: md,
		}
	}
	pkgs = append(pkgs,
		gomod("example.com/edge/app", "v0.3.0", map[string]string{"main_module": "true", "go_toolchain": "go1.21.1"}),
		gomod("golang.org/x/net", "v0.15.0", nil),
		gomod("stdlib", "go1.21.1", map[string]string{"go_toolchain": "go1.21.1"}),
	)
	xnet, stdlib := find(pkgs, "golang.org/x/net"), find(pkgs, "stdlib")
	osvGo := func(id, pkg, fixed string) []finding.Evidence {
		return []finding.Evidence{{
			Advisory: id, Ecosystem: "Go", MatchedName: pkg, MatchedBy: "name",
			Range: ">=0, <" + fixed, Comparator: "semver", DataSource: "osv/Go",
			DataSourceDate: time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC),
		}}
	}
	findings := []finding.Finding{
		{
			ID: "GO-2023-2102", Aliases: []string{"CVE-2023-39325", "GHSA-4374-p667-p6c8"}, Package: ref(xnet),
			InstalledVersion: xnet.Version, FixedVersion: "0.17.0", Status: vocab.StatusFixed,
			Severity: vocab.SevHigh, SeveritySource: "osv-cvss",
			CVSS:        []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 7.5, Source: "osv"}},
			Title:       "HTTP/2 rapid reset can cause excessive work in net/http",
			Description: "A malicious HTTP/2 client which rapidly creates requests and immediately resets them can cause excessive server resource consumption.",
			References:  []string{"https://pkg.go.dev/vuln/GO-2023-2102", "https://go.dev/issue/63417"},
			Published:   time.Date(2023, 10, 11, 22, 14, 40, 0, time.UTC),
			Evidence:    osvGo("GO-2023-2102", "golang.org/x/net", "0.17.0"),
		},
		{
			ID: "GO-2023-2185", Aliases: []string{"CVE-2023-45283"}, Package: ref(stdlib),
			InstalledVersion: stdlib.Version, FixedVersion: "1.21.4", Status: vocab.StatusFixed,
			Severity: vocab.SevHigh, SeveritySource: "nvd",
			CVSS:        []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", Score: 7.5, Source: "nvd"}},
			Title:       "Insecure parsing of Windows paths with a \\??\\ prefix in path/filepath",
			Description: "The filepath package does not recognize paths with a \\??\\ prefix as special. On Windows, a path beginning with \\??\\ is a Root Local Device path.",
			References:  []string{"https://pkg.go.dev/vuln/GO-2023-2185"},
			Published:   time.Date(2023, 11, 9, 17, 4, 0, 0, time.UTC),
			Evidence:    osvGo("GO-2023-2185", "stdlib", "1.21.4"),
		},
	}
	const helper = "/usr/local/bin/helper"
	const jar = "/opt/model/model-server.jar"
	helperReason := `lang/go-binary: reading executable "/usr/local/bin/helper": truncated or corrupt ELF: unexpected EOF`
	jarReason := "not read: file size 157286400 exceeds the limit of 104857600 bytes"
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          Tool,
		CreatedAt:     CreatedAt,
		Image: report.Image{
			Reference: "registry.example.com/edge/app:0.3.0", Kind: "registry", Name: "registry.example.com/edge/app",
			Digest: digest("edge-app-manifest"), ConfigDigest: digest("edge-app-config"),
			RepoTags: []string{"registry.example.com/edge/app:0.3.0"}, OS: "linux", Arch: "amd64",
			Created: time.Date(2025, 12, 2, 8, 0, 0, 0, time.UTC),
			Config:  report.ImageConfig{Entrypoint: []string{bin}},
			Layers:  layers,
			History: []report.History{
				{Created: time.Date(2024, 8, 7, 0, 0, 0, 0, time.UTC), CreatedBy: layers[0].CreatedBy, Comment: layers[0].Comment, LayerIndex: 0},
				{Created: time.Date(2025, 12, 2, 8, 0, 0, 0, time.UTC), CreatedBy: layers[1].CreatedBy, Comment: layers[1].Comment, LayerIndex: 1},
				{Created: time.Date(2025, 12, 2, 8, 0, 0, 0, time.UTC), CreatedBy: `ENTRYPOINT ["/usr/local/bin/app"]`, Comment: "buildkit.dockerfile.v0", EmptyLayer: true, LayerIndex: -1},
			},
		},
		Distro: &inventory.Distro{
			ID: "alpine", VersionID: "3.21.0_alpha20240807", Release: "edge", PrettyName: "Alpine Linux edge", Source: "/etc/os-release",
		},
		Packages: pkgs,
		Findings: findings,
		Database: &report.Database{
			BuiltAt: time.Date(2026, 1, 14, 6, 0, 0, 0, time.UTC),
			Sources: []string{"osv/Alpine", "osv/Go", "nvd"},
		},
		Coverage: []report.Coverage{
			{Ecosystem: "Alpine:edge", OS: true, Packages: len(base.Packages), Status: vocab.CoverageNoAdvisories,
				Reasons: []string{
					`the database has no advisories for Alpine:edge (alpine edge): run "drydock db update" with a source that has them`,
					"the advisory feed alpine-secdb is missing from this database: turned off",
				}},
			{Ecosystem: "Go", Packages: 3, Advisories: 4213, Status: vocab.CoveragePartial,
				Reasons: []string{helper + ": " + helperReason}},
			{Ecosystem: "image files", Status: vocab.CoveragePartial, Reasons: []string{jar + ": " + jarReason}},
		},
		Notes: []inventory.Note{
			{Level: "warning", Path: helper, Layer: app.DiffID, Extractor: "lang/go-binary", Message: helperReason},
			{Level: "warning", Path: jar, Layer: app.DiffID, Extractor: "walk", Message: jarReason},
		},
		Scanners: []string{"vuln"},
	}
	r.Verdict = &report.Verdict{
		Pass: false, ExitCode: 1,
		Failures: []report.RuleResult{{
			RuleID: "complete-coverage", Action: "deny",
			Message: "advisory coverage is incomplete: Alpine:edge (no-advisories), Go (partial), image files (partial)",
			Targets: []string{"image"},
		}},
	}
	r.Summarise()
	return r
}

// Malware returns the report of a scan of a Node application image with
// malware: chalk 5.6.1 and debug 4.4.2, the versions of the September 2025
// npm compromise (OpenSSF MAL-2025-46969 and MAL-2025-46974, with the GHSA
// GitHub published for each); aiocpa 0.1.13 (MAL-2024-11518), which an
// ignore entry allows; the EICAR test file in a layer that a later layer
// deleted; a file on a hash list (its name from the list); and a script
// ClamAV named. lodash 4.17.20 has its real CVE-2021-23337. The image
// layers and digests are made up.
func Malware() *report.Report {
	layers := []inventory.Layer{
		{Index: 0, DiffID: digest("mal-base-diff"), Digest: digest("mal-base-blob"), MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 3450000,
			CreatedBy: "ADD alpine-minirootfs-3.21.0-x86_64.tar.gz / # buildkit"},
		{Index: 1, DiffID: digest("mal-app-diff"), Digest: digest("mal-app-blob"), MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 812000,
			CreatedBy: "RUN npm ci && pip install -r requirements.txt # buildkit"},
		{Index: 2, DiffID: digest("mal-clean-diff"), Digest: digest("mal-clean-blob"), MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 120,
			CreatedBy: "RUN rm /tmp/eicar.com # buildkit"},
	}
	app := layers[1]
	pkg := func(eco, purlType, name, version, path string) inventory.Package {
		return inventory.Package{
			ID: ID(eco, name, version, "", path), Name: name, Version: version, Ecosystem: eco,
			PURL:      "pkg:" + purlType + "/" + name + "@" + version,
			Locations: []inventory.Location{{Path: path, LayerDiffID: app.DiffID}}, Layer: &app, FoundBy: "lang/" + purlType,
		}
	}
	pkgs := []inventory.Package{
		pkg(inventory.EcoNPM, "npm", "chalk", "5.6.1", "/app/node_modules/chalk/package.json"),
		pkg(inventory.EcoNPM, "npm", "debug", "4.4.2", "/app/node_modules/debug/package.json"),
		pkg(inventory.EcoNPM, "npm", "lodash", "4.17.20", "/app/node_modules/lodash/package.json"),
		pkg(inventory.EcoPyPI, "pypi", "aiocpa", "0.1.13", "/usr/lib/python3.12/site-packages/aiocpa-0.1.13.dist-info/METADATA"),
	}
	chalk, debug, lodash, aiocpa := ref(&pkgs[0]), ref(&pkgs[1]), ref(&pkgs[2]), ref(&pkgs[3])
	deleted := 2
	const compromised = "The package was compromised and malicious code added."
	malware := []finding.Malware{
		{Kind: vocab.MalwarePackage, ID: "MAL-2025-46969", Aliases: []string{"GHSA-2v46-p5h4-248w"}, Title: "Malicious code in chalk (npm)",
			Description: compromised, References: []string{"https://github.com/advisories/GHSA-2v46-p5h4-248w"},
			Severity: vocab.SevCritical, Engine: vocab.EngineRecord, Source: "osv/npm", Package: &chalk, Range: "version 5.6.1 listed",
			LayerIndex: 1, LayerDiffID: app.DiffID},
		{Kind: vocab.MalwarePackage, ID: "MAL-2025-46974", Aliases: []string{"GHSA-4x49-vf9v-38px", "GHSA-8mgj-vmr8-frr6"}, Title: "Malicious code in debug (npm)",
			Description: compromised, Severity: vocab.SevCritical, Engine: vocab.EngineRecord, Source: "osv/npm", Package: &debug,
			Range: "version 4.4.2 listed", LayerIndex: 1, LayerDiffID: app.DiffID},
		{Kind: vocab.MalwarePackage, ID: "MAL-2024-11518", Aliases: []string{"SNYK-PYTHON-AIOCPA-8442272"}, Title: "Malicious code in aiocpa (PyPI)",
			Severity: vocab.SevCritical, Engine: vocab.EngineRecord, Source: "osv/PyPI", Package: &aiocpa, Range: "version 0.1.13 listed",
			LayerIndex: 1, LayerDiffID: app.DiffID,
			Annotations: []finding.Annotation{{Kind: vocab.AnnotationSuppressed, Source: ".drydockignore.yaml", Reason: "quarantined sample for the detection tests", Expires: "2026-06-30"}}},
		{Kind: vocab.MalwareFile, ID: "EICAR-Test-File", Aliases: []string{"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"},
			Title: "EICAR anti-virus test file (not malware: it tests that detection works)", Severity: vocab.SevCritical, Engine: vocab.EngineHash,
			Source: "builtin", Path: "/tmp/eicar.com", SHA256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", Size: 68,
			LayerIndex: 1, LayerDiffID: app.DiffID, DeletedInLayer: &deleted},
		{Kind: vocab.MalwareFile, ID: "XMRig", Aliases: []string{"sha256:" + strings.TrimPrefix(digest("xmrig"), "sha256:")},
			Title: "Known-bad file (XMRig) on the hash list malware-hashes/full.csv", Severity: vocab.SevCritical, Engine: vocab.EngineHash,
			Source: "malware-hashes/full.csv", Path: "/usr/local/bin/kworker", SHA256: strings.TrimPrefix(digest("xmrig"), "sha256:"), Size: 2834176,
			LayerIndex: 1, LayerDiffID: app.DiffID},
		{Kind: vocab.MalwareFile, ID: "Unix.Trojan.Mirai-7100807-0", Aliases: []string{"sha256:" + strings.TrimPrefix(digest("mirai"), "sha256:")},
			Title: "ClamAV detected Unix.Trojan.Mirai-7100807-0", Severity: vocab.SevCritical, Engine: vocab.EngineClamAV,
			Source: "ClamAV 1.4.6/27845/Tue Jan 13 09:28:00 2026", Path: "/app/scripts/update.sh", SHA256: strings.TrimPrefix(digest("mirai"), "sha256:"), Size: 1210,
			LayerIndex: 1, LayerDiffID: app.DiffID},
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          Tool,
		CreatedAt:     CreatedAt,
		Image: report.Image{
			Reference: "registry.example.com/shop/web:2.4.1", Kind: "registry", Name: "registry.example.com/shop/web",
			Digest: digest("mal-manifest"), ConfigDigest: digest("mal-config"),
			RepoTags: []string{"registry.example.com/shop/web:2.4.1"}, OS: "linux", Arch: "amd64",
			Created: time.Date(2025, 9, 9, 8, 0, 0, 0, time.UTC),
			Config:  report.ImageConfig{Entrypoint: []string{"node", "/app/server.js"}},
			Layers:  layers,
			History: []report.History{
				{Created: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), CreatedBy: layers[0].CreatedBy, LayerIndex: 0},
				{Created: time.Date(2025, 9, 9, 8, 0, 0, 0, time.UTC), CreatedBy: layers[1].CreatedBy, LayerIndex: 1},
				{Created: time.Date(2025, 9, 9, 8, 0, 0, 0, time.UTC), CreatedBy: layers[2].CreatedBy, LayerIndex: 2},
			},
		},
		Packages: pkgs,
		Malware:  malware,
		Findings: []finding.Finding{{
			ID: "GHSA-35jh-r3h4-6jhm", Aliases: []string{"CVE-2021-23337"}, Package: lodash, InstalledVersion: "4.17.20", FixedVersion: "4.17.21",
			Status: vocab.StatusFixed, Severity: vocab.SevHigh, SeveritySource: "osv-cvss",
			CVSS:       []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", Score: 7.2, Source: "osv"}},
			Title:      "Command Injection in lodash",
			References: []string{"https://github.com/advisories/GHSA-35jh-r3h4-6jhm"},
			Evidence: []finding.Evidence{{Advisory: "GHSA-35jh-r3h4-6jhm", Ecosystem: "npm", MatchedName: "lodash", MatchedBy: "name",
				Range: ">=0, <4.17.21", Comparator: "semver", DataSource: "osv/npm"}},
		}},
		Database: &report.Database{BuiltAt: time.Date(2026, 1, 14, 6, 0, 0, 0, time.UTC), Sources: []string{"malware-hashes/full.csv", "osv/PyPI", "osv/npm"}},
		Coverage: []report.Coverage{
			{Ecosystem: "npm", Packages: 3, Advisories: 4200, Status: vocab.CoverageComplete},
			{Ecosystem: "PyPI", Packages: 1, Advisories: 3100, Status: vocab.CoverageComplete},
			{Ecosystem: "malware checks", Status: vocab.CoveragePartial,
				Reasons: []string{"/opt/vm/disk.img: not checked for malware: 2147483648 bytes is over the limit of 268435456 bytes (--malware-max-size)"}},
		},
		Notes: []inventory.Note{{Level: "warning", Path: "/opt/vm/disk.img", Layer: app.DiffID, Extractor: "malware/files",
			Message: "not checked for malware: 2147483648 bytes is over the limit of 268435456 bytes (--malware-max-size)"}},
		Scanners: []string{"vuln", "secret", "malware"},
	}
	var keys []string
	for i := range malware {
		if !malware[i].Allowed() {
			keys = append(keys, malware[i].Key())
		}
	}
	r.Verdict = &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
		RuleID: "gate:malware", Action: "deny", Targets: keys,
		Message: "5 malware found: MAL-2025-46969 (chalk@5.6.1), MAL-2025-46974 (debug@4.4.2), EICAR-Test-File (/tmp/eicar.com) and 2 more (allowed only by an ignore entry naming its ID)",
	}}}
	r.Summarise()
	return r
}
