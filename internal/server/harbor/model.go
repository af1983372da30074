package harbor

import (
	"encoding/json"
	"time"
)

// The media types of the Harbor pluggable scanner API v1.2
// (https://github.com/goharbor/pluggable-scanner-spec).
const (
	// MetadataMIME is the metadata response (v1.1 and the older 1.0
	// answered with the same body).
	MetadataMIME   = "application/vnd.scanner.adapter.metadata+json; version=1.1"
	metadataMIME10 = "application/vnd.scanner.adapter.metadata+json; version=1.0"
	// ScanRequestMIME is the scan request (v1.0 requests are accepted too).
	ScanRequestMIME = "application/vnd.scanner.adapter.scan.request+json; version=1.1"
	// ScanResponseMIME is the 202 answer to a scan request.
	ScanResponseMIME = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
	// ErrorMIME is every error response.
	ErrorMIME = "application/vnd.scanner.adapter.error+json; version=1.0"

	// VulnReportMIME is Harbor's vulnerability report, version 1.1.
	VulnReportMIME = "application/vnd.security.vulnerability.report; version=1.1"
	// VulnReportMIME10 is the same report under its v1.0 name, the default
	// when a report request has no Accept header.
	VulnReportMIME10 = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
	// RawReportMIME is the scanner's own report: drydock's JSON report.
	RawReportMIME = "application/vnd.scanner.adapter.vuln.report.raw"
	// SBOMReportMIME is Harbor's SBOM report: an SPDX or CycloneDX document
	// wrapped with the artifact and the scanner.
	SBOMReportMIME = "application/vnd.security.sbom.report+json; version=1.0"

	// SPDXMIME and CycloneDXMIME are the SBOM formats (sbom_media_type).
	SPDXMIME      = "application/spdx+json"
	CycloneDXMIME = "application/vnd.cyclonedx+json"

	// OCIManifestMIME and DockerManifestMIME are the artifacts scanned.
	OCIManifestMIME    = "application/vnd.oci.image.manifest.v1+json"
	DockerManifestMIME = "application/vnd.docker.distribution.manifest.v2+json"
)

// Capability types.
const (
	CapabilityVulnerability = "vulnerability"
	CapabilitySBOM          = "sbom"
)

// Properties of the metadata.
const (
	PropScannerType = "harbor.scanner-adapter/scanner-type"
	PropDBUpdatedAt = "harbor.scanner-adapter/vulnerability-database-updated-at"
)

// Scanner is the spec's Scanner.
type Scanner struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
}

// Capability is the spec's ScannerCapability.
type Capability struct {
	Type                 string         `json:"type,omitempty"`
	ConsumesMIMETypes    []string       `json:"consumes_mime_types"`
	ProducesMIMETypes    []string       `json:"produces_mime_types"`
	AdditionalAttributes map[string]any `json:"additional_attributes,omitempty"`
}

// Metadata is the spec's ScannerAdapterMetadata.
type Metadata struct {
	Scanner      Scanner           `json:"scanner"`
	Capabilities []Capability      `json:"capabilities"`
	Properties   map[string]string `json:"properties,omitempty"`
}

// Registry is the spec's Registry: where to pull from, and the
// Authorization header value to pull with.
type Registry struct {
	URL           string `json:"url"`
	Authorization string `json:"authorization,omitempty"`
}

// Artifact is the spec's Artifact.
type Artifact struct {
	Repository string `json:"repository,omitempty"`
	Digest     string `json:"digest,omitempty"`
	Tag        string `json:"tag,omitempty"`
	MIMEType   string `json:"mime_type,omitempty"`
}

// EnabledCapability is one entry of a ScanRequest's enabled_capabilities.
type EnabledCapability struct {
	Type              string         `json:"type"`
	ProducesMIMETypes []string       `json:"produces_mime_types,omitempty"`
	Parameters        *SBOMParameter `json:"parameters,omitempty"`
}

// SBOMParameter is the spec's SbomParameters.
type SBOMParameter struct {
	SBOMMediaTypes []string `json:"sbom_media_types,omitempty"`
}

// ScanRequest is the body of POST /scan.
type ScanRequest struct {
	Registry            Registry            `json:"registry"`
	Artifact            Artifact            `json:"artifact"`
	EnabledCapabilities []EnabledCapability `json:"enabled_capabilities,omitempty"`
}

// ScanResponse is the 202 answer.
type ScanResponse struct {
	ID string `json:"id"`
}

// ErrorResponse is the spec's ErrorResponse.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the spec's Error.
type ErrorBody struct {
	Message string `json:"message"`
}

// Severity levels of the spec's Severity enum.
const (
	SevUnknown    = "Unknown"
	SevNegligible = "Negligible"
	SevLow        = "Low"
	SevMedium     = "Medium"
	SevHigh       = "High"
	SevCritical   = "Critical"
)

// CVSSDetails is the spec's CVSSDetails.
type CVSSDetails struct {
	ScoreV3  *float64 `json:"score_v3,omitempty"`
	ScoreV2  *float64 `json:"score_v2,omitempty"`
	VectorV3 string   `json:"vector_v3,omitempty"`
	VectorV2 string   `json:"vector_v2,omitempty"`
}

// VulnerabilityItem is the spec's VulnerabilityItem.
type VulnerabilityItem struct {
	ID               string         `json:"id"`
	Package          string         `json:"package"`
	Version          string         `json:"version"`
	FixVersion       string         `json:"fix_version,omitempty"`
	Severity         string         `json:"severity"`
	Description      string         `json:"description,omitempty"`
	Links            []string       `json:"links"`
	PreferredCVSS    *CVSSDetails   `json:"preferred_cvss,omitempty"`
	CWEIDs           []string       `json:"cwe_ids,omitempty"`
	VendorAttributes map[string]any `json:"vendor_attributes,omitempty"`
}

// VulnerabilityReport is the spec's HarborVulnerabilityReport.
// VendorAttributes is drydock's addition (the schema allows more
// properties; Harbor ignores it): the coverage gaps of the scan, so that
// "no vulnerabilities" is never claimed where the database could not look.
type VulnerabilityReport struct {
	GeneratedAt      time.Time           `json:"generated_at"`
	Artifact         Artifact            `json:"artifact"`
	Scanner          Scanner             `json:"scanner"`
	Severity         string              `json:"severity"`
	Vulnerabilities  []VulnerabilityItem `json:"vulnerabilities"`
	VendorAttributes map[string]any      `json:"vendor_attributes,omitempty"`
}

// SBOMReport is the spec's HarborSbomReport.
type SBOMReport struct {
	GeneratedAt      time.Time       `json:"generated_at"`
	Artifact         Artifact        `json:"artifact"`
	Scanner          Scanner         `json:"scanner"`
	VendorAttributes map[string]any  `json:"vendor_attributes,omitempty"`
	MediaType        string          `json:"media_type"`
	SBOM             json.RawMessage `json:"sbom"`
}
