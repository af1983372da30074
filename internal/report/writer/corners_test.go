package writer

import (
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// The corners below are real records of shared/data: GO-2022-0968
// (osv/Go/all.zip) has no severity and a pseudo-version fix; PYSEC-2023-74
// (osv/PyPI/all.zip) has no summary, so its title is its whole description.
const (
	cryptoModule    = "golang.org/x/crypto"
	cryptoInstalled = "v0.0.0-20210921155107-089bfa567519"
	cryptoFixed     = "0.0.0-20211202192323-5770296d904e"
	requestsDetails = "Requests is a HTTP library. Since Requests 2.3.0, Requests has been leaking Proxy-Authorization " +
		"headers to destination servers when redirected to an HTTPS endpoint. This is a product of how we use " +
		"`rebuild_proxies` to reattach the `Proxy-Authorization` header to requests. For HTTP connections sent " +
		"through the tunnel, the proxy will identify the header in the request itself and remove it prior to " +
		"forwarding to the destination server. However when sent over HTTPS, the `Proxy-Authorization` header must " +
		"be sent in the CONNECT request as the proxy has no visibility into the tunneled request. This results in " +
		"Requests forwarding proxy credentials to the destination server unintentionally, allowing a malicious actor " +
		"to potentially exfiltrate sensitive information. This issue has been patched in version 2.31.0.\n\n"
)

// cornerReport is the AlmaLinux fixture with what real scans add to it: a
// Go module at a pseudo-version with a finding of UNKNOWN severity, a PyPI
// finding whose title is a whole paragraph, an installed copy of the
// lodash that the lockfile declares, and secrets from the image config and
// from a history step that made no layer.
func cornerReport() *report.Report {
	r := reporttest.AlmaLinux()
	app := r.Image.Layers[2]
	add := func(p inventory.Package, f finding.Finding) {
		r.Packages = append(r.Packages, p)
		f.Package = finding.PackageRef{
			ID: p.ID, Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
			Path: p.PrimaryPath(), LayerIndex: p.Layer.Index, LayerDiffID: p.Layer.DiffID,
		}
		f.InstalledVersion = p.Version
		r.Findings = append(r.Findings, f)
	}
	const bin = "/app/bin/server"
	add(inventory.Package{
		ID: reporttest.ID(inventory.EcoGo, cryptoModule, cryptoInstalled, "", bin), Name: cryptoModule,
		Version: cryptoInstalled, Ecosystem: inventory.EcoGo, PURL: "pkg:golang/golang.org/x/crypto@" + cryptoInstalled,
		Locations: []inventory.Location{{Path: bin, LayerDiffID: app.DiffID}}, Layer: &app, FoundBy: "lang/go-binary",
	}, finding.Finding{
		ID: "GO-2022-0968", Aliases: []string{"CVE-2021-43565", "GHSA-gwc9-m7rh-j2ww"},
		FixedVersion: cryptoFixed, Status: vocab.StatusFixed, Severity: vocab.SevUnknown, SeveritySource: "none",
		Title:       "Panic on malformed packets in golang.org/x/crypto/ssh",
		Description: "Unauthenticated clients can cause a panic in SSH servers.",
		References:  []string{"https://pkg.go.dev/vuln/GO-2022-0968"},
		Published:   time.Date(2022, 9, 13, 3, 32, 38, 0, time.UTC),
		Evidence: []finding.Evidence{{Advisory: "GO-2022-0968", Ecosystem: "Go", MatchedName: cryptoModule, MatchedBy: "name",
			Range: ">=0, <" + cryptoFixed, Comparator: "semver", DataSource: "osv/Go"}},
	})
	const site = "/usr/lib/python3.9/site-packages/requests-2.25.0.dist-info/METADATA"
	add(inventory.Package{
		ID: reporttest.ID(inventory.EcoPyPI, "requests", "2.25.0", "", site), Name: "requests", Version: "2.25.0",
		Ecosystem: inventory.EcoPyPI, PURL: "pkg:pypi/requests@2.25.0",
		Locations: []inventory.Location{{Path: site, LayerDiffID: app.DiffID}}, Layer: &app, FoundBy: "lang/python",
	}, finding.Finding{
		ID: "PYSEC-2023-74", Aliases: []string{"CVE-2023-32681", "GHSA-j8r2-6x86-q33q"},
		FixedVersion: "2.31.0", Status: vocab.StatusFixed, Severity: vocab.SevMedium, SeveritySource: "nvd",
		Description: requestsDetails,
		Evidence: []finding.Evidence{{Advisory: "PYSEC-2023-74", Ecosystem: "PyPI", MatchedName: "requests", MatchedBy: "name",
			Range: ">=2.3.0, <2.31.0", Comparator: "pep440", DataSource: "osv/PyPI"}},
	})
	const legacy = "/srv/legacy/node_modules/lodash/package.json"
	var lockLodash finding.Finding
	for _, f := range r.Findings {
		if f.Package.Name == "lodash" {
			lockLodash = f
		}
	}
	lockLodash.Annotations = nil
	add(inventory.Package{
		ID: reporttest.ID(inventory.EcoNPM, "lodash", "4.17.20", "", legacy), Name: "lodash", Version: "4.17.20",
		Ecosystem: inventory.EcoNPM, PURL: "pkg:npm/lodash@4.17.20", Licenses: []string{"MIT"},
		Locations: []inventory.Location{{Path: legacy, LayerDiffID: app.DiffID}}, Layer: &app, FoundBy: "lang/npm-package",
	}, lockLodash)
	r.Secrets = append(r.Secrets,
		report.Secret{RuleID: "github-pat", Title: "GitHub Personal Access Token", Severity: vocab.SevCritical,
			Source: "config-env", Match: "GITHUB_TOKEN=ghp_****************************", LayerIndex: -1},
		report.Secret{RuleID: "secret-name", Title: "Secret-looking variable", Severity: vocab.SevMedium,
			Source: "history", Match: "ARG NPM_TOKEN=****", LayerIndex: -1, CreatedBy: "ARG NPM_TOKEN=****"},
	)
	r.Summarise()
	return r
}

// suppressedReport is the AlmaLinux fixture after an ignore file accepted
// its secret and its root-user misconfiguration and --severity left out
// the LOW one: nothing of either kind is active any more.
func suppressedReport() *report.Report {
	r := reporttest.AlmaLinux()
	ign := func(reason string) finding.Annotation {
		return finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: ".drydockignore.yaml", Reason: reason}
	}
	r.Secrets[0].Annotations = []finding.Annotation{ign("example key from the AWS docs")}
	r.Misconfigs[0].Annotations = []finding.Annotation{ign("the entrypoint drops privileges")}
	r.Misconfigs[1].Annotations = []finding.Annotation{{Kind: vocab.AnnotationFiltered, Source: "--severity", Reason: "severity not selected"}}
	// The policy no longer sees them either.
	r.Verdict.Failures = r.Verdict.Failures[:1] // deny-kev
	r.Verdict.Warnings = nil
	r.Summarise()
	return r
}

func TestSuppressedSecretsAndMisconfigsDoNotCount(t *testing.T) {
	r := suppressedReport()
	tests := []struct {
		name          string
		format        string
		opt           Options
		want, notWant []string
	}{
		{
			name: "table", format: "table", opt: Options{Width: 160},
			want: []string{
				"Secrets: 0 (1 suppressed; use --show-suppressed to list them)",
				"Misconfigurations: 0 (2 suppressed; use --show-suppressed to list them)",
			},
			notWant: []string{"Secrets: 1", "Misconfigurations: 2", "aws-access-key-id", "DD-IMG-001", "DD-IMG-002", "STATUS      MATCH"},
		},
		{
			name: "table --show-suppressed", format: "table", opt: Options{Width: 160, ShowSuppressed: true},
			want: []string{
				"Secrets: 0 (1 suppressed, shown below)",
				"SEVERITY  RULE               LOCATION     LAYER  STATUS      MATCH",
				"CRITICAL  aws-access-key-id  /app/.env:3  2      suppressed  AWS_ACCESS_KEY_ID=AKIA************MPLE",
				"Misconfigurations: 0 (2 suppressed, shown below)",
				"DD-IMG-001  HIGH      4.1  suppressed  Image runs as root",
				"DD-IMG-002  LOW       4.6  filtered    No HEALTHCHECK instruction",
			},
		},
		{
			name: "markdown", format: "markdown",
			want:    []string{"🔑 0 secrets (1 suppressed)", "⚙️ 0 misconfigurations (2 suppressed)"},
			notWant: []string{"🔑 1 secrets", "⚙️ 2 misconfigurations", "### Secrets", "### Misconfigurations"},
		},
		{
			name: "markdown --show-suppressed", format: "markdown", opt: Options{ShowSuppressed: true},
			want: []string{"| 🟥 CRITICAL | `aws-access-key-id` _(suppressed)_ |", "| 🟦 LOW | `DD-IMG-002` _(filtered)_ |"},
		},
		{
			name: "html", format: "html",
			want: []string{
				`<div class="value">0</div><div class="label">Secrets</div>`,
				`<div class="value">0</div><div class="label">Misconfigurations</div>`,
				`<summary>1 suppressed secret</summary>`,
				`<summary>2 suppressed misconfigurations</summary>`,
			},
			notWant: []string{`<div class="value">1</div><div class="label">Secrets</div>`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(render(t, tt.format, r, tt.opt))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}

	// JUnit: suppressed ones are skipped, not failed; SARIF: not active
	// results (only with ShowSuppressed, and then with a suppression).
	var suites struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(render(t, "junit", r, Options{}), &suites); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int{}
	for _, s := range suites.Suites {
		if s.Name == "secrets" || s.Name == "misconfigurations" {
			got[s.Name] = [2]int{s.Failures, s.Skipped}
		}
	}
	if diff := cmp.Diff(map[string][2]int{"secrets": {0, 1}, "misconfigurations": {0, 2}}, got); diff != "" {
		t.Errorf("JUnit failures, skipped (-want +got):\n%s", diff)
	}
	for _, show := range []bool{false, true} {
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID       string            `json:"ruleId"`
					Suppressions []json.RawMessage `json:"suppressions"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(render(t, "sarif", r, Options{ShowSuppressed: show}), &log); err != nil {
			t.Fatal(err)
		}
		var active, suppressed []string
		for _, res := range log.Runs[0].Results {
			if strings.HasPrefix(res.RuleID, "DD-") || res.RuleID == "aws-access-key-id" {
				if len(res.Suppressions) > 0 {
					suppressed = append(suppressed, res.RuleID)
				} else {
					active = append(active, res.RuleID)
				}
			}
		}
		var want []string
		if show {
			want = []string{"aws-access-key-id", "DD-IMG-001", "DD-IMG-002"}
		}
		if len(active) > 0 || !cmp.Equal(want, suppressed) {
			t.Errorf("SARIF (ShowSuppressed=%v): active %v, suppressed %v; want none active, suppressed %v", show, active, suppressed, want)
		}
	}
}

func TestSARIFEveryRuleHasSecuritySeverity(t *testing.T) {
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", cornerReport(), Options{}), &log); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, rule := range log.Runs[0].Tool.Driver.Rules {
		got[rule.ID] = rule.Properties["security-severity"]
	}
	want := map[string]any{
		"ALSA-2023:5453": "7.8", "ALSA-2023:5071": "5.5", "ALSA-2023:6698": "7.8", "GO-2023-2102": "7.5",
		"GHSA-35jh-r3h4-6jhm": "7.2", "PYSEC-2023-74": "5.5",
		"GO-2022-0968":      "0.0", // UNKNOWN
		"aws-access-key-id": "9.5", "github-pat": "9.5", "secret-name": "5.5",
		"DD-IMG-001": "8.0", "DD-IMG-002": "2.0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("security-severity per rule (-want +got):\n%s", diff)
	}
}

// tableRow returns the table line that starts with prefix.
func tableRow(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("no line starts with %q:\n%s", prefix, out)
	return ""
}

func TestTableVersionsLeaveRoomForTitles(t *testing.T) {
	const width = 140
	out := string(render(t, "table", cornerReport(), Options{Width: width}))
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > width {
			t.Errorf("line of %d runes exceeds the width %d: %q", n, width, line)
		}
	}
	cols := func(line string) []string { return regexp.MustCompile(`\s{2,}`).Split(line, -1) }
	got := [][]string{
		cols(tableRow(t, out, "glibc ")),
		cols(tableRow(t, out, cryptoModule+" ")),
	}
	want := [][]string{
		{"glibc", "2.34-28.el9_0", "2.34-60.el9_2.7", "ALSA-2023:5453 [KEV]", "HIGH", "fixed", "0", "Important: glibc security u…"},
		{cryptoModule, "v0.0.0-20…9bfa567519", "0.0.0-202…70296d904e", "GO-2022-0968", "UNKNOWN", "fixed", "2", "Panic on malformed packets…"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// Without a width nothing is cut.
	wide := string(render(t, "table", cornerReport(), Options{}))
	if row := tableRow(t, wide, cryptoModule+" "); !strings.Contains(row, cryptoInstalled) || !strings.Contains(row, cryptoFixed) {
		t.Errorf("versions cut without a width: %q", row)
	}
}

func TestTruncateMiddle(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{cryptoInstalled, 24, "v0.0.0-2021…089bfa567519"},
		{cryptoInstalled, 20, "v0.0.0-20…9bfa567519"},
		{"2.34-28.el9_0", 20, "2.34-28.el9_0"},
		{"héllo wörld", 5, "hé…ld"},
		{"abc", 1, "…"},
		{"abc", 0, "abc"},
	}
	for _, tt := range tests {
		if got := truncateMiddle(tt.s, tt.n); got != tt.want {
			t.Errorf("truncateMiddle(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestSecretsFromTheImageConfigNameNoLayer(t *testing.T) {
	r := cornerReport()
	table := string(render(t, "table", r, Options{Width: 200}))
	md := string(render(t, "markdown", r, Options{}))
	html := string(render(t, "html", r, Options{}))
	for _, tt := range []struct{ format, out, want string }{
		{"table", tableRow(t, table, "CRITICAL  github-pat"), "CRITICAL  github-pat         config-env   image config  GITHUB_TOKEN=ghp_"},
		{"table", tableRow(t, table, "MEDIUM    secret-name"), "MEDIUM    secret-name        history      history       ARG NPM_TOKEN=****"},
		{"markdown", md, "| 🟥 CRITICAL | `github-pat` | the image env | image config |"},
		{"markdown", md, "| 🟨 MEDIUM | `secret-name` | the image history | history |"},
		{"html", html, `<td class="mono">the image env (image config)</td>`},
	} {
		if !strings.Contains(tt.out, tt.want) {
			t.Errorf("%s lacks %q:\n%s", tt.format, tt.want, tt.out)
		}
	}
	for format, out := range map[string]string{"table": table, "markdown": md, "html": html,
		"junit": string(render(t, "junit", r, Options{})), "sarif": string(render(t, "sarif", r, Options{}))} {
		if strings.Contains(out, "layer -1") || strings.Contains(out, "| -1 |") || strings.Contains(out, "  -1  ") {
			t.Errorf("%s shows layer -1", format)
		}
	}
}

func TestDeclaredPackagesAreMarked(t *testing.T) {
	r := cornerReport()
	table := string(render(t, "table", r, Options{Width: 200}))
	if got := tableRow(t, table, "lodash (lockfile)"); !strings.Contains(got, "GHSA-35jh-r3h4-6jhm") {
		t.Errorf("lockfile lodash row = %q", got)
	}
	if got := tableRow(t, table, "lodash  "); !strings.Contains(got, "GHSA-35jh-r3h4-6jhm") {
		t.Errorf("installed lodash row = %q", got)
	}
	sbomTable := string(render(t, "table", r, Options{Mode: "sbom"}))
	for _, want := range []string{`(?m)^lodash \(lockfile\) +4\.17\.20 +npm +2 +/app/package-lock\.json$`,
		`(?m)^lodash +4\.17\.20 +npm +2 +/srv/legacy/node_modules/lodash/package\.json$`} {
		if !regexp.MustCompile(want).MatchString(sbomTable) {
			t.Errorf("sbom table does not match %q:\n%s", want, sbomTable)
		}
	}
	md := string(render(t, "markdown", r, Options{}))
	for _, want := range []string{"| lodash _(lockfile)_ | 4.17.20 |", "| lodash | 4.17.20 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	html := string(render(t, "html", r, Options{}))
	if n := strings.Count(html, `"pkg":"lodash","eco":"npm"`); n != 2 {
		t.Errorf("HTML embeds %d lodash findings, want 2", n)
	}
	if n := strings.Count(html, `"declared":true`); n != 1 {
		t.Errorf("HTML marks %d findings declared, want 1 (the lockfile lodash)", n)
	}
	if !strings.Contains(html, `<li>lodash <span class="muted">4.17.20</span> <span class="badge lock">lockfile</span></li>`) {
		t.Error("HTML history does not mark the lockfile lodash")
	}
}

func TestHTMLTitlesAndSorting(t *testing.T) {
	html := string(render(t, "html", cornerReport(), Options{}))
	for _, want := range []string{
		// Every header sorts the table.
		`<th scope="col" data-sort="sev" aria-sort="descending"><button type="button">Severity</button></th>`,
		`<th scope="col" data-sort="title" aria-sort="none"><button type="button">Title</button></th>`,
		// Long titles are clamped, the cell keeps the full text.
		`td.title .clamp {`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?i)<(link|script)[^>]+(src|href)=`).MatchString(html) {
		t.Error("HTML references external resources")
	}
}
