package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report"
)

// rootfs writes files (path → content) under a new directory and returns it.
func rootfs(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func extractTestdata(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../internal/extract", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCoverage: where the database cannot cover what the scan found, the
// report says so per ecosystem (JSON, table, log), a policy can fail on it,
// and "No vulnerabilities found" is never printed about what was not looked
// at. Real package databases (Alpine 3.16.9, Debian 12.15 minbase, a
// composer install) against the database built from testdata/mirror, which
// has Alpine, AlmaLinux and some language advisories but no Debian and no
// Packagist ones.
func TestCoverage(t *testing.T) {
	apkDB := extractTestdata(t, "apk/testdata/alpine-3.16.9-installed")
	alpine316 := extractTestdata(t, "osrelease/testdata/alpine-3.16.9/etc/os-release")
	debian := map[string][]byte{
		"usr/lib/os-release":  extractTestdata(t, "osrelease/testdata/debian-12.15/usr/lib/os-release"),
		"etc/debian_version":  extractTestdata(t, "osrelease/testdata/debian-12.15/etc/debian_version"),
		"var/lib/dpkg/status": extractTestdata(t, "dpkg/testdata/debian-12.15-status"),
	}
	longLine := append(append([]byte("Package: huge\nDescription: "), bytes.Repeat([]byte("x"), 2<<20)...), '\n')
	debianCut := map[string][]byte{}
	for k, v := range debian {
		debianCut[k] = v
	}
	// A line over the parser's limit in the middle of the real status file:
	// the stanzas after it are lost.
	status := debian["var/lib/dpkg/status"]
	half := bytes.Index(status[len(status)/2:], []byte("\n\n")) + len(status)/2 + 2
	debianCut["var/lib/dpkg/status"] = append(append(append([]byte{}, status[:half]...), longLine...), status[half:]...)

	type gap struct {
		Ecosystem string
		OS        bool
		Packages  int
		Status    string
	}
	tests := []struct {
		name     string
		files    map[string][]byte
		want     []gap
		reason   string // in the first gap's reasons
		complete bool
	}{
		{
			name:     "alpine 3.16 is covered",
			files:    map[string][]byte{"etc/os-release": alpine316, "lib/apk/db/installed": apkDB},
			want:     []gap{{"Alpine:v3.16", true, 14, "complete"}},
			complete: true,
		},
		{
			name:   "debian 12 with no Debian advisories in the database",
			files:  debian,
			want:   []gap{{"Debian:12", true, 88, "no-advisories"}},
			reason: "the database has no advisories for Debian:12",
		},
		{
			name: "alpine edge without the secdb's edge branch in the database",
			files: map[string][]byte{
				"etc/os-release":       []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.21.0_alpha20240807\nPRETTY_NAME=\"Alpine Linux edge\"\n"),
				"lib/apk/db/installed": apkDB,
			},
			want:   []gap{{"Alpine:edge", true, 14, "no-advisories"}},
			reason: "the database has no advisories for Alpine:edge",
		},
		{
			name: "an unknown distribution",
			files: map[string][]byte{
				"etc/os-release":       []byte("NAME=\"Plan Nine\"\nID=plan9os\nVERSION_ID=4\n"),
				"lib/apk/db/installed": apkDB,
			},
			want:   []gap{{"plan9os 4", true, 14, "unsupported"}},
			reason: "no advisory source for plan9os 4",
		},
		{
			name: "an ecosystem with zero records",
			files: map[string][]byte{
				"etc/os-release":                     alpine316,
				"lib/apk/db/installed":               apkDB,
				"app/vendor/composer/installed.json": extractTestdata(t, "composer/testdata/app/vendor/composer/installed.json"),
			},
			want:   []gap{{"Alpine:v3.16", true, 14, "complete"}, {"Packagist", false, 3, "no-advisories"}},
			reason: "the database has no advisories for Packagist",
		},
		{
			name:   "a garbage apk database",
			files:  map[string][]byte{"etc/os-release": alpine316, "lib/apk/db/installed": []byte("P:\x00\x01garbage\nV\n\n:::\n")},
			want:   []gap{{"Alpine:v3.16", true, 0, "partial"}},
			reason: "/lib/apk/db/installed: ",
		},
		{
			name:   "a dpkg line over the limit drops the stanzas after it",
			files:  debianCut,
			want:   []gap{{"Debian:12", true, -1, "no-advisories"}},
			reason: "the database has no advisories for Debian:12",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := rootfs(t, tt.files)
			rep, res := scanJSON(t, "--scanners", "vuln", "dir:"+dir)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			var got []gap
			for _, c := range rep.Coverage {
				g := gap{c.Ecosystem, c.OS, c.Packages, c.Status}
				got = append(got, g)
			}
			want := tt.want
			if len(want) > 0 && want[len(want)-1].Packages < 0 {
				// The count depends on where the cut fell: only its being
				// short of the whole file matters.
				want = []gap{{want[0].Ecosystem, want[0].OS, got[0].Packages, want[0].Status}}
				if got[0].Packages >= 88 {
					t.Errorf("packages = %d after the over-long line, want fewer than 88", got[0].Packages)
				}
				if !strings.Contains(strings.Join(rep.Coverage[0].Reasons, "\n"), "/var/lib/dpkg/status") {
					t.Errorf("reasons %q do not name the status file", rep.Coverage[0].Reasons)
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("coverage (-want +got):\n%s", d)
			}
			gaps := 0
			for _, c := range rep.Coverage {
				if c.Status != "complete" {
					gaps++
					if !strings.Contains(strings.Join(c.Reasons, "\n"), tt.reason) {
						t.Errorf("%s reasons %q lack %q", c.Ecosystem, c.Reasons, tt.reason)
					}
				}
			}
			if rep.Summary.CoverageGaps != gaps {
				t.Errorf("summary.coverage_gaps = %d, want %d", rep.Summary.CoverageGaps, gaps)
			}

			// The log says it; a policy can fail on it.
			pol := drydock(t, "image", "--db", testDB, "--scanners", "vuln", "--policy", "builtin:complete-coverage", "dir:"+dir)
			wantCode := 1
			if tt.complete {
				wantCode = 0
			}
			if pol.code != wantCode {
				t.Errorf("--policy builtin:complete-coverage: exit %d, want %d\n%s", pol.code, wantCode, pol.stderr)
			}
			if !tt.complete && !strings.Contains(pol.stderr, "incomplete advisory coverage") {
				t.Errorf("stderr does not warn of the coverage gap:\n%s", pol.stderr)
			}
		})
	}
}

// TestCoverageSurvivesSBOM: a re-scan of the SBOM reports the same coverage
// as the scan of the image.
func TestCoverageSurvivesSBOM(t *testing.T) {
	dir := rootfs(t, map[string][]byte{
		"etc/os-release":       []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.21.0_alpha20240807\nPRETTY_NAME=\"Alpine Linux edge\"\n"),
		"lib/apk/db/installed": extractTestdata(t, "apk/testdata/alpine-3.16.9-installed"),
	})
	direct, _ := scanJSON(t, "--scanners", "vuln", "dir:"+dir)
	for _, format := range []string{"cyclonedx", "spdx"} {
		bom := filepath.Join(t.TempDir(), "bom.json")
		if res := drydock(t, "sbom", "--format", format, "-o", bom, "dir:"+dir); res.code != 0 {
			t.Fatalf("sbom: %s", res.stderr)
		}
		res := drydock(t, "scan-sbom", "--db", testDB, "--format", "json", bom)
		var rescan report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rescan); err != nil {
			t.Fatalf("scan-sbom %s: %v\n%s", format, err, res.stderr)
		}
		if d := cmp.Diff(direct.Coverage, rescan.Coverage); d != "" {
			t.Errorf("%s re-scan coverage differs (-image +sbom):\n%s", format, d)
		}
	}
}
