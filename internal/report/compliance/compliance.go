// Package compliance turns a scan's results into a compliance report: each
// control of a spec (the CIS Docker Benchmark's image section, NIST SP
// 800-53, PCI DSS) with PASS, FAIL or MANUAL and the results behind it.
//
// A spec is data (embedded YAML under specs/, or a file the user names):
// each control lists the drydock checks that bear on it. A control FAILs
// when any of its checks failed; it is MANUAL when drydock cannot decide it
// (no check, a scanner that did not run, incomplete advisory coverage, or a
// control that needs a person's judgement even when nothing failed). A
// control is never PASS without a check that ran and passed.
//
// The mapping and its sources are documented in docs/compliance.md.
package compliance

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Statuses of a control and of a check.
const (
	Pass   = "PASS"
	Fail   = "FAIL"
	Manual = "MANUAL"
)

// maxItems results are named per check; the rest are counted.
const maxItems = 20

//go:embed specs/*.yaml
var specFS embed.FS

// Spec is a compliance spec: the controls and the checks that decide them.
type Spec struct {
	ID      string   `yaml:"id"`
	Aliases []string `yaml:"aliases"`
	Title   string   `yaml:"title"`
	Version string   `yaml:"version"`
	Sources []string `yaml:"sources"`
	// Controls in the order the report lists them.
	Controls []Control `yaml:"controls"`
}

// Control is one control or requirement of a spec.
type Control struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	Severity string `yaml:"severity"`
	// Checks are drydock's checks that bear on the control (see Check).
	Checks []string `yaml:"checks"`
	// Manual, when set, says why a person must decide the control even
	// when none of its checks failed: the control is then MANUAL, not PASS.
	Manual string `yaml:"manual"`
	// Scope says what the control asks beyond the image (reported as is).
	Scope string `yaml:"scope"`
}

// The check words a spec may use:
//
//	misconfig:<ID>            the misconfiguration check <ID> (DD-IMG-…) failed
//	vuln:<SEV>[,<SEV>…]       a vulnerability of these severities
//	vuln-fixable:<SEV>[,…]    one of these severities that has a fixed version
//	secret                    a secret in a layer, the configuration or the history
//	malware                   a malicious package or a known-bad file
//	coverage                  the advisory database could not cover every package (MANUAL, never PASS)
//	db-age                    the advisory database is older than Options.DBMaxAge
//	inventory                 the inventory is incomplete (files or package databases not read whole: MANUAL)
//
// Suppressed, filtered and allowed results do not count, as in the summary.
func checkKind(c string) (kind, arg string) {
	kind, arg, _ = strings.Cut(c, ":")
	return kind, arg
}

// Names lists the built-in specs' IDs.
func Names() []string {
	entries, _ := specFS.ReadDir("specs")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return out
}

// Load returns the built-in spec with this ID or alias, or with "@PATH" the
// spec in that file (Trivy's spelling for a custom spec).
func Load(name string) (*Spec, error) {
	if path, ok := strings.CutPrefix(name, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading compliance spec: %w", err)
		}
		return Parse(b)
	}
	for _, id := range Names() {
		b, err := specFS.ReadFile("specs/" + id + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("reading built-in compliance spec %s: %w", id, err)
		}
		s, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("built-in compliance spec %s: %w", id, err)
		}
		if s.ID == name || slices.Contains(s.Aliases, name) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown compliance spec %q (want one of %s, or @FILE)", name, strings.Join(Names(), ", "))
}

// Parse decodes and validates a spec: unknown keys, unknown check words and
// controls without an ID are refused, so a typo cannot turn a check off.
func Parse(b []byte) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding compliance spec: %w", err)
	}
	if s.ID == "" || len(s.Controls) == 0 {
		return nil, fmt.Errorf("compliance spec needs an id and controls")
	}
	seen := map[string]bool{}
	for _, c := range s.Controls {
		if c.ID == "" || c.Name == "" {
			return nil, fmt.Errorf("compliance spec %s: a control needs an id and a name", s.ID)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("compliance spec %s: control %s listed twice", s.ID, c.ID)
		}
		seen[c.ID] = true
		if c.Severity != "" && !slices.Contains(vocab.Severities(), c.Severity) {
			return nil, fmt.Errorf("compliance spec %s: control %s: unknown severity %q", s.ID, c.ID, c.Severity)
		}
		for _, ch := range c.Checks {
			if err := validCheck(ch); err != nil {
				return nil, fmt.Errorf("compliance spec %s: control %s: %w", s.ID, c.ID, err)
			}
		}
	}
	return &s, nil
}

func validCheck(c string) error {
	kind, arg := checkKind(c)
	switch kind {
	case "misconfig":
		if arg != "" {
			return nil
		}
	case "vuln", "vuln-fixable":
		if arg == "" {
			break
		}
		for _, sev := range strings.Split(arg, ",") {
			if !slices.Contains(vocab.Severities(), sev) {
				return fmt.Errorf("check %q: unknown severity %q", c, sev)
			}
		}
		return nil
	case "secret", "malware", "coverage", "db-age", "inventory":
		if arg == "" {
			return nil
		}
	}
	return fmt.Errorf("unknown check %q (misconfig:ID, vuln:SEVERITIES, vuln-fixable:SEVERITIES, secret, malware, coverage, db-age, inventory)", c)
}

// Scanners returns the scanners the spec's checks need ("vuln", "secret",
// "misconfig", "malware"), sorted.
func (s *Spec) Scanners() []string {
	var out []string
	for _, c := range s.Controls {
		for _, ch := range c.Checks {
			sc := scannerOf(ch)
			if sc != "" && !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	slices.Sort(out)
	return out
}

func scannerOf(check string) string {
	switch kind, _ := checkKind(check); kind {
	case "misconfig":
		return "misconfig"
	case "vuln", "vuln-fixable", "coverage", "db-age":
		return "vuln"
	case "secret":
		return "secret"
	case "malware":
		return "malware"
	}
	return ""
}

// Report is a spec evaluated on one scan's results.
type Report struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Version  string          `json:"version,omitempty"`
	Controls []ControlResult `json:"controls"`
	Summary  Summary         `json:"summary"`
}

// Summary counts the controls by status.
type Summary struct {
	Pass   int `json:"pass"`
	Fail   int `json:"fail"`
	Manual int `json:"manual"`
}

// ControlResult is one control's status and the checks behind it.
type ControlResult struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Severity string `json:"severity,omitempty"`
	Status   string `json:"status"`
	// Issues counts the results that failed the control's checks.
	Issues int `json:"issues"`
	// Reason says why the control is MANUAL.
	Reason string        `json:"reason,omitempty"`
	Scope  string        `json:"scope,omitempty"`
	Checks []CheckResult `json:"checks,omitempty"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Issues int    `json:"issues"`
	// Items name the results that failed it (at most maxItems, then
	// "… and N more").
	Items  []string `json:"items,omitempty"`
	Reason string   `json:"reason,omitempty"`
}

// Options are the inputs beyond the result.
type Options struct {
	// Now is the time the database's age is measured at.
	Now time.Time
	// DBMaxAge is the oldest database db-age accepts (zero: 7 days).
	DBMaxAge time.Duration
}

// Evaluate decides every control of s on res. It reads res and changes
// nothing.
func Evaluate(s *Spec, res *result.Result, opt Options) *Report {
	if opt.DBMaxAge == 0 {
		opt.DBMaxAge = 7 * 24 * time.Hour
	}
	rep := &Report{ID: s.ID, Title: s.Title, Version: s.Version, Controls: []ControlResult{}}
	for _, c := range s.Controls {
		cr := ControlResult{ID: c.ID, Name: c.Name, Severity: c.Severity, Scope: c.Scope}
		var fail, manual bool
		var reasons []string
		for _, ch := range c.Checks {
			r := evalCheck(ch, res, opt)
			cr.Checks = append(cr.Checks, r)
			cr.Issues += r.Issues
			switch r.Status {
			case Fail:
				fail = true
			case Manual:
				manual = true
				reasons = append(reasons, ch+": "+r.Reason)
			}
		}
		if len(c.Checks) == 0 {
			manual = true
		}
		if c.Manual != "" {
			manual = true
			reasons = append([]string{c.Manual}, reasons...)
		}
		switch {
		case fail:
			cr.Status = Fail
			rep.Summary.Fail++
		case manual:
			cr.Status = Manual
			cr.Reason = strings.Join(reasons, "; ")
			if cr.Reason == "" {
				cr.Reason = "drydock has no check for this control"
			}
			rep.Summary.Manual++
		default:
			cr.Status = Pass
			rep.Summary.Pass++
		}
		rep.Controls = append(rep.Controls, cr)
	}
	return rep
}

// evalCheck decides one check.
func evalCheck(check string, res *result.Result, opt Options) CheckResult {
	out := CheckResult{Check: check}
	if sc := scannerOf(check); sc != "" && !res.HasScanner(sc) {
		out.Status = Manual
		out.Reason = fmt.Sprintf("the %s scanner did not run", sc)
		return out
	}
	kind, arg := checkKind(check)
	var items []string
	switch kind {
	case "misconfig":
		for i := range res.Misconfigs {
			m := &res.Misconfigs[i]
			if m.ID == arg && !finding.Suppressed(m.Annotations) {
				if len(m.Evidence) == 0 {
					items = append(items, m.ID+": "+m.Title)
				}
				for _, e := range m.Evidence {
					items = append(items, m.ID+": "+e)
				}
			}
		}
	case "vuln", "vuln-fixable":
		sevs := strings.Split(arg, ",")
		for i := range res.Findings {
			f := &res.Findings[i]
			if f.Suppressed() || !slices.Contains(sevs, f.Severity) || (kind == "vuln-fixable" && f.FixedVersion == "") {
				continue
			}
			item := fmt.Sprintf("%s %s %s %s", f.Severity, f.ID, f.Package.Name, f.InstalledVersion)
			if f.FixedVersion != "" {
				item += " (fixed in " + f.FixedVersion + ")"
			}
			items = append(items, item)
		}
	case "secret":
		for i := range res.Secrets {
			s := &res.Secrets[i]
			if finding.Suppressed(s.Annotations) {
				continue
			}
			where := s.Source
			if s.Path != "" {
				where = s.Path
				if s.Line > 0 {
					where += fmt.Sprintf(":%d", s.Line)
				}
			}
			items = append(items, fmt.Sprintf("%s %s in %s", s.Severity, s.RuleID, where))
		}
		// Files the layer walk could not read were not searched.
		if c, ok := coverageGap(res, imageFiles); ok && len(items) == 0 {
			out.Status = Manual
			out.Reason = "files the layer walk did not read were not searched for secrets: " + strings.Join(c.Reasons, "; ")
			return out
		}
	case "malware":
		for i := range res.Malware {
			m := &res.Malware[i]
			if !m.Allowed() {
				items = append(items, m.ID+" "+m.Where())
			}
		}
		// Files the malware checks did not read (over the size bound, or
		// not scanned by an engine that failed): nothing found is not a
		// pass.
		if c, ok := coverageGap(res, malwareChecks); ok && len(items) == 0 {
			out.Status = Manual
			out.Reason = "the malware checks did not read every file: " + strings.Join(c.Reasons, "; ")
			return out
		}
	case "coverage":
		var gaps []string
		for _, c := range res.CoverageGaps() {
			if c.Ecosystem == malwareChecks {
				continue // the malware check's, not advisory coverage
			}
			g := c.Ecosystem + " " + c.Status
			if len(c.Reasons) > 0 {
				g += " (" + c.Reasons[0] + ")"
			}
			gaps = append(gaps, g)
		}
		if len(gaps) > 0 {
			out.Status = Manual
			out.Reason = "advisory coverage is incomplete, so no findings there does not mean no vulnerabilities: " + strings.Join(gaps, ", ")
			return out
		}
		if res.Database == nil {
			out.Status = Manual
			out.Reason = "no advisory database was used"
			return out
		}
	case "db-age":
		if res.Database == nil || res.Database.BuiltAt.IsZero() {
			out.Status = Manual
			out.Reason = "the advisory database's build time is unknown"
			return out
		}
		if age := opt.Now.Sub(res.Database.BuiltAt); age > opt.DBMaxAge {
			items = append(items, fmt.Sprintf("advisory database built %s, %s before the scan (limit %s)",
				res.Database.BuiltAt.UTC().Format(time.DateOnly), roundDays(age), roundDays(opt.DBMaxAge)))
		}
	case "inventory":
		// Incomplete: a file the walker could not read, or a package
		// database not read whole (coverage "partial"). Other warnings
		// (a lockfile entry not installed) say nothing about completeness.
		var unread []string
		for _, n := range res.Notes {
			if n.Level == "warning" && n.Extractor == "walk" {
				unread = append(unread, n.Message)
			}
		}
		for _, c := range res.Coverage {
			if c.Status == vocab.CoveragePartial && c.Ecosystem != malwareChecks {
				why := c.Ecosystem + " packages not all read"
				if len(c.Reasons) > 0 {
					why = c.Ecosystem + ": " + c.Reasons[0]
				}
				unread = append(unread, why)
			}
		}
		if len(unread) > 0 {
			out.Status = Manual
			out.Reason = "the inventory may be incomplete: " + strings.Join(unread, "; ")
			return out
		}
	}
	if kind != "misconfig" { // a check's evidence keeps its own order
		slices.Sort(items)
	}
	out.Issues = len(items)
	if len(items) > maxItems {
		items = append(items[:maxItems:maxItems], fmt.Sprintf("… and %d more", len(items)-maxItems))
	}
	out.Items = items
	out.Status = Pass
	if out.Issues > 0 {
		out.Status = Fail
	}
	return out
}

// The coverage entries of the files the malware checks did not read and
// of the files the layer walk did not read (match.MalwareChecks and
// match.FilesEcosystem, which this stage may not import).
const (
	malwareChecks = "malware checks"
	imageFiles    = "image files"
)

// coverageGap returns the coverage entry named eco if it is not complete.
func coverageGap(res *result.Result, eco string) (result.Coverage, bool) {
	for _, c := range res.CoverageGaps() {
		if c.Ecosystem == eco {
			return c, true
		}
	}
	return result.Coverage{}, false
}

func roundDays(d time.Duration) string {
	days := int(d.Hours() / 24)
	if days == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}
