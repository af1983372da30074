package vulndb

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// SchemaVersion is the version of the database file. Bump it when the
// buckets, the stored encoding or the import rules change: Open refuses
// other versions, and Update rebuilds a database of another version even
// when its sources are unchanged.
//
//	2: the Go "imports" of all the affected entries of a package are kept
//	   (EcosystemSpecific), not those of the first entry only.
const SchemaVersion = 2

// Advisory is one advisory for one package in one ecosystem. An OSV record
// with several affected entries becomes one Advisory per (ecosystem, package).
type Advisory struct {
	// ID is the advisory id: "ALSA-2023:5453", "GO-2021-0113", and for Alpine
	// secdb entries the CVE id itself ("CVE-2023-42366").
	ID string `json:"id"`
	// Aliases are the OSV aliases, the upstream ids and (for records that
	// have no CVE alias of their own, such as AlmaLinux) the CVE ids of
	// "related"; sorted and without duplicates.
	Aliases []string `json:"aliases,omitempty"`
	Summary string   `json:"summary,omitempty"`
	// Details may be truncated (see MaxDetails) to keep the database small.
	Details   string    `json:"details,omitempty"`
	Published time.Time `json:"published,omitzero"`
	Modified  time.Time `json:"modified,omitzero"`
	// Withdrawn is zero unless the record was withdrawn; withdrawn records
	// are not stored.
	Withdrawn time.Time `json:"withdrawn,omitzero"`
	// Ecosystem is the full OSV ecosystem including the release:
	// "AlmaLinux:9", "Alpine:v3.16", "Go", "npm".
	Ecosystem string `json:"ecosystem"`
	// Package is the name as the source publishes it (Alpine: origin,
	// Debian: source package, Go: module path).
	Package  string   `json:"package"`
	PURL     string   `json:"purl,omitempty"`
	Ranges   []Range  `json:"ranges,omitempty"`
	Versions []string `json:"versions,omitempty"`
	// Severity holds the CVSS vectors of the record and of its affected entry.
	Severity []Severity `json:"severity,omitempty"`
	// VendorSeverity is the vendor's own rating: "Important" (Red Hat family
	// summary prefix), Debian urgency, Ubuntu priority; "" if none.
	VendorSeverity string `json:"vendor_severity,omitempty"`
	// Status is "" normally, "wont_fix" or "unfixed" where the vendor data
	// says so.
	Status string `json:"status,omitempty"`
	// References are URLs, at most MaxReferences.
	References []string `json:"references,omitempty"`
	// Source names the feed: "osv/AlmaLinux", "alpine-secdb/v3.16/main".
	Source string `json:"source,omitempty"`
	// EcosystemSpecific is affected[].ecosystem_specific of the first
	// affected entry of the package, verbatim but for "imports" (the Go
	// database's vulnerable packages and symbols), which joins those of
	// all its entries; may be nil.
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	// Class is "" for a vulnerability and ClassMalicious for a
	// malicious-package record: a package it names is malware, not a
	// vulnerable package (see Malicious).
	Class string `json:"class,omitempty"`
}

// ClassMalicious is the Class of a malicious-package record: OpenSSF's
// MAL- records, which osv.dev serves inside each ecosystem's all.zip.
const ClassMalicious = "malicious"

// Malicious reports whether a is a malicious-package record: its Class
// says so, or (in a database built before the class was stored) its ID is
// an OpenSSF MAL- ID.
func (a *Advisory) Malicious() bool {
	return a.Class == ClassMalicious || strings.HasPrefix(a.ID, "MAL-")
}

// Range is an OSV range. Only ECOSYSTEM and SEMVER ranges are kept.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Severity is a score of a given type, e.g. {CVSS_V3, "CVSS:3.1/AV:N/..."}.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// CVE is the enrichment data kept per CVE id: the NVD base score and the
// CISA KEV flag.
type CVE struct {
	ID          string  `json:"id"`
	NVDSeverity string  `json:"nvd_severity,omitempty"`
	NVDScore    float64 `json:"nvd_score,omitempty"`
	NVDVector   string  `json:"nvd_vector,omitempty"`
	// NVDVersion is the CVSS version of the vector: "4.0", "3.1", "3.0", "2.0".
	NVDVersion    string `json:"nvd_version,omitempty"`
	KEV           bool   `json:"kev,omitempty"`
	KEVDateAdded  string `json:"kev_date_added,omitempty"`
	KEVDueDate    string `json:"kev_due_date,omitempty"`
	KEVRansomware string `json:"kev_ransomware,omitempty"`
}

// Metadata describes a built database.
type Metadata struct {
	SchemaVersion int          `json:"schema_version"`
	BuiltAt       time.Time    `json:"built_at"`
	Sources       []SourceInfo `json:"sources"`
	// Counts is the number of distinct advisory ids per ecosystem.
	Counts map[string]int `json:"counts"`
	// Hashes is the number of known-bad file hashes imported from hash
	// lists (sources named HashListPrefix+…).
	Hashes int `json:"hashes,omitempty"`
	// BaseImages is the number of tables of published base images the
	// database carries (sources named BaseImagePrefix+…).
	BaseImages int `json:"base_images,omitempty"`
	// Missing lists the feeds the update was to import and did not (an
	// origin that could not be reached, an ecosystem no mirror publishes, a
	// feed turned off), sorted by name: the database covers less than a
	// complete one, and a scan can say so.
	Missing []MissingSource `json:"missing,omitempty"`
}

// MissingSource is a feed that is not in the database.
type MissingSource struct {
	// Name is the SourceInfo.Name the feed would have had ("osv/Debian",
	// "alpine-secdb/v3.16/main", "cisa-kev"), or "alpine-secdb" for the
	// whole Alpine secdb.
	Name string `json:"name"`
	// Ecosystem is the advisory ecosystem the feed would have filled:
	// exact ("Alpine:v3.16") or a prefix ("Debian", "Alpine"); empty for
	// the enrichment feeds (CISA KEV, NVD).
	Ecosystem string `json:"ecosystem,omitempty"`
	// URL is where it was looked for (a URL or a local path), if anywhere.
	URL string `json:"url,omitempty"`
	// Reason says why it is missing: "not published by any mirror",
	// "turned off", or the error of the last attempt.
	Reason string `json:"reason"`
}

// SourceInfo describes one imported file.
type SourceInfo struct {
	// Name is "osv/<Ecosystem>", "alpine-secdb/<branch>/<repo>", "cisa-kev",
	// "nvd/<file>".
	Name         string    `json:"name"`
	URL          string    `json:"url,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Records      int       `json:"records"`
	FetchedAt    time.Time `json:"fetched_at,omitzero"`
	// Digest is "sha256:<hex>" of the file as imported.
	Digest string `json:"digest,omitempty"`
}

// Reader is the read side of the database used by matching.
type Reader interface {
	// Advisories returns the advisories of one package. ecosystem is exact,
	// including the release ("AlmaLinux:9"); name is normalised the way the
	// ecosystem says (PyPI: PEP 503).
	Advisories(ctx context.Context, ecosystem, name string) ([]Advisory, error)
	CVE(ctx context.Context, id string) (CVE, bool, error)
	Meta(ctx context.Context) (Metadata, error)
	Close() error
}

// Limits applied at import.
const (
	MaxDetails    = 4096 // bytes of Details kept
	MaxReferences = 10
)
