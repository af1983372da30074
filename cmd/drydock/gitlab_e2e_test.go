package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// TestGitLabReport: real scans of the Alpine 3.16.9 and AlmaLinux 9.0
// images, written as GitLab's container-scanning report, are valid
// against GitLab's published schema (15.1.0), with the findings the JSON
// report has.
func TestGitLabReport(t *testing.T) {
	const id = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/master/dist/container-scanning-report-format.json"
	schema, err := reporttest.CompileSchema(id, map[string]string{id: "../../internal/report/writer/testdata/schema/container-scanning-report-format-15.1.0.json"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ref string
		want      []string // identifiers of the entries
	}{
		{"alpine", alpineImage, []string{"CVE-2023-42366 busybox", "CVE-2023-42366 ssl_client"}},
		{"almalinux", almaImage(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "gl-container-scanning-report.json")
			rep, res := scanJSON(t, "--format", "gitlab="+out, tc.ref)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			doc, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(doc); err != nil {
				t.Errorf("not valid against GitLab's schema: %v", err)
			}
			var gl struct {
				Vulnerabilities []struct {
					Identifiers []struct{ Value string }
					Location    struct {
						Dependency struct{ Package struct{ Name string } }
						Image      string `json:"image"`
					}
				}
			}
			if err := json.Unmarshal(doc, &gl); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range gl.Vulnerabilities {
				got = append(got, v.Identifiers[0].Value+" "+v.Location.Dependency.Package.Name)
			}
			if len(got) != len(rep.Findings) || len(got) == 0 {
				t.Errorf("%d entries, want the %d findings of the JSON report", len(got), len(rep.Findings))
			}
			if tc.want != nil && strings.Join(got, ";") != strings.Join(tc.want, ";") {
				t.Errorf("entries %v, want %v", got, tc.want)
			}
		})
	}
}
