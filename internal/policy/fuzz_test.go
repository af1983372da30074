package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, glob string) {
	f.Helper()
	paths, err := filepath.Glob(glob)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParsePolicy checks that no input panics the policy parser, and that
// an accepted policy has rules that all compiled and evaluate.
func FuzzParsePolicy(f *testing.F) {
	addSeeds(f, "testdata/policy/*.yaml")
	addSeeds(f, "builtin/*.yaml")
	f.Add([]byte(header + "  - {id: x, action: deny, on: finding, expr: 'finding.kev'}\n"))
	f.Add([]byte(header + "  - id: x\n    action: warn\n    on: image\n    expr: |\n      image.layers >\n        1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy("fuzz.yaml", data)
		if err != nil {
			return
		}
		if len(p.Rules) == 0 {
			t.Fatal("accepted a policy with no rules")
		}
		for _, r := range p.Rules {
			if r.prg == nil {
				t.Fatalf("rule %q accepted without a program", r.ID)
			}
		}
		e := &Engine{Policies: []*Policy{p}, Now: fixedNow}
		if _, err := e.Evaluate(context.Background(), almaAppReport().Result()); err != nil {
			t.Fatalf("evaluating an accepted policy: %v", err)
		}
	})
}

// FuzzParseIgnoreFile checks that no input panics the ignore-file parser
// and that accepted entries all match something specific.
func FuzzParseIgnoreFile(f *testing.F) {
	addSeeds(f, "testdata/ignore/*")
	f.Add([]byte("CVE-2023-42366 exp:2027-01-01\n# c\nGHSA-xxxx\n"))
	f.Add([]byte("ignores:\n  - paths: ['/a/**/b?']\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{".drydockignore.yaml", ".trivyignore"} {
			ig, err := ParseIgnoreFile(name, data)
			if err != nil {
				continue
			}
			for _, e := range ig.Entries {
				if e.ID == "" && len(e.Packages) == 0 && len(e.Paths) == 0 {
					t.Fatalf("%s: accepted an entry that matches everything: %+v", name, e)
				}
			}
			r := almaAppReport()
			if _, err := (&Engine{Ignores: []*IgnoreFile{ig}, Now: fixedNow}).Evaluate(context.Background(), r.Result()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzParseVEX checks that no input panics the VEX parsers.
func FuzzParseVEX(f *testing.F) {
	addSeeds(f, "testdata/vex/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVEX("fuzz.json", data)
		if err != nil {
			return
		}
		for _, s := range v.Statements {
			if len(s.Vulnerabilities) == 0 || len(s.Products) == 0 {
				t.Fatalf("accepted a statement without vulnerability or product: %+v", s)
			}
		}
		if _, err := (&Engine{VEX: []*VEX{v}, Now: fixedNow}).Evaluate(context.Background(), almaReport().Result()); err != nil {
			t.Fatal(err)
		}
	})
}
