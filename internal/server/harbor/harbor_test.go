package harbor

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		accept string
		want   string
		ok     bool
	}{
		{"", VulnReportMIME10, true},
		{"*/*", VulnReportMIME10, true},
		{"application/*", VulnReportMIME10, true},
		{VulnReportMIME, VulnReportMIME, true},
		{"application/vnd.security.vulnerability.report;version=1.1", VulnReportMIME, true},
		{"application/vnd.security.vulnerability.report; version=1.0", "", false},
		{"application/vnd.security.vulnerability.report", "", false},
		{VulnReportMIME10, VulnReportMIME10, true},
		{RawReportMIME, RawReportMIME, true},
		{SBOMReportMIME, SBOMReportMIME, true},
		{"text/html, " + SBOMReportMIME + ", " + VulnReportMIME, SBOMReportMIME, true},
		{"text/html, */*", VulnReportMIME10, true},
		{"application/json", "", false},
		{"not a media type", "", false},
	} {
		got, ok := negotiate(c.accept)
		if got != c.want || ok != c.ok {
			t.Errorf("negotiate(%q) = %q, %v; want %q, %v", c.accept, got, ok, c.want, c.ok)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		in      string
		want    *queue.Credentials
		wantErr bool
	}{
		{"", nil, false},
		{"Basic " + b64("robot$harbor+scanner:s3cret:with:colons"), &queue.Credentials{Username: "robot$harbor+scanner", Password: "s3cret:with:colons"}, false},
		{"basic " + b64("u:"), &queue.Credentials{Username: "u"}, false},
		{"Basic: " + b64("u:p"), &queue.Credentials{Username: "u", Password: "p"}, false},
		{"Basic " + b64(":p"), nil, true},
		{"Basic " + b64("no-colon"), nil, true},
		{"Basic %%%", nil, true},
		{"Bearer: JWTTOKENGOESHERE", nil, true},
		{"Bearer x", nil, true},
		{"Token x", nil, true},
		{b64("u:p"), nil, true},
	} {
		got, err := parseAuthorization(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("parseAuthorization(%q): error %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("parseAuthorization(%q) (-want +got):\n%s", c.in, d)
		}
	}
}

// TestValidateBuildsTheJob: a valid request becomes the server's scan job
// of <registry host>/<repository>@<digest>, with the login sealed, and
// plain HTTP only where Harbor's URL says http.
func TestValidateBuildsTheJob(t *testing.T) {
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	a := &Adapter{opt: Options{Secrets: box}}
	const digest = "sha256:917f5b7f4bef1b35ee90f03033f33a81002511c1e0767fd44276d4bd9cd2fa8e"
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("robot$scan:pw"))
	for _, c := range []struct {
		name string
		req  ScanRequest
		want queue.ScanArgs
		repo string
	}{
		{"harbor core over http, with tag and login",
			ScanRequest{Registry: Registry{URL: "http://harbor-core:8080", Authorization: auth},
				Artifact: Artifact{Repository: "library/mongo", Digest: digest, Tag: "7.0", MIMEType: OCIManifestMIME}},
			queue.ScanArgs{Reference: "harbor-core:8080/library/mongo@" + digest, Repository: "harbor-core:8080/library/mongo", Tags: []string{"7.0"}, Insecure: true},
			"harbor-core:8080/library/mongo"},
		{"the spec's example: a bare host:port",
			ScanRequest{Registry: Registry{URL: "harbor-harbor-registry:5000", Authorization: auth}, Artifact: Artifact{Repository: "library/mongo", Digest: digest}},
			queue.ScanArgs{Reference: "harbor-harbor-registry:5000/library/mongo@" + digest, Repository: "harbor-harbor-registry:5000/library/mongo"},
			"harbor-harbor-registry:5000/library/mongo"},
		{"https, no tag, no login, trailing slash",
			ScanRequest{Registry: Registry{URL: "https://core.harbor.domain/"}, Artifact: Artifact{Repository: "team/app", Digest: digest}},
			queue.ScanArgs{Reference: "core.harbor.domain/team/app@" + digest, Repository: "core.harbor.domain/team/app"},
			"core.harbor.domain/team/app"},
	} {
		t.Run(c.name, func(t *testing.T) {
			j, rerr := a.validate(&c.req)
			if rerr != nil {
				t.Fatal(rerr)
			}
			sealed := j.args.Credentials
			j.args.Credentials = ""
			if d := cmp.Diff(c.want, j.args); d != "" {
				t.Errorf("job (-want +got):\n%s", d)
			}
			if j.repo != c.repo || j.artifact != c.req.Artifact {
				t.Errorf("repo %q, artifact %+v", j.repo, j.artifact)
			}
			if c.req.Registry.Authorization == "" {
				if sealed != "" {
					t.Errorf("credentials %q without an authorization", sealed)
				}
				return
			}
			creds, err := queue.OpenCredentials(box, sealed)
			if err != nil {
				t.Fatal(err)
			}
			if creds != (queue.Credentials{Username: "robot$scan", Password: "pw"}) {
				t.Errorf("sealed credentials open to %+v", creds)
			}
		})
	}
}

func TestIsRegistryHost(t *testing.T) {
	for s, want := range map[string]bool{
		"harbor-harbor-registry:5000": true, "core.harbor.domain": true, "localhost": true, "10.0.0.1:443": true,
		"INVALID_REGISTRY_URL": false, "registry": false, "host:0": false, "host:x": false, "host:99999": false,
		".x.y": false, "x.y.": false, "-x.y": false, "a b.c": false, "": false, ":5000": false,
	} {
		if got := isRegistryHost(s); got != want {
			t.Errorf("isRegistryHost(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSeverity(t *testing.T) {
	want := map[string]string{
		vocab.SevCritical: SevCritical, vocab.SevHigh: SevHigh, vocab.SevMedium: SevMedium,
		vocab.SevLow: SevLow, vocab.SevNegligible: SevNegligible, vocab.SevUnknown: SevUnknown, "": SevUnknown,
	}
	for in, w := range want {
		if got := severity(in); got != w {
			t.Errorf("severity(%q) = %q, want %q", in, got, w)
		}
	}
	if len(want)-1 != len(vocab.Severities()) {
		t.Errorf("a drydock severity is not mapped: %v", vocab.Severities())
	}
}

// TestVulnerabilityReport: how findings become Harbor's items — CVSS
// chosen and listed by source, links only for URLs (the rest kept), the
// highest severity, suppressed findings left out and counted, coverage gaps
// carried.
func TestVulnerabilityReport(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	res := &result.Result{
		Database: &result.Database{BuiltAt: at},
		Coverage: []result.Coverage{
			{Ecosystem: "Alpine:v3.16", OS: true, Packages: 14, Advisories: 900, Status: vocab.CoverageComplete},
			{Ecosystem: "npm", Packages: 3, Status: vocab.CoverageUnsupported, Reasons: []string{"no npm advisories in the database"}},
		},
		Findings: []finding.Finding{
			{
				ID: "ALSA-2023:5453", Aliases: []string{"CVE-2023-4911"}, Severity: vocab.SevHigh, SeveritySource: "vendor", VendorSeverity: "Important",
				Status: vocab.StatusFixed, Title: "glibc security update", Description: "Looney Tunables",
				InstalledVersion: "2.34-28.el9_0", FixedVersion: "2.34-60.el9_2.7", KEV: true,
				Package:    finding.PackageRef{ID: "p1", Name: "glibc", Ecosystem: "rpm", SourceName: "glibc", PURL: "pkg:rpm/almalinux/glibc@2.34-28.el9_0"},
				References: []string{"https://errata.almalinux.org/9/ALSA-2023-5453.html", "RHSA-2023:5455", "ftp://x"},
				CVSS: []finding.CVSS{
					{Version: "3.1", Vector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", Score: 7.8, Source: "nvd"},
					{Version: "2.0", Vector: "AV:L/AC:L/Au:N/C:C/I:C/A:C", Score: 7.2, Source: "nvd"},
					{Version: "3.1", Vector: "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", Score: 7.0, Source: "osv"},
					{Version: "4.0", Vector: "CVSS:4.0/AV:L", Score: 8.5, Source: "osv"},
				},
				Annotations: []finding.Annotation{{Kind: vocab.AnnotationKEV, Source: "cisa-kev"}},
			},
			{
				ID: "CVE-2024-1", Severity: vocab.SevCritical, Status: vocab.StatusAffected, SeveritySource: "none",
				Package:     finding.PackageRef{ID: "p2", Name: "zlib", Ecosystem: "rpm"},
				Annotations: []finding.Annotation{{Kind: vocab.AnnotationSuppressed, Source: ".drydockignore", Reason: "not reachable"}},
			},
			{
				ID: "CVE-2024-2", Severity: vocab.SevLow, Status: vocab.StatusAffected, SeveritySource: "none", Title: "only a title",
				InstalledVersion: "1", Package: finding.PackageRef{ID: "p3", Name: "bash", Ecosystem: "rpm"},
			},
		},
	}
	rep := report.New(res, nil, report.Tool{Name: "drydock"}, at).Normalized()
	art := Artifact{Repository: "library/alma", Digest: "sha256:aa", MIMEType: OCIManifestMIME}
	got := vulnerabilityReport(rep, art, Scanner{Name: "drydock", Vendor: "drydock", Version: "1"}, 7)
	f64 := func(f float64) *float64 { return &f }
	want := &VulnerabilityReport{
		GeneratedAt: at,
		Artifact:    art,
		Scanner:     Scanner{Name: "drydock", Vendor: "drydock", Version: "1"},
		Severity:    SevHigh,
		Vulnerabilities: []VulnerabilityItem{
			{
				ID: "ALSA-2023:5453", Package: "glibc", Version: "2.34-28.el9_0", FixVersion: "2.34-60.el9_2.7", Severity: SevHigh,
				Description: "Looney Tunables", Links: []string{"https://errata.almalinux.org/9/ALSA-2023-5453.html"},
				PreferredCVSS: &CVSSDetails{ScoreV3: f64(7.8), VectorV3: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", ScoreV2: f64(7.2), VectorV2: "AV:L/AC:L/Au:N/C:C/I:C/A:C"},
				VendorAttributes: map[string]any{
					"references": []string{"RHSA-2023:5455", "ftp://x"},
					"CVSS": map[string]map[string]any{
						"nvd": {"V3Score": 7.8, "V3Vector": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "V2Score": 7.2, "V2Vector": "AV:L/AC:L/Au:N/C:C/I:C/A:C"},
						"osv": {"V3Score": 7.0, "V3Vector": "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", "V40Score": 8.5, "V40Vector": "CVSS:4.0/AV:L"},
					},
					"aliases": []string{"CVE-2023-4911"}, "kev": true, "title": "glibc security update",
					"status": "fixed", "severity_source": "vendor", "vendor_severity": "Important", "ecosystem": "rpm",
					"purl": "pkg:rpm/almalinux/glibc@2.34-28.el9_0", "source_package": "glibc",
					"annotations": []map[string]string{{"kind": "kev", "source": "cisa-kev"}},
				},
			},
			{
				ID: "CVE-2024-2", Package: "bash", Version: "1", Severity: SevLow, Description: "only a title", Links: []string{},
				VendorAttributes: map[string]any{"status": "affected", "severity_source": "none", "ecosystem": "rpm"},
			},
		},
		VendorAttributes: map[string]any{
			"drydock_image_id":  int64(7),
			"database_built_at": at,
			"coverage_gaps":     []report.Coverage{res.Coverage[1]},
			"suppressed":        1,
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}

	empty := vulnerabilityReport(report.New(&result.Result{}, nil, report.Tool{}, at).Normalized(), art, Scanner{}, 1)
	if empty.Severity != SevUnknown || empty.Vulnerabilities == nil || len(empty.Vulnerabilities) != 0 {
		t.Errorf("no findings: severity %q, vulnerabilities %#v", empty.Severity, empty.Vulnerabilities)
	}
}
