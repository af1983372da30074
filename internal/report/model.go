// Package report holds drydock's result model (the documented JSON schema)
// and the writers that encode it: table, JSON, SARIF, CycloneDX, SPDX, HTML…
package report

import (
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
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
	Findings      []finding.Finding   `json:"findings"`
	Secrets       []Secret            `json:"secrets,omitempty"`
	Misconfigs    []Misconfig         `json:"misconfigurations,omitempty"`
	Summary       Summary             `json:"summary"`
	Verdict       *Verdict            `json:"verdict,omitempty"`
	Database      *Database           `json:"database,omitempty"`
	Notes         []inventory.Note    `json:"notes,omitempty"`
	// Scanners that ran: "vuln", "secret", "misconfig"; "sbom" for inventory only.
	Scanners []string `json:"scanners,omitempty"`
}

// Tool identifies the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Image is what the source stage learned about the image.
type Image struct {
	Reference    string            `json:"reference"`
	Kind         string            `json:"kind"` // registry, docker-archive, oci-layout, oci-archive, dir, sbom
	Name         string            `json:"name,omitempty"`
	Digest       string            `json:"digest,omitempty"` // manifest digest
	ConfigDigest string            `json:"config_digest,omitempty"`
	RepoTags     []string          `json:"repo_tags,omitempty"`
	RepoDigests  []string          `json:"repo_digests,omitempty"`
	OS           string            `json:"os,omitempty"`
	Arch         string            `json:"architecture,omitempty"`
	Variant      string            `json:"variant,omitempty"`
	Created      time.Time         `json:"created,omitempty"`
	Config       ImageConfig       `json:"config"`
	Layers       []inventory.Layer `json:"layers"`
	History      []History         `json:"history,omitempty"`
}

// ImageConfig is the runtime configuration of the image.
type ImageConfig struct {
	User         string            `json:"user,omitempty"`
	Env          []string          `json:"env,omitempty"` // values of secret-looking names are redacted
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	WorkingDir   string            `json:"working_dir,omitempty"`
	ExposedPorts []string          `json:"exposed_ports,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Healthcheck  []string          `json:"healthcheck,omitempty"`
}

// History is one entry of the image history (one Dockerfile step).
type History struct {
	Created    time.Time `json:"created,omitempty"`
	CreatedBy  string    `json:"created_by,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	EmptyLayer bool      `json:"empty_layer,omitempty"`
	// LayerIndex is the layer this step produced, or -1 for empty layers.
	LayerIndex int `json:"layer_index"`
}

// Secret is a secret found in a file of a layer or in the image config.
type Secret struct {
	RuleID   string `json:"rule_id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Category string `json:"category,omitempty"`
	// Where: "file", "config-env", "config-label", "history".
	Source string `json:"source"`
	Path   string `json:"path,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Match is the redacted evidence: never the whole secret.
	Match       string `json:"match"`
	LayerIndex  int    `json:"layer_index"`
	LayerDiffID string `json:"layer_diff_id,omitempty"`
	CreatedBy   string `json:"created_by,omitempty"`
	// DeletedInLayer is set when a later layer removes or overwrites the file:
	// the secret is still readable by anyone who pulls the image.
	DeletedInLayer *int                 `json:"deleted_in_layer,omitempty"`
	Annotations    []finding.Annotation `json:"annotations,omitempty"`
}

// Misconfig is a failed image configuration check.
type Misconfig struct {
	ID          string               `json:"id"` // e.g. "DD-IMG-001"
	Title       string               `json:"title"`
	Severity    string               `json:"severity"`
	CIS         string               `json:"cis,omitempty"` // CIS Docker Benchmark reference, e.g. "4.1"
	Description string               `json:"description,omitempty"`
	Evidence    []string             `json:"evidence,omitempty"`
	Fix         string               `json:"fix,omitempty"`
	Annotations []finding.Annotation `json:"annotations,omitempty"`
}

// Summary counts findings by severity (suppressed findings excluded).
type Summary struct {
	Packages   int            `json:"packages"`
	Findings   int            `json:"findings"`
	Suppressed int            `json:"suppressed,omitempty"`
	BySeverity map[string]int `json:"by_severity"`
	Secrets    int            `json:"secrets,omitempty"`
	Misconfigs int            `json:"misconfigurations,omitempty"`
}

// Verdict is the policy stage's decision.
type Verdict struct {
	Pass     bool         `json:"pass"`
	ExitCode int          `json:"exit_code"`
	Failures []RuleResult `json:"failures,omitempty"`
	Warnings []RuleResult `json:"warnings,omitempty"`
	// Expired lists ignore rules or policy rules whose expiry has passed.
	Expired []string `json:"expired,omitempty"`
}

// RuleResult is one rule that fired.
type RuleResult struct {
	RuleID  string `json:"rule_id"`
	Action  string `json:"action"` // "deny", "warn"
	Message string `json:"message"`
	// Targets are the finding IDs ("<vuln id>@<package id>"), package IDs,
	// secret/misconfig IDs or "image" that the rule fired on.
	Targets []string `json:"targets,omitempty"`
}

// Database describes the advisory database used.
type Database struct {
	Path    string    `json:"path,omitempty"`
	BuiltAt time.Time `json:"built_at"`
	Sources []string  `json:"sources,omitempty"`
}

// Summarise recomputes r.Summary from the findings.
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
	s.Secrets = len(r.Secrets)
	s.Misconfigs = len(r.Misconfigs)
	r.Summary = s
}

// FindingKey is the stable key of a finding used by policy targets and SARIF
// fingerprints: "<id>@<package id>".
func FindingKey(f *finding.Finding) string {
	return f.ID + "@" + f.Package.ID
}
