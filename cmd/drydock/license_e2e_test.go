package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/policy"
)

// TestImageLicenceScanner: --scanners license on the AlmaLinux 9.0 image
// (its real rpm database) reports the packages whose licence is forbidden,
// restricted or reciprocal, with the SPDX expression and the original
// string; a policy rule on licence findings fails on GPL-3.0; a
// .trivyignore.yaml licenses entry suppresses what it names.
func TestImageLicenceScanner(t *testing.T) {
	img := almaImage(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz")
	dir := t.TempDir()
	pol := filepath.Join(dir, "licences.yaml")
	if err := os.WriteFile(pol, []byte(`apiVersion: drydock.dev/v1
kind: Policy
metadata: {name: licences}
rules:
  - id: no-gpl-3
    action: deny
    on: license
    expr: license.ids.exists(l, l.startsWith("GPL-3.0"))
    message: "{{package}} is under {{expression}}"
`), 0o600); err != nil {
		t.Fatal(err)
	}

	rep, run := scanJSON(t, "--scanners", "license", "--policy", pol, img)
	if run.code != policy.ExitFail {
		t.Fatalf("exit %d, want %d\n%s", run.code, policy.ExitFail, run.stderr)
	}
	if len(rep.Licenses) == 0 || rep.Summary.Licenses != len(rep.Licenses) {
		t.Fatalf("%d licence findings, summary %d", len(rep.Licenses), rep.Summary.Licenses)
	}
	byName := map[string]int{}
	for i, l := range rep.Licenses {
		byName[l.Package.Name] = i
		if l.Category != "forbidden" && l.Category != "restricted" && l.Category != "reciprocal" {
			t.Errorf("%s: category %q is no finding", l.Package.Name, l.Category)
		}
		if l.Package.LayerIndex != 0 || l.Expression == "" || l.Original == "" {
			t.Errorf("%s: incomplete finding %+v", l.Package.Name, l)
		}
	}
	i, ok := byName["bash"]
	if !ok {
		t.Fatalf("no licence finding for bash: %+v", rep.Licenses)
	}
	if b := rep.Licenses[i]; b.Expression != "GPL-3.0-or-later" || b.Original != "GPLv3+" || b.Severity != "HIGH" || b.Category != "restricted" {
		t.Errorf("bash: %+v", b)
	}
	if !strings.Contains(rep.Scanners[len(rep.Scanners)-1], "license") || len(rep.Findings) != 0 {
		t.Errorf("scanners %v, %d vulnerability findings (only the licence scanner ran)", rep.Scanners, len(rep.Findings))
	}
	var failed []string
	for _, f := range rep.Verdict.Failures {
		if f.RuleID == "no-gpl-3" {
			failed = append(failed, f.Message)
		}
	}
	if !strings.Contains(strings.Join(failed, "\n"), "bash is under GPL-3.0-or-later") {
		t.Errorf("no-gpl-3 did not fail on bash: %v", rep.Verdict.Failures)
	}

	// Trivy's ignore file: GPL-3.0 (as a Trivy user writes it) suppresses
	// the GPL-3.0-or-later findings, and the policy passes.
	ign := filepath.Join(dir, ".trivyignore.yaml")
	if err := os.WriteFile(ign, []byte("licenses:\n  - id: GPL-3.0\n    statement: shipped unmodified\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, run = scanJSON(t, "--scanners", "license", "--policy", pol, "--ignore-file", ign, img)
	if run.code != 0 {
		t.Errorf("with the ignore file: exit %d, want 0\n%s", run.code, run.stderr)
	}
	if rep.Summary.Licenses >= len(rep.Licenses) {
		t.Errorf("ignore file suppressed nothing: %d of %d", rep.Summary.Licenses, len(rep.Licenses))
	}

	// The table has its section.
	tbl := drydock(t, "image", "--db", testDB, "--scanners", "license", img)
	if !strings.Contains(tbl.stdout, "Licences: ") || !strings.Contains(tbl.stdout, "GPLv3+") {
		t.Errorf("table lacks the licence section:\n%s", tbl.stdout)
	}
}
