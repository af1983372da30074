package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/result"
)

// TestFixNoBaseBump: with an index but no base bump, the plan's note says
// why — never nothing.
func TestFixNoBaseBump(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    *result.BaseImage
		want string
	}{
		{"no base", nil, "no base bump: the image's base was not identified"},
		{"unidentified", &result.BaseImage{Note: "no layer match"}, "no base bump: the image's base was not identified"},
		{"no candidate", &result.BaseImage{Name: "almalinux:9.3", Note: "no newer base of the same family in the index"},
			"no base bump: no candidate base in the index (no newer base of the same family in the index)"},
		{"none fixes", &result.BaseImage{Name: "almalinux:9.0", Advice: []result.BaseAdvice{
			{Name: "almalinux:9.2", Scanned: true},
			{Name: "almalinux:9.3", Note: "not scanned: the index has no reference to pull it from (add it with drydock base add)"},
		}}, "no base bump: no scanned candidate fixes any of the base's findings; almalinux:9.3 not scanned: the index has no reference to pull it from (add it with drydock base add)"},
	} {
		if diff := cmp.Diff(tc.want, noBaseBump(tc.b)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestFixTreeBeforeScan: a --dockerfile that is not there is refused before
// the image is pulled or scanned (the image here cannot be reached).
func TestFixTreeBeforeScan(t *testing.T) {
	src := fixRepo(t)
	res := drydock(t, "fix", "--source-dir", src, "--dry-run", "--dockerfile", "nope/Dockerfile", "127.0.0.1:1/none:1")
	if res.code != 3 || !strings.Contains(res.stderr, "nope/Dockerfile") || strings.Contains(res.stderr, "127.0.0.1:1") {
		t.Errorf("exit %d, stderr %q; want 3 naming the Dockerfile, not the image", res.code, res.stderr)
	}
}
