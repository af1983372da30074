package version

import "testing"

// BenchmarkCompare measures one comparison of two typical versions per
// comparator (parsing both included, as the matcher calls it).
func BenchmarkCompare(b *testing.B) {
	for _, bc := range []struct {
		c    Comparator
		a, v string
	}{
		{Deb(), "2.36-9+deb12u3", "2.36-9+deb12u14"},
		{RPM(), "2.34-28.el9_0", "2.34-60.el9_2.7"},
		{APK(), "1.35.0-r17", "1.35.0-r18"},
		{SemVer(), "4.17.15", "4.17.21"},
		{PEP440(), "2.0.0rc5", "2.0.0.post1"},
		{Maven(), "2.14.1", "2.15.0"},
		{Gem(), "7.0.0.rc1", "7.0.0"},
		{NuGet(), "13.0.1", "13.0.2-beta1"},
		{Go(), "v0.0.0-20210101000000-abcdef123456", "v0.1.0"},
	} {
		b.Run(bc.c.Name(), func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.c.Compare(bc.a, bc.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
