// Package writer encodes a drydock report in the output formats: table,
// json, sarif, cyclonedx, spdx, html, junit, markdown, github (dependency
// snapshot), gitlab (container-scanning report), template, cosign-vuln
// (an in-toto Statement for signing) and copa (Copacetic's patch report).
//
// Every writer is deterministic: the same report gives the same bytes. None
// of them modifies the report.
package writer

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/sbom"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Options tunes the writers. The zero value is valid.
type Options struct {
	// Color enables ANSI colours in the table (the caller decides: a
	// terminal, and NO_COLOR unset).
	Color bool
	// Width is the terminal width the table fits titles into; 0 = no limit.
	Width int
	// GroupBy groups the table's findings by "package" (default) or "layer".
	GroupBy string
	// ShowSuppressed lists suppressed findings (VEX, ignore rules) too, and
	// the secrets and misconfigurations that ignore rules or --severity took
	// out of the count; they are never counted as active.
	ShowSuppressed bool
	// Template is the text/template source for the "template" format.
	Template string
	// Mode is "sbom" (inventory only) or "vuln" (findings); "" derives it
	// from the scanners that ran.
	Mode string
	// Getenv reads the CI environment for the "github" format (GITHUB_SHA,
	// GITHUB_REF, GITHUB_JOB, GITHUB_RUN_ID, GITHUB_WORKFLOW); nil means
	// os.Getenv.
	Getenv func(string) string
	// ScanStarted is when the scan began, for the "cosign-vuln" format's
	// metadata.scanStartedOn; zero means the report's created_at.
	ScanStarted time.Time
}

// Func is the signature every writer has.
type Func func(w io.Writer, r *report.Report, opt Options) error

// Formats lists the format names Write accepts, in documentation order.
func Formats() []string {
	return []string{"table", "json", "sarif", "cyclonedx", "cyclonedx-1.6", "cyclonedx-1.7", "spdx", "spdx-json", "spdx-2.3", "spdx-3.0", "spdx-json-3.0", "html", "junit", "markdown", "github", "gitlab", "template", "cosign-vuln", "copa"}
}

// Lookup returns the writer of a format.
func Lookup(format string) (Func, bool) {
	switch strings.ToLower(format) {
	case "table":
		return Table, true
	case "json":
		return JSON, true
	case "sarif":
		return SARIF, true
	case "cyclonedx":
		return CycloneDX, true
	case "spdx":
		return SPDX, true
	case "cyclonedx-1.6", "cyclonedx-1.7", "spdx-json", "spdx-2.3", "spdx-3.0", "spdx-json-3.0":
		return sbomVersion(strings.ToLower(format)), true
	case "html":
		return HTML, true
	case "junit":
		return JUnit, true
	case "markdown":
		return Markdown, true
	case "github":
		return GitHub, true
	case "gitlab":
		return GitLab, true
	case "template":
		return Template, true
	case "cosign-vuln":
		return CosignVuln, true
	case "copa":
		return Copa, true
	}
	return nil, false
}

// Write encodes r in format.
func Write(w io.Writer, format string, r *report.Report, opt Options) error {
	f, ok := Lookup(format)
	if !ok {
		return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	if r == nil {
		return fmt.Errorf("writing %s: no report", format)
	}
	return f(w, r, opt)
}

// CycloneDX writes a CycloneDX 1.6 JSON SBOM; in vuln mode it lists the
// findings as vulnerabilities. C1 and bidirectional controls are \u
// escapes (writeJSONDoc).
func CycloneDX(w io.Writer, r *report.Report, opt Options) error {
	return writeJSONDoc(w, func(w io.Writer) error { return sbom.WriteCycloneDX(w, r, mode(r, opt) == "vuln") })
}

// SPDX writes an SPDX 2.3 JSON SBOM. C1 and bidirectional controls are \u
// escapes (writeJSONDoc).
func SPDX(w io.Writer, r *report.Report, opt Options) error {
	return writeJSONDoc(w, func(w io.Writer) error { return sbom.WriteSPDX(w, r) })
}

// mode resolves Options.Mode.
func mode(r *report.Report, opt Options) string {
	switch opt.Mode {
	case "sbom", "vuln":
		return opt.Mode
	}
	return r.Mode()
}

// visible returns the findings a writer shows: all of them with
// ShowSuppressed, else the unsuppressed ones. r must be normalised.
func visible(r *report.Report, opt Options) []finding.Finding {
	if opt.ShowSuppressed {
		return r.Findings
	}
	out := make([]finding.Finding, 0, len(r.Findings))
	for _, f := range r.Findings {
		if !f.Suppressed() {
			out = append(out, f)
		}
	}
	return out
}

// counts tallies unsuppressed findings by severity.
func counts(r *report.Report) (bySev map[string]int, total, suppressed int) {
	bySev = map[string]int{}
	for _, s := range vocab.Severities() {
		bySev[s] = 0
	}
	for i := range r.Findings {
		if r.Findings[i].Suppressed() {
			suppressed++
			continue
		}
		bySev[r.Findings[i].Severity]++
		total++
	}
	return bySev, total, suppressed
}

// suppressionStatus is "suppressed" when annotations take a secret or a
// misconfiguration out of the count (ignore rule), "filtered" when only
// --severity does, else "".
func suppressionStatus(as []finding.Annotation) string {
	status := ""
	for _, a := range as {
		switch a.Kind {
		case vocab.AnnotationSuppressed:
			return "suppressed"
		case vocab.AnnotationFiltered:
			status = "filtered"
		}
	}
	return status
}

// visibleSecrets returns the secrets a writer lists (all of them with
// ShowSuppressed, else the active ones) and how many are suppressed or
// filtered. r must be normalised.
func visibleSecrets(r *report.Report, opt Options) (list []report.Secret, active, suppressed int) {
	for _, s := range r.Secrets {
		if finding.Suppressed(s.Annotations) {
			suppressed++
			if !opt.ShowSuppressed {
				continue
			}
		} else {
			active++
		}
		list = append(list, s)
	}
	return list, active, suppressed
}

// visibleMalware is visibleSecrets for malware: what an ignore entry
// naming its ID allowed is listed only with ShowSuppressed. Nothing else
// hides malware.
func visibleMalware(r *report.Report, opt Options) (list []report.Malware, active, allowed int) {
	for _, m := range r.Malware {
		if m.Allowed() {
			allowed++
			if !opt.ShowSuppressed {
				continue
			}
		} else {
			active++
		}
		list = append(list, m)
	}
	return list, active, allowed
}

// malwareWhere is where a malware finding is, on one line: the package
// and the file it was read from, or the file.
func malwareWhere(m *report.Malware) string {
	if m.Package != nil {
		where := m.Package.Name + " " + m.Package.Version
		if m.Package.Path != "" {
			where += " (" + m.Package.Path + ")"
		}
		return where
	}
	return m.Path
}

// malwareLayer is the layer column of a malware finding: the layer, and
// the one that deleted the file (which is still in the image).
func malwareLayer(m *report.Malware) string {
	if m.LayerIndex < 0 {
		return "-"
	}
	s := strconv.Itoa(m.LayerIndex)
	if m.DeletedInLayer != nil {
		s += fmt.Sprintf(" (deleted in %d)", *m.DeletedInLayer)
	}
	return s
}

// malwareTitle is the one-line description of a malware finding.
func malwareTitle(m *report.Malware) string {
	if m.Title != "" {
		return m.Title
	}
	if d := firstLine(m.Description); d != "" {
		return d
	}
	if m.Kind == vocab.MalwareFile {
		return "known-bad file (" + m.Engine + ")"
	}
	return "malicious package"
}

// visibleMisconfigs is visibleSecrets for misconfigurations.
func visibleMisconfigs(r *report.Report, opt Options) (list []report.Misconfig, active, suppressed int) {
	for _, m := range r.Misconfigs {
		if finding.Suppressed(m.Annotations) {
			suppressed++
			if !opt.ShowSuppressed {
				continue
			}
		} else {
			active++
		}
		list = append(list, m)
	}
	return list, active, suppressed
}

// declaredIDs returns the IDs of the packages read from a lockfile rather
// than from installed files, so that writers can tell the two copies of a
// package apart.
func declaredIDs(r *report.Report) map[string]bool {
	ids := map[string]bool{}
	for i := range r.Packages {
		if r.Packages[i].Declared {
			ids[r.Packages[i].ID] = true
		}
	}
	return ids
}

// lockfileSuffix marks a declared package's name in the table and Markdown.
const lockfileSuffix = " (lockfile)"

// statusText describes a finding's status, with the reason it is suppressed.
func statusText(f *finding.Finding) string {
	for _, a := range f.Annotations {
		if a.Kind == vocab.AnnotationVEX && a.Status != "" {
			return "vex:" + a.Status
		}
	}
	if f.Suppressed() {
		return "suppressed"
	}
	return f.Status
}

// severityOf normalises an empty severity to UNKNOWN.
func severityOf(s string) string {
	if s == "" {
		return vocab.SevUnknown
	}
	return strings.ToUpper(s)
}

// maxCVSS returns the highest CVSS score of a finding, or 0.
func maxCVSS(f *finding.Finding) float64 {
	best := 0.0
	for _, c := range f.CVSS {
		best = max(best, c.Score)
	}
	return best
}

// primaryURL is the first web (http or https) reference of a finding, or a
// well-known page for its ID: the one link every format gives. A reference
// of another scheme (javascript:, data:, file:) is never a link.
func primaryURL(f *finding.Finding) string {
	for _, ref := range f.References {
		if u, ok := webURL(ref); ok {
			return u
		}
	}
	return idURL(f.ID)
}

// webURL returns s, normalised, if it is an absolute http or https URL.
func webURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

func idURL(id string) string {
	esc := url.PathEscape(id)
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "https://nvd.nist.gov/vuln/detail/" + esc
	case strings.HasPrefix(id, "GHSA-"):
		return "https://github.com/advisories/" + esc
	case strings.HasPrefix(id, "GO-"):
		return "https://pkg.go.dev/vuln/" + esc
	}
	return "https://osv.dev/vulnerability/" + esc
}

func getenv(opt Options) func(string) string {
	if opt.Getenv != nil {
		return opt.Getenv
	}
	return os.Getenv
}

// errWriter remembers the first write error so that writers can print
// freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
