package vulndb

import (
	"bytes"
	"compress/gzip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func secdbRange(fixed string) []Range {
	return []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: fixed}}}}
}

func TestParseAlpineSecDBReal(t *testing.T) {
	f, err := os.Open("testdata/mirror/alpine-secdb/v3.16/main.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	advs, st, err := ParseAlpineSecDB(f, f.Name(), "")
	if err != nil {
		t.Fatal(err)
	}
	// Counted with jq over the same file: 40 ids under "0", 2265 (id, origin) pairs otherwise.
	if st.NotAffected != 40 || st.Advisories != 2265 || len(advs) != 2265 {
		t.Errorf("stats %+v, %d advisories", st, len(advs))
	}
	var zlib, busybox []Advisory
	for _, a := range advs {
		if a.Ecosystem != "Alpine:v3.16" || a.Source != "alpine-secdb/v3.16/main" {
			t.Fatalf("%s %s: ecosystem %q source %q", a.ID, a.Package, a.Ecosystem, a.Source)
		}
		switch a.Package {
		case "zlib":
			zlib = append(zlib, a)
		case "busybox":
			if a.ID == "CVE-2023-42366" {
				busybox = append(busybox, a)
			}
		}
	}
	// zlib's "0": ["CVE-2023-45853"] is not an affected entry.
	wantZlib := []Advisory{
		{ID: "CVE-2018-25032", Ecosystem: "Alpine:v3.16", Package: "zlib", Ranges: secdbRange("1.2.11-r4"),
			References: []string{"https://security.alpinelinux.org/vuln/CVE-2018-25032"}, Source: "alpine-secdb/v3.16/main"},
		{ID: "CVE-2022-37434", Ecosystem: "Alpine:v3.16", Package: "zlib", Ranges: secdbRange("1.2.12-r2"),
			References: []string{"https://security.alpinelinux.org/vuln/CVE-2022-37434"}, Source: "alpine-secdb/v3.16/main"},
	}
	if diff := cmp.Diff(wantZlib, zlib); diff != "" {
		t.Errorf("zlib (-want +got):\n%s", diff)
	}
	if len(busybox) != 1 || busybox[0].Ranges[0].Events[1].Fixed != "1.35.0-r18" {
		t.Errorf("busybox CVE-2023-42366: %+v", busybox)
	}
}

func TestParseAlpineSecDB(t *testing.T) {
	const doc = `{"distroversion": "edge", "reponame": "community", "packages": [
		{"pkg": {"name": "a", "secfixes": {
			"1.0-r1": ["CVE-2017-2616 (+ regression fix)", "ALPINE-13661", "  "],
			"1.10-r0": ["CVE-2017-2616", "CVE-2020-1 CVE-2020-2"],
			"1.2-r0": ["CVE-2017-2616"],
			"0": ["CVE-2019-9"]}}},
		{"pkg": {"name": "empty", "secfixes": {}}},
		{"pkg": {"name": "", "secfixes": {"1-r0": ["CVE-1"]}}}
	]}`
	advs, st, err := ParseAlpineSecDB(strings.NewReader(doc), "edge/community.json", "v3.16")
	if err != nil {
		t.Fatal(err)
	}
	src := "alpine-secdb/edge/community"
	want := []Advisory{
		{ID: "ALPINE-13661", Ecosystem: "Alpine:edge", Package: "a", Ranges: secdbRange("1.0-r1"), Source: src},
		// The highest of 1.0-r1, 1.2-r0 and 1.10-r0 in apk order.
		{ID: "CVE-2017-2616", Ecosystem: "Alpine:edge", Package: "a", Ranges: secdbRange("1.10-r0"), Source: src,
			References: []string{"https://security.alpinelinux.org/vuln/CVE-2017-2616"}},
		{ID: "CVE-2020-1", Ecosystem: "Alpine:edge", Package: "a", Ranges: secdbRange("1.10-r0"), Source: src,
			References: []string{"https://security.alpinelinux.org/vuln/CVE-2020-1"}},
	}
	if diff := cmp.Diff(want, advs); diff != "" {
		t.Errorf("advisories (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(SecDBStats{Packages: 1, Advisories: 3, NotAffected: 1}, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}

	// The branch argument fills in a missing distroversion.
	advs, _, err = ParseAlpineSecDB(strings.NewReader(`{"packages": [{"pkg": {"name": "b", "secfixes": {"2-r0": ["CVE-9"]}}}]}`), "x", "v3.16")
	if err != nil || len(advs) != 1 || advs[0].Ecosystem != "Alpine:v3.16" || advs[0].Source != "alpine-secdb/v3.16/main" {
		t.Errorf("got %+v, %v", advs, err)
	}
}

func TestParseAlpineSecDBErrors(t *testing.T) {
	for _, doc := range []string{
		``,
		`{"distroversion": "v3.16", "packages": [`,
		`{"distroversion": "3.16", "packages": []}`,
		`{"distroversion": "v3.16/../x", "packages": []}`,
		`{"packages": []}`,
		`{"distroversion": "v3.16", "packages": [{"pkg": {"name": "a", "secfixes": {"1": [1]}}}]}`,
	} {
		_, _, err := ParseAlpineSecDB(strings.NewReader(doc), "bad.json", "")
		if err == nil || !strings.Contains(err.Error(), `"bad.json"`) {
			t.Errorf("ParseAlpineSecDB(%q): error %v, want one naming the file", doc, err)
		}
	}
}

func FuzzParseAlpineSecDB(f *testing.F) {
	data, err := os.ReadFile("testdata/mirror/alpine-secdb/v3.16/main.json")
	if err != nil {
		f.Fatal(err)
	}
	// A small real slice keeps the corpus entry short.
	if i := bytes.Index(data, []byte(`"name": "zlib"`)); i > 0 {
		f.Add([]byte(`{"distroversion":"v3.16","reponame":"main","packages":[{"pkg":{` + string(data[i:i+150]) + `}}]}`))
	}
	f.Add([]byte(`{"distroversion":"edge","packages":[{"pkg":{"name":"a","secfixes":{"0":["CVE-1"],"1.0-r1":["CVE-2 (x)","CVE-2"],"1.0_rc1-r0":["X"]}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		advs, st, err := ParseAlpineSecDB(bytes.NewReader(data), "fuzz", "v3.16")
		if err != nil {
			return
		}
		if st.Advisories != len(advs) {
			t.Fatalf("stats %d, %d advisories", st.Advisories, len(advs))
		}
		for _, a := range advs {
			if a.ID == "" || strings.ContainsAny(a.ID, " \t\n") || a.Package == "" || !strings.HasPrefix(a.Ecosystem, "Alpine:") {
				t.Fatalf("bad advisory %+v", a)
			}
			if fixed := a.Ranges[0].Events[1].Fixed; fixed == "0" || fixed == "" {
				t.Fatalf("fixed %q stored", fixed)
			}
		}
	})
}

func parseNVDAll(t *testing.T, data []byte) ([]CVE, error) {
	t.Helper()
	var got []CVE
	n, err := ParseNVD(bytes.NewReader(data), "test.json", func(c CVE) error { got = append(got, c); return nil })
	if err == nil && n != len(got) {
		t.Errorf("ParseNVD returned %d, called fn %d times", n, len(got))
	}
	return got, err
}

func TestParseNVD(t *testing.T) {
	read := func(p string) []byte {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	api2 := read("testdata/mirror/nvd/CVE-2023-42366.json")
	feed11 := read("testdata/mirror/nvd/CVE-2023-29491.json")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"resultsPerPage": 1, "format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve": ` + string(api2) + `}]}`))
	zw.Close()

	tests := []struct {
		name string
		data []byte
		want []CVE
	}{
		{"API 2.0 cve object (real)", api2, []CVE{{ID: "CVE-2023-42366", NVDSeverity: "MEDIUM", NVDScore: 5.5,
			NVDVector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", NVDVersion: "3.1"}}},
		{"1.1 feed item (real)", feed11, []CVE{{ID: "CVE-2023-29491", NVDSeverity: "HIGH", NVDScore: 7.8,
			NVDVector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", NVDVersion: "3.1"}}},
		{"2.0 bulk, gzip", gz.Bytes(), []CVE{{ID: "CVE-2023-42366", NVDSeverity: "MEDIUM", NVDScore: 5.5,
			NVDVector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", NVDVersion: "3.1"}}},
		{"2.0 bulk: v4.0 primary wins, secondary ignored, v2 severity, score computed when missing", []byte(`{"vulnerabilities": [
			{"cve": {"id": "CVE-1", "metrics": {
				"cvssMetricV40": [{"type": "Secondary", "cvssData": {"version": "4.0", "vectorString": "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "baseScore": 8.5, "baseSeverity": "HIGH"}},
				                  {"type": "Primary", "cvssData": {"version": "4.0", "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "baseScore": 9.3, "baseSeverity": "CRITICAL"}}],
				"cvssMetricV31": [{"type": "Primary", "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"}}]}}},
			{"cve": {"id": "CVE-2", "metrics": {
				"cvssMetricV31": [{"type": "Secondary", "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", "baseScore": 5.9, "baseSeverity": "MEDIUM"}}],
				"cvssMetricV2": [{"type": "Primary", "baseSeverity": "HIGH", "cvssData": {"version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "baseScore": 7.5}}]}}},
			{"cve": {"id": "CVE-3", "metrics": {"cvssMetricV30": [{"type": "Secondary", "cvssData": {"vectorString": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]}}},
			{"cve": {"id": "CVE-4", "metrics": {}}},
			{"cve": {"id": "NOT-A-CVE"}}
		]}`), []CVE{
			{ID: "CVE-1", NVDSeverity: "CRITICAL", NVDScore: 9.3, NVDVector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", NVDVersion: "4.0"},
			{ID: "CVE-2", NVDSeverity: "HIGH", NVDScore: 7.5, NVDVector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", NVDVersion: "2.0"},
			{ID: "CVE-3", NVDSeverity: "CRITICAL", NVDScore: 9.8, NVDVector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", NVDVersion: "3.0"},
			{ID: "CVE-4"},
		}},
		{"1.1 feed with CVE_Items and v2 only", []byte(`{"CVE_data_type": "CVE", "CVE_Items": [
			{"cve": {"CVE_data_meta": {"ID": "CVE-2010-1"}}, "impact": {"baseMetricV2": {"cvssV2": {"version": "2.0", "vectorString": "AV:N/AC:M/Au:N/C:N/I:P/A:N", "baseScore": 4.3}, "severity": "MEDIUM"}}}
		]}`), []CVE{{ID: "CVE-2010-1", NVDSeverity: "MEDIUM", NVDScore: 4.3, NVDVector: "AV:N/AC:M/Au:N/C:N/I:P/A:N", NVDVersion: "2.0"}}},
		{"empty 2.0 feed", []byte(`{"format": "NVD_CVE", "vulnerabilities": []}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNVDAll(t, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNVDErrors(t *testing.T) {
	for _, doc := range []string{
		``,
		`[]`,
		`{"foo": 1}`,
		`{"vulnerabilities": {}}`,
		`{"vulnerabilities": [{"cve": {"id": 5}}]}`,
		`{"vulnerabilities": [`,
		`{"id": "CVE-1", "metrics": {}} {}`,
		"\x1f\x8bnot gzip",
	} {
		if _, err := parseNVDAll(t, []byte(doc)); err == nil || !strings.Contains(err.Error(), `"test.json"`) {
			t.Errorf("ParseNVD(%q): error %v, want one naming the file", doc, err)
		}
	}
}

func FuzzParseNVD(f *testing.F) {
	for _, p := range []string{"testdata/mirror/nvd/CVE-2023-42366.json", "testdata/mirror/nvd/CVE-2023-29491.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"vulnerabilities": [{"cve": {"id": "CVE-1", "metrics": {"cvssMetricV2": [{"type": "Primary", "cvssData": {"vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}}]}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseNVD(bytes.NewReader(data), "fuzz", func(c CVE) error {
			if !strings.HasPrefix(c.ID, "CVE-") {
				t.Fatalf("id %q", c.ID)
			}
			return nil
		})
	})
}

func TestParseKEV(t *testing.T) {
	f, err := os.Open("testdata/mirror/cisa-kev/known_exploited_vulnerabilities.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseKEV(f, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := []CVE{
		{ID: "CVE-2021-44228", KEV: true, KEVDateAdded: "2021-12-10", KEVDueDate: "2021-12-24", KEVRansomware: "Known"},
		{ID: "CVE-2021-45046", KEV: true, KEVDateAdded: "2023-05-01", KEVDueDate: "2023-05-22", KEVRansomware: "Known"},
		{ID: "CVE-2023-4911", KEV: true, KEVDateAdded: "2023-11-21", KEVDueDate: "2023-12-12", KEVRansomware: "Unknown"},
	}
	opt := cmp.Transformer("sort", func(in []CVE) map[string]CVE {
		m := map[string]CVE{}
		for _, c := range in {
			m[c.ID] = c
		}
		return m
	})
	if diff := cmp.Diff(want, got, opt); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, doc := range []string{``, `{}`, `{"vulnerabilities": 3}`, `[`} {
		if _, err := ParseKEV(strings.NewReader(doc), "kev.json"); err == nil || !strings.Contains(err.Error(), `"kev.json"`) {
			t.Errorf("ParseKEV(%q): error %v", doc, err)
		}
	}
}

func FuzzParseKEV(f *testing.F) {
	f.Add([]byte(`{"vulnerabilities": [{"cveID": "CVE-2023-4911", "dateAdded": "2023-11-21"}, {"cveID": "x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := ParseKEV(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for _, c := range list {
			if !c.KEV || !strings.HasPrefix(c.ID, "CVE-") {
				t.Fatalf("bad entry %+v", c)
			}
		}
	})
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ eco, name, want string }{
		{"PyPI", "Django", "django"},
		{"PyPI", "Foo_Bar.baz", "foo-bar-baz"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"PyPI", "a__-._b", "a-b"},
		{"PyPI", "_x_", "-x-"},
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
		{"Packagist", "Symfony/HTTP-Kernel", "symfony/http-kernel"},
		{"npm", "@Babel/Core", "@Babel/Core"},
		{"Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"},
		{"Maven", "org.apache.logging.log4j:log4j-core", "org.apache.logging.log4j:log4j-core"},
		{"AlmaLinux:9", "glibc-langpack-en", "glibc-langpack-en"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.eco, tt.name); got != tt.want {
			t.Errorf("NormalizeName(%q, %q) = %q, want %q", tt.eco, tt.name, got, tt.want)
		}
	}
}
