package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/license"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// almaLicences is the AlmaLinux fixture with AlmaLinux 9.0's own licence
// strings and the licence findings the scanner "license" makes of them.
func almaLicences(t *testing.T) (*result.Result, map[string]string) {
	t.Helper()
	res := almaReport().Result()
	real := map[string][]string{
		"bash":       {"GPLv3+"},
		"libcap":     {"BSD or GPLv2"},
		"libgcc":     {"GPLv3+ and GPLv3+ with exceptions and GPLv2+ with exceptions and LGPLv2+ and BSD"},
		"basesystem": {"Public Domain"},
	}
	ids := map[string]string{}
	for i := range res.Packages {
		p := &res.Packages[i]
		p.Licenses = real[p.Name]
		ids[p.Name] = p.ID
	}
	res.Licenses = license.Findings(res.Packages)
	if len(res.Licenses) != 3 {
		t.Fatalf("%d licence findings, want 3 (bash, libcap, libgcc): %+v", len(res.Licenses), res.Licenses)
	}
	return res, ids
}

// TestLicenceFindingPolicy: a rule on licence findings (on: license) fails
// on the GPL-3.0 ones; --severity filters them and the gate counts them, as
// Trivy's --exit-code does with --scanners license.
func TestLicenceFindingPolicy(t *testing.T) {
	res, ids := almaLicences(t)
	src := header + `  - id: no-gpl-3
    action: deny
    on: license
    expr: license.ids.exists(l, l.startsWith("GPL-3.0")) && license.category == "restricted"
    message: "{{package}} {{version}} is under {{expression}} ({{original}}): {{severity}}"
`
	p, err := ParsePolicy("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Engine{Policies: []*Policy{p}, Now: fixedNow}).Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	want := &report.Verdict{ExitCode: ExitFail, Failures: []report.RuleResult{
		{RuleID: "no-gpl-3", Action: ActionDeny, Targets: []string{"license:" + ids["bash"]},
			Message: "bash " + res.Packages[indexOf(res, "bash")].Version + " is under GPL-3.0-or-later (GPLv3+): HIGH"},
		{RuleID: "no-gpl-3", Action: ActionDeny, Targets: []string{"license:" + ids["libgcc"]},
			Message: "libgcc " + res.Packages[indexOf(res, "libgcc")].Version + " is under GPL-3.0-or-later AND " +
				"LicenseRef-GPLv3-plus-with-exceptions AND LicenseRef-GPLv2-plus-with-exceptions AND LGPL-2.0-or-later AND " +
				"LicenseRef-BSD (GPLv3+ and GPLv3+ with exceptions and GPLv2+ with exceptions and LGPLv2+ and BSD): HIGH"},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("verdict (-want +got):\n%s", d)
	}

	// The gate: --exit-code 1 --severity CRITICAL filters the HIGH licence
	// findings; --severity HIGH keeps them and fails.
	res, _ = almaLicences(t)
	res.Findings = nil
	v, err := (&Engine{Gate: Gate{ExitCode: 1, Severities: []string{"CRITICAL"}}, Now: fixedNow}).Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Pass || !hasKind(res.Licenses[0].Annotations, vocab.AnnotationFiltered) {
		t.Errorf("licence findings not filtered by --severity CRITICAL: %+v", v)
	}
	res, _ = almaLicences(t)
	res.Findings = nil
	v, err = (&Engine{Gate: Gate{ExitCode: 1, Severities: []string{"HIGH"}}, Now: fixedNow}).Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	if v.Pass || len(v.Failures) != 1 || v.Failures[0].Message != "3 licence findings of severity HIGH remain (--exit-code 1)" {
		t.Errorf("gate on licence findings: %+v", v)
	}
}

func indexOf(res *result.Result, name string) int {
	for i := range res.Packages {
		if res.Packages[i].Name == name {
			return i
		}
	}
	return -1
}

// TestTrivyIgnoreLicences: .trivyignore.yaml's licenses entries suppress
// licence findings: by licence ID as Trivy users write it ("GPL-3.0" for
// GPL-3.0-or-later), by the whole expression, narrowed by paths; and never
// anything else; drydock's own files apply by id only.
func TestTrivyIgnoreLicences(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // packages whose licence finding is suppressed
	}{
		{"trivy's id", "licenses:\n  - id: GPL-3.0\n    statement: internal tool\n", []string{"bash", "libgcc"}},
		{"spdx id", "licenses:\n  - id: GPL-2.0-only\n", []string{"libcap"}},
		{"expression", "licenses:\n  - id: LicenseRef-BSD OR GPL-2.0-only\n", []string{"libcap"}},
		{"original", "licenses:\n  - id: GPLv3+\n", []string{"bash"}},
		{"other path", "licenses:\n  - id: GPL-3.0\n    paths: [\"opt/**\"]\n", nil},
		{"other licence", "licenses:\n  - id: MIT\n", nil},
		{"vulnerabilities section", "vulnerabilities:\n  - id: GPL-3.0\n", nil},
		{"drydock's own file", "ignores:\n  - id: GPL-3.0-or-later\n    reason: internal tool\n", []string{"bash", "libgcc"}},
		{"drydock's own file, packages only", "ignores:\n  - packages: [\"pkg:rpm/almalinux/bash\"]\n    reason: accepted\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ign, err := ParseIgnoreFile("ignore.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			res, _ := almaLicences(t)
			if _, err := (&Engine{Ignores: []*IgnoreFile{ign}, Now: fixedNow}).Evaluate(context.Background(), res); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range res.Licenses {
				if finding.Suppressed(l.Annotations) {
					got = append(got, l.Package.Name)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("suppressed (-want +got):\n%s", d)
			}
		})
	}
}
