package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLicenceFindingsInCIReports: one `drydock image --scanners license` of
// the AlmaLinux 9.0 image (its real rpm database) writes its licence
// findings into the SARIF, HTML and Markdown reports as well: bash under
// GPL-3.0-or-later ("GPLv3+") under rule license-restricted in SARIF, the
// Licences section of the page and of the Markdown summary.
func TestLicenceFindingsInCIReports(t *testing.T) {
	img := almaImage(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz")
	dir := t.TempDir()
	out := func(name string) string { return filepath.Join(dir, name) }
	run := drydock(t, "image", "--db", testDB, "--scanners", "license",
		"--format", "sarif="+out("r.sarif"), "--format", "html="+out("r.html"), "--format", "markdown="+out("r.md"), img)
	if run.code != 0 {
		t.Fatalf("exit %d: %s", run.code, run.stderr)
	}
	read := func(name string) string {
		b, err := os.ReadFile(out(name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	var log struct {
		Runs []struct {
			Results []struct {
				RuleID  string `json:"ruleId"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(read("r.sarif")), &log); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range log.Runs[0].Results {
		if r.RuleID == "license-restricted" && strings.HasPrefix(r.Message.Text, "bash ") &&
			strings.Contains(r.Message.Text, "GPL-3.0-or-later") && strings.Contains(r.Message.Text, "GPLv3+") {
			found = true
		}
	}
	if !found {
		t.Errorf("SARIF has no license-restricted result for bash: %+v", log.Runs[0].Results)
	}

	page := read("r.html")
	_, section, ok := strings.Cut(page, `<section id="licenses">`)
	if !ok || !strings.Contains(section, "<b>bash</b>") || !strings.Contains(section, "GPL-3.0-or-later") {
		t.Errorf("HTML has no licences section with bash")
	}
	md := read("r.md")
	if !strings.Contains(md, "### Licences") || !strings.Contains(md, "licence finding") || !strings.Contains(md, "`GPL-3.0-or-later`") {
		t.Errorf("Markdown lacks the licences:\n%s", md)
	}
}
