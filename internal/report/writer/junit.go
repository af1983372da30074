package writer

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// JUnit writes JUnit XML for CI test reports: first a "malware" suite with
// a failing case per malware finding, then one test suite per package
// with a failing test case per vulnerability (suppressed ones, VEX or ignore
// rules, as skipped cases whatever ShowSuppressed says) and a
// passing case for clean packages; suites for secrets and
// misconfigurations (suppressed or filtered ones skipped too); a "coverage"
// suite with a failing case per coverage gap; and a "policy" suite whose
// failed rules are failures; before it, when the verify stage ran, a
// "supply-chain" suite (junitSupplyChain). Control characters in the data are shown as
// escapes (printable).
//
// A coverage gap is a <failure>, not an <error>: every JUnit consumer shows
// failures, while some have dropped <error> cases (GitLab before 12.5 did,
// gitlab-org/gitlab#23992), and a gap that no one sees is what the
// coverage report is there to prevent. The case names are unique (GitLab
// keeps only the first of two cases with one name) and the reasons are in
// the element's text, which every consumer shows (GitLab long ignored the
// message attribute).
func JUnit(w io.Writer, r *report.Report, _ Options) error {
	r = printableReport(r.Normalized())
	ts := r.CreatedAt.UTC().Format("2006-01-02T15:04:05")
	out := junitSuites{Name: "drydock " + r.ImageName()}

	// Malware first: one failing case per malicious package or known-bad
	// file (skipped when an ignore entry allowed it).
	if len(r.Malware) > 0 {
		s := junitSuite{Name: "malware", Timestamp: ts}
		for i := range r.Malware {
			m := &r.Malware[i]
			c := junitCase{Name: m.ID + " " + malwareWhere(m) + " (layer " + malwareLayer(m) + ")", Classname: "malware." + m.Kind}
			if m.Allowed() {
				c.Skipped = &junitSkipped{Message: "allowed by an ignore entry"}
				s.Skipped++
			} else {
				detail := malwareTitle(m)
				if m.SHA256 != "" {
					detail += "\nSHA-256: " + m.SHA256
				}
				if len(m.Aliases) > 0 {
					detail += "\nAliases: " + strings.Join(m.Aliases, ", ")
				}
				detail += "\nFound by: " + m.Engine
				if m.Source != "" {
					detail += " (" + m.Source + ")"
				}
				c.Failure = &junitFailure{Message: "malware: " + m.ID + " in " + malwareWhere(m), Type: finding.MalwareSeverity, Text: detail}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}

	byPkg := map[string][]finding.Finding{}
	for _, f := range r.Findings {
		byPkg[f.Package.ID] = append(byPkg[f.Package.ID], f)
	}
	for i := range r.Packages {
		p := &r.Packages[i]
		class := p.Ecosystem + "." + p.Name
		s := junitSuite{
			Name:      fmt.Sprintf("%s %s (%s)", p.Name, p.Version, p.Ecosystem),
			Timestamp: ts,
		}
		if path := p.PrimaryPath(); path != "" {
			s.Properties = append(s.Properties, junitProperty{"path", path})
		}
		if p.PURL != "" {
			s.Properties = append(s.Properties, junitProperty{"purl", p.PURL})
		}
		fs := byPkg[p.ID]
		for _, f := range fs {
			c := junitCase{Name: f.ID, Classname: class}
			if f.Suppressed() {
				c.Skipped = &junitSkipped{Message: statusText(&f)}
				s.Skipped++
			} else {
				c.Failure = &junitFailure{
					Message: findingSummary(&f),
					Type:    severityOf(f.Severity),
					Text:    findingDetail(&f),
				}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		if len(fs) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: "no known vulnerabilities", Classname: class})
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}

	if len(r.Secrets) > 0 {
		s := junitSuite{Name: "secrets", Timestamp: ts}
		for _, x := range r.Secrets {
			c := junitCase{Name: x.RuleID + " " + secretWhere(&x), Classname: "secrets." + x.RuleID}
			if st := suppressionStatus(x.Annotations); st != "" {
				c.Skipped = &junitSkipped{Message: st}
				s.Skipped++
			} else {
				c.Failure = &junitFailure{Message: x.Title, Type: severityOf(x.Severity), Text: "Match: " + x.Match}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}
	if len(r.Misconfigs) > 0 {
		s := junitSuite{Name: "misconfigurations", Timestamp: ts}
		for _, m := range r.Misconfigs {
			detail := m.Description
			if len(m.Evidence) > 0 {
				detail += "\nEvidence: " + strings.Join(m.Evidence, "; ")
			}
			if m.Fix != "" {
				detail += "\nFix: " + m.Fix
			}
			c := junitCase{Name: m.ID + " " + m.Title, Classname: "misconfigurations." + m.ID}
			if st := suppressionStatus(m.Annotations); st != "" {
				c.Skipped = &junitSkipped{Message: st}
				s.Skipped++
			} else {
				c.Failure = &junitFailure{Message: m.Title, Type: severityOf(m.Severity), Text: strings.TrimSpace(detail)}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}
	if gaps := coverageGaps(r); len(gaps) > 0 {
		s := junitSuite{Name: "coverage", Timestamp: ts}
		for i := range gaps {
			c := &gaps[i]
			s.Cases = append(s.Cases, junitCase{
				Name: "coverage " + c.Ecosystem, Classname: "coverage",
				Failure: &junitFailure{
					Message: "advisory coverage of " + c.Ecosystem + " is incomplete: " + gapFacts(c),
					Type:    c.Status,
					Text:    strings.Join(gapReasons(c), "\n") + "\n" + gapHint,
				},
			})
			s.Failures++
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}
	if s, ok := junitSupplyChain(r, ts); ok {
		out.Suites = append(out.Suites, s)
	}
	if v := r.Verdict; v != nil {
		s := junitSuite{Name: "policy", Timestamp: ts}
		for _, f := range v.Failures {
			s.Cases = append(s.Cases, junitCase{
				Name: f.RuleID, Classname: "policy." + f.RuleID,
				Failure: &junitFailure{Message: f.Message, Type: f.Action, Text: strings.Join(f.Targets, "\n")},
			})
			s.Failures++
		}
		if v.Pass {
			s.Cases = append(s.Cases, junitCase{Name: "policy passed", Classname: "policy"})
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
	}

	ew := &errWriter{w: w}
	ew.printf("%s", xml.Header)
	enc := xml.NewEncoder(ew)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	ew.printf("\n")
	return wrapErr("JUnit", ew.err)
}

func findingSummary(f *finding.Finding) string {
	s := fmt.Sprintf("%s %s in %s %s", severityOf(f.Severity), f.ID, f.Package.Name, f.InstalledVersion)
	if f.FixedVersion != "" {
		s += ", fixed in " + f.FixedVersion
	}
	if f.KEV {
		s += " (known exploited)"
	}
	return s
}

func findingDetail(f *finding.Finding) string {
	var b strings.Builder
	if f.Title != "" {
		b.WriteString(f.Title + "\n")
	}
	if f.Description != "" {
		b.WriteString(f.Description + "\n")
	}
	if len(f.Aliases) > 0 {
		b.WriteString("Aliases: " + strings.Join(f.Aliases, ", ") + "\n")
	}
	if f.Package.Path != "" {
		b.WriteString("Path: " + f.Package.Path + "\n")
	}
	b.WriteString("Link: " + primaryURL(f))
	return b.String()
}
