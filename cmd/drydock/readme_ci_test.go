package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestREADMECICommands: the drydock command lines of the README's CI
// examples (GitHub Actions, GitLab CI, Jenkins) name commands, flags and
// formats that exist.
func TestREADMECICommands(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n### In CI\n")
	if !ok {
		t.Fatal("README has no \"### In CI\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	root := newRoot(&env{})
	n := 0
	for _, line := range strings.Split(section, "\n") {
		i := strings.Index(line, "drydock ")
		if i < 0 || strings.Contains(line, "go install") || strings.HasPrefix(strings.TrimSpace(line), "Coming from") {
			continue
		}
		span := strings.TrimRight(line[i:], "'")
		c, flags, ok := docCommand(root, span)
		if !ok {
			t.Errorf("%q: no such command", span)
			continue
		}
		n++
		for _, f := range flags {
			if !hasFlag(c, f) {
				t.Errorf("%q: %s has no flag --%s", span, c.CommandPath(), f)
			}
		}
		words := strings.Fields(span)
		for j, w := range words {
			if w == "--format" && j+1 < len(words) {
				format, _, _ := strings.Cut(words[j+1], "=")
				if !slices.Contains(imageFormats, format) {
					t.Errorf("%q: unknown format %q", span, format)
				}
			}
		}
	}
	if n < 6 {
		t.Errorf("%d drydock commands in the CI examples, want the 6 of the three platforms", n)
	}
}
