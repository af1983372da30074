package dockerfile

import (
	"strings"
	"testing"
)

// FuzzCheck: any content parses and is checked without a panic; the
// instructions come in line order, upper-cased, and every finding names
// the file and a check of this package.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"FROM alpine\nRUN apt-get install -y curl \\\n  git\nUSER root\n",
		"FROM alpine AS build\nFROM build\nADD https://example.com/x /x\nENV A=1 B=\"two words\"\nARG TOKEN\n",
		"# syntax=docker/dockerfile:1\nfrom scratch\nhealthcheck NONE\n\\\n",
		"RUN \\",
		"ENV \"unterminated",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		last := 0
		for _, in := range Parse(b) {
			if in.Line <= last || in.Cmd != strings.ToUpper(in.Cmd) {
				t.Fatalf("instruction %+v after line %d", in, last)
			}
			last = in.Line
		}
		for _, m := range Check("Dockerfile", b, nil) {
			if !strings.HasPrefix(m.ID, "DD-DF-") {
				t.Fatalf("finding %+v", m)
			}
		}
	})
}
