package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// statuses maps each control of a compliance report to its status.
func statuses(t *testing.T, rep *report.Report) map[string]string {
	t.Helper()
	if rep.Compliance == nil {
		t.Fatal("the report has no compliance section")
	}
	out := map[string]string{}
	for _, c := range rep.Compliance.Controls {
		out[c.ID] = c.Status
	}
	return out
}

// TestComplianceAlpine: the CIS Docker Benchmark report of the real Alpine
// 3.16.9 image lists each control of section 4 with its status. The image
// has docker's default configuration (no USER, no HEALTHCHECK), so 4.1 and
// 4.6 fail; its two MEDIUM findings leave 4.4 passing; nothing checks 4.2,
// 4.5, 4.11 and 4.12, and 4.3 needs a person, so they are MANUAL.
func TestComplianceAlpine(t *testing.T) {
	res := drydock(t, "image", "--db", testDB, "--compliance", "docker-cis", alpineImage)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	golden(t, "testdata/alpine-3.16.9.compliance-docker-cis.golden", res.stdout)

	rep, run := scanJSON(t, "--compliance", "docker-cis-1.6.0", alpineImage)
	if run.code != 0 {
		t.Fatalf("exit %d: %s", run.code, run.stderr)
	}
	want := map[string]string{
		"4.1": "FAIL", "4.2": "MANUAL", "4.3": "MANUAL", "4.4": "PASS", "4.5": "MANUAL", "4.6": "FAIL",
		"4.7": "PASS", "4.8": "PASS", "4.9": "PASS", "4.10": "PASS", "4.11": "MANUAL", "4.12": "MANUAL",
	}
	if diff := cmp.Diff(want, statuses(t, rep)); diff != "" {
		t.Errorf("controls (-want +got):\n%s", diff)
	}
	// The default scanners do not check the configuration: --compliance
	// turned the misconfiguration checks on, and says so.
	if !strings.Contains(strings.Join(rep.Scanners, ","), "misconfig") {
		t.Errorf("scanners = %v, want misconfig added", rep.Scanners)
	}
	found := false
	for _, n := range rep.Notes {
		found = found || strings.Contains(n.Message, "turned on the scanners its controls need: misconfig")
	}
	if !found {
		t.Errorf("no note says misconfig was turned on: %+v", rep.Notes)
	}
}

// TestComplianceFailingImage: an image built here on the Alpine layer that
// runs as root, has no HEALTHCHECK and sets a password in ENV fails 4.1,
// 4.6 and 4.10; its hardened twin passes them.
func TestComplianceFailingImage(t *testing.T) {
	base := gunzipFile(t, layerFromArchive(t, alpineImage))
	password := "Zq7" + "rT2vLx9pWm4Ks" // assembled: no literal secret in this file
	build := func(name string, cfg v1.Config) string {
		img, err := testimage.Build(testimage.Config{Config: cfg}, testimage.Layer{Tar: base, CreatedBy: "ADD rootfs.tar.gz / # buildkit"})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name+".tar")
		if err := testimage.WriteDockerArchive(path, name+":1", img); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bad := build("bad", v1.Config{Env: []string{"PATH=/usr/bin:/bin", "DB_PASSWORD=" + password}, Cmd: []string{"/bin/sh"}})
	good := build("good", v1.Config{
		Env: []string{"PATH=/usr/bin:/bin"}, Cmd: []string{"/bin/sh"}, User: "10001",
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/bin/true"}},
	})
	for _, tt := range []struct {
		path string
		want map[string]string
	}{
		{bad, map[string]string{"4.1": "FAIL", "4.6": "FAIL", "4.10": "FAIL"}},
		{good, map[string]string{"4.1": "PASS", "4.6": "PASS", "4.10": "PASS"}},
	} {
		rep, run := scanJSON(t, "--compliance", "docker-cis", tt.path)
		if rep == nil {
			t.Fatalf("exit %d: %s", run.code, run.stderr)
		}
		got := statuses(t, rep)
		for id := range got {
			if _, ok := tt.want[id]; !ok {
				delete(got, id)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: controls (-want +got):\n%s", filepath.Base(tt.path), diff)
		}
	}
	// 4.10 fails on both the secret scanner's finding and the configuration
	// check, and neither prints the password.
	rep, _ := scanJSON(t, "--compliance", "docker-cis", bad)
	for _, c := range rep.Compliance.Controls {
		if c.ID != "4.10" {
			continue
		}
		var failed []string
		for _, ch := range c.Checks {
			if ch.Status == "FAIL" {
				failed = append(failed, ch.Check)
			}
			for _, it := range ch.Items {
				if strings.Contains(it, password) {
					t.Errorf("4.10 prints the password: %q", it)
				}
			}
		}
		if diff := cmp.Diff([]string{"misconfig:DD-IMG-007", "secret"}, failed); diff != "" {
			t.Errorf("4.10 failed checks (-want +got):\n%s", diff)
		}
	}
	// The table and the HTML page show the failures too.
	out := drydock(t, "image", "--db", testDB, "--compliance", "docker-cis", bad)
	for _, line := range []string{"4.1   HIGH      FAIL", "4.6   LOW       FAIL", "4.10  CRITICAL  FAIL"} {
		if !strings.Contains(out.stdout, line) {
			t.Errorf("table has no %q:\n%s", line, out.stdout)
		}
	}
	html := drydock(t, "image", "--db", testDB, "--compliance", "docker-cis", "--format", "html", bad)
	if !strings.Contains(html.stdout, `<section id="compliance">`) || strings.Contains(html.stdout, password) {
		t.Errorf("HTML page: compliance section missing or the password printed")
	}
}

// TestComplianceNISTAndPCI: the mappings run on a real scan; the unknown
// spec is a usage error.
func TestComplianceNISTAndPCI(t *testing.T) {
	for spec, want := range map[string]map[string]string{
		"nist-800-53": {"RA-5": "PASS", "SI-2": "PASS", "SI-3": "PASS", "CM-7": "MANUAL", "IA-5(7)": "PASS", "CM-8": "PASS"},
		"pci-dss-4.0": {"5.2.2": "PASS", "6.3.3": "PASS", "8.6.2": "PASS", "11.3.1": "PASS", "11.3.2": "MANUAL"},
	} {
		rep, run := scanJSON(t, "--compliance", spec, alpineImage)
		if run.code != 0 {
			t.Fatalf("%s: exit %d: %s", spec, run.code, run.stderr)
		}
		got := statuses(t, rep)
		for id := range got {
			if _, ok := want[id]; !ok {
				delete(got, id)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", spec, diff)
		}
	}
	if res := drydock(t, "image", "--db", testDB, "--compliance", "k8s-nsa", alpineImage); res.code != 2 || !strings.Contains(res.stderr, "docker-cis-1.6.0") {
		t.Errorf("unknown spec: exit %d, stderr %q; want 2 and the list", res.code, res.stderr)
	}
}
