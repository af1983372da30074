package version

import (
	"testing"

	gem "github.com/aquasecurity/go-gem-version"
	apkversion "github.com/knqyf263/go-apk-version"
	mvnversion "github.com/masahiro331/go-mvn-version"
)

// TestAPKLibraryDiffers records why apk.go does not wrap
// github.com/knqyf263/go-apk-version: it orders a runc secfix of Alpine's secdb
// ("1.0.0_rc10", no revision) after the release, and accepts versions
// apk-tools refuses. If this test fails, the
// library changed: consider using it again.
func TestAPKLibraryDiffers(t *testing.T) {
	if r := apkversion.Version("1.0.0_rc10").Compare(apkversion.Version("1.0.0")); r <= 0 {
		t.Errorf("go-apk-version: 1.0.0_rc10 vs 1.0.0 = %d; it no longer puts the rc after the release", r)
	}
	for _, v := range []string{"a1.0", "1.0-r", "1.0-x1"} {
		if !apkversion.Valid(v) {
			t.Errorf("go-apk-version now refuses %q", v)
		}
	}
	if r, err := APK().Compare("1.0.0_rc10", "1.0.0"); err != nil || r != -1 {
		t.Errorf("APK: 1.0.0_rc10 vs 1.0.0 = %d, %v; want -1", r, err)
	}
}

// TestGemLibraryDiffers records why gem.go does not wrap
// github.com/aquasecurity/go-gem-version: it splits letters one by one, so it
// disagrees with RubyGems (whose answers are in testdata/oracle/gem.tsv).
func TestGemLibraryDiffers(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"1.0.0.pre", "1.0.0.preview"}, // RubyGems: <
		{"1.0.a10", "1.0.alpha"},       // RubyGems: <
	} {
		va, err := gem.NewVersion(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		vb, err := gem.NewVersion(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if r := va.Compare(vb); r <= 0 {
			t.Errorf("go-gem-version: %s vs %s = %d; it now agrees with RubyGems", tc.a, tc.b, r)
		}
		if r, err := Gem().Compare(tc.a, tc.b); err != nil || r != -1 {
			t.Errorf("Gem: %s vs %s = %d, %v; want -1", tc.a, tc.b, r, err)
		}
	}
}

// TestMavenLibraryDiffers records why maven.go does not wrap
// github.com/masahiro331/go-mvn-version: its order is not transitive (as
// Maven 3.8.7's is not): FuzzMaven found 0A0 <= 0 <= A but 0A0 > A. If this
// test fails, the library changed: consider using it again.
func TestMavenLibraryDiffers(t *testing.T) {
	cmpLib := func(a, b string) int {
		va, err := mvnversion.NewVersion(a)
		if err != nil {
			t.Fatal(err)
		}
		vb, err := mvnversion.NewVersion(b)
		if err != nil {
			t.Fatal(err)
		}
		return sign(va.Compare(vb))
	}
	if cmpLib("0A0", "0") > 0 || cmpLib("0", "A") > 0 || cmpLib("0A0", "A") <= 0 {
		t.Errorf("go-mvn-version: 0A0 vs 0 = %d, 0 vs A = %d, 0A0 vs A = %d; it is now transitive on this triple",
			cmpLib("0A0", "0"), cmpLib("0", "A"), cmpLib("0A0", "A"))
	}
	checkProperties(t, Maven(), "0A0", "0", "A")
}
