package writer

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/sbom"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// GitLab's container-scanning report (gl-container-scanning-report.json),
// schema version 15.1.0: the version in shared/data/specs/gitlab, which the
// tests validate against.
const (
	GitLabSchemaVersion = "15.1.0"
	gitlabSchemaURL     = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.1.0/dist/container-scanning-report-format.json"
)

type glReport struct {
	Version         string            `json:"version"`
	Schema          string            `json:"schema"`
	Scan            glScan            `json:"scan"`
	Vulnerabilities []glVulnerability `json:"vulnerabilities"`
	Remediations    []struct{}        `json:"remediations"`
}

type glScan struct {
	Analyzer  glTool      `json:"analyzer"`
	Scanner   glTool      `json:"scanner"`
	Type      string      `json:"type"`
	StartTime string      `json:"start_time"`
	EndTime   string      `json:"end_time"`
	Status    string      `json:"status"`
	Messages  []glMessage `json:"messages,omitempty"`
}

type glTool struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	URL     string   `json:"url,omitempty"`
	Version string   `json:"version"`
	Vendor  glVendor `json:"vendor"`
}

type glVendor struct {
	Name string `json:"name"`
}

type glMessage struct {
	Level string `json:"level"`
	Value string `json:"value"`
}

type glVulnerability struct {
	ID          string         `json:"id"`
	Name        string         `json:"name,omitempty"`
	Description string         `json:"description,omitempty"`
	Severity    string         `json:"severity"`
	Solution    string         `json:"solution,omitempty"`
	Identifiers []glIdentifier `json:"identifiers"`
	CVSSVectors []glCVSS       `json:"cvss_vectors,omitempty"`
	Links       []glLink       `json:"links,omitempty"`
	Location    glLocation     `json:"location"`
}

type glIdentifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	URL   string `json:"url,omitempty"`
}

type glCVSS struct {
	Vendor string `json:"vendor"`
	Vector string `json:"vector"`
}

type glLink struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
}

type glLocation struct {
	Dependency      glDependency `json:"dependency"`
	OperatingSystem string       `json:"operating_system"`
	Image           string       `json:"image"`
}

type glDependency struct {
	Package glPackage `json:"package"`
	Version string    `json:"version"`
}

type glPackage struct {
	Name string `json:"name"`
}

// The CVSS vectors the schema takes: v2, and v3.0/3.1 with their prefix
// (a CVSS 4.0 vector does not fit it, and is left out).
var (
	glCVSS2   = regexp.MustCompile(`^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$`)
	glCVSS3   = regexp.MustCompile(`^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$`)
	glLinkURL = regexp.MustCompile(`^(https?|ftp)://.+`)
)

// gitlabNamespace seeds the name-based UUIDs of the report's entries: the
// same finding in the same image gets the same id in every pipeline.
var gitlabNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte(sbom.InformationURI+"#gitlab"))

// GitLab writes GitLab's container-scanning report
// (gl-container-scanning-report.json, schema 15.1.0), which GitLab reads
// from a job's artifacts:reports:container_scanning: one entry per
// vulnerability that counts (the suppressed ones too with ShowSuppressed),
// and per malware finding (malware is not a vulnerability, but the format
// has nothing else, and it must not vanish from the pipeline's view).
// Secrets, misconfigurations, licence findings and coverage gaps have no
// place in the format: scan.messages says how many there are, so that the
// report never reads cleaner than the scan; it also carries the
// supply-chain answer (verified or not, and the verify stage's problems).
func GitLab(w io.Writer, r *report.Report, opt Options) error {
	r = r.Normalized()
	tool := glTool{ID: "drydock", Name: "drydock", URL: sbom.InformationURI, Version: r.Tool.Version, Vendor: glVendor{Name: "drydock"}}
	if r.Tool.Name != "" {
		tool.ID, tool.Name, tool.Vendor.Name = r.Tool.Name, r.Tool.Name, r.Tool.Name
	}
	if tool.Version == "" {
		tool.Version = "unknown"
	}
	started := opt.ScanStarted
	if started.IsZero() || started.After(r.CreatedAt) {
		started = r.CreatedAt
	}
	doc := glReport{
		Version: GitLabSchemaVersion,
		Schema:  gitlabSchemaURL,
		Scan: glScan{Analyzer: tool, Scanner: tool, Type: "container_scanning",
			StartTime: glTime(started), EndTime: glTime(r.CreatedAt), Status: "success"},
		Vulnerabilities: []glVulnerability{},
		Remediations:    []struct{}{},
	}
	image := r.ImageName()
	if image == "" {
		image = "unknown"
	}
	osName := "unknown"
	if r.Distro != nil {
		if s := strings.TrimSpace(r.Distro.ID + " " + r.Distro.VersionID); s != "" {
			osName = s
		}
	}
	loc := func(name, version string) glLocation {
		return glLocation{Dependency: glDependency{Package: glPackage{Name: name}, Version: version}, OperatingSystem: osName, Image: image}
	}

	malware, _, _ := visibleMalware(r, opt)
	for i := range malware {
		m := &malware[i]
		v := glVulnerability{
			ID:          glID(image, "malware", m.Key()),
			Name:        glCut(malwareTitle(m), 255),
			Description: glCut(m.Description, 1<<20),
			Severity:    "Critical",
			Solution:    "Remove it from the image: malware is never a risk to accept by severity (docs/malware.md).",
			Identifiers: []glIdentifier{{Type: "malware", Name: m.ID, Value: m.ID}},
			Links:       glLinks(m.References),
		}
		for _, a := range m.Aliases {
			v.Identifiers = append(v.Identifiers, glIdentifierOf(a))
		}
		if m.Package != nil {
			v.Location = loc(m.Package.Name, m.Package.Version)
		} else {
			v.Location = loc(m.Path, "")
		}
		doc.Vulnerabilities = append(doc.Vulnerabilities, v)
	}

	for _, f := range visible(r, opt) {
		v := glVulnerability{
			ID:          glID(image, "finding", f.Key()),
			Name:        glCut(glName(&f), 255),
			Description: glCut(f.Description, 1<<20),
			Severity:    glSeverity(f.Severity),
			Identifiers: []glIdentifier{glIdentifierOf(f.ID)},
			Links:       glLinks(f.References),
			Location:    loc(f.Package.Name, f.InstalledVersion),
		}
		for _, a := range f.Aliases {
			v.Identifiers = append(v.Identifiers, glIdentifierOf(a))
		}
		if f.FixedVersion != "" {
			v.Solution = glCut(fmt.Sprintf("Upgrade %s to %s or later.", f.Package.Name, f.FixedVersion), 7000)
		}
		for _, c := range f.CVSS {
			if (glCVSS2.MatchString(c.Vector) && len(c.Vector) >= 16 || glCVSS3.MatchString(c.Vector) && len(c.Vector) >= 32) &&
				len(c.Vector) <= 128 && len(v.CVSSVectors) < 10 {
				vendor := c.Source
				if vendor == "" {
					vendor = "unknown"
				}
				v.CVSSVectors = append(v.CVSSVectors, glCVSS{Vendor: vendor, Vector: c.Vector})
			}
		}
		doc.Vulnerabilities = append(doc.Vulnerabilities, v)
	}

	_, secrets, _ := visibleSecrets(r, opt)
	_, misconfigs, _ := visibleMisconfigs(r, opt)
	if secrets > 0 || misconfigs > 0 {
		doc.Scan.Messages = append(doc.Scan.Messages, glMessage{Level: "warn", Value: fmt.Sprintf(
			"%s and %s found are not in this format (it holds vulnerabilities only): see drydock's JSON, SARIF or table report",
			plural(secrets, "secret"), plural(misconfigs, "misconfiguration"))})
	}
	if _, licences, _ := visibleLicenses(r, opt); licences > 0 {
		doc.Scan.Messages = append(doc.Scan.Messages, glMessage{Level: "warn", Value: fmt.Sprintf(
			"%s found, not in this format (a licence is not a vulnerability): see drydock's JSON, SARIF or table report, or publish a CycloneDX SBOM as artifacts:reports:cyclonedx (docs/licenses.md)",
			plural(licences, "licence finding"))})
	}
	for _, c := range coverageGaps(r) {
		doc.Scan.Messages = append(doc.Scan.Messages, glMessage{Level: "warn", Value: fmt.Sprintf(
			"incomplete advisory coverage, findings may be missing: %s (%s): %s", c.Ecosystem, gapFacts(&c), gapReason(&c))})
	}

	doc.Scan.Messages = append(doc.Scan.Messages, gitlabSupplyChain(r)...)

	err := writeJSONDoc(w, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(doc)
	})
	if err != nil {
		return fmt.Errorf("writing GitLab container-scanning report: %w", err)
	}
	return nil
}

// glTime is the schema's time format: seconds, no zone (UTC).
func glTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// glID is a name-based UUID of one entry of one image.
func glID(image, kind, key string) string {
	return uuid.NewSHA1(gitlabNamespace, []byte(image+"\x00"+kind+"\x00"+key)).String()
}

func glName(f *finding.Finding) string {
	if f.Title != "" {
		return f.Title
	}
	return f.ID + " in " + f.Package.Name
}

// glSeverity maps drydock's severities to GitLab's words.
func glSeverity(s string) string {
	switch severityOf(s) {
	case vocab.SevCritical:
		return "Critical"
	case vocab.SevHigh:
		return "High"
	case vocab.SevMedium:
		return "Medium"
	case vocab.SevLow:
		return "Low"
	case vocab.SevNegligible:
		return "Info"
	}
	return "Unknown"
}

// glIdentifierOf types an advisory ID by its prefix, with its page.
func glIdentifierOf(id string) glIdentifier {
	typ := "osv"
	switch {
	case strings.HasPrefix(id, "CVE-"):
		typ = "cve"
	case strings.HasPrefix(id, "GHSA-"):
		typ = "ghsa"
	case strings.HasPrefix(id, "GO-"):
		typ = "go"
	case strings.HasPrefix(id, "MAL-"):
		typ = "malware"
	case strings.HasPrefix(id, "sha256:"):
		return glIdentifier{Type: "sha256", Name: id, Value: id}
	}
	return glIdentifier{Type: typ, Name: id, Value: id, URL: idURL(id)}
}

// glLinks are the http(s) and ftp references, as the schema wants them.
func glLinks(refs []string) []glLink {
	var out []glLink
	for _, ref := range refs {
		if u, ok := webURL(ref); ok && glLinkURL.MatchString(u) {
			out = append(out, glLink{URL: u})
		}
	}
	return out
}

// glCut shortens s to at most n bytes, on a character boundary.
func glCut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
