package policy

import (
	"archive/zip"
	"context"
	"encoding/json"
	"slices"
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
	// Each document speaks of CVE-2023-4911 only: ALSA-2023:5453, which
	// also fixes CVE-2023-4527, -4806 and -4813, is annotated for that CVE
	// and still counts (TestVEXVendorAdvisory).
	vexAnn := func(src, reason string) []finding.Annotation {
		return []finding.Annotation{{Kind: vocab.AnnotationVEX, Source: src, Status: VEXNotAffected + " (CVE-2023-4911)", Reason: reason}}
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
					"glibc": vexAnn(src, "vulnerable_code_not_in_execute_path: The image ships no setuid-root binaries, "+
						"so GLIBC_TUNABLES cannot be used to gain privileges."),
					"ncurses-libs": {{Kind: vocab.AnnotationVEX, Source: src, Status: VEXUnderInvestigation}},
				}
			},
		},
		{
			path: "testdata/vex/glibc.cdx.json", format: FormatCycloneDX,
			want: func(src string) map[string][]finding.Annotation {
				a := vexAnn(src, "code_not_reachable: "+impact)
				return map[string][]finding.Annotation{"glibc": a, "glibc-common": a}
			},
		},
		{
			path: "testdata/vex/glibc.csaf.json", format: FormatCSAF,
			want: func(src string) map[string][]finding.Annotation {
				return map[string][]finding.Annotation{"glibc": vexAnn(src, "vulnerable_code_not_in_execute_path: "+impact)}
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
			// builtin:kev still fires on every glibc package: the statement
			// does not speak of the advisory's other CVEs.
			var targets []string
			for _, f := range got.Failures {
				targets = append(targets, f.Targets...)
			}
			if diff := cmp.Diff(keys(r, "ALSA-2023:5453", "glibc", "glibc-common", "glibc-minimal-langpack"), targets); diff != "" {
				t.Errorf("kev targets (-want +got):\n%s", diff)
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
    "vulnerability": {"name": "ALSA-2023:5453"},
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
		want := []finding.Annotation{{Kind: vocab.AnnotationVEX, Source: "affected.json", Status: VEXAffected + " (CVE-2023-4911)",
			Reason: "update glibc"}}
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

// almaRecordCVEs returns the CVEs of an AlmaLinux OSV record in the real
// archive the repository carries (testdata/mirror, an unchanged subset of
// shared/data osv/AlmaLinux), sorted.
func almaRecordCVEs(t *testing.T, id string) []string {
	t.Helper()
	zr, err := zip.OpenReader("../../testdata/mirror/AlmaLinux/all.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(id + ".json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rec struct {
		Aliases []string `json:"aliases"`
		Related []string `json:"related"`
	}
	if err := json.NewDecoder(f).Decode(&rec); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	var out []string
	for _, a := range append(rec.Aliases, rec.Related...) {
		if strings.HasPrefix(a, "CVE-") {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// findingOf returns the finding of r with advisory id in package name.
func findingOf(t *testing.T, r *report.Report, id, name string) *finding.Finding {
	t.Helper()
	for i := range r.Findings {
		if f := &r.Findings[i]; f.ID == id && f.Package.Name == name {
			return f
		}
	}
	t.Fatalf("no finding %s in %s", id, name)
	return nil
}

// TestVEXVendorAdvisory: a VEX statement about one CVE of a vendor advisory
// that fixes several does not hide the advisory. ALSA-2023:5453 (glibc
// 2.34-28.el9_0 in the AlmaLinux 9.0 image) fixes CVE-2023-4911 ("Looney
// Tunables"), CVE-2023-4527, CVE-2023-4806 and CVE-2023-4813; a not_affected
// statement for CVE-2023-4911 alone used to suppress all four.
func TestVEXVendorAdvisory(t *testing.T) {
	cves := []string{"CVE-2023-4527", "CVE-2023-4806", "CVE-2023-4813", "CVE-2023-4911"}
	if diff := cmp.Diff(cves, almaRecordCVEs(t, "ALSA-2023:5453")); diff != "" {
		t.Fatalf("ALSA-2023:5453 CVEs in the real record (-fixture +record):\n%s", diff)
	}
	if got := slices.Sorted(slices.Values(findingOf(t, almaReport(), "ALSA-2023:5453", "glibc").Aliases)); !slices.Equal(got, cves) {
		t.Fatalf("fixture aliases %v, want the record's %v", got, cves)
	}
	if diff := cmp.Diff([]string{"CVE-2023-29491"}, almaRecordCVEs(t, "ALSA-2023:6698")); diff != "" {
		t.Fatalf("ALSA-2023:6698 CVEs (-want +record):\n%s", diff)
	}

	const why = "no setuid-root binary"
	stmt := func(vuln, pkg, status, ts string) string {
		s := `{"vulnerability": {"name": "` + vuln + `"}, "products": [{"@id": "` + pkg + `"}], "status": "` + status + `", "timestamp": "` + ts + `"`
		if status == VEXNotAffected {
			s += `, "justification": "vulnerable_code_not_in_execute_path", "impact_statement": "` + why + `"`
		}
		return s + "}"
	}
	const glibc, ncurses = "pkg:rpm/almalinux/glibc", "pkg:rpm/almalinux/ncurses-libs"
	const t1, t2 = "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"
	const reason = "vulnerable_code_not_in_execute_path: " + why
	vex := func(status, ids string) finding.Annotation {
		if ids != "" {
			status += " (" + ids + ")"
		}
		return finding.Annotation{Kind: vocab.AnnotationVEX, Source: "v.json", Status: status, Reason: reason}
	}
	tests := []struct {
		name       string
		statements []string
		pkg, id    string
		want       []finding.Annotation
	}{
		{
			name:       "one CVE of four: annotated, still counts",
			statements: []string{stmt("CVE-2023-4911", glibc, VEXNotAffected, t1)},
			pkg:        "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{vex(VEXNotAffected, "CVE-2023-4911")},
		},
		{
			name:       "CVE IDs match case-insensitively",
			statements: []string{stmt("cve-2023-4911", glibc, VEXNotAffected, t1)},
			pkg:        "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{vex(VEXNotAffected, "CVE-2023-4911")},
		},
		{
			name: "every CVE, one statement each: suppressed",
			statements: []string{stmt("CVE-2023-4911", glibc, VEXNotAffected, t1), stmt("CVE-2023-4527", glibc, VEXNotAffected, t1),
				stmt("CVE-2023-4806", glibc, VEXNotAffected, t1), stmt("CVE-2023-4813", glibc, VEXNotAffected, t1)},
			pkg: "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{
				vex(VEXNotAffected, "CVE-2023-4527"), vex(VEXNotAffected, "CVE-2023-4806"),
				vex(VEXNotAffected, "CVE-2023-4813"), vex(VEXNotAffected, "CVE-2023-4911"),
				{Kind: vocab.AnnotationSuppressed, Source: "v.json", Status: VEXNotAffected, Reason: "VEX " +
					"not_affected (CVE-2023-4527): " + reason + "; not_affected (CVE-2023-4806): " + reason + "; " +
					"not_affected (CVE-2023-4813): " + reason + "; not_affected (CVE-2023-4911): " + reason},
			},
		},
		{
			name: "three CVEs not affected, one affected: still counts",
			statements: []string{stmt("CVE-2023-4911", glibc, VEXNotAffected, t1), stmt("CVE-2023-4527", glibc, VEXNotAffected, t1),
				stmt("CVE-2023-4806", glibc, VEXNotAffected, t1), stmt("CVE-2023-4813", glibc, VEXAffected, t1)},
			pkg: "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{
				vex(VEXNotAffected, "CVE-2023-4527"), vex(VEXNotAffected, "CVE-2023-4806"),
				{Kind: vocab.AnnotationVEX, Source: "v.json", Status: VEXAffected + " (CVE-2023-4813)"},
				vex(VEXNotAffected, "CVE-2023-4911"),
			},
		},
		{
			name:       "the advisory by its own ID: suppressed",
			statements: []string{stmt("ALSA-2023:5453", glibc, VEXNotAffected, t1)},
			pkg:        "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{vex(VEXNotAffected, ""),
				{Kind: vocab.AnnotationSuppressed, Source: "v.json", Status: VEXNotAffected, Reason: "VEX not_affected: " + reason}},
		},
		{
			name:       "a later statement about one CVE overrides the advisory's for that CVE",
			statements: []string{stmt("CVE-2023-4911", glibc, VEXAffected, t2), stmt("ALSA-2023:5453", glibc, VEXNotAffected, t1)},
			pkg:        "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{
				vex(VEXNotAffected, "CVE-2023-4527, CVE-2023-4806, CVE-2023-4813"),
				{Kind: vocab.AnnotationVEX, Source: "v.json", Status: VEXAffected + " (CVE-2023-4911)"},
			},
		},
		{
			name:       "an advisory with one CVE is covered by it",
			statements: []string{stmt("CVE-2023-29491", ncurses, VEXNotAffected, t1)},
			pkg:        "ncurses-libs", id: "ALSA-2023:6698",
			want: []finding.Annotation{vex(VEXNotAffected, ""),
				{Kind: vocab.AnnotationSuppressed, Source: "v.json", Status: VEXNotAffected, Reason: "VEX not_affected: " + reason}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseVEX("v.json", []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [`+
				strings.Join(tt.statements, ",\n")+`]}`))
			if err != nil {
				t.Fatal(err)
			}
			r := almaReport()
			e := &Engine{Gate: Gate{ExitCode: 1}, VEX: []*VEX{v}, Now: fixedNow}
			got, err := e.Evaluate(context.Background(), r.Result())
			if err != nil {
				t.Fatal(err)
			}
			f := findingOf(t, r, tt.id, tt.pkg)
			if diff := cmp.Diff(tt.want, f.Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			suppressed := tt.want[len(tt.want)-1].Kind == vocab.AnnotationSuppressed
			if f.Suppressed() != suppressed {
				t.Errorf("suppressed = %v, want %v", f.Suppressed(), suppressed)
			}
			var failed bool
			for _, res := range got.Failures {
				failed = failed || slices.Contains(res.Targets, f.Key())
			}
			if failed == suppressed {
				t.Errorf("gate fails on %s: %v, want %v", f.Key(), failed, !suppressed)
			}
			// Evaluating the annotated result again changes nothing.
			before := slices.Clone(f.Annotations)
			if _, err := e.Evaluate(context.Background(), r.Result()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, findingOf(t, r, tt.id, tt.pkg).Annotations); diff != "" {
				t.Errorf("second evaluation (-first +second):\n%s", diff)
			}
		})
	}
}
