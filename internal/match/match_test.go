package match

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/version"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// fakeDB is an in-memory vulndb.Reader.
type fakeDB struct {
	advs map[string][]vulndb.Advisory // "eco\x00name"
	cves map[string]vulndb.CVE
}

func (f *fakeDB) Advisories(_ context.Context, eco, name string) ([]vulndb.Advisory, error) {
	return f.advs[eco+"\x00"+name], nil
}
func (f *fakeDB) CVE(_ context.Context, id string) (vulndb.CVE, bool, error) {
	c, ok := f.cves[id]
	return c, ok, nil
}
func (f *fakeDB) Meta(context.Context) (vulndb.Metadata, error) { return vulndb.Metadata{}, nil }
func (f *fakeDB) Close() error                                  { return nil }

func ev(intro, fixed string) []vulndb.Event {
	e := []vulndb.Event{{Introduced: intro}}
	if fixed != "" {
		e = append(e, vulndb.Event{Fixed: fixed})
	}
	return e
}

func TestInRange(t *testing.T) {
	apk, err := version.For("apk")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		events []vulndb.Event
		v      string
		want   bool
		fixed  string
	}{
		{"below fixed", ev("0", "1.35.0-r18"), "1.35.0-r17", true, "1.35.0-r18"},
		{"at fixed", ev("0", "1.35.0-r18"), "1.35.0-r18", false, ""},
		{"above fixed", ev("0", "1.35.0-r18"), "1.36.1-r0", false, ""},
		{"before introduced", ev("1.36.0-r0", "1.36.1-r2"), "1.35.0-r17", false, ""},
		{"no fix", ev("0", ""), "1.0-r0", true, ""},
		{"last affected inclusive", []vulndb.Event{{Introduced: "0"}, {LastAffected: "1.2-r0"}}, "1.2-r0", true, ""},
		{"after last affected", []vulndb.Event{{Introduced: "0"}, {LastAffected: "1.2-r0"}}, "1.2-r1", false, ""},
		{"second interval", []vulndb.Event{{Introduced: "1.0-r0"}, {Fixed: "1.1-r0"}, {Introduced: "2.0-r0"}, {Fixed: "2.1-r0"}}, "2.0-r5", true, "2.1-r0"},
		{"between intervals", []vulndb.Event{{Introduced: "1.0-r0"}, {Fixed: "1.1-r0"}, {Introduced: "2.0-r0"}, {Fixed: "2.1-r0"}}, "1.5-r0", false, ""},
		{"limit excludes", []vulndb.Event{{Introduced: "0"}, {Limit: "2.0-r0"}}, "2.5-r0", false, ""},
		{"limit includes", []vulndb.Event{{Introduced: "0"}, {Limit: "2.0-r0"}}, "1.5-r0", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, got, err := inRange(apk.Compare, tc.events, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || h.fixed != tc.fixed {
				t.Errorf("inRange(%v, %s) = %v fixed %q, want %v fixed %q", tc.events, tc.v, got, h.fixed, tc.want, tc.fixed)
			}
		})
	}
}

func TestMatchVendorSemantics(t *testing.T) {
	db := &fakeDB{
		advs: map[string][]vulndb.Advisory{
			"Alpine:v3.16\x00busybox": {{
				ID: "CVE-2023-42366", Ecosystem: "Alpine:v3.16", Package: "busybox", Source: "alpine-secdb/v3.16/main",
				Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: ev("0", "1.35.0-r18")}},
			}},
			"npm\x00lodash": {
				{ID: "GHSA-35jh-r3h4-6jhm", Aliases: []string{"CVE-2021-23337"}, Ranges: []vulndb.Range{{Type: "SEMVER", Events: ev("0", "4.17.21")}},
					Severity: []vulndb.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}}},
				// The same flaw published again under its CVE: one finding.
				{ID: "CVE-2021-23337", Ranges: []vulndb.Range{{Type: "SEMVER", Events: ev("0", "4.17.21")}}},
			},
			"AlmaLinux:9\x00glibc": {
				{
					ID: "ALSA-2023:5453", Aliases: []string{"CVE-2023-4911"}, VendorSeverity: "Important",
					Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: ev("0", "2.34-60.el9_2.7")}},
				},
				// A later erratum citing the same CVE is a distinct advisory.
				{
					ID: "ALSA-2023:9999", Aliases: []string{"CVE-2023-4911"}, VendorSeverity: "Moderate",
					Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: ev("0", "2.34-61.el9_2")}},
				},
			},
		},
		cves: map[string]vulndb.CVE{
			"CVE-2023-42366": {ID: "CVE-2023-42366", NVDScore: 5.5, NVDSeverity: "MEDIUM", NVDVector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", NVDVersion: "3.1"},
			"CVE-2023-4911":  {ID: "CVE-2023-4911", KEV: true},
		},
	}
	type row struct {
		Pkg, ID, Fixed, Status, Severity, SevSource string
		KEV                                         bool
		Aliases                                     []string
	}
	tests := []struct {
		name string
		inv  inventory.Inventory
		want []row
	}{
		{
			name: "alpine by origin, severity from NVD",
			inv: inventory.Inventory{
				Distro: &inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16"},
				Packages: []inventory.Package{
					{ID: "a", Name: "busybox", Version: "1.35.0-r17", SourceName: "busybox", Ecosystem: inventory.EcoAPK},
					{ID: "b", Name: "ssl_client", Version: "1.35.0-r17", SourceName: "busybox", Ecosystem: inventory.EcoAPK},
					{ID: "c", Name: "busybox-extras", Version: "1.35.0-r18", SourceName: "busybox", Ecosystem: inventory.EcoAPK},
				},
			},
			want: []row{
				{"busybox", "CVE-2023-42366", "1.35.0-r18", vocab.StatusFixed, vocab.SevMedium, "nvd", false, nil},
				{"ssl_client", "CVE-2023-42366", "1.35.0-r18", vocab.StatusFixed, vocab.SevMedium, "nvd", false, nil},
			},
		},
		{
			name: "aliases merged, finding.CVSS from record",
			inv: inventory.Inventory{Packages: []inventory.Package{
				{ID: "l", Name: "lodash", Version: "4.17.15", Ecosystem: inventory.EcoNPM},
				{ID: "d", Name: "lodash", Version: "4.17.15", Ecosystem: inventory.EcoNPM, Declared: true},
				{ID: "o", Name: "lodash", Version: "4.17.15", Ecosystem: inventory.EcoNPM, Owner: "x"},
			}},
			want: []row{{"lodash", "GHSA-35jh-r3h4-6jhm", "4.17.21", vocab.StatusFixed, vocab.SevHigh, "osv-cvss", false, []string{"CVE-2021-23337"}}},
		},
		{
			name: "rpm by binary name, vendor severity, KEV",
			inv: inventory.Inventory{
				Distro:   &inventory.Distro{ID: "almalinux", VersionID: "9.0", Release: "9"},
				Packages: []inventory.Package{{ID: "g", Name: "glibc", Version: "2.34-28.el9_0", SourceName: "glibc", Ecosystem: inventory.EcoRPM}},
			},
			want: []row{
				{"glibc", "ALSA-2023:5453", "2.34-60.el9_2.7", vocab.StatusFixed, vocab.SevHigh, "vendor", true, []string{"CVE-2023-4911"}},
				{"glibc", "ALSA-2023:9999", "2.34-61.el9_2", vocab.StatusFixed, vocab.SevMedium, "vendor", true, []string{"CVE-2023-4911"}},
			},
		},
		{
			name: "no distro: OS packages not matched",
			inv:  inventory.Inventory{Packages: []inventory.Package{{ID: "a", Name: "busybox", Version: "1.35.0-r17", Ecosystem: inventory.EcoAPK}}},
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Matcher{DB: db}
			res, err := m.Match(context.Background(), &tc.inv)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, f := range res.Findings {
				got = append(got, row{f.Package.Name, f.ID, f.FixedVersion, f.Status, f.Severity, f.SeveritySource, f.KEV, f.Aliases})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtendingEcosystems(t *testing.T) {
	counts := map[string]int{
		"Red Hat:enterprise_linux:9::baseos":    3,
		"Red Hat:enterprise_linux:9::appstream": 2,
		"Red Hat:enterprise_linux:8::baseos":    1,
		"Red Hat:enterprise_linux:90":           1,
		"AlmaLinux:9":                           5,
	}
	got := extendingEcosystems("Red Hat:enterprise_linux:9", counts)
	want := []string{"Red Hat:enterprise_linux:9", "Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("extendingEcosystems (-want +got):\n%s", diff)
	}
}

// TestFindingKeepsEcosystemSpecific: the advisory's ecosystem_specific data
// (for Go: the vulnerable packages and symbols) reaches the finding's
// evidence, for enrichers such as reachability.
func TestFindingKeepsEcosystemSpecific(t *testing.T) {
	es := `{"imports":[{"path":"golang.org/x/text/language","symbols":["MatchStrings","Parse"]}]}`
	db := &fakeDB{advs: map[string][]vulndb.Advisory{
		"Go\x00golang.org/x/text": {{
			ID: "GO-2021-0113", Ecosystem: "Go", Package: "golang.org/x/text",
			Ranges:            []vulndb.Range{{Type: "SEMVER", Events: ev("0", "0.3.7")}},
			EcosystemSpecific: json.RawMessage(es),
		}},
	}}
	m := Matcher{DB: db}
	inv := inventory.Inventory{Packages: []inventory.Package{{ID: "x", Name: "golang.org/x/text", Version: "v0.3.5", Ecosystem: inventory.EcoGo}}}
	res, err := m.Match(context.Background(), &inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || len(res.Findings[0].Evidence) != 1 {
		t.Fatalf("findings = %+v, want one with one evidence", res.Findings)
	}
	if got := string(res.Findings[0].Evidence[0].EcosystemSpecific); got != es {
		t.Errorf("ecosystem_specific = %s, want %s", got, es)
	}
}
