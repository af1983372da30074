package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// almaRecord is ALSA-2023:5453 from AlmaLinux/osv-database, cut to two
// packages and two references.
const almaRecord = `{
  "id": "ALSA-2023:5453",
  "summary": "Important: glibc security update",
  "affected": [
    {"package": {"ecosystem": "AlmaLinux:9", "name": "glibc"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.34-60.el9_2.7"}]}]},
    {"package": {"ecosystem": "AlmaLinux:9", "name": "glibc-common"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.34-60.el9_2.7"}]}]}
  ],
  "related": ["CVE-2023-4911", "CVE-2023-4527", "CVE-2023-4806", "CVE-2023-4813"],
  "published": "2023-10-05T00:00:00Z",
  "modified": "2023-10-06T10:29:58Z",
  "details": "The glibc packages provide the standard C libraries.",
  "references": [
    {"url": "https://access.redhat.com/errata/RHSA-2023:5453", "type": "ADVISORY"},
    {"url": "https://errata.almalinux.org/9/ALSA-2023-5453.html", "type": "ADVISORY"}
  ]
}`

func TestParseOSV(t *testing.T) {
	alma := Advisory{
		ID:             "ALSA-2023:5453",
		Aliases:        []string{"CVE-2023-4527", "CVE-2023-4806", "CVE-2023-4813", "CVE-2023-4911"},
		Summary:        "Important: glibc security update",
		Details:        "The glibc packages provide the standard C libraries.",
		Published:      mustTime("2023-10-05T00:00:00Z"),
		Modified:       mustTime("2023-10-06T10:29:58Z"),
		Ecosystem:      "AlmaLinux:9",
		Package:        "glibc",
		Ranges:         []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "2.34-60.el9_2.7"}}}},
		VendorSeverity: "Important",
		References:     []string{"https://access.redhat.com/errata/RHSA-2023:5453", "https://errata.almalinux.org/9/ALSA-2023-5453.html"},
		Source:         "osv/AlmaLinux",
	}
	almaCommon := alma
	almaCommon.Package = "glibc-common"

	tests := []struct {
		name      string
		record    string
		source    string // default "osv/test"
		want      []Advisory
		withdrawn bool
	}{
		{
			name:   "AlmaLinux: one advisory per package, CVEs from related, severity from summary",
			record: almaRecord,
			source: "osv/AlmaLinux",
			want:   []Advisory{alma, almaCommon},
		},
		{
			name:      "withdrawn record",
			record:    `{"id": "GO-2022-0617", "withdrawn": "2024-08-21T16:25:56Z", "affected": [{"package": {"ecosystem": "Go", "name": "k8s.io/kubernetes"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`,
			withdrawn: true,
		},
		{
			name:   "GIT ranges are dropped; nothing left means no advisory",
			record: `{"id": "OSV-2020-1", "affected": [{"package": {"ecosystem": "OSS-Fuzz", "name": "x"}, "ranges": [{"type": "GIT", "repo": "https://example.com/x", "events": [{"introduced": "abc"}]}]}, {"ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]}]}`,
		},
		{
			name: "affected entries of the same package merge; severities from record and affected; related not added when a CVE alias exists",
			record: `{"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2021-1", "GHSA-aaaa-bbbb-cccc"], "related": ["CVE-2021-9"],
				"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
				"affected": [
				  {"package": {"ecosystem": "Maven", "name": "g:a", "purl": "pkg:maven/g/a"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}], "versions": ["2.14", "2.13.0"]},
				  {"package": {"ecosystem": "Maven", "name": "g:a"}, "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
				   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.3.1"}]}], "versions": ["2.14"]}
				]}`,
			want: []Advisory{{
				ID: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"CVE-2021-1"}, Ecosystem: "Maven", Package: "g:a", PURL: "pkg:maven/g/a",
				Ranges: []Range{
					{Type: "ECOSYSTEM", Events: []Event{{Introduced: "2.13.0"}, {Fixed: "2.15.0"}}},
					{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "2.3.1"}}},
				},
				Versions: []string{"2.13.0", "2.14"},
				Severity: []Severity{
					{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
					{Type: "CVSS_V4", Score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
				},
				Source: "osv/test",
			}},
		},
		{
			name: "Ubuntu: priority per affected entry, CVE from related, Ubuntu severity type",
			record: `{"id": "UBUNTU-CVE-2009-3720", "related": ["CVE-2009-3720", "USN-890-1"],
				"severity": [{"type": "Ubuntu", "score": "medium"}],
				"affected": [
				  {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "swish-e"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}], "ecosystem_specific": {"ubuntu_priority": "low"}},
				  {"package": {"ecosystem": "Ubuntu:24.04:LTS", "name": "swish-e"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}
				]}`,
			want: []Advisory{
				{ID: "UBUNTU-CVE-2009-3720", Aliases: []string{"CVE-2009-3720"}, Ecosystem: "Ubuntu:22.04:LTS", Package: "swish-e",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}}}}, VendorSeverity: "low", Source: "osv/test",
					EcosystemSpecific: json.RawMessage(`{"ubuntu_priority":"low"}`)},
				{ID: "UBUNTU-CVE-2009-3720", Aliases: []string{"CVE-2009-3720"}, Ecosystem: "Ubuntu:24.04:LTS", Package: "swish-e",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}}}}, VendorSeverity: "medium", Source: "osv/test"},
			},
		},
		{
			name: "Debian: urgency, upstream ids, placeholder urgency, wont-fix status",
			record: `{"id": "DEBIAN-CVE-2024-1111", "upstream": ["CVE-2024-1111"],
				"affected": [
				  {"package": {"ecosystem": "Debian:12", "name": "curl"}, "ecosystem_specific": {"urgency": "low**"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u6"}]}]},
				  {"package": {"ecosystem": "Debian:13", "name": "curl"}, "ecosystem_specific": {"urgency": "not yet assigned"}, "database_specific": {"status": "Will not fix"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}
				]}`,
			want: []Advisory{
				{ID: "DEBIAN-CVE-2024-1111", Aliases: []string{"CVE-2024-1111"}, Ecosystem: "Debian:12", Package: "curl",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "7.88.1-10+deb12u6"}}}}, VendorSeverity: "low", Source: "osv/test",
					EcosystemSpecific: json.RawMessage(`{"urgency":"low**"}`)},
				{ID: "DEBIAN-CVE-2024-1111", Aliases: []string{"CVE-2024-1111"}, Ecosystem: "Debian:13", Package: "curl",
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}}}}, Status: "wont_fix", Source: "osv/test",
					EcosystemSpecific: json.RawMessage(`{"urgency":"not yet assigned"}`)},
			},
		},
		{
			name:   "fractional seconds and versions-only entry",
			record: `{"id": "PYSEC-2021-1", "modified": "2021-06-10T06:51:33.535067Z", "affected": [{"package": {"ecosystem": "PyPI", "name": "Foo_Bar"}, "versions": ["1.0", "0.9", "1.0"]}]}`,
			want: []Advisory{{ID: "PYSEC-2021-1", Modified: mustTime("2021-06-10T06:51:33.535067Z"), Ecosystem: "PyPI", Package: "Foo_Bar",
				Versions: []string{"0.9", "1.0"}, Source: "osv/test"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := tt.source
			if source == "" {
				source = "osv/test"
			}
			got, withdrawn, err := ParseOSV([]byte(tt.record), source)
			if err != nil {
				t.Fatal(err)
			}
			if withdrawn != tt.withdrawn {
				t.Errorf("withdrawn = %v, want %v", withdrawn, tt.withdrawn)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseOSV mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseOSVLimits(t *testing.T) {
	var refs []string
	for i := range 15 {
		refs = append(refs, `{"type": "WEB", "url": "https://example.com/`+strings.Repeat("x", i)+`"}`)
	}
	rec := `{"id": "X-1", "details": "` + strings.Repeat("é", MaxDetails) + `", "references": [` + strings.Join(refs, ",") + `],
		"affected": [{"package": {"ecosystem": "npm", "name": "x"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`
	got, _, err := ParseOSV([]byte(rec), "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d advisories, want 1", len(got))
	}
	if n := len(got[0].Details); n > MaxDetails || n < MaxDetails-1 {
		t.Errorf("details length %d, want about %d", n, MaxDetails)
	}
	if !strings.HasSuffix(got[0].Details, "é") {
		t.Errorf("details cut inside a rune")
	}
	if len(got[0].References) != MaxReferences {
		t.Errorf("%d references, want %d", len(got[0].References), MaxReferences)
	}
}

func TestParseOSVErrors(t *testing.T) {
	for _, rec := range []string{
		``,
		`[]`,
		`{"id": ""}`,
		`{"summary": "no id"}`,
		`{"id": "X", "published": "yesterday"}`,
		`{"id": "X", "affected": [{"ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": 1}]}]}]}`,
		`{"id": "X"`,
	} {
		if _, _, err := ParseOSV([]byte(rec), "s"); err == nil {
			t.Errorf("ParseOSV(%q): no error", rec)
		}
	}
}

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadOSVZip(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("testdata/mirror/Go/all.zip")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	st, err := ReadOSVZip(ctx, bytes.NewReader(data), int64(len(data)), "testdata/mirror/Go/all.zip", "osv/Go", func(advs []Advisory) error {
		for _, a := range advs {
			if a.Ecosystem != "Go" || a.Source != "osv/Go" {
				t.Errorf("%s: ecosystem %q source %q", a.ID, a.Ecosystem, a.Source)
			}
			if a.ID == "GO-2022-0617" {
				t.Errorf("withdrawn GO-2022-0617 was imported")
			}
		}
		ids = append(ids, advs[0].ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// golang/vulndb a752ea54: 4291 records, 17 withdrawn.
	want := OSVStats{Records: 4274, Withdrawn: 17, Advisories: st.Advisories}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if st.Advisories < st.Records {
		t.Errorf("%d advisories for %d records", st.Advisories, st.Records)
	}
	if len(ids) != 4274 || ids[0] != "GO-2020-0001" {
		t.Errorf("got %d records starting with %v", len(ids), ids[:1])
	}

	bad := []struct {
		name, want string
		data       []byte
	}{
		{"not a zip", "not a valid zip", []byte("this is not a zip file")},
		{"bad record", `entry "X-1.json"`, zipOf(t, map[string]string{"X-1.json": `{"id": 5}`})},
		{"truncated", "zip", data[:len(data)/2]},
	}
	for _, b := range bad {
		_, err := ReadOSVZip(ctx, bytes.NewReader(b.data), int64(len(b.data)), "mirror/npm/all.zip", "osv/npm", func([]Advisory) error { return nil })
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), `"mirror/npm/all.zip"`) {
			t.Errorf("%s: error %v, want one naming the zip and containing %q", b.name, err, b.want)
		}
	}
}

func FuzzParseOSV(f *testing.F) {
	f.Add([]byte(almaRecord))
	f.Add([]byte(`{"id": "X", "aliases": ["CVE-1"], "related": ["CVE-2"], "upstream": ["CVE-3"], "severity": [{"type": "Ubuntu", "score": "high"}],
		"affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "versions": ["1"], "ecosystem_specific": {"urgency": "low"}, "database_specific": {"status": "wont fix"}}]}`))
	f.Add([]byte(`{"id": "X", "withdrawn": "2020-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		advs, withdrawn, err := ParseOSV(data, "fuzz")
		if err != nil {
			return
		}
		if withdrawn && len(advs) > 0 {
			t.Fatalf("withdrawn record produced advisories")
		}
		for _, a := range advs {
			if a.ID == "" || a.Ecosystem == "" || a.Package == "" {
				t.Fatalf("incomplete advisory %+v", a)
			}
			if len(a.Ranges) == 0 && len(a.Versions) == 0 {
				t.Fatalf("advisory without ranges or versions %+v", a)
			}
			if len(a.Details) > MaxDetails || len(a.References) > MaxReferences {
				t.Fatalf("limits not applied")
			}
			for _, r := range a.Ranges {
				if r.Type != "ECOSYSTEM" && r.Type != "SEMVER" {
					t.Fatalf("range type %q kept", r.Type)
				}
			}
		}
	})
}

func FuzzReadOSVZip(f *testing.F) {
	f.Add(zipOf(f, map[string]string{"ALSA-2023:5453.json": almaRecord, "dir/": "", "README": "x"}))
	f.Add(zipOf(f, map[string]string{"X.json": `{"id": "X", "withdrawn": "2020-01-01T00:00:00Z"}`}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n int
		st, err := ReadOSVZip(context.Background(), bytes.NewReader(data), int64(len(data)), "fuzz.zip", "osv/fuzz", func(advs []Advisory) error {
			n += len(advs)
			return nil
		})
		if err != nil {
			if !strings.Contains(err.Error(), `"fuzz.zip"`) {
				t.Fatalf("error %v does not name the zip", err)
			}
			return
		}
		if n != st.Advisories {
			t.Fatalf("stats %+v, %d advisories passed on", st, n)
		}
	})
}

// TestMaliciousRecords reads OpenSSF's MAL- records as osv.dev serves them
// (in the ecosystems' all.zip) and keeps them apart from vulnerabilities:
// every one gets the malicious class, through the store too.
func TestMaliciousRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drydock.db")
	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range []struct{ file, eco string }{{"npm", "npm"}, {"PyPI", "PyPI"}} {
		zp := "../../testdata/malicious/" + z.file + "/all.zip"
		data, err := os.ReadFile(zp)
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.ImportOSVZip(ctx, bytes.NewReader(data), int64(len(data)), zp, SourceInfo{Name: "osv/" + z.eco})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"npm": 25, "PyPI": 15}[z.eco]; st.Records != want {
			t.Errorf("%s: %d records, want %d", z.eco, st.Records, want)
		}
	}
	if _, err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []struct{ eco, name, id string }{
		{"npm", "chalk", "MAL-2025-46969"},
		{"npm", "@ctrl/tinycolor", "MAL-2025-47141"},
		{"npm", "-d3-ushape", "MAL-2022-5"},
		{"PyPI", "aiocpa", "MAL-2024-11518"},
		{"PyPI", "AIOHTT", "MAL-2023-1578"}, // PEP 503: names compare normalised
	} {
		advs, err := db.Advisories(ctx, q.eco, q.name)
		if err != nil {
			t.Fatal(err)
		}
		if len(advs) != 1 || advs[0].ID != q.id || advs[0].Class != ClassMalicious || !advs[0].Malicious() {
			t.Errorf("%s %s: got %+v, want %s of class %q", q.eco, q.name, advs, q.id, ClassMalicious)
		}
	}

	// A vulnerability stays one; a database written before the class was
	// stored still tells MAL- records apart by their ID.
	vuln := Advisory{ID: "GHSA-35jh-r3h4-6jhm"}
	old := Advisory{ID: "MAL-2025-46969"}
	if vuln.Malicious() || !old.Malicious() {
		t.Errorf("Malicious: vulnerability %v, unclassed MAL- record %v", vuln.Malicious(), old.Malicious())
	}
	// A record with another ID that says where its malware reports came
	// from is malicious too.
	advs, _, err := ParseOSV([]byte(`{"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "x"}, "versions": ["1.0.0"]}],
		"database_specific": {"malicious-packages-origins": [{"source": "ghsa-malware"}]}}`), "test")
	if err != nil || len(advs) != 1 || advs[0].Class != ClassMalicious {
		t.Errorf("origins record: %+v, %v", advs, err)
	}
}
