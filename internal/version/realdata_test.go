package version

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func opSym(n int) string {
	switch {
	case n < 0:
		return "<"
	case n > 0:
		return ">"
	}
	return "="
}

// TestOracle checks every comparator against the answers of the ecosystem's
// reference implementation (dpkg, rpm, node-semver, pypa packaging, RubyGems,
// Maven), recorded by testdata/oracle/generate.py.
//
// Maven is the exception: the pairs in maven-divergent.tsv (67 of 1246) are
// answered differently on purpose. Each has a '.'-separated qualifier of
// letters followed by more items ("99.beta-0", "1.SNAPSHOT.1"), where
// Maven 3.8.7 gives answers such as 99.beta-0 < 99.beta and
// 1.SNAPSHOT-1 < 1.SNAPSHOT; drydock reads ".qualifier" as "-qualifier", as
// Maven's version order specification says (see Maven and
// TestMavenAgainstMaven).
func TestOracle(t *testing.T) {
	for file, c := range map[string]Comparator{
		"deb.tsv": Deb(), "rpm.tsv": RPM(), "semver.tsv": SemVer(), "pep440.tsv": PEP440(),
		"gem.tsv": Gem(), "maven.tsv": Maven(),
	} {
		t.Run(c.Name(), func(t *testing.T) {
			lines := readLines(t, filepath.Join("testdata", "oracle", file))
			if len(lines) < 500 {
				t.Fatalf("%s: only %d cases", file, len(lines))
			}
			// Known divergences, each listed with the reference's answer.
			skip := map[string]bool{}
			if c.Name() == "maven" {
				for _, l := range readLines(t, filepath.Join("testdata", "oracle", "maven-divergent.tsv")) {
					if !slices.Contains(lines, l) {
						t.Errorf("maven-divergent.tsv: %q is not in %s", l, file)
					}
					skip[l] = true
				}
			}
			bad, refused := 0, 0
			for _, l := range lines {
				if skip[l] {
					continue
				}
				f := strings.Split(l, "\t")
				if len(f) != 3 {
					t.Fatalf("%s: bad line %q", file, l)
				}
				got, err := c.Compare(f[0], f[2])
				if err != nil && c.Name() == "maven" && errors.Is(err, ErrInvalidVersion) {
					refused++ // shapes refused on purpose, see parseMaven
					continue
				}
				if err != nil {
					t.Errorf("%q %s %q: %v", f[0], f[1], f[2], err)
				} else if opSym(got) != f[1] {
					t.Errorf("Compare(%q, %q) = %s, reference says %s", f[0], f[2], opSym(got), f[1])
				} else {
					continue
				}
				if bad++; bad > 20 {
					t.Fatal("too many failures")
				}
			}
			if refused > len(lines)/6 { // the generator favours such shapes
				t.Errorf("%d of %d pairs refused", refused, len(lines))
			}
			// The oracle's versions are near-misses of each other: a good
			// place to look for an ordering that is not total.
			seen := map[string]bool{}
			var vs []string
			for _, l := range lines {
				f := strings.Split(l, "\t")
				for _, v := range []string{f[0], f[2]} {
					if _, err := c.Compare(v, v); err != nil {
						continue
					}
					if !seen[v] {
						seen[v] = true
						vs = append(vs, v)
					}
				}
			}
			checkSortConsistent(t, c, vs)
		})
	}
}

// TestAPKToolsVectors runs apk-tools' own test vectors (test/version.data).
// Lines marked invalid there, or that current apk-tools refuses, must be
// refused here too.
func TestAPKToolsVectors(t *testing.T) {
	c := APK()
	valid := 0
	for _, l := range readLines(t, filepath.Join("testdata", "oracle", "apk-tools-version.data")) {
		l, _, _ = strings.Cut(l, "#")
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		got, err := c.Compare(f[0], f[2])
		if err != nil {
			if !errors.Is(err, ErrInvalidVersion) {
				t.Errorf("%s: %v", l, err)
			}
			continue
		}
		valid++
		if opSym(got) != f[1] {
			t.Errorf("Compare(%q, %q) = %s, apk-tools says %s", f[0], f[2], opSym(got), f[1])
		}
	}
	if valid < 700 {
		t.Errorf("only %d valid vectors", valid)
	}
}

// TestRealVersions checks that every version in the real corpora (taken from
// advisory data and package databases, see testdata/README.md) parses, that
// the ones in NAME-invalid.txt are refused (PyPI legacy versions, which pypa
// packaging >= 22 refuses too, and Alpine secdb typos such as "2021-03-27-r5"
// that apk-tools refuses), and that sorting the valid ones gives an order
// every pair in a sample agrees with.
func TestRealVersions(t *testing.T) {
	for name, c := range map[string]Comparator{
		"deb": Deb(), "rpm": RPM(), "apk": APK(), "go": Go(), "pypi": PEP440(),
	} {
		t.Run(c.Name(), func(t *testing.T) {
			vs := readLines(t, filepath.Join("testdata", "real", name+".txt"))
			for _, v := range vs {
				if _, err := c.Compare(v, v); err != nil {
					t.Errorf("real version refused: %v", err)
				}
			}
			if t.Failed() {
				return
			}
			if bad, err := os.ReadFile(filepath.Join("testdata", "real", name+"-invalid.txt")); err == nil {
				for _, v := range strings.Fields(string(bad)) {
					if _, err := c.Compare(v, v); !errors.Is(err, ErrInvalidVersion) {
						t.Errorf("%q: got %v, want ErrInvalidVersion", v, err)
					}
				}
			}
			checkSortConsistent(t, c, vs)
		})
	}
}

// checkSortConsistent sorts vs and checks that every adjacent pair, and
// every pair in an evenly spread sample, is in order. A comparator that is
// not a total order (not transitive or not antisymmetric) fails this.
func checkSortConsistent(t *testing.T, c Comparator, vs []string) {
	t.Helper()
	cmpf := func(a, b string) int {
		r, err := c.Compare(a, b)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	slices.SortStableFunc(vs, cmpf)
	for i := 1; i < len(vs); i++ {
		if cmpf(vs[i-1], vs[i]) > 0 {
			t.Errorf("sorted order broken: %q > %q", vs[i-1], vs[i])
		}
	}
	const sample = 400
	step := max(1, len(vs)/sample)
	var s []string
	for i := 0; i < len(vs); i += step {
		s = append(s, vs[i])
	}
	bad := 0
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if cmpf(s[i], s[j]) > 0 {
				t.Errorf("not a total order: %q sorts before %q but compares greater", s[i], s[j])
				if bad++; bad > 10 {
					t.FailNow()
				}
			}
		}
	}
}

// TestAlpineSecdb matches the Alpine 3.16.9 minirootfs packages against
// Alpine's own v3.16 secdb: exactly busybox and ssl_client (origin busybox)
// 1.35.0-r17 are below a fix (1.35.0-r18, CVE-2023-42366), and zlib's "0"
// entry must not match.
func TestAlpineSecdb(t *testing.T) {
	var db struct {
		Packages []struct {
			Pkg struct {
				Name     string              `json:"name"`
				Secfixes map[string][]string `json:"secfixes"`
			} `json:"pkg"`
		} `json:"packages"`
	}
	b, err := os.ReadFile(filepath.Join("testdata", "real", "alpine-secdb-v3.16-main.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &db); err != nil {
		t.Fatal(err)
	}
	fixes := map[string]map[string][]string{}
	for _, p := range db.Packages {
		fixes[p.Pkg.Name] = p.Pkg.Secfixes
	}
	c, err := For("Alpine:v3.16")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	compared := 0
	for _, l := range readLines(t, filepath.Join("testdata", "real", "alpine-3.16.9-installed.tsv")) {
		f := strings.Split(l, "\t") // name, version, origin
		for fixed, ids := range fixes[f[2]] {
			r, err := c.Compare(f[1], fixed)
			if err != nil {
				t.Errorf("%s %s vs %s: %v", f[0], f[1], fixed, err)
				continue
			}
			compared++
			if r < 0 {
				for _, id := range ids {
					got = append(got, f[0]+" "+f[1]+" < "+fixed+" "+id)
				}
			}
		}
	}
	slices.Sort(got)
	want := []string{
		"busybox 1.35.0-r17 < 1.35.0-r18 CVE-2023-42366",
		"ssl_client 1.35.0-r17 < 1.35.0-r18 CVE-2023-42366",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if compared < 50 {
		t.Errorf("only %d comparisons: test data not read?", compared)
	}
}

// TestAlmaLinuxOSV evaluates the OSV ranges of AlmaLinux advisories for the
// packages of two AlmaLinux images. The expected counts of (package,
// advisory) pairs come from rpm's own comparison (see
// /work/shared/data/README.md): 36 for the 9.0 image and 39 for 8.8.
func TestAlmaLinuxOSV(t *testing.T) {
	type rangeRec struct {
		ID        string              `json:"id"`
		Ecosystem string              `json:"ecosystem"`
		Name      string              `json:"name"`
		Type      string              `json:"type"`
		Events    []map[string]string `json:"events"`
	}
	installed := map[string]map[string]string{}
	for eco, file := range map[string]string{
		"AlmaLinux:8": "almalinux-8.8-installed.tsv", "AlmaLinux:9": "almalinux-9.0-installed.tsv",
	} {
		installed[eco] = map[string]string{}
		for _, l := range readLines(t, filepath.Join("testdata", "real", file)) {
			name, evr, _ := strings.Cut(l, "\t")
			installed[eco][name] = evr
		}
	}
	f, err := os.Open(filepath.Join("testdata", "real", "almalinux-osv-ranges.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pairs := map[string]map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r rangeRec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		c, err := For(r.Ecosystem)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := installed[r.Ecosystem][r.Name]
		if !ok || r.Type != "ECOSYSTEM" {
			t.Fatalf("unexpected record %+v", r)
		}
		if affected(t, c, v, r.Events) {
			if pairs[r.Ecosystem] == nil {
				pairs[r.Ecosystem] = map[string]bool{}
			}
			pairs[r.Ecosystem][r.Name+" "+r.ID] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for eco, p := range pairs {
		got[eco] = len(p)
	}
	want := map[string]int{"AlmaLinux:8": 39, "AlmaLinux:9": 36}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("affected (package, advisory) pairs (-want +got):\n%s", diff)
	}
	for _, p := range []string{"glibc ALSA-2023:5453", "libgcc ALSA-2025:1346", "ncurses-libs ALSA-2023:6698"} {
		if !pairs["AlmaLinux:9"][p] {
			t.Errorf("AlmaLinux:9: %s not found", p)
		}
	}
	for _, p := range []string{"glibc ALSA-2023:5455", "ncurses-libs ALSA-2023:5249", "libcap ALSA-2023:4524"} {
		if !pairs["AlmaLinux:8"][p] {
			t.Errorf("AlmaLinux:8: %s not found", p)
		}
	}
}

// affected evaluates OSV events (introduced/fixed/last_affected, in order)
// for version v.
func affected(t *testing.T, c Comparator, v string, events []map[string]string) bool {
	t.Helper()
	in := false
	for _, e := range events {
		for k, ev := range e {
			if ev == "0" && k == "introduced" {
				in = true
				continue
			}
			r, err := c.Compare(v, ev)
			if err != nil {
				t.Fatal(err)
			}
			switch k {
			case "introduced":
				if r >= 0 {
					in = true
				}
			case "fixed":
				if r >= 0 {
					in = false
				}
			case "last_affected":
				if r > 0 {
					in = false
				}
			}
		}
	}
	return in
}
