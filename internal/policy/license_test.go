package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report"
)

// TestLicencePolicy: a policy on the licences read as SPDX fails on a
// GPL-3.0 package, whatever spelling its metadata used, and rules on
// categories see Trivy's groups.
func TestLicencePolicy(t *testing.T) {
	res := almaReport().Result()
	// The AlmaLinux 9.0 rpm database's own licence strings
	// (internal/extract/rpm/testdata/almalinux-9.0-sqlite.golden.json).
	real := map[string][]string{
		"bash":       {"GPLv3+"},
		"libcap":     {"BSD or GPLv2"},
		"libgcc":     {"GPLv3+ and GPLv3+ with exceptions and GPLv2+ with exceptions and LGPLv2+ and BSD"},
		"basesystem": {"Public Domain"},
	}
	for i := range res.Packages {
		p := &res.Packages[i]
		p.Licenses = real[p.Name]
	}
	src := header + `  - id: no-gpl-3
    action: deny
    on: package
    expr: pkg.license_ids.exists(l, l.startsWith("GPL-3.0"))
    message: "{{name}} is under {{license_expression}}"
  - id: no-forbidden
    action: deny
    on: package
    expr: '"forbidden" in pkg.license_categories'
  - id: restricted-and-unencumbered
    action: warn
    on: package
    expr: >-
      pkg.name == "basesystem" && pkg.license_categories == ["unencumbered"] &&
      pkg.license_expression == "LicenseRef-Public-Domain" && pkg.licenses == ["Public Domain"]
`
	p, err := ParsePolicy("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Engine{Policies: []*Policy{p}, Now: fixedNow}).Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	var bash, libgcc, basesystem string
	for _, p := range res.Packages {
		switch p.Name {
		case "bash":
			bash = p.ID
		case "libgcc":
			libgcc = p.ID
		case "basesystem":
			basesystem = p.ID
		}
	}
	want := &report.Verdict{
		ExitCode: ExitFail,
		Failures: []report.RuleResult{
			{RuleID: "no-gpl-3", Action: ActionDeny, Message: "bash is under GPL-3.0-or-later", Targets: []string{bash}},
			{RuleID: "no-gpl-3", Action: ActionDeny, Targets: []string{libgcc},
				Message: "libgcc is under GPL-3.0-or-later AND LicenseRef-GPLv3-plus-with-exceptions AND " +
					"LicenseRef-GPLv2-plus-with-exceptions AND LGPL-2.0-or-later AND LicenseRef-BSD"},
		},
		Warnings: []report.RuleResult{{RuleID: "restricted-and-unencumbered", Action: ActionWarn,
			Message: `rule "restricted-and-unencumbered" matched`, Targets: []string{basesystem}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}
