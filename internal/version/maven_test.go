package version

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sortClasses sorts vs with c and returns them grouped into classes of equal
// versions, each class sorted bytewise.
func sortClasses(t *testing.T, c Comparator, vs []string) [][]string {
	t.Helper()
	cmpf := func(a, b string) int {
		r, err := c.Compare(a, b)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	vs = slices.Clone(vs)
	slices.SortStableFunc(vs, cmpf)
	var out [][]string
	for i, v := range vs {
		if i == 0 || cmpf(vs[i-1], v) != 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], v)
	}
	for _, cl := range out {
		slices.Sort(cl)
	}
	return out
}

// TestMavenOrder sorts real-world Maven versions. Every class and every '<'
// between neighbouring classes is Maven 3.8.7's answer
// (org.apache.maven.artifact.versioning.ComparableVersion).
func TestMavenOrder(t *testing.T) {
	want := [][]string{
		{"1.0-ALPHA1", "1.0-alpha-1", "1.0a1"},
		{"1.0-alpha-2"},
		{"1.0-beta"},
		{"1.0-beta-2"},
		{"1.0-M1", "1.0-milestone-1", "1.0.M1"},
		{"1.0-cr1", "1.0-rc1", "1.0.RC1"},
		{"1.0-RC2"},
		{"1-snapshot", "1.0-SNAPSHOT", "1.0.SNAPSHOT"},
		{"1", "1-0", "1-ga", "1.0", "1.0-GA", "1.0.0", "1.0.Final", "1.0.RELEASE"},
		{"1.0-sp", "1.0.SP"},
		{"1.0-sp1", "1.0.SP1"},
		{"1.0-android"}, // other qualifiers after sp, bytewise
		{"1.0-jre"},
		{"1.0-1"}, // a '-' number after every qualifier
		{"1.0.1"}, // a '.' number after a '-' number
		{"1.0.1-1"},
		{"1.0.2"},
		{"2.0-beta9"}, // log4j-core
		{"2.0-rc1"},
		{"2.0"},
		{"2.0.1"},
		{"2.3.1", "2.3.1.RELEASE"},
		{"2.12.2"},
		{"2.14.1"},
		{"2.15", "2.15.0"},
		{"2.16.0"},
		{"2.17.1"},
		{"3.0.0-M1", "3.0.0.M1"}, // Spring
		{"3.0.0.RC1"},
		{"3.0.0"},
		{"4.1.68.Final"}, // Netty
		{"4.1.69.Final"},
		{"5.3.13"},
		{"5.3.18", "5.3.18.RELEASE"},
		{"5.3.19"},
		{"6.0.0-M1"},
		{"6.0.0-RC1"},
		{"6.0.0-SNAPSHOT"},
		{"6.0.0"},
		{"9.4.43"}, // Jetty
		{"9.4.43.v20210629"},
		{"9.4.44.v20210927"},
		{"10.0.0-alpha-0", "10.0.0-alpha0"},
		{"30.1-android"}, // Guava
		{"30.1-jre"},
		{"30.1.1-jre"},
		{"31.0-android"},
	}
	var vs []string
	for _, cl := range want {
		vs = append(vs, cl...)
	}
	slices.Reverse(vs)
	if diff := cmp.Diff(want, sortClasses(t, Maven(), vs)); diff != "" {
		t.Errorf("Maven order (-want +got):\n%s", diff)
	}
}

// TestMavenAgainstMaven lists pairs on which drydock differs from Maven
// 3.8.7 on purpose, with Maven's answer in a comment. Most are cycles in
// Maven's order: Maven compares a nested list above any qualifier and below
// any number, whatever the list holds, but compares it with a missing item by
// its content. So 0A0 (parsed [[alpha]]) < 0 < A, yet 0A0 > A. drydock
// reads every qualifier as the start of a '-' part, as Maven's specification
// says (".qualifier" = "-qualifier"), a leading qualifier as following a null
// release, and drops null parts (the specification trims null items at each
// '-').
func TestMavenAgainstMaven(t *testing.T) {
	pairs := [][2]string{
		// FuzzMaven's find: 0A0 < 0 < A < 0A0 in Maven
		{"0A0", "0"},
		{"0", "A"},
		{"0A0", "A"}, // Maven: >
		// 0-alpha < 0 < sp < 0-alpha in Maven
		{"0-alpha", "sp"}, // Maven: >
		// 1-0.alpha.1 < 1 < 1-sp < 1-0.alpha.1 in Maven: [0, alpha, 1]
		// compares as 0 with a qualifier but as alpha with nothing
		{"1-0.alpha.1", "1"},
		{"1", "1-sp"},
		{"1-0.alpha.1", "1-sp"},      // Maven: >
		{"1-0.alpha.1", "1-alpha.1"}, // Maven: >
		// Maven keeps a qualifier followed by '.' or '-' in the list it is in
		{"1.foo.1", "1-foo.1"},   // Maven: <
		{"99.beta-0", "99.beta"}, // Maven: <
	}
	want := []string{
		"0A0 < 0", "0 < A", "0A0 < A",
		"0-alpha < sp",
		"1-0.alpha.1 < 1", "1 < 1-sp", "1-0.alpha.1 < 1-sp", "1-0.alpha.1 = 1-alpha.1",
		"1.foo.1 = 1-foo.1", "99.beta-0 = 99.beta",
	}
	var got []string
	for _, p := range pairs {
		r, err := Maven().Compare(p[0], p[1])
		if err != nil {
			t.Fatalf("Compare(%q, %q): %v", p[0], p[1], err)
		}
		got = append(got, p[0]+" "+opSym(r)+" "+p[1])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Maven (-want +got):\n%s", diff)
	}
}

// TestMavenFuzzRegressions replays triples on which the order was not
// transitive (the first found by FuzzMaven with the go-mvn-version wrapper,
// the others Maven 3.8.7's own cycles): each must now be consistent.
func TestMavenFuzzRegressions(t *testing.T) {
	for _, tr := range [][3]string{
		{"0A0", "0", "A"},
		{"0-alpha", "0", "sp"},
		{"1-alpha-alpha", "1-alpha", "1-alpha.sp"},
		{"1-0.alpha.1", "1", "1-sp"},
		{"ga-foo", "0-foo", "foo"},
		{"1.ga-1", "1-1", "1.0-ga.1"},
	} {
		checkProperties(t, Maven(), tr[0], tr[1], tr[2])
	}
}

// trickyMavenVersions returns every version of one or two tokens (with '.',
// '-' or nothing between) from tokens that exercise each rule: nulls,
// aliases, a/b/m before a digit, unknown qualifiers, empty items, and a few
// longer shapes from the oracle.
func trickyMavenVersions() []string {
	toks := []string{"", "0", "1", "2", "a", "a1", "alpha", "b2", "ga", "final", "rc", "cr1", "snapshot", "sp", "sp1", "foo", "A0"}
	var vs []string
	for _, x := range toks {
		if x != "" {
			vs = append(vs, x)
		}
		for _, y := range toks {
			for _, sep := range []string{".", "-", ""} {
				vs = append(vs, x+sep+y)
			}
		}
	}
	vs = append(vs,
		"1.0.0.Final-redhat-00001", "2.13.4.redhat-00002", "1.0-alpha.ga.sp", "1-ga.sp.1",
		"1-0.1-alpha", "1-ga.1", "1.0.SNAPSHOT.1", "10.99.foo.sp1", "3.0cr-sp1", "0.99.11.99.beta-sp1",
		"1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.alpha-alpha.1", "1--1", "1..1", ".1", "-1", "1-", "1.",
	)
	return vs
}

// TestMavenTotalOrder checks every triple of tricky versions for a total
// order: reflexive, antisymmetric, transitive (also of equality).
func TestMavenTotalOrder(t *testing.T) {
	var vs []string
	var parsed []mavenVersion
	for _, v := range trickyMavenVersions() {
		mv, err := parseMaven(v)
		if err != nil {
			if !errors.Is(err, ErrInvalidVersion) {
				t.Fatalf("%q: %v", v, err)
			}
			continue
		}
		vs, parsed = append(vs, v), append(parsed, mv)
	}
	if len(vs) < 500 {
		t.Fatalf("only %d valid versions", len(vs))
	}
	n := len(vs)
	m := make([][]int8, n)
	for i := range m {
		m[i] = make([]int8, n)
		for j := range m[i] {
			m[i][j] = int8(parsed[i].compare(parsed[j]))
		}
	}
	bad := 0
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		if bad++; bad > 10 {
			t.FailNow()
		}
	}
	for i := range n {
		if m[i][i] != 0 {
			fail("%q != itself", vs[i])
		}
		for j := range n {
			if m[i][j] != -m[j][i] {
				fail("not antisymmetric: %q %d %q but %q %d %q", vs[i], m[i][j], vs[j], vs[j], m[j][i], vs[i])
			}
		}
	}
	for i := range n {
		for j := range n {
			if m[i][j] > 0 {
				continue
			}
			for k := range n {
				if m[j][k] <= 0 && m[i][k] > 0 {
					fail("not transitive: %q <= %q <= %q but %q > %q", vs[i], vs[j], vs[k], vs[i], vs[k])
				}
			}
		}
	}
	// The comparator itself answers as the parsed values do.
	for i := 0; i < n; i += 7 {
		for j := 0; j < n; j += 5 {
			if got, err := Maven().Compare(vs[i], vs[j]); err != nil || got != int(m[i][j]) {
				fail("Compare(%q, %q) = %d, %v; parsed compare says %d", vs[i], vs[j], got, err, m[i][j])
			}
		}
	}
}

// TestMavenRefused lists shapes refused on purpose, and shapes next to them
// that are accepted.
func TestMavenRefused(t *testing.T) {
	got := map[string]bool{}
	want := map[string]bool{
		// a null '-' part followed by more parts: Maven 3.8.7 keeps an
		// empty level of nesting ([1, [[sp, [1]]]]) and orders it
		// 1-0-alpha < 1 < 1-sp < 1-0-alpha
		"1-0-sp1": false, "1-0-alpha": false, "1-ga-1": false, "1.0-final-SNAPSHOT": false,
		"1-0-0": false, "1.final0": false, "1.1RELEASE.m": false,
		// null parts Maven trims
		"1-0": true, "1-ga": true, "1.0-alpha-0": true, "1.ga-1": true, "1.0.0.Final-redhat-1": true,
		"0-SNAPSHOT": true, "ga-1": true, "1-0.1-alpha": true, "1-ga.1": true,
		// other limits
		"1.0 beta": false, "": false, "1.1234567890123456789": false, "1.123456789012345678": true,
	}
	for v := range want {
		_, err := Maven().Compare(v, v)
		if err != nil && !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("%q: %v", v, err)
		}
		got[v] = err == nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("accepted (-want +got):\n%s", diff)
	}
}
