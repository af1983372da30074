package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func mustVEX(t *testing.T, path string) *VEX {
	t.Helper()
	v, err := LoadVEX(path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVEXFormats(t *testing.T) {
	const impact = "No setuid-root binary in the image: GLIBC_TUNABLES cannot be used to gain privileges."
	vexAnn := func(src, status, reason string) []finding.Annotation {
		return []finding.Annotation{
			{Kind: vocab.AnnotationVEX, Source: src, Status: status, Reason: reason},
			{Kind: vocab.AnnotationSuppressed, Source: src, Status: status, Reason: "VEX " + status + ": " + reason},
		}
	}
	tests := []struct {
		path   string
		format string
		// want maps package names to the annotations of their findings.
		want func(src string) map[string][]finding.Annotation
	}{
		{
			path: "testdata/vex/glibc.openvex.json", format: FormatOpenVEX,
			want: func(src string) map[string][]finding.Annotation {
				return map[string][]finding.Annotation{
					"glibc": vexAnn(src, VEXNotAffected, "vulnerable_code_not_in_execute_path: The image ships no setuid-root binaries, "+
						"so GLIBC_TUNABLES cannot be used to gain privileges."),
					"ncurses-libs": {{Kind: vocab.AnnotationVEX, Source: src, Status: VEXUnderInvestigation}},
				}
			},
		},
		{
			path: "testdata/vex/glibc.cdx.json", format: FormatCycloneDX,
			want: func(src string) map[string][]finding.Annotation {
				a := vexAnn(src, VEXNotAffected, "code_not_reachable: "+impact)
				return map[string][]finding.Annotation{"glibc": a, "glibc-common": a}
			},
		},
		{
			path: "testdata/vex/glibc.csaf.json", format: FormatCSAF,
			want: func(src string) map[string][]finding.Annotation {
				return map[string][]finding.Annotation{"glibc": vexAnn(src, VEXNotAffected, "vulnerable_code_not_in_execute_path: "+impact)}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			v := mustVEX(t, tt.path)
			if v.Format != tt.format {
				t.Errorf("format = %q, want %q", v.Format, tt.format)
			}
			r := almaReport()
			got, err := (&Engine{Policies: []*Policy{mustPolicy(t, "builtin:kev")}, VEX: []*VEX{v}, Now: fixedNow}).
				Evaluate(context.Background(), r.Result())
			if err != nil {
				t.Fatal(err)
			}
			byPkg := map[string][]finding.Annotation{}
			for i := range r.Findings {
				if a := r.Findings[i].Annotations; len(a) > 0 {
					byPkg[r.Findings[i].Package.Name] = a
				}
			}
			if diff := cmp.Diff(tt.want(tt.path), byPkg); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			// builtin:kev no longer fires on glibc.
			for _, f := range got.Failures {
				for _, target := range f.Targets {
					if target == keys(r, "ALSA-2023:5453", "glibc")[0] {
						t.Errorf("kev fired on the VEX-suppressed glibc finding: %+v", f)
					}
				}
			}
			if got.Pass || len(got.Failures) == 0 {
				t.Errorf("verdict passed, but not every glibc package is covered by the VEX")
			}
		})
	}
}

// TestVEXImageScope checks that a statement about one image does not apply
// to another, and that a statement about the image as a whole covers all of
// its packages.
func TestVEXImageScope(t *testing.T) {
	v := mustVEX(t, "testdata/vex/glibc.openvex.json")
	r := almaReport()
	r.Image.Digest = "sha256:" + repeat("99", 32)
	if _, err := (&Engine{VEX: []*VEX{v}, Now: fixedNow}).Evaluate(context.Background(), r.Result()); err != nil {
		t.Fatal(err)
	}
	if a := r.Findings[0].Annotations; r.Findings[0].Package.Name != "glibc" || len(a) != 0 {
		t.Errorf("glibc in another image: annotations %+v, want none", a)
	}

	whole, err := ParseVEX("whole.json", []byte(`{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://vex.example/2",
  "author": "t",
  "timestamp": "2026-11-01T00:00:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "CVE-2023-4911"},
    "products": [{"@id": "pkg:oci/almalinux?repository_url=docker.io/library/almalinux"}],
    "status": "not_affected",
    "justification": "vulnerable_code_cannot_be_controlled_by_adversary"
  }]
}`))
	if err != nil {
		t.Fatal(err)
	}
	r = almaReport()
	if _, err := (&Engine{VEX: []*VEX{whole}, Now: fixedNow}).Evaluate(context.Background(), r.Result()); err != nil {
		t.Fatal(err)
	}
	r.Summarise()
	if r.Summary.Suppressed != 3 {
		t.Errorf("image-wide statement suppressed %d findings, want the 3 glibc ones", r.Summary.Suppressed)
	}
}

// TestVEXLatestWins checks that the latest statement decides: a later
// "affected" overrides an earlier "not_affected", whatever the order of the
// documents.
func TestVEXLatestWins(t *testing.T) {
	doc := func(ts, status string) *VEX {
		v, err := ParseVEX(status+".json", []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "`+ts+`",
"statements": [{"vulnerability": "CVE-2023-4911", "products": ["pkg:rpm/almalinux/glibc"], "status": "`+status+`",
"action_statement": "update glibc"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	older := doc("2026-01-01T00:00:00Z", VEXNotAffected)
	newer := doc("2026-06-01T00:00:00Z", VEXAffected)
	for _, order := range [][]*VEX{{older, newer}, {newer, older}} {
		r := almaReport()
		if _, err := (&Engine{VEX: order, Now: fixedNow}).Evaluate(context.Background(), r.Result()); err != nil {
			t.Fatal(err)
		}
		want := []finding.Annotation{{Kind: vocab.AnnotationVEX, Source: "affected.json", Status: VEXAffected, Reason: "update glibc"}}
		if diff := cmp.Diff(want, r.Findings[0].Annotations); diff != "" {
			t.Errorf("annotations (-want +got):\n%s", diff)
		}
	}
}

func TestPURLMatch(t *testing.T) {
	const pkg = "pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64&distro=almalinux-9.0"
	tests := []struct {
		want string
		ok   bool
	}{
		{"pkg:rpm/almalinux/glibc", true},
		{"pkg:rpm/almalinux/glibc@2.34-28.el9_0", true},
		{"pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64", true},
		{"pkg:rpm/AlmaLinux/glibc?distro=almalinux-9.0&arch=aarch64", true},
		{"pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=x86_64", false},
		{"pkg:rpm/almalinux/glibc@2.34-60.el9_2.7", false},
		{"pkg:rpm/almalinux/glibc@2.34-28.el9_0?epoch=1", false},
		{"pkg:rpm/rocky/glibc", false},
		{"pkg:deb/almalinux/glibc", false},
		{"pkg:rpm/almalinux/glibc-common", false},
		{"pkg:rpm/almalinux/glibc#usr/lib", false},
	}
	p, err := parsePURL(pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		w, err := parsePURL(tt.want)
		if err != nil {
			t.Fatal(err)
		}
		if got := purlMatches(w, p); got != tt.ok {
			t.Errorf("purlMatches(%q, %q) = %v, want %v", tt.want, pkg, got, tt.ok)
		}
	}
}

func TestVEXErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"empty", " \n", `VEX "v.json": empty file`},
		{"truncated", `{"statements": [`, `VEX "v.json": not a JSON object`},
		{"array", `[]`, `VEX "v.json": not a JSON object`},
		{"unknown", `{"foo": 1}`, `VEX "v.json": unrecognised format`},
		{"xml", `<html/>`, `VEX "v.json": XML but not a CycloneDX BOM`},
		{"openvex no statements", `{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}`, `VEX "v.json": OpenVEX document has no statements`},
		{"openvex bad status", `{"statements": [{"vulnerability": "CVE-1", "products": ["pkg:npm/a"], "status": "fine"}]}`,
			`VEX "v.json": statement 1: unknown status "fine"`},
		{"openvex no vuln", `{"statements": [{"vulnerability": {}, "products": ["pkg:npm/a"], "status": "fixed"}]}`,
			`VEX "v.json": statement 1: no vulnerability`},
		{"openvex bad vuln", `{"statements": [{"vulnerability": 7, "products": ["pkg:npm/a"], "status": "fixed"}]}`,
			`VEX "v.json": statement 1: vulnerability:`},
		{"openvex no products", `{"statements": [{"vulnerability": "CVE-1", "status": "fixed"}]}`,
			`VEX "v.json": statement 1: no products`},
		{"openvex bad purl", `{"statements": [{"vulnerability": "CVE-1", "products": ["pkg:"], "status": "fixed"}]}`,
			`VEX "v.json": product "pkg:"`},
		{"cyclonedx wrong format", `{"bomFormat": "SPDX", "specVersion": "1.5"}`, `VEX "v.json": bomFormat is "SPDX"`},
		{"cyclonedx no vulnerabilities", `{"bomFormat": "CycloneDX", "specVersion": "1.5"}`, `VEX "v.json": CycloneDX BOM has no vulnerabilities`},
		{"cyclonedx bad state", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [{"id": "CVE-1", "analysis": {"state": "meh"}}]}`,
			`VEX "v.json": vulnerability 1 (CVE-1): unknown analysis state "meh"`},
		{"csaf version", `{"document": {"csaf_version": "1.2"}, "vulnerabilities": [{}]}`, `VEX "v.json": csaf_version is "1.2"`},
		{"csaf no vulnerabilities", `{"document": {"csaf_version": "2.0"}}`, `VEX "v.json": CSAF document has no vulnerabilities`},
		{"csaf no ids", `{"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"product_status": {}}]}`,
			`VEX "v.json": vulnerability 1: no cve or ids`},
		{"csaf bad type", `{"document": {"csaf_version": "2.0"}, "vulnerabilities": 3}`, `VEX "v.json": parsing CSAF:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseVEX("v.json", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error, got %+v", v)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n%s\nwant prefix:\n%s", err, tt.want)
			}
		})
	}
}

// TestVEXNotApplied checks that statements naming no package URL are
// reported as warnings, not silently dropped.
func TestVEXNotApplied(t *testing.T) {
	v, err := ParseVEX("cpe.json", []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
{"vulnerability": "CVE-2023-4911", "products": [{"@id": "cpe:2.3:a:gnu:glibc:2.34:*:*:*:*:*:*:*"}], "status": "not_affected",
 "justification": "component_not_present"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Engine{VEX: []*VEX{v}, Now: fixedNow}).Evaluate(context.Background(), almaReport().Result())
	if err != nil {
		t.Fatal(err)
	}
	want := []report.RuleResult{{RuleID: WarnVEXNotApplied, Action: ActionWarn,
		Message: "cpe.json: statement 1 (CVE-2023-4911): no product has a package URL; statement not applied"}}
	if diff := cmp.Diff(want, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestExpiry(t *testing.T) {
	e, err := parseExpiry("2027-01-31")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC), false},
		{time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), true},
	} {
		if got := e.expired(tt.now); got != tt.want {
			t.Errorf("expired(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
	e, err = parseExpiry("2027-01-31T12:00:00+01:00")
	if err != nil {
		t.Fatal(err)
	}
	if e.expired(time.Date(2027, 1, 31, 10, 59, 0, 0, time.UTC)) || !e.expired(time.Date(2027, 1, 31, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339 expiry not exact")
	}
	if e, _ := parseExpiry(""); e.expired(time.Now()) {
		t.Errorf("no expiry expired")
	}
}

func TestVEXCycloneDXXML(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="1">
  <components>
    <component type="library" bom-ref="glibc">
      <name>glibc</name>
      <version>2.34-28.el9_0</version>
      <purl>pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64</purl>
    </component>
  </components>
  <vulnerabilities>
    <vulnerability>
      <id>CVE-2023-4911</id>
      <analysis>
        <state>resolved</state>
        <detail>patched in our rebuild</detail>
      </analysis>
      <affects>
        <target><ref>glibc</ref></target>
      </affects>
    </vulnerability>
  </vulnerabilities>
</bom>`
	v, err := ParseVEX("glibc.cdx.xml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []VEXStatement{{Vulnerabilities: []string{"CVE-2023-4911"}, Status: VEXFixed, Impact: "patched in our rebuild",
		Products: []VEXProduct{{PURL: "pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64"}}}}
	if diff := cmp.Diff(want, v.Statements, cmpopts.IgnoreUnexported(VEXProduct{})); diff != "" {
		t.Errorf("statements (-want +got):\n%s", diff)
	}
}
