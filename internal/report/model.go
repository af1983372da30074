// Package report holds drydock's result model (the documented JSON schema)
// and the writers that encode it: table, JSON, SARIF, CycloneDX, SPDX, HTML…
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/fix"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report/compliance"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// SchemaVersion of the JSON report. Bump on incompatible changes.
const SchemaVersion = 1

// Report is the full result of one scan. It serialises losslessly: a saved
// report can be re-evaluated by policy or re-matched later.
type Report struct {
	SchemaVersion int                 `json:"schema_version"`
	Tool          Tool                `json:"tool"`
	CreatedAt     time.Time           `json:"created_at"`
	Image         Image               `json:"image"`
	Distro        *inventory.Distro   `json:"distro,omitempty"`
	Packages      []inventory.Package `json:"packages"`
	Malware       []Malware           `json:"malware,omitempty"` // listed first by every writer
	Findings      []finding.Finding   `json:"findings"`
	Secrets       []Secret            `json:"secrets,omitempty"`
	Misconfigs    []Misconfig         `json:"misconfigurations,omitempty"`
	// Licenses are the licence findings (scanner "license").
	Licenses []License `json:"licenses,omitempty"`
	Summary  Summary   `json:"summary"`
	Verdict  *Verdict  `json:"verdict,omitempty"`
	Database *Database `json:"database,omitempty"`
	// Coverage says, per advisory ecosystem, whether the database could
	// cover what the scan found; entries that are not "complete" are gaps.
	Coverage []Coverage `json:"coverage,omitempty"`
	// BaseImage is the base image found, when a base-image index was given.
	BaseImage *result.BaseImage `json:"base_image,omitempty"`
	Notes     []inventory.Note  `json:"notes,omitempty"`
	// Scanners that ran: "vuln", "secret", "misconfig", "malware"; "sbom"
	// for inventory only.
	Scanners []string `json:"scanners,omitempty"`
	// Compliance is the compliance report asked for with --compliance: each
	// control of the spec with PASS, FAIL or MANUAL (package compliance).
	Compliance *compliance.Report `json:"compliance,omitempty"`
	// SupplyChain is what the verify stage found about the scanned
	// digest's signatures, attestations and provenance (--verify); nil
	// when it did not run.
	SupplyChain *result.SupplyChain `json:"supply_chain,omitempty"`
	// Fix is the fix plan drydock fix made (internal/fix); nil otherwise.
	Fix *fix.Plan `json:"fix,omitempty"`
}

// Tool identifies the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts findings by severity (suppressed findings excluded).
type Summary struct {
	Packages   int            `json:"packages"`
	Findings   int            `json:"findings"`
	Suppressed int            `json:"suppressed,omitempty"`
	BySeverity map[string]int `json:"by_severity"`
	Secrets    int            `json:"secrets,omitempty"`
	Misconfigs int            `json:"misconfigurations,omitempty"`
	// Malware counts the malware findings no ignore entry allowed.
	Malware int `json:"malware,omitempty"`
	// Licenses counts the licence findings not suppressed or filtered.
	Licenses int `json:"licenses,omitempty"`
	// CoverageGaps counts the coverage entries that are not complete: where
	// the scan could not look, "no findings" does not mean "no
	// vulnerabilities".
	CoverageGaps int `json:"coverage_gaps,omitempty"`
	// Signature is the verify stage's answer in one word: "verified" (a
	// signature verified under the configured trust), "unverified"
	// (signatures were found, none verified), "unsigned" (none found); ""
	// when verification did not run.
	Signature string `json:"signature,omitempty"`
}

// Signature states in Summary.Signature.
const (
	SignatureVerified   = "verified"
	SignatureUnverified = "unverified"
	SignatureUnsigned   = "unsigned"
)

// SignatureState is the one-word answer of a verify result (see
// Summary.Signature); "" for nil.
func SignatureState(sc *result.SupplyChain) string {
	switch {
	case sc == nil:
		return ""
	case sc.Verified:
		return SignatureVerified
	case len(sc.Signatures) > 0:
		return SignatureUnverified
	}
	return SignatureUnsigned
}

// Summarise computes r.Summary from the findings, secrets and
// misconfigurations (suppressed and filtered ones are not counted).
func (r *Report) Summarise() {
	s := Summary{Packages: len(r.Packages), BySeverity: map[string]int{}}
	for _, sev := range vocab.Severities() {
		s.BySeverity[sev] = 0
	}
	for i := range r.Findings {
		if r.Findings[i].Suppressed() {
			s.Suppressed++
			continue
		}
		s.Findings++
		s.BySeverity[r.Findings[i].Severity]++
	}
	for i := range r.Secrets {
		if !finding.Suppressed(r.Secrets[i].Annotations) {
			s.Secrets++
		}
	}
	for i := range r.Misconfigs {
		if !finding.Suppressed(r.Misconfigs[i].Annotations) {
			s.Misconfigs++
		}
	}
	for i := range r.Licenses {
		if !finding.Suppressed(r.Licenses[i].Annotations) {
			s.Licenses++
		}
	}
	for i := range r.Malware {
		if !r.Malware[i].Allowed() {
			s.Malware++
		}
	}
	for i := range r.Coverage {
		if !r.Coverage[i].Complete() {
			s.CoverageGaps++
		}
	}
	s.Signature = SignatureState(r.SupplyChain)
	r.Summary = s
}

// The types the report shares with the stages before it.
type (
	Image       = inventory.Image
	ImageConfig = inventory.ImageConfig
	History     = inventory.History
	Secret      = finding.Secret
	Misconfig   = finding.Misconfig
	Malware     = finding.Malware
	License     = finding.License
	Verdict     = result.Verdict
	RuleResult  = result.RuleResult
	Database    = result.Database
	Coverage    = result.Coverage
)

// New builds the report of a scan, once, at the end: the result, the
// policy's verdict (nil when no policy ran: inventory-only commands) and the
// producer. Nothing is copied back: the report is never a carrier between
// stages.
func New(res *result.Result, v *result.Verdict, tool Tool, createdAt time.Time) *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool:          tool,
		CreatedAt:     createdAt.UTC().Truncate(time.Second),
		Image:         res.Image,
		Distro:        res.Distro,
		Packages:      res.Packages,
		Malware:       res.Malware,
		Findings:      res.Findings,
		Secrets:       res.Secrets,
		Misconfigs:    res.Misconfigs,
		Licenses:      res.Licenses,
		Verdict:       v,
		Database:      res.Database,
		Coverage:      res.Coverage,
		BaseImage:     res.BaseImage,
		Notes:         res.Notes,
		Scanners:      res.Scanners,
		SupplyChain:   res.SupplyChain,
	}
	if r.Packages == nil {
		r.Packages = []inventory.Package{}
	}
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	r.Summarise()
	return r
}

// Result returns the scan result a saved report holds, for evaluating a
// policy on it again or matching its packages again.
func (r *Report) Result() *result.Result {
	return &result.Result{
		Image:      r.Image,
		Distro:     r.Distro,
		Packages:   r.Packages,
		Notes:      r.Notes,
		Malware:    r.Malware,
		Findings:   r.Findings,
		Secrets:    r.Secrets,
		Misconfigs: r.Misconfigs,
		Licenses:   r.Licenses,
		Scanners:   r.Scanners,
		Database:   r.Database,
		Coverage:   r.Coverage,
		BaseImage:  r.BaseImage,
		// A saved report's supply-chain section is kept, so that a policy
		// evaluated again on it (drydock policy test) sees the same
		// signatures and provenance, and --require-signature's gate holds.
		SupplyChain: r.SupplyChain,
	}
}

// ReadJSON decodes a saved JSON report. A report of another schema version
// is refused rather than misread.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("decoding report: %w", err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("decoding report: schema_version %d, want %d", r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}
