package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func mustPolicy(t *testing.T, path string) *Policy {
	t.Helper()
	p, err := LoadPolicy(context.Background(), path)
	if err != nil {
		t.Fatalf("LoadPolicy(%q): %v", path, err)
	}
	return p
}

func TestGate(t *testing.T) {
	alpine := alpineReport()
	alpineKeys := keys(alpine, "CVE-2023-42366", "busybox", "ssl_client")
	alma := almaReport()
	glibcKeys := keys(alma, "ALSA-2023:5453", "glibc", "glibc-common", "glibc-minimal-langpack")
	tests := []struct {
		name   string
		report func() *report.Report
		gate   Gate
		want   *report.Verdict
		// wantFiltered is the number of findings annotated "filtered".
		wantFiltered int
	}{
		{
			name: "no flags: findings do not fail", report: alpineReport,
			want: &report.Verdict{Pass: true},
		},
		{
			name: "severity CRITICAL exit-code 1 passes Alpine", report: alpineReport,
			gate:         Gate{Severities: []string{"CRITICAL"}, ExitCode: 1},
			want:         &report.Verdict{Pass: true},
			wantFiltered: 2,
		},
		{
			name: "severity MEDIUM exit-code 1 fails Alpine", report: alpineReport,
			gate: Gate{Severities: []string{"MEDIUM"}, ExitCode: 1},
			want: &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
				RuleID: GateSeverity, Action: ActionDeny,
				Message: "2 vulnerabilities of severity MEDIUM remain (--exit-code 1)", Targets: alpineKeys,
			}}},
		},
		{
			name: "comma list and lower case, custom exit code", report: alpineReport,
			gate: Gate{Severities: []string{"critical,high", "medium"}, ExitCode: 4},
			want: &report.Verdict{ExitCode: 4, Failures: []report.RuleResult{{
				RuleID: GateSeverity, Action: ActionDeny,
				Message: "2 vulnerabilities of severity CRITICAL, HIGH, MEDIUM remain (--exit-code 4)", Targets: alpineKeys,
			}}},
		},
		{
			name: "fail-on high passes Alpine", report: alpineReport,
			gate: Gate{FailOn: "high"},
			want: &report.Verdict{Pass: true},
		},
		{
			name: "fail-on medium fails Alpine with exit 1", report: alpineReport,
			gate: Gate{FailOn: "medium"},
			want: &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
				RuleID: GateFailOn, Action: ActionDeny,
				Message: "2 findings, secrets or misconfigurations at or above MEDIUM (--fail-on medium)", Targets: alpineKeys,
			}}},
		},
		{
			name: "fail-on high fails AlmaLinux on glibc only", report: almaReport,
			gate: Gate{FailOn: "HIGH", ExitCode: 9, Severities: []string{"HIGH", "CRITICAL"}},
			want: &report.Verdict{ExitCode: 9, Failures: []report.RuleResult{
				{RuleID: GateSeverity, Action: ActionDeny,
					Message: "3 vulnerabilities of severity HIGH, CRITICAL remain (--exit-code 9)", Targets: glibcKeys},
				{RuleID: GateFailOn, Action: ActionDeny,
					Message: "3 findings, secrets or misconfigurations at or above HIGH (--fail-on high)", Targets: glibcKeys},
			}},
			wantFiltered: 3,
		},
		{
			name: "ignore-unfixed keeps fixable findings", report: alpineReport,
			gate: Gate{IgnoreUnfixed: true, ExitCode: 1},
			want: &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
				RuleID: GateSeverity, Action: ActionDeny,
				Message: "2 vulnerabilities of any severity remain (--exit-code 1)", Targets: alpineKeys,
			}}},
		},
		{
			name: "ignore-unfixed suppresses findings with no fix",
			report: func() *report.Report {
				r := alpineReport()
				for i := range r.Findings {
					r.Findings[i].FixedVersion, r.Findings[i].Status = "", vocab.StatusAffected
				}
				return r
			},
			gate: Gate{IgnoreUnfixed: true, ExitCode: 1},
			want: &report.Verdict{Pass: true},
		},
		{
			name: "secrets and misconfigurations count for the gate", report: almaAppReport,
			gate: Gate{Severities: []string{"CRITICAL"}, ExitCode: 1},
			want: &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
				RuleID: GateSeverity, Action: ActionDeny,
				Message: "1 vulnerability, 1 secret of severity CRITICAL remain (--exit-code 1)",
				Targets: []string{"GHSA-jfh8-c2jp-5v3q@Maven/org.apache.logging.log4j:log4j-core@2.14.1", "aws-access-key-id@/app/.env:3"},
			}}},
			wantFiltered: 7,
		},
	}
	_ = alma
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.report()
			e := &Engine{Gate: tt.gate, Now: fixedNow}
			got, err := e.Evaluate(context.Background(), r.Result())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
			n := 0
			for i := range r.Findings {
				if hasKind(r.Findings[i].Annotations, vocab.AnnotationFiltered) {
					n++
				}
			}
			if n != tt.wantFiltered {
				t.Errorf("filtered findings = %d, want %d", n, tt.wantFiltered)
			}
			if len(r.Findings) != len(tt.report().Findings) {
				t.Errorf("findings were removed")
			}
		})
	}
}

func TestGateInvalid(t *testing.T) {
	for _, g := range []Gate{
		{Severities: []string{"SEVERE"}},
		{FailOn: "important"},
		{ExitCode: 256},
		{ExitCode: -1},
	} {
		e := &Engine{Gate: g}
		if _, err := e.Evaluate(context.Background(), alpineReport().Result()); err == nil {
			t.Errorf("Evaluate with gate %+v: no error", g)
		}
		if err := g.Validate(); err == nil {
			t.Errorf("Validate(%+v): no error", g)
		}
	}
}

func TestBuiltins(t *testing.T) {
	wantNames := []string{"cis-docker", "complete-coverage", "ignore-go-package-imported", "kev", "no-critical", "no-fixable-critical", "no-root", "no-secrets"}
	if diff := cmp.Diff(wantNames, ListBuiltins()); diff != "" {
		t.Fatalf("ListBuiltins (-want +got):\n%s", diff)
	}
	alma := almaReport()
	log4shell := "GHSA-jfh8-c2jp-5v3q@Maven/org.apache.logging.log4j:log4j-core@2.14.1"
	kevAlma := func(pkg string) report.RuleResult {
		return report.RuleResult{RuleID: "kev", Action: ActionDeny,
			Message: "ALSA-2023:5453 in " + pkg + " 2.34-28.el9_0 is known to be exploited (CISA KEV)",
			Targets: keys(alma, "ALSA-2023:5453", pkg)}
	}
	tests := []struct {
		builtin string
		report  func() *report.Report
		want    *report.Verdict
	}{
		{"kev", alpineReport, &report.Verdict{Pass: true}},
		{"complete-coverage", alpineReport, &report.Verdict{Pass: true}},
		{"complete-coverage", func() *report.Report {
			r := alpineReport()
			r.Coverage = []report.Coverage{
				{Ecosystem: "Alpine:v3.16", OS: true, Packages: 14, Advisories: 5248, Status: vocab.CoverageComplete},
				{Ecosystem: "npm", Packages: 3, Status: vocab.CoverageNoAdvisories},
				{Ecosystem: "image files", Status: vocab.CoveragePartial, Reasons: []string{"/big: not read"}},
			}
			return r
		}, &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
			RuleID: "complete-coverage", Action: ActionDeny,
			Message: "advisory coverage is incomplete: npm (no-advisories), image files (partial)",
			Targets: []string{"image"},
		}}}},
		{"kev", almaReport, &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{
			kevAlma("glibc"), kevAlma("glibc-common"), kevAlma("glibc-minimal-langpack"),
		}}},
		{"no-critical", almaReport, &report.Verdict{Pass: true}},
		{"no-critical", almaAppReport, &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
			RuleID: "no-critical", Action: ActionDeny,
			Message: "critical vulnerability GHSA-jfh8-c2jp-5v3q in org.apache.logging.log4j:log4j-core 2.14.1",
			Targets: []string{log4shell},
		}}}},
		{"no-fixable-critical", alpineReport, &report.Verdict{Pass: true}},
		{"no-fixable-critical", almaAppReport, &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
			RuleID: "no-fixable-critical", Action: ActionDeny,
			Message: "critical vulnerability GHSA-jfh8-c2jp-5v3q in org.apache.logging.log4j:log4j-core 2.14.1 has a fix (2.15.0)",
			Targets: []string{log4shell},
		}}}},
		{"no-fixable-critical", func() *report.Report {
			r := almaAppReport()
			for i := range r.Findings {
				if r.Findings[i].Severity == vocab.SevCritical {
					r.Findings[i].FixedVersion, r.Findings[i].Status = "", vocab.StatusAffected
				}
			}
			return r
		}, &report.Verdict{Pass: true}},
		{"no-root", alpineReport, &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
			RuleID: "no-root", Action: ActionDeny, Message: "image sets no USER, so its processes run as root", Targets: []string{"image"},
		}}}},
		{"no-root", almaAppReport, &report.Verdict{Pass: true}},
		{"no-root", func() *report.Report {
			r := almaAppReport()
			r.Image.Config.User = "0:0"
			return r
		}, &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
			RuleID: "no-root", Action: ActionDeny, Message: "image runs as root (USER 0:0)", Targets: []string{"image"},
		}}}},
		{"no-secrets", almaReport, &report.Verdict{Pass: true}},
		{"no-secrets", almaAppReport, &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
			RuleID: "no-secrets", Action: ActionDeny,
			Message: "secret aws-access-key-id (AWS Access Key ID) found in /app/.env, deleted in a later layer but still readable",
			Targets: []string{"aws-access-key-id@/app/.env:3"},
		}}}},
		{"cis-docker", alpineReport, &report.Verdict{Pass: true}},
		{"cis-docker", almaAppReport, &report.Verdict{ExitCode: 1,
			Failures: []report.RuleResult{{
				RuleID: "cis-docker-high", Action: ActionDeny,
				Message: "HIGH DD-IMG-004: Secrets in image layers (CIS Docker Benchmark 4.10)", Targets: []string{"DD-IMG-004"},
			}},
			Warnings: []report.RuleResult{{
				RuleID: "cis-docker-low", Action: ActionWarn,
				Message: "LOW DD-IMG-006: No HEALTHCHECK defined (CIS Docker Benchmark 4.6)", Targets: []string{"DD-IMG-006"},
			}},
		}},
	}
	for _, tt := range tests {
		r := tt.report()
		t.Run(tt.builtin+"/"+r.Image.Reference, func(t *testing.T) {
			e := &Engine{Policies: []*Policy{mustPolicy(t, BuiltinPrefix+tt.builtin)}, Now: fixedNow}
			got, err := e.Evaluate(context.Background(), r.Result())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := LoadPolicy(context.Background(), "builtin:nope"); err == nil {
		t.Error(`LoadPolicy("builtin:nope"): no error`)
	}
	if _, err := LoadPolicy(context.Background(), "builtin:../builtin/kev"); err == nil {
		t.Error(`LoadPolicy("builtin:../builtin/kev"): no error`)
	}
}

// TestPolicyVariables evaluates rules over every variable, to check that
// the report is converted faithfully.
func TestPolicyVariables(t *testing.T) {
	const src = `apiVersion: drydock.dev/v1
kind: Policy
metadata: {name: vars}
rules:
  - id: finding-fields
    action: warn
    on: finding
    expr: >-
      finding.id == "ALSA-2023:5453" && "CVE-2023-4911" in finding.aliases &&
      finding.package.name == "glibc" && finding.package.ecosystem == "rpm" &&
      finding.package.purl.startsWith("pkg:rpm/almalinux/glibc@") && finding.package.layer_index == 0 &&
      finding.package.path == "/var/lib/rpm/rpmdb.sqlite" && finding.severity == "HIGH" &&
      finding.vendor_severity == "Important" && finding.kev && finding.status == "fixed" &&
      finding.installed_version == "2.34-28.el9_0" && finding.fixed_version == "2.34-60.el9_2.7" &&
      finding.data_source == "osv/AlmaLinux" && finding.cvss_score == 0.0 && finding.cvss_score < 1 && !finding.suppressed
    message: "{{key}}"
  - id: package-fields
    action: warn
    on: package
    expr: >-
      pkg.name == "ncurses-libs" && pkg.source_name == "ncurses" && pkg.arch == "aarch64" &&
      pkg.layer_index == 0 && pkg.vulnerabilities == ["ALSA-2023:6698"] && !pkg.declared &&
      pkg.found_by == "os/rpm" && size(pkg.licenses) == 0 && size(pkg.metadata) == 0
    message: "{{id}} {{vulnerabilities}}"
  - id: image-fields
    action: warn
    on: image
    expr: >-
      image.reference == "registry.example.com/shop/server:1.4.2" && image.layers == 3 &&
      image.config.user == "1001:1001" && "8080/tcp" in image.config.exposed_ports &&
      image.config.labels["org.opencontainers.image.source"] == "https://github.com/example/shop" &&
      image.age_days == 356 && image.created < now && image.distro.id == "almalinux" &&
      image.distro.version_id == "9.0" && image.os == "linux" && image.arch == "arm64"
    message: "{{reference}} {{age_days}} {{distro}}"
  - id: counts
    action: warn
    on: image
    expr: >-
      counts.critical == 1 && counts.high == 4 && counts.medium == 3 && counts.total == 8 &&
      counts.kev == 4 && counts.secrets == 1 && counts.misconfigs == 2 && counts.suppressed == 0
  - id: secret-fields
    action: warn
    on: secret
    expr: >-
      secret.rule_id == "aws-access-key-id" && secret.deleted_later && secret.deleted_in_layer == 2 &&
      secret.layer_index == 1 && secret.line == 3 && severity_rank(secret.severity) == 5
    message: "{{rule_id}} {{path}}:{{line}}"
  - id: misconfig-fields
    action: warn
    on: misconfig
    expr: misconfig.cis == "4.10" && misconfig.evidence == ["/app/.env in layer 1"]
    message: "{{id}} {{cis}}"
  - id: cvss
    action: warn
    on: finding
    expr: finding.cvss_score >= 9 && finding.published < timestamp("2022-01-01T00:00:00Z")
    message: "{{id}} {{cvss_score}}"
`
	p, err := ParsePolicy("vars.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := almaAppReport()
	got, err := (&Engine{Policies: []*Policy{p}, Now: fixedNow}).Evaluate(context.Background(), r.Result())
	if err != nil {
		t.Fatal(err)
	}
	glibc := keys(r, "ALSA-2023:5453", "glibc")
	want := &report.Verdict{Pass: true, Warnings: []report.RuleResult{
		{RuleID: "finding-fields", Action: ActionWarn, Message: glibc[0], Targets: glibc},
		{RuleID: "package-fields", Action: ActionWarn, Message: "rpm/ncurses-libs@6.2-8.20210508.el9 ALSA-2023:6698",
			Targets: []string{"rpm/ncurses-libs@6.2-8.20210508.el9"}},
		{RuleID: "image-fields", Action: ActionWarn, Message: "registry.example.com/shop/server:1.4.2 356 almalinux 9.0",
			Targets: []string{"image"}},
		{RuleID: "counts", Action: ActionWarn, Message: `rule "counts" matched`, Targets: []string{"image"}},
		{RuleID: "secret-fields", Action: ActionWarn, Message: "aws-access-key-id /app/.env:3",
			Targets: []string{"aws-access-key-id@/app/.env:3"}},
		{RuleID: "misconfig-fields", Action: ActionWarn, Message: "DD-IMG-004 4.10", Targets: []string{"DD-IMG-004"}},
		{RuleID: "cvss", Action: ActionWarn, Message: "GHSA-jfh8-c2jp-5v3q 10",
			Targets: []string{"GHSA-jfh8-c2jp-5v3q@Maven/org.apache.logging.log4j:log4j-core@2.14.1"}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

// TestSuppressedSkipped checks that rules skip suppressed and filtered
// targets unless include_suppressed is set, and that ignore files make a
// policy pass.
func TestSuppressedSkipped(t *testing.T) {
	const src = `apiVersion: drydock.dev/v1
kind: Policy
metadata: {name: s}
rules:
  - id: any-kev
    action: deny
    on: finding
    expr: finding.kev
    message: "{{id}} in {{package}}"
  - id: suppressed-kev
    action: warn
    on: finding
    include_suppressed: true
    expr: finding.kev && finding.suppressed
    message: "suppressed KEV {{id}} in {{package}}"
`
	p, err := ParsePolicy("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ign, err := ParseIgnoreFile("ign.yaml", []byte(`ignores:
  - id: ALSA-2023:5453
    packages:
      - pkg:rpm/almalinux/glibc-common
      - glibc-minimal-langpack
      - pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64
    reason: no setuid binaries in the image
`))
	if err != nil {
		t.Fatal(err)
	}
	r := almaReport()
	got, err := (&Engine{Policies: []*Policy{p}, Ignores: []*IgnoreFile{ign}, Now: fixedNow}).Evaluate(context.Background(), r.Result())
	if err != nil {
		t.Fatal(err)
	}
	var warnings []report.RuleResult
	for _, n := range []string{"glibc", "glibc-common", "glibc-minimal-langpack"} {
		warnings = append(warnings, report.RuleResult{RuleID: "suppressed-kev", Action: ActionWarn,
			Message: "suppressed KEV ALSA-2023:5453 in " + n, Targets: keys(r, "ALSA-2023:5453", n)})
	}
	want := &report.Verdict{Pass: true, Warnings: warnings}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
	r.Summarise()
	if r.Summary.Suppressed != 3 || r.Summary.Findings != 3 {
		t.Errorf("summary = %+v, want 3 suppressed and 3 findings", r.Summary)
	}
}

// TestRuntimeErrorFails checks that a rule failing at run time fires (fails
// closed) instead of passing.
func TestRuntimeErrorFails(t *testing.T) {
	ten := "[0,1,2,3,4,5,6,7,8,9]"
	for _, tt := range []struct{ expr, want string }{
		{`image.config.labels["owner"] == ""`, `rule "x" could not be evaluated: no such key: owner`},
		{ten + ".all(a, " + ten + ".all(b, " + ten + ".all(c, " + ten + ".all(d, " + ten + ".all(e, " + ten + ".all(f, true))))))",
			`rule "x" could not be evaluated: operation cancelled: actual cost limit exceeded`},
	} {
		src := header + "  - id: x\n    action: deny\n    on: image\n    expr: '" + tt.expr + "'\n"
		p, err := ParsePolicy("p.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		got, err := (&Engine{Policies: []*Policy{p}, Now: fixedNow}).Evaluate(context.Background(), alpineReport().Result())
		if err != nil {
			t.Fatal(err)
		}
		want := &report.Verdict{ExitCode: ExitFail, Failures: []report.RuleResult{{
			RuleID: "x", Action: ActionDeny, Message: tt.want, Targets: []string{"image"}}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: verdict (-want +got):\n%s", tt.expr, diff)
		}
	}
}

func TestExpiredRule(t *testing.T) {
	const src = `apiVersion: drydock.dev/v1
kind: Policy
metadata: {name: team-policy}
rules:
  - id: temporary-exception
    action: deny
    on: finding
    expr: finding.severity == "MEDIUM"
    expires: 2026-11-22
`
	p, err := ParsePolicy("team.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		now  string
		want *report.Verdict
	}{
		{"2026-11-22T23:59:59Z", &report.Verdict{ExitCode: 1, Failures: []report.RuleResult{{
			RuleID: "temporary-exception", Action: ActionDeny, Message: `rule "temporary-exception" matched`,
			Targets: keys(alpineReport(), "CVE-2023-42366", "busybox", "ssl_client"),
		}}}},
		{"2026-11-23T00:00:00Z", &report.Verdict{Pass: true,
			Warnings: []report.RuleResult{{RuleID: WarnExpired, Action: ActionWarn,
				Message: `team.yaml: rule "temporary-exception" expired 2026-11-22 and no longer applies`,
				Targets: []string{"temporary-exception"}}},
			Expired: []string{`team.yaml: rule "temporary-exception" expired 2026-11-22`},
		}},
	} {
		now := parseTime(tt.now)
		got, err := (&Engine{Policies: []*Policy{p}, Now: func() time.Time { return now }}).Evaluate(context.Background(), alpineReport().Result())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("now %s: verdict (-want +got):\n%s", tt.now, diff)
		}
	}
}

// policyOnSaved evaluates one policy against a saved JSON report, the way
// `drydock policy test` does.
func policyOnSaved(ctx context.Context, policyPath string, saved io.Reader) (*result.Verdict, error) {
	p, err := LoadPolicy(ctx, policyPath)
	if err != nil {
		return nil, err
	}
	rep, err := report.ReadJSON(saved)
	if err != nil {
		return nil, err
	}
	return (&Engine{Policies: []*Policy{p}}).Evaluate(ctx, rep.Result())
}

func TestPolicyOnSavedReport(t *testing.T) {
	r := almaReport()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r); err != nil {
		t.Fatal(err)
	}
	got, err := policyOnSaved(context.Background(), "builtin:kev", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Pass || got.ExitCode != ExitFail || len(got.Failures) != 3 {
		t.Errorf("verdict = %+v, want 3 kev failures", got)
	}
	// A report written by a future schema is refused rather than misread.
	r.SchemaVersion = report.SchemaVersion + 1
	buf.Reset()
	_ = json.NewEncoder(&buf).Encode(r)
	if _, err := policyOnSaved(context.Background(), "builtin:kev", &buf); err == nil {
		t.Error("a future schema_version: no error")
	}
	if _, err := policyOnSaved(context.Background(), "builtin:kev", strings.NewReader("{")); err == nil {
		t.Error("truncated JSON: no error")
	}
	// A policy file on disk.
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(mustRead(t, "testdata/policy/team.yaml"), "\r", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	_ = json.NewEncoder(&buf).Encode(almaAppReport())
	if _, err := policyOnSaved(context.Background(), path, &buf); err != nil {
		t.Errorf("policy %q on a saved report: %v", path, err)
	}
}

// TestEvaluateTwice checks that evaluating an already evaluated report does
// not duplicate annotations and gives the same verdict.
func TestEvaluateTwice(t *testing.T) {
	ign, err := ParseIgnoreFile(".trivyignore", []byte("CVE-2023-42366\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Gate: Gate{Severities: []string{"HIGH"}, ExitCode: 1}, Ignores: []*IgnoreFile{ign}, Now: fixedNow}
	r := alpineReport()
	v1, err := e.Evaluate(context.Background(), r.Result())
	if err != nil {
		t.Fatal(err)
	}
	first := append([]finding.Annotation(nil), r.Findings[0].Annotations...)
	v2, err := e.Evaluate(context.Background(), r.Result())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v1, v2); diff != "" {
		t.Errorf("second verdict differs (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(first, r.Findings[0].Annotations); diff != "" {
		t.Errorf("annotations changed (-first +second):\n%s", diff)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEvaluateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Engine{Policies: []*Policy{mustPolicy(t, "builtin:kev")}}).Evaluate(ctx, almaReport().Result()); err == nil {
		t.Error("Evaluate with a cancelled context: no error")
	}
	if _, err := (&Engine{}).Evaluate(context.Background(), nil); err == nil {
		t.Error("Evaluate(nil): no error")
	}
	if _, err := LoadPolicy(context.Background(), "testdata/policy/missing.yaml"); err == nil ||
		!strings.Contains(err.Error(), `"testdata/policy/missing.yaml"`) {
		t.Errorf("LoadPolicy(missing) = %v, want an error naming the file", err)
	}
}
