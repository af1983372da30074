// Package finding holds the vulnerability finding model that matching
// produces and every later stage reads: enrichers add annotations to it,
// policy decides on it, the report encodes it.
//
// It imports only the shared vocabulary, so that policy, the writers and the
// server need not import the matcher (and through it the database).
package finding

import (
	"encoding/json"
	"time"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// PackageRef identifies the matched package inside the inventory.
type PackageRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	Ecosystem   string `json:"ecosystem"`
	PURL        string `json:"purl,omitempty"`
	SourceName  string `json:"source_name,omitempty"`
	Path        string `json:"path,omitempty"`
	LayerIndex  int    `json:"layer_index"`
	LayerDiffID string `json:"layer_diff_id,omitempty"`
	Owner       string `json:"owner,omitempty"`
}

// CVSS is one CVSS assessment.
type CVSS struct {
	Version string  `json:"version"` // "3.1", "4.0", "2.0"
	Vector  string  `json:"vector"`
	Score   float64 `json:"score"`
	Source  string  `json:"source"` // "osv", "nvd"
}

// Evidence records why a package matched an advisory.
type Evidence struct {
	Advisory       string    `json:"advisory"`        // the advisory record's ID
	Ecosystem      string    `json:"ecosystem"`       // advisory ecosystem, e.g. "Alpine:v3.16"
	MatchedName    string    `json:"matched_name"`    // the name looked up (source/origin or binary)
	MatchedBy      string    `json:"matched_by"`      // "source-package", "binary-package", "name"
	Range          string    `json:"range,omitempty"` // e.g. ">=0, <1.35.0-r18"
	Comparator     string    `json:"comparator"`      // "apk", "rpm", …
	DataSource     string    `json:"data_source"`     // e.g. "osv/AlmaLinux", "alpine-secdb/v3.16/main"
	DataSourceDate time.Time `json:"data_source_date,omitempty"`
	// EcosystemSpecific is the advisory's affected[].ecosystem_specific
	// verbatim (for Go: the vulnerable packages and symbols), kept for
	// enrichers such as reachability. Not part of the JSON report.
	EcosystemSpecific json.RawMessage `json:"-"`
}

// Annotation is added by a stage after matching (an enricher, VEX, ignore
// rules, the severity filter) without rewriting the finding. Kind is one of
// the vocab.Annotation* words.
type Annotation struct {
	Kind    string `json:"kind"`             // vocab.Annotation*: "suppressed", "vex", "kev", "reachability"…
	Source  string `json:"source,omitempty"` // file, rule or enricher that produced it
	Status  string `json:"status,omitempty"` // e.g. VEX "not_affected"
	Reason  string `json:"reason,omitempty"`
	Expires string `json:"expires,omitempty"`
}

// Finding is one vulnerability in one package. Aliases of the same flaw (a CVE
// and its GHSA) are one finding.
type Finding struct {
	// ID is what users see first: the advisory ID, or its CVE alias for
	// sources that publish per-CVE (Alpine secdb).
	ID               string       `json:"id"`
	Aliases          []string     `json:"aliases,omitempty"`
	Package          PackageRef   `json:"package"`
	InstalledVersion string       `json:"installed_version"`
	FixedVersion     string       `json:"fixed_version,omitempty"`
	Status           string       `json:"status"`
	Severity         string       `json:"severity"`
	SeveritySource   string       `json:"severity_source"` // "vendor", "osv-cvss", "nvd", "none"
	VendorSeverity   string       `json:"vendor_severity,omitempty"`
	CVSS             []CVSS       `json:"cvss,omitempty"`
	KEV              bool         `json:"kev,omitempty"`
	Title            string       `json:"title,omitempty"`
	Description      string       `json:"description,omitempty"`
	References       []string     `json:"references,omitempty"`
	Published        time.Time    `json:"published,omitempty"`
	Modified         time.Time    `json:"modified,omitempty"`
	Evidence         []Evidence   `json:"evidence"`
	Annotations      []Annotation `json:"annotations,omitempty"`
}

// Suppressed reports whether a later stage suppressed the finding (ignore
// rule, VEX, --ignore-unfixed) or filtered it out (--severity). Such findings
// stay in the JSON with their annotations but do not count.
func (f *Finding) Suppressed() bool { return Suppressed(f.Annotations) }

// Suppressed reports whether annotations take their subject (a finding, a
// secret, a misconfiguration) out of the count.
func Suppressed(as []Annotation) bool {
	for _, a := range as {
		if a.Kind == vocab.AnnotationSuppressed || a.Kind == vocab.AnnotationFiltered {
			return true
		}
	}
	return false
}

// AllIDs returns the ID and aliases.
func (f *Finding) AllIDs() []string {
	return append([]string{f.ID}, f.Aliases...)
}

// Key is the stable key of a finding used by policy targets and SARIF
// fingerprints: "<id>@<package id>".
func (f *Finding) Key() string {
	return f.ID + "@" + f.Package.ID
}
