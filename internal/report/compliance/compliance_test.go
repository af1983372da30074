package compliance

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/misconfig"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func TestBuiltinSpecs(t *testing.T) {
	if diff := cmp.Diff([]string{"docker-cis-1.6.0", "nist-800-53", "pci-dss-4.0"}, Names()); diff != "" {
		t.Errorf("built-in specs (-want +got):\n%s", diff)
	}
	for name, want := range map[string]string{
		"docker-cis": "docker-cis-1.6.0", "docker-cis-1.6.0": "docker-cis-1.6.0",
		"nist-800-53": "nist-800-53", "nist-800-53-r5": "nist-800-53",
		"pci-dss-4.0": "pci-dss-4.0", "pci-dss": "pci-dss-4.0",
	} {
		s, err := Load(name)
		if err != nil {
			t.Fatalf("Load(%q): %v", name, err)
		}
		if s.ID != want {
			t.Errorf("Load(%q) = %s, want %s", name, s.ID, want)
		}
	}
	if _, err := Load("k8s-nsa"); err == nil || !strings.Contains(err.Error(), "docker-cis-1.6.0") {
		t.Errorf("unknown spec: err = %v, want the list of specs", err)
	}
}

// TestDockerCISControls: the CIS spec lists section 4's twelve controls in
// order, as Trivy's docker-cis-1.6.0 does, and each one either has checks
// or says why a person must decide it.
func TestDockerCISControls(t *testing.T) {
	s, err := Load("docker-cis")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range s.Controls {
		ids = append(ids, c.ID)
		if len(c.Checks) == 0 && c.Manual == "" {
			t.Errorf("control %s has no check and no reason", c.ID)
		}
		if c.Severity == "" {
			t.Errorf("control %s has no severity", c.ID)
		}
	}
	want := []string{"4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "4.10", "4.11", "4.12"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("controls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"misconfig", "secret", "vuln"}, s.Scanners()); diff != "" {
		t.Errorf("scanners (-want +got):\n%s", diff)
	}
}

// TestMisconfigCISMapped: every misconfiguration check that names a CIS
// section-4 recommendation is listed under that control, so a failed check
// always fails its control. The checks are run on an image that fails all
// of them, so a new check with a CIS number is caught here.
func TestMisconfigCISMapped(t *testing.T) {
	img := inventory.Image{
		Config: inventory.ImageConfig{Env: []string{"DB_PASSWORD=Sup3rS3cret!2024"}, ExposedPorts: []string{"22/tcp"}},
		History: []inventory.History{
			{CreatedBy: "ADD rootfs.tar.gz / # buildkit", LayerIndex: 0},
			{CreatedBy: "RUN /bin/sh -c apt-get update # buildkit", LayerIndex: 1},
			{CreatedBy: "ADD https://example.org/app.jar /app/app.jar # buildkit", LayerIndex: 2},
			{CreatedBy: `ADD ["config.yaml", "/etc/app/"] # buildkit`, LayerIndex: 3},
		},
	}
	inv := &inventory.Inventory{
		Packages: []inventory.Package{{Name: "sudo", Version: "1.9.13p3-1", Ecosystem: inventory.EcoDpkg}},
		Facts: inventory.Facts{
			Setuid:        []inventory.FileFact{{Path: "/usr/bin/passwd", Mode: uint32(fs.ModeSetuid | 0o755)}},
			WorldWritable: []inventory.FileFact{{Path: "/app/c.json", Mode: 0o666}},
			CacheBytes:    map[string]int64{"/var/lib/apt/lists": 42 << 20},
		},
	}
	ms := misconfig.Check(img, inv)
	if len(ms) != 11 {
		t.Fatalf("the image fails %d checks, want all 11: %v", len(ms), ms)
	}
	s, err := Load("docker-cis")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !strings.HasPrefix(m.CIS, "4.") {
			continue
		}
		i := slices.IndexFunc(s.Controls, func(c Control) bool { return c.ID == m.CIS })
		if i < 0 || !slices.Contains(s.Controls[i].Checks, "misconfig:"+m.ID) {
			t.Errorf("%s (CIS %s) is not a check of control %s", m.ID, m.CIS, m.CIS)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown key":      "id: x\ncontrols:\n  - id: a\n    name: A\n    chekcs: [secret]\n",
		"unknown check":    "id: x\ncontrols:\n  - id: a\n    name: A\n    checks: [secrets]\n",
		"bad severity":     "id: x\ncontrols:\n  - id: a\n    name: A\n    checks: [\"vuln:critical\"]\n",
		"misconfig no id":  "id: x\ncontrols:\n  - id: a\n    name: A\n    checks: [\"misconfig:\"]\n",
		"duplicate":        "id: x\ncontrols:\n  - {id: a, name: A}\n  - {id: a, name: B}\n",
		"no controls":      "id: x\n",
		"control severity": "id: x\ncontrols:\n  - {id: a, name: A, severity: high}\n",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte("id: mine\ntitle: Mine\ncontrols:\n  - {id: M-1, name: No secrets, checks: [secret]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load("@" + path)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "mine" || len(s.Controls) != 1 {
		t.Errorf("loaded %+v", s)
	}
}

var now = time.Date(2026, 8, 25, 12, 0, 0, 0, time.UTC)

// scanned is a result in which every scanner ran and nothing was found.
func scanned() *result.Result {
	return &result.Result{
		Scanners: []string{"sbom", "vuln", "secret", "misconfig", "malware"},
		Database: &result.Database{BuiltAt: now.Add(-24 * time.Hour)},
		Coverage: []result.Coverage{{Ecosystem: "Alpine:v3.16", OS: true, Packages: 14, Advisories: 300, Status: vocab.CoverageComplete}},
	}
}

func suppressed() []finding.Annotation {
	return []finding.Annotation{{Kind: vocab.AnnotationSuppressed, Source: ".drydockignore.yaml"}}
}

func TestEvaluate(t *testing.T) {
	spec := &Spec{ID: "t", Controls: []Control{
		{ID: "C1", Name: "critical vulnerabilities", Checks: []string{"vuln:CRITICAL", "coverage"}},
		{ID: "C2", Name: "fixable high", Checks: []string{"vuln-fixable:CRITICAL,HIGH"}},
		{ID: "C3", Name: "root", Checks: []string{"misconfig:DD-IMG-001"}},
		{ID: "C4", Name: "secrets", Checks: []string{"secret", "misconfig:DD-IMG-007"}},
		{ID: "C5", Name: "malware", Checks: []string{"malware"}},
		{ID: "C6", Name: "judgement", Checks: []string{"misconfig:DD-IMG-011"}, Manual: "a person decides"},
		{ID: "C7", Name: "no check", Manual: "outside the image"},
		{ID: "C8", Name: "fresh database", Checks: []string{"db-age"}},
		{ID: "C9", Name: "inventory", Checks: []string{"inventory"}},
	}}
	type row struct{ ID, Status, Reason string }
	tests := []struct {
		name string
		edit func(*result.Result)
		want []row // only the rows that differ from all-pass are listed
	}{
		{"nothing found", func(*result.Result) {}, nil},
		{"findings", func(r *result.Result) {
			r.Findings = []finding.Finding{
				{ID: "CVE-1", Severity: vocab.SevCritical, Package: finding.PackageRef{Name: "openssl"}, InstalledVersion: "3.0.1"},
				{ID: "CVE-2", Severity: vocab.SevHigh, Package: finding.PackageRef{Name: "zlib"}, InstalledVersion: "1.2", FixedVersion: "1.3"},
				{ID: "CVE-3", Severity: vocab.SevCritical, Package: finding.PackageRef{Name: "musl"}, Annotations: suppressed()},
			}
		}, []row{{"C1", Fail, ""}, {"C2", Fail, ""}}},
		{"unfixable critical fails C1 only", func(r *result.Result) {
			r.Findings = []finding.Finding{{ID: "CVE-1", Severity: vocab.SevCritical, Package: finding.PackageRef{Name: "openssl"}}}
		}, []row{{"C1", Fail, ""}}},
		{"misconfigurations", func(r *result.Result) {
			r.Misconfigs = []finding.Misconfig{
				{ID: "DD-IMG-001", Evidence: []string{"config.User is not set"}},
				{ID: "DD-IMG-007", Annotations: suppressed()},
				{ID: "DD-IMG-011", Evidence: []string{"package sudo"}},
			}
		}, []row{{"C3", Fail, ""}, {"C6", Fail, ""}}},
		{"secret and malware", func(r *result.Result) {
			r.Secrets = []finding.Secret{{RuleID: "aws-access-key-id", Severity: vocab.SevCritical, Source: "config-env"}}
			r.Malware = []finding.Malware{
				{ID: "EICAR-Test-File", Kind: vocab.MalwareFile, Path: "/tmp/eicar.com"},
				{ID: "MAL-1", Kind: vocab.MalwareFile, Path: "/x", Annotations: suppressed()},
			}
		}, []row{{"C4", Fail, ""}, {"C5", Fail, ""}}},
		{"coverage gap: no silent pass", func(r *result.Result) {
			r.Coverage = append(r.Coverage, result.Coverage{Ecosystem: "Go", Status: vocab.CoveragePartial, Reasons: []string{"2 binaries unreadable"}})
		}, []row{
			{"C1", Manual, "coverage: advisory coverage is incomplete, so no findings there does not mean no vulnerabilities: Go partial (2 binaries unreadable)"},
			{"C9", Manual, "inventory: the inventory may be incomplete: Go: 2 binaries unreadable"},
		}},
		{"scanners off: MANUAL, never PASS", func(r *result.Result) {
			r.Scanners = []string{"sbom", "vuln"}
		}, []row{
			{"C3", Manual, "misconfig:DD-IMG-001: the misconfig scanner did not run"},
			{"C4", Manual, "secret: the secret scanner did not run; misconfig:DD-IMG-007: the misconfig scanner did not run"},
			{"C5", Manual, "malware: the malware scanner did not run"},
			{"C6", Manual, "a person decides; misconfig:DD-IMG-011: the misconfig scanner did not run"},
		}},
		{"old database", func(r *result.Result) {
			r.Database.BuiltAt = now.Add(-30 * 24 * time.Hour)
		}, []row{{"C8", Fail, ""}}},
		{"incomplete inventory", func(r *result.Result) {
			r.Notes = []inventory.Note{
				{Level: "info", Message: "fine"},
				{Level: "warning", Extractor: "lang/npm", Message: "lodash is declared, not installed"},
				{Level: "warning", Extractor: "walk", Message: "cannot read /app/big.jar: too large"},
			}
		}, []row{{"C9", Manual, "inventory: the inventory may be incomplete: cannot read /app/big.jar: too large"}}},
		{"malware checks partial: the malware control, not advisory coverage or the inventory", func(r *result.Result) {
			r.Coverage = append(r.Coverage, result.Coverage{Ecosystem: "malware checks", Status: vocab.CoveragePartial,
				Reasons: []string{"/opt/disk.img: not checked for malware: 2147483648 bytes is over the limit of 268435456 bytes (--malware-max-size)"}})
		}, []row{
			{"C5", Manual, "malware: the malware checks did not read every file: /opt/disk.img: not checked for malware: 2147483648 bytes is over the limit of 268435456 bytes (--malware-max-size)"},
		}},
		{"malware checks partial, malware found: FAIL", func(r *result.Result) {
			r.Coverage = append(r.Coverage, result.Coverage{Ecosystem: "malware checks", Status: vocab.CoveragePartial, Reasons: []string{"x"}})
			r.Malware = []finding.Malware{{ID: "EICAR-Test-File", Kind: vocab.MalwareFile, Path: "/tmp/eicar.com"}}
		}, []row{{"C5", Fail, ""}}},
		{"image files not all read: the secret control is MANUAL, not PASS", func(r *result.Result) {
			r.Coverage = append(r.Coverage, result.Coverage{Ecosystem: "image files", Status: vocab.CoveragePartial,
				Reasons: []string{"/app/big.jar: not read: too large"}})
		}, []row{
			{"C1", Manual, "coverage: advisory coverage is incomplete, so no findings there does not mean no vulnerabilities: image files partial (/app/big.jar: not read: too large)"},
			{"C4", Manual, "secret: files the layer walk did not read were not searched for secrets: /app/big.jar: not read: too large"},
			{"C9", Manual, "inventory: the inventory may be incomplete: image files: /app/big.jar: not read: too large"},
		}},
		{"partial coverage", func(r *result.Result) {
			r.Coverage = []result.Coverage{{Ecosystem: "Alpine:v3.16", OS: true, Status: vocab.CoveragePartial, Reasons: []string{"/lib/apk/db/installed truncated"}}}
		}, []row{
			{"C1", Manual, "coverage: advisory coverage is incomplete, so no findings there does not mean no vulnerabilities: Alpine:v3.16 partial (/lib/apk/db/installed truncated)"},
			{"C9", Manual, "inventory: the inventory may be incomplete: Alpine:v3.16: /lib/apk/db/installed truncated"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := scanned()
			tt.edit(res)
			rep := Evaluate(spec, res, Options{Now: now})
			want := map[string]row{}
			for _, c := range spec.Controls {
				want[c.ID] = row{c.ID, Pass, ""}
			}
			want["C6"] = row{"C6", Manual, "a person decides"}
			want["C7"] = row{"C7", Manual, "outside the image"}
			for _, w := range tt.want {
				want[w.ID] = w
			}
			var wantRows, gotRows []row
			var sum Summary
			for _, c := range spec.Controls {
				wantRows = append(wantRows, want[c.ID])
				switch want[c.ID].Status {
				case Pass:
					sum.Pass++
				case Fail:
					sum.Fail++
				default:
					sum.Manual++
				}
			}
			for _, c := range rep.Controls {
				gotRows = append(gotRows, row{c.ID, c.Status, c.Reason})
			}
			if diff := cmp.Diff(wantRows, gotRows); diff != "" {
				t.Errorf("controls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sum, rep.Summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEvaluateItems: the failed results are named (suppressed ones not),
// sorted, and capped.
func TestEvaluateItems(t *testing.T) {
	res := scanned()
	for i := range 25 {
		res.Findings = append(res.Findings, finding.Finding{
			ID: "CVE-2024-" + string(rune('A'+i)), Severity: vocab.SevCritical,
			Package: finding.PackageRef{Name: "pkg"}, InstalledVersion: "1", FixedVersion: "2",
		})
	}
	res.Secrets = []finding.Secret{
		{RuleID: "github-pat", Severity: vocab.SevCritical, Source: "file", Path: "/app/deploy.sh", Line: 2},
		{RuleID: "generic-password", Severity: vocab.SevHigh, Source: "config-env"},
	}
	spec := &Spec{ID: "t", Controls: []Control{
		{ID: "V", Name: "v", Checks: []string{"vuln:CRITICAL"}},
		{ID: "S", Name: "s", Checks: []string{"secret"}},
	}}
	rep := Evaluate(spec, res, Options{Now: now})
	v := rep.Controls[0].Checks[0]
	if v.Issues != 25 || len(v.Items) != maxItems+1 || v.Items[maxItems] != "… and 5 more" || v.Items[0] != "CRITICAL CVE-2024-A pkg 1 (fixed in 2)" {
		t.Errorf("vulnerability items: %d issues, %q", v.Issues, v.Items)
	}
	if rep.Controls[0].Issues != 25 {
		t.Errorf("control issues = %d", rep.Controls[0].Issues)
	}
	want := []string{"CRITICAL github-pat in /app/deploy.sh:2", "HIGH generic-password in config-env"}
	if diff := cmp.Diff(want, rep.Controls[1].Checks[0].Items); diff != "" {
		t.Errorf("secret items (-want +got):\n%s", diff)
	}
}
