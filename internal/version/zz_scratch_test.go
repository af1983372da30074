package version

import (
	"os"
	"strings"
	"testing"
)

func TestScratchParse(t *testing.T) {
	for f, c := range map[string]Comparator{"pypi": PEP440(), "go": Go(), "rpm": RPM(), "apk": APK(), "deb": Deb()} {
		b, _ := os.ReadFile("/tmp/vx/" + f + ".txt")
		n, bad := 0, 0
		for _, v := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			n++
			if _, err := c.Compare(v, v); err != nil {
				bad++
				if bad < 15 {
					t.Logf("%s: %v", f, err)
				}
			}
		}
		t.Logf("%s: %d/%d bad", f, bad, n)
	}
}
