package main

import (
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOneShotScan: every command that scans one image and exits gets the
// soft memory limit; the long-running ones and the others do not.
func TestOneShotScan(t *testing.T) {
	root := newRoot(&env{stdout: io.Discard, stderr: io.Discard})
	got := map[string]bool{}
	for _, c := range root.Commands() {
		got[c.Name()] = oneShotScan(c)
		for _, sub := range c.Commands() {
			if oneShotScan(sub) {
				t.Errorf("%s %s: a subcommand counted as a one-shot scan", c.Name(), sub.Name())
			}
		}
	}
	want := map[string]bool{"image": true, "sbom": true, "scan-sbom": true, "attest": true, "fs": true, "rootfs": true, "fix": true}
	for name := range got {
		if !want[name] {
			want[name] = false
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
