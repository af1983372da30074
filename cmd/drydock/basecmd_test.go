package main

import (
	"strings"
	"testing"
)

const busyboxTestdata = "../../internal/baseimage/testdata/"

// TestBaseIndexCommands: base add reads the manifests and configs of real
// busybox layouts, base import the published table; an entry added by both
// keeps the reference advice scans it at.
func TestBaseIndexCommands(t *testing.T) {
	cache := t.TempDir()
	base := func(args ...string) cliRun {
		t.Helper()
		return drydockIn(t, cache, append([]string{"base"}, args...)...)
	}
	res := base("add", "oci-archive:"+busyboxTestdata+"busybox-1.37.0-musl.oci.tar", busyboxTestdata+"busybox-1.38.0-musl.oci.tar")
	if res.code != 0 || !strings.Contains(res.stdout, "added busybox:1.37.0-musl (1 layer(s), sha256:29989570aeec") ||
		!strings.Contains(res.stdout, "added busybox:1.38.0-musl (1 layer(s), sha256:a34ce92094b7") {
		t.Fatalf("base add: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res = base("import", busyboxTestdata+"busybox-amd64-history-index.json"); res.code != 0 || !strings.Contains(res.stdout, "imported 127 base image(s)") {
		t.Fatalf("base import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = base("list")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if res.code != 0 || len(lines) != 1+127 {
		t.Fatalf("base list: exit %d, %d lines\n%s", res.code, len(lines), res.stderr)
	}
	for _, want := range []string{"busybox:1.37.0-musl    1       29989570aeec", "drydock base add; busybox-amd64-history-index.json"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("base list lacks %q:\n%.1500s", want, res.stdout)
		}
	}
	if res = base("add", "dir:"+t.TempDir()); res.code != 3 || !strings.Contains(res.stderr, "needs a config") {
		t.Errorf("base add dir: exit %d %s", res.code, res.stderr)
	}
}
