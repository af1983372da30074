package version

import (
	"errors"
	"testing"
)

// checkProperties checks that c is a total order on whichever of a, b, x
// parse: reflexive, antisymmetric, transitive, and an error is always an
// ErrInvalidVersion (never a panic: a panic fails the fuzz run by itself).
func checkProperties(t *testing.T, c Comparator, a, b, x string) {
	cmpOK := func(p, q string) (int, bool) {
		r, err := c.Compare(p, q)
		if err != nil {
			if !errors.Is(err, ErrInvalidVersion) {
				t.Fatalf("Compare(%q, %q): error without ErrInvalidVersion: %v", p, q, err)
			}
			return 0, false
		}
		if r < -1 || r > 1 {
			t.Fatalf("Compare(%q, %q) = %d, not -1/0/+1", p, q, r)
		}
		return r, true
	}
	var vs []string
	for _, v := range []string{a, b, x} {
		r, ok := cmpOK(v, v)
		if !ok {
			continue
		}
		if r != 0 {
			t.Fatalf("Compare(%q, %q) = %d, want 0", v, v, r)
		}
		vs = append(vs, v)
	}
	for _, p := range vs {
		for _, q := range vs {
			pq, ok1 := cmpOK(p, q)
			qp, ok2 := cmpOK(q, p)
			if !ok1 || !ok2 {
				t.Fatalf("%q and %q parse alone but not together", p, q)
			}
			if pq != -qp {
				t.Fatalf("not antisymmetric: Compare(%q, %q) = %d, Compare(%q, %q) = %d", p, q, pq, q, p, qp)
			}
		}
	}
	for _, p := range vs {
		for _, q := range vs {
			for _, r := range vs {
				pq, _ := cmpOK(p, q)
				qr, _ := cmpOK(q, r)
				pr, _ := cmpOK(p, r)
				if pq <= 0 && qr <= 0 && pr > 0 {
					t.Fatalf("not transitive: %q <= %q <= %q but Compare(%q, %q) = %d", p, q, r, p, r, pr)
				}
				if pq == 0 && qr == 0 && pr != 0 {
					t.Fatalf("equality not transitive: %q = %q = %q but Compare(%q, %q) = %d", p, q, r, p, r, pr)
				}
			}
		}
	}
}

// fuzzComparator seeds f with a few real versions (three at a time) and runs
// checkProperties. Longer corpora live in the table tests, not here.
func fuzzComparator(f *testing.F, c Comparator, seeds ...string) {
	for i := range seeds {
		f.Add(seeds[i], seeds[(i+1)%len(seeds)], seeds[(i+2)%len(seeds)])
	}
	f.Fuzz(func(t *testing.T, a, b, x string) {
		checkProperties(t, c, a, b, x)
	})
}

func FuzzDeb(f *testing.F) {
	fuzzComparator(f, Deb(), "1:1.2.13.dfsg-1", "2.36-9+deb12u14", "1.0~rc1", "1.0~~a", "1.0+dfsg-1", "1.2-3-4")
}

func FuzzRPM(f *testing.F) {
	fuzzComparator(f, RPM(), "2.34-60.el9_2.7", "1:2.3-4", "1.0~rc1^git1", "1.0^", "6.1-9.20180224.el8_8.1", "1.2:3-1")
}

func FuzzAPK(f *testing.F) {
	fuzzComparator(f, APK(), "1.35.0-r17", "1.0.0_rc95-r0", "1.2.3a", "1.0_p1", "1.05", "1.0~abc1-r1", "6.6.2p1-r0")
}

func FuzzSemVer(f *testing.F) {
	fuzzComparator(f, SemVer(), "1.0.0-alpha.1", "v1.2.3", "=1.2", "1.0.0-beta.11", "1.0.0-x-y+meta", "0")
}

func FuzzPEP440(f *testing.F) {
	fuzzComparator(f, PEP440(), "1!2.0", "1.0a1.dev1", "1.0.post1", "1.0+ubuntu-1", "2.0.0rc5", "1.0")
}

func FuzzMaven(f *testing.F) {
	fuzzComparator(f, Maven(), "2.0-beta9", "2.3.1.RELEASE", "1.0-SNAPSHOT", "3.0.0.RC1", "1.0a1", "9.4.43.v20210629")
}

func FuzzGem(f *testing.F) {
	fuzzComparator(f, Gem(), "1.0.0.pre", "1.0.0.preview", "1.0.a10", "7.0.0.rc1", "1.0.0-rc1", "1")
}

func FuzzNuGet(f *testing.F) {
	fuzzComparator(f, NuGet(), "1.0.0.1", "1.0.0-Beta.2", "01.02.03", "4.0.0-preview1.19504.10", "1.0+meta", "1")
}

func FuzzGo(f *testing.F) {
	fuzzComparator(f, Go(), "v0.0.0-20210101000000-abcdef123456", "v2.0.0+incompatible", "go1.21rc2", "1.21.3", "v1.2.4-0.20210101000000-abcdef123456", "go1")
}

// FuzzGoToolchainToSemver checks that the conversion never panics and
// returns either "" or a valid semantic version.
func FuzzGoToolchainToSemver(f *testing.F) {
	for _, s := range []string{"go1.21.3", "1.21rc2", "go1", "go1.22.1 X:boringcrypto"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := GoToolchainToSemver(s)
		if v == "" {
			return
		}
		if _, err := Go().Compare(v, v); err != nil {
			t.Fatalf("GoToolchainToSemver(%q) = %q, not valid: %v", s, v, err)
		}
	})
}
